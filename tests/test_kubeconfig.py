"""The local kubeconfig: its own 0600 file named after the cluster, ~/.kube/config left alone."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from kwizard.kube.kubeconfig import KubeconfigError, control_plane_setup_commands, kubeconfig_instructions, write_kubeconfig

# What kubeadm writes to /etc/kubernetes/admin.conf (clusterName "lab"; data shortened).
ADMIN_CONF = b"""\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    server: https://192.168.122.11:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
kind: Config
preferences: {}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=
"""

USERS_OWN_CONFIG = "apiVersion: v1\nkind: Config\ncurrent-context: work\n# the user's other clusters\n"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fake HOME with an existing ~/.kube/config, and no XDG override, so defaults land inside it."""
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    (home / ".kube" / "config").write_text(USERS_OWN_CONFIG)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return home


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_location_is_kwizards_own_file_and_kube_config_is_untouched(home):
    before = (home / ".kube" / "config").stat()

    path = write_kubeconfig(ADMIN_CONF, "lab")

    assert path == home / ".config" / "kwizard" / "kubeconfigs" / "lab.conf"
    assert (home / ".kube" / "config").read_text() == USERS_OWN_CONFIG
    assert (home / ".kube" / "config").stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in (home / ".kube").iterdir()) == ["config"]


def test_file_is_0600_even_with_a_permissive_umask(home):
    old_umask = os.umask(0)
    try:
        path = write_kubeconfig(ADMIN_CONF, "lab")
    finally:
        os.umask(old_umask)

    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


def test_entries_are_named_after_the_cluster(home):
    config = yaml.safe_load(write_kubeconfig(ADMIN_CONF, "lab").read_text())

    assert [c["name"] for c in config["clusters"]] == ["lab"]
    assert [u["name"] for u in config["users"]] == ["lab"]
    assert config["contexts"] == [{"context": {"cluster": "lab", "user": "lab"}, "name": "lab"}]
    assert config["current-context"] == "lab"
    assert config["clusters"][0]["cluster"]["server"] == "https://192.168.122.11:6443"
    assert config["users"][0]["user"]["client-key-data"] == "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo="


def test_rewrite_replaces_the_file_and_leaves_no_temp_files(tmp_path):
    first = write_kubeconfig(ADMIN_CONF, "lab", dest_dir=tmp_path)
    newer = ADMIN_CONF.replace(b"192.168.122.11", b"192.168.122.12")

    second = write_kubeconfig(newer, "lab", dest_dir=tmp_path)

    assert second == first and mode(second) == 0o600
    assert "192.168.122.12" in second.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["lab.conf"]


@pytest.mark.parametrize("name", ["../escape", "Lab", "", "a/b"])
def test_cluster_name_that_is_not_a_plain_name_is_refused(tmp_path, name):
    with pytest.raises(KubeconfigError, match="not a cluster name"):
        write_kubeconfig(ADMIN_CONF, name, dest_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", [b"", b"Permission denied\n", b"kind: Config\nclusters: []\n"])
def test_something_that_is_not_admin_conf_is_refused_before_writing(tmp_path, content):
    with pytest.raises(KubeconfigError, match="admin.conf"):
        write_kubeconfig(content, "lab", dest_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_instructions_export_line_quotes_the_path(tmp_path):
    path = tmp_path / "my configs" / "lab.conf"

    export, _merge = kubeconfig_instructions(path)

    assert export == f"export KUBECONFIG='{path}'"


def test_merge_command_backs_up_and_writes_a_private_merged_config(home, tmp_path):
    """Run the merge line in bash with a stand-in kubectl that prints the files it was asked to merge."""
    kubeconfig = write_kubeconfig(ADMIN_CONF, "lab", dest_dir=tmp_path / "with space")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_kubectl = bin_dir / "kubectl"
    fake_kubectl.write_text('#!/bin/sh\n[ "$*" = "config view --flatten" ] || exit 2\necho "merged: $KUBECONFIG"\n')
    fake_kubectl.chmod(0o755)
    _export, merge = kubeconfig_instructions(kubeconfig)
    env = {"HOME": str(home), "PATH": f"{bin_dir}:{os.environ['PATH']}"}

    subprocess.run(["bash", "-c", f"umask 022; {merge}"], env=env, check=True)

    merged = home / ".kube" / "config"
    assert merged.read_text() == f"merged: {home}/.kube/config:{kubeconfig}\n"
    assert mode(merged) == 0o600
    assert (home / ".kube" / "config.bak").read_text() == USERS_OWN_CONFIG
    assert not (home / ".kube" / "config.kwizard-merge").exists()


def test_control_plane_setup_commands_are_kubeadms_own():
    assert control_plane_setup_commands() == [
        "mkdir -p $HOME/.kube",
        "sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config",
        "sudo chown $(id -u):$(id -g) $HOME/.kube/config",
    ]
