"""Part B of "Correct on the machines people run", against the lab: the CLI as a user runs it.

Calico cut after its first file and resumed; a Flannel cluster switched to Calico; a hand-set tunnel
advertise address; kube-proxy's and the UDP NodePorts in firewalld; Calico's firewalld/NetworkManager
requirements; reset with two runtime sockets, twice, with its clean-ups.
"""

from __future__ import annotations

import json

import pytest

from tests.lab.scenario import HostOptions, Scenario, named
from tests.test_apply_lab import User, _ready_nodes

pytestmark = pytest.mark.lab

MANIFESTS = "/etc/kubernetes/kwizard/cni"


@pytest.fixture
def user(tmp_path) -> User:
    return User(tmp_path)


def _profile(lab, tmp_path, name="cluster.yaml", **args) -> str:
    return str(lab.write_profile(tmp_path / name, **args))


def _objects(lab) -> set[str]:
    return set(lab.cluster_state().get("objects", {}))


def _out(result) -> str:
    return result.stdout + result.stderr


def test_calico_cut_after_its_first_file_resumes_to_done(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=1)
    cp = lab.hosts[0]
    profile = _profile(lab, tmp_path, cni="calico", pod_cidr="10.244.0.0/16")
    lab.set_fault(cp, "cut_after", f"-f {MANIFESTS}/operator-crds.yaml")

    cut = user.kwizard("apply", "--yes", profile)
    assert cut.returncode != 0, _out(cut)[-3000:]
    assert "cni-apply" in _out(cut)
    crds = {k for k in _objects(lab) if "/CustomResourceDefinition/" in k}
    assert crds and not any(k.endswith("/tigera-operator") and "/Deployment/" in k for k in _objects(lab)), \
        "the cut came after the first file and before the second"

    lab.clear_fault(cp, "cut_after")
    resumed = user.kwizard("apply", "--yes", "--resume", profile)
    assert resumed.returncode == 0, _out(resumed)[-4000:]
    assert "AlreadyExists" not in _out(resumed)
    objects = _objects(lab)
    assert "apps/Deployment/tigera-operator/tigera-operator" in objects
    assert "operator.tigera.io/Installation//default" in objects
    assert _ready_nodes(lab) == {cp.name}


def test_a_flannel_cluster_switched_to_calico_is_refused_and_nothing_changes(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=1)
    flannel = _profile(lab, tmp_path, "flannel.yaml")
    first = user.kwizard("apply", "--yes", flannel)
    assert first.returncode == 0, _out(first)[-3000:]
    before = lab.cluster_state()

    calico = _profile(lab, tmp_path, "calico.yaml", cni="calico", pod_cidr="10.244.0.0/16")
    checked = user.kwizard("check", calico)
    assert checked.returncode != 0 and "cannot be changed in place" in _out(checked)
    second = user.kwizard("apply", "--yes", calico)
    assert second.returncode != 0
    text = _out(second)
    assert "Flannel is already installed" in text and "cannot be changed in place" in text and "kwizard reset" in text
    after = lab.cluster_state()
    assert set(after.get("objects", {})) == set(before.get("objects", {}))
    assert after.get("manifests") == before.get("manifests")


def test_a_hand_set_tunnel_advertise_address_is_found_before_anything_changes(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=2, scenario=named("vpn"))
    profile = _profile(lab, tmp_path, advertise_address="10.8.0.2")
    checked = user.kwizard("check", profile)
    assert checked.returncode != 0
    assert "10.8.0.2" in _out(checked) and "tun0" in _out(checked) and "i/o timeout" in _out(checked)
    applied = user.kwizard("apply", "--yes", profile)
    assert applied.returncode != 0
    assert not lab.cluster_state().get("cluster"), "no kubeadm init ran"
    assert lab.exec(lab.hosts[0], "test -e /etc/kubernetes/admin.conf").returncode != 0

    auto = user.kwizard("check", _profile(lab, tmp_path, "auto.yaml"))
    eth0 = lab.hosts[0].address
    assert f"kwizard will advertise {eth0} (eth0)" in _out(auto)
    assert "cluster.cni_options.interface: eth0" in _out(auto)


def test_workers_open_kube_proxy_and_udp_nodeports_in_firewalld(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=2, scenario=named("firewalld"))
    result = user.kwizard("apply", "--yes", _profile(lab, tmp_path))
    assert result.returncode == 0, _out(result)[-3000:]
    worker = lab.hosts[1]
    for port in ("10256/tcp", "30000-32767/udp", "30000-32767/tcp", "10250/tcp"):
        assert lab.exec(worker, f"firewall-cmd --query-port={port}").stdout.strip() == "yes", port
    # IP-in-IP is protocol 4: the strict firewall-cmd knows it by number, as firewalld does
    assert lab.exec(worker, "firewall-cmd --permanent --add-protocol=4").returncode == 0


def test_calico_with_consent_disables_firewalld_and_unmanages_its_interfaces(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=1, scenario=named("firewalld"))
    cp = lab.hosts[0]
    warned = user.kwizard("check", _profile(lab, tmp_path, "no-consent.yaml", cni="calico", pod_cidr="10.244.0.0/16"))
    assert "should be disabled" in _out(warned) and "disable_firewalld: true" in _out(warned)

    profile = _profile(lab, tmp_path, cni="calico", pod_cidr="10.244.0.0/16", cni_options={"disable_firewalld": True})
    result = user.kwizard("apply", "--yes", profile)
    assert result.returncode == 0, _out(result)[-3000:]
    assert lab.exec(cp, "systemctl is-active firewalld").returncode != 0
    assert lab.exec(cp, "systemctl is-enabled firewalld").returncode != 0
    has_nm = lab.exec(cp, "test -d /etc/NetworkManager").returncode == 0
    conf = lab.exec(cp, "cat /etc/NetworkManager/conf.d/calico.conf 2>/dev/null").stdout
    if has_nm:
        assert "unmanaged-devices=interface-name:cali*;interface-name:tunl*;interface-name:vxlan.calico" in conf
    else:
        assert conf == ""


SECOND_SOCKET = ("python3 -c 'import socket,os; os.makedirs(\"/var/run/crio\", exist_ok=True); "
                 "s=socket.socket(socket.AF_UNIX); s.bind(\"/var/run/crio/crio.sock\")'")


def test_reset_names_the_cri_socket_removes_kwizards_files_and_repeats_cleanups(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=2)
    containerd = "unix:///var/run/containerd/containerd.sock"
    profile = _profile(lab, tmp_path, cri_socket=containerd)
    setup = user.kwizard("apply", "--yes", profile)
    assert setup.returncode == 0, _out(setup)[-3000:]
    worker = lab.hosts[1]
    assert lab.exec(worker, SECOND_SOCKET).returncode == 0  # CRI-O's socket beside containerd's

    reset = user.kwizard("reset", "--yes", profile)
    assert reset.returncode == 0, _out(reset)[-3000:]
    assert "found multiple CRI endpoints" not in _out(reset)
    for host in lab.hosts:
        assert lab.exec(host, "test -e /etc/kubernetes/kwizard").returncode != 0, host.name

    again = user.kwizard("reset", "--yes", "--flush-iptables", profile)
    assert again.returncode == 0, _out(again)[-3000:]
    assert _out(again).count("iptables rules flushed") >= len(lab.hosts), _out(again)[-3000:]
