"""Day two without a lab: parsing kubeadm's certificate table, the 30-day warning, the plans,
the backup archive check, and editing a commented profile."""

from __future__ import annotations

import io
import stat
import tarfile
from datetime import datetime, timedelta, timezone

import pytest

from kwizard.checks.findings import Level
from kwizard.day2 import certs
from kwizard.day2.backup import REQUIRED_MEMBERS, build_backup_plan, check_archive
from kwizard.day2.nodes import CannotRemove, build_remove_plan
from kwizard.day2.profile_edit import ProfileEditError, add_host, remove_host, set_kubernetes_version
from kwizard.plan.context import DryRunContext
from kwizard.plan.steps import StepFailed
from kwizard.profile.store import load

# As kubeadm v1.33 prints it (cmd/kubeadm/app/cmd/certs.go), trailing padding included.
CHECK_EXPIRATION = """\
[check-expiration] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...
[check-expiration] Use 'kubeadm init phase upload-config --config your-config-file' to re-upload it.

CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Aug 19, 2026 09:03 UTC   360d            ca                      no      
apiserver                  Aug 19, 2026 09:03 UTC   360d            ca                      no      
apiserver-etcd-client      Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
etcd-server                Sep 01, 2025 09:03 UTC   12d             etcd-ca                 no      
front-proxy-client         Aug 19, 2026 09:03 UTC   360d            front-proxy-ca          no      

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Aug 17, 2035 09:03 UTC   9y              no      
etcd-ca                 Aug 17, 2035 09:03 UTC   9y              no      
front-proxy-ca          Aug 17, 2035 09:03 UTC   9y              no      
"""
NOW = datetime(2025, 8, 20, 9, 3, tzinfo=timezone.utc)

PROFILE = """\
# my cluster -- hand written
version: 1
name: demo   # short name
ssh:
  user: kube
hosts:
  # the control plane first
  - name: cp
    address: 10.0.0.10
    role: control-plane
  - name: w1   # rack 2
    address: 10.0.0.11
  - name: w2
    address: 10.0.0.12
cluster:
  kubernetes_version: "1.33"   # pinned
  cni: flannel
"""


def test_check_expiration_is_parsed_with_the_cas():
    found = certs.parse_check_expiration(CHECK_EXPIRATION)
    by_name = {c.name: c for c in found}
    assert len(found) == 8
    assert by_name["apiserver-etcd-client"].authority == "etcd-ca"
    assert by_name["ca"].is_ca and by_name["ca"].residual == "9y"
    assert by_name["apiserver"].expires == datetime(2026, 8, 19, 9, 3, tzinfo=timezone.utc)


def test_unreadable_output_is_an_error():
    with pytest.raises(certs.CertsError):
        certs.parse_check_expiration("error: something else")


def test_a_certificate_within_30_days_warns_and_an_expired_one_is_an_error():
    found = certs.parse_check_expiration(CHECK_EXPIRATION)
    (warning,) = certs.expiry_findings(found, "cp", NOW)
    assert warning.level is Level.WARNING and "etcd-server" in warning.message and "kwizard certs --renew" in warning.fix
    later = certs.expiry_findings(found, "cp", NOW + timedelta(days=20))
    assert [f.level for f in later] == [Level.ERROR]
    assert certs.expiry_findings(found, "cp", NOW - timedelta(days=30)) == []


def _profile(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(PROFILE)
    return path, load(path)


def test_renew_plan_renews_restarts_and_refreshes_the_kubeconfig(tmp_path):
    _path, profile = _profile(tmp_path)
    plan = certs.build_renew_plan(profile, wait=1)
    assert [s.id for s in plan.steps] == ["connect", "renew", "restart-control-plane", "user-kubeconfig"]
    assert all(s.hosts == ("cp",) for s in plan.steps)
    ctx = DryRunContext()
    assert "kubeadm certs renew all" in plan.step("renew").script(ctx, "cp").script
    restart = plan.step("restart-control-plane").script(ctx, "cp").script
    assert "mv /etc/kubernetes/manifests/*.yaml" in restart and "sleep 1" in restart


def test_backup_plan_uses_the_etcd_client_certificates(tmp_path):
    _path, profile = _profile(tmp_path)
    plan = build_backup_plan(profile, tmp_path / "b.tar.gz")
    script = plan.step("snapshot").script(DryRunContext(), "cp").script
    assert "--cacert=/etc/kubernetes/pki/etcd/ca.crt" in script and "healthcheck-client.crt" in script
    assert "snapshot save" in script and "snapshot status" in script and "install -d -m 0700" in script
    assert "rm -rf /var/lib/kwizard/backup" in plan.step("cleanup").script(DryRunContext(), "cp").script


def _tar(names):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    return buffer.getvalue()


def test_the_archive_must_hold_what_a_restore_needs():
    assert check_archive(_tar(REQUIRED_MEMBERS)) == list(REQUIRED_MEMBERS)
    with pytest.raises(StepFailed, match="pki/etcd/ca.key"):
        check_archive(_tar(["snapshot.db", "pki/ca.crt", "pki/ca.key", "pki/etcd/ca.crt"]))
    with pytest.raises(StepFailed, match="not a readable"):
        check_archive(b"not a tar")


def test_remove_plan_refuses_the_control_plane_and_unknown_hosts(tmp_path):
    path, profile = _profile(tmp_path)
    with pytest.raises(CannotRemove, match="control plane"):
        build_remove_plan(profile, "cp", path)
    with pytest.raises(CannotRemove, match="no host named w9"):
        build_remove_plan(profile, "w9", path)
    plan = build_remove_plan(profile, "w1", path)
    assert [s.id for s in plan.steps] == ["connect", "drain", "reset", "profile"]
    assert plan.step("drain").hosts == ("cp",) and plan.step("reset").hosts == ("w1",)


def test_removing_and_adding_a_host_keeps_comments_order_and_formatting(tmp_path):
    path, _profile_ = _profile(tmp_path)
    remove_host(path, "w1")
    text = path.read_text()
    assert text == PROFILE.replace("  - name: w1   # rack 2\n    address: 10.0.0.11\n", "")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    add_host(path, {"name": "w3", "address": "10.0.0.13"})
    text = path.read_text()
    assert "# my cluster -- hand written" in text and "# the control plane first" in text and "# pinned" in text
    assert text.index("name: w2") < text.index("name: w3") < text.index("cluster:")
    assert [h.name for h in load(path).hosts] == ["cp", "w2", "w3"]


def test_setting_the_version_keeps_its_quotes_and_comment(tmp_path):
    path, _ = _profile(tmp_path)
    set_kubernetes_version(path, "1.34")
    assert '  kubernetes_version: "1.34"   # pinned\n' in path.read_text()
    assert load(path).cluster.kubernetes_version == "1.34"


def test_an_edit_that_would_break_the_profile_changes_nothing(tmp_path):
    path, _ = _profile(tmp_path)
    with pytest.raises(ProfileEditError):
        remove_host(path, "cp")  # no control plane left: the profile would not load
    assert path.read_text() == PROFILE
