"""`kwizard apply` from bare hosts on each distribution the lab simulates (tests/lab/sim/distros.py).

One control plane and one worker per distribution, `install_packages: true`, `disable_swap: true`:
the packages step installs what that family needs (containerd or containerd.io, conntrack, SELinux
permissive), the kubeadm config names the patch release that was installed, a second apply changes
nothing, and on Fedora (zram swap) a reboot leaves swap off and the kubelet running.
"""

from __future__ import annotations

import re

import pytest

from tests.lab.scenario import named
from tests.test_apply_lab import User, _ready_nodes

pytestmark = pytest.mark.lab

CONFIG = "/etc/kubernetes/kwizard/kubeadm-config.yaml"
# Steps with a probe: a second apply must find every one of them done on every host.
PROBED_STEPS = ("hosts-file", "kernel", "swap", "firewall", "packages", "images", "init", "kubeconfig",
                "cni-apply", "join")


@pytest.fixture
def user(tmp_path) -> User:
    return User(tmp_path)


def _apply(user: User, profile: str):
    result = user.kwizard("apply", "--yes", profile, timeout=240)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result


def _config_version(lab) -> str:
    config = lab.exec(lab.hosts[0], f"cat {CONFIG}").stdout
    match = re.search(r"^kubernetesVersion: (\S+)$", config, re.M)
    assert match, config
    return match.group(1)


def _kubeadm_version(lab, host: int = 0) -> str:
    return lab.exec(lab.hosts[host], "kubeadm version -o short").stdout.strip()


@pytest.mark.parametrize(("distro", "version", "installed"), [
    ("debian-12", "1.33", "v1.33.3"),        # a bare minor: the newest patch of pkgs.k8s.io v1.33
    ("ubuntu-24.04", "1.31.4", "v1.31.4"),   # a patch release: pinned (apt kubeadm=1.31.4-*); conntrack required
    ("rocky-9", "1.33.2", "v1.33.2"),        # dnf kubeadm-1.33.2; containerd.io from Docker's repository
    ("fedora-41", "1.30", "v1.30.14"),       # dnf 5; zram swap; conntrack required below 1.32
])
def test_apply_from_bare_hosts_to_ready_nodes_then_nothing_to_do(lab_factory, tmp_path, user, distro, version,
                                                                 installed):
    lab = lab_factory(hosts=2, scenario=named(distro))
    profile = str(lab.write_profile(tmp_path / "cluster.yaml", install_packages=True, disable_swap=True,
                                    open_firewall_ports=True, kubernetes_version=version))
    first = _apply(user, profile)

    assert _ready_nodes(lab) == {h.name for h in lab.hosts}
    assert [_kubeadm_version(lab, i) for i in range(2)] == [installed, installed]
    assert _config_version(lab) == installed, "the kubeadm config names the release the packages step installed"
    if distro in ("rocky-9", "fedora-41"):
        assert lab.exec(lab.hosts[0], "getenforce").stdout.strip() == "Permissive"
        assert "SELINUX=permissive" in lab.exec(lab.hosts[0], "cat /etc/selinux/config").stdout.splitlines()
        assert "SELinux: Enforcing -> Permissive now (setenforce 0)" in first.stdout
    if distro in ("debian-12", "ubuntu-24.04"):
        # held, so an unattended `apt-get upgrade` cannot move the cluster to another release behind kubeadm's back
        for host in lab.hosts:
            held = set(lab.exec(host, "apt-mark showhold").stdout.split())
            assert {"kubelet", "kubeadm", "kubectl"} <= held, host.name
    if distro == "rocky-9":
        assert "containerd.io" in first.stdout and "download.docker.com/linux/centos/docker-ce.repo" in first.stdout

    again = user.kwizard("apply", "--yes", profile, timeout=240)
    assert again.returncode == 0, again.stdout[-3000:]
    for step in PROBED_STEPS:
        assert f"<== {step}: already done on every host" in again.stdout, step
    assert "Your Kubernetes control-plane has initialized successfully!" not in again.stdout
    assert _config_version(lab) == installed

    if distro == "fedora-41":
        # zram-generator's dev-zram0.swap would come back at boot; the swap step masked it and
        # wrote an empty /etc/systemd/zram-generator.conf.
        for host in range(2):
            lab.set_fault(host, "reboot")
        for host in lab.hosts:
            assert lab.exec(host, "awk 'NR>1' /proc/swaps").stdout.strip() == "", host.name
            assert lab.exec(host, "systemctl is-active kubelet").stdout.strip() == "active", host.name
        assert _ready_nodes(lab) == {h.name for h in lab.hosts}
