"""Messages on the lab: commands that need a cluster say "no cluster on HOST" when there is none."""

from __future__ import annotations

import pytest

from tests.test_apply_lab import User

pytestmark = pytest.mark.lab


def test_join_command_and_kubeconfig_on_a_reset_cluster_say_there_is_no_cluster(lab_factory, tmp_path):
    lab = lab_factory(hosts=1)
    user = User(tmp_path)
    profile = str(lab.write_profile(tmp_path / "cluster.yaml"))
    assert user.kwizard("apply", "--yes", profile).returncode == 0
    assert user.kwizard("reset", "--yes", profile).returncode == 0
    cp = lab.hosts[0].name
    for command in (("join-command", profile), ("kubeconfig", "-o", str(tmp_path / "admin.conf"), profile)):
        result = user.kwizard(*command)
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"no cluster on {cp}: /etc/kubernetes/admin.conf is not there" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "admin.conf").exists()
