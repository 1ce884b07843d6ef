"""Distribution scenarios: a plain SSH session on the host sees that system (os-release, package
manager, repositories, SELinux, firewalld, swap). See tests/lab/sim/distros.py for the facts."""

from __future__ import annotations

import pytest

from tests.lab.scenario import named
from tests.test_lab_strict import ssh, sudo, write

pytestmark = pytest.mark.lab

K8S_LIST = ("deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] "
            "https://pkgs.k8s.io/core:/stable:/v1.33/deb/ /\n")
K8S_REPO = """\
[kubernetes]
name=Kubernetes
baseurl=https://pkgs.k8s.io/core:/stable:/v1.33/rpm/
enabled=1
gpgcheck=1
gpgkey=https://pkgs.k8s.io/core:/stable:/v1.33/rpm/repodata/repomd.xml.key
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
"""


@pytest.mark.parametrize("distro, pretty", [("debian-12", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"'),
                                            ("ubuntu-24.04", 'PRETTY_NAME="Ubuntu 24.04.2 LTS"')])
def test_apt_distribution(lab_factory, distro, pretty):
    lab = lab_factory(hosts=1, scenario=named(distro))
    facts = ssh(lab, "cat /etc/os-release; command -v apt-get; command -v dnf || echo no-dnf; "
                     "command -v kubeadm || echo no-kubeadm; cat /proc/swaps | wc -l; grep -c '^[^#].*swap' /etc/fstab")
    assert pretty in facts.stdout.splitlines()
    assert facts.stdout.split()[-5:] == ["/opt/kwizard-lab-sim/host/bin/apt-get", "no-dnf", "no-kubeadm", "2", "1"]

    unknown = sudo(lab, "apt-get install -y no-such-package")
    assert unknown.exit_status == 100 and "E: Unable to locate package no-such-package" in unknown.stderr
    # a new sources list counts only after `apt-get update`
    write(lab, "/etc/apt/sources.list.d/kubernetes.list", K8S_LIST)
    stale = sudo(lab, "apt-get install -y kubeadm")
    assert stale.exit_status == 100 and "E: Unable to locate package kubeadm" in stale.stderr
    assert sudo(lab, "apt-get update").exit_status == 0
    wrong = sudo(lab, "apt-get install -y kubeadm=1.33.9-1.1")
    assert wrong.exit_status == 100 and "E: Version '1.33.9-1.1' for 'kubeadm' was not found" in wrong.stderr
    pinned = sudo(lab, "apt-get install -y containerd conntrack kubeadm=1.33.2-1.1 kubelet kubectl")
    assert pinned.exit_status == 0, pinned.stderr
    versions = ssh(lab, "kubeadm version -o short; kubelet --version; kubectl version --client")
    assert versions.stdout.splitlines()[:3] == ["v1.33.2", "Kubernetes v1.33.3", "Client Version: v1.33.3"]


def test_rocky_9(lab_factory):
    lab = lab_factory(hosts=1, scenario=named("rocky-9"))
    facts = ssh(lab, "cat /etc/os-release; getenforce; systemctl is-active firewalld NetworkManager; "
                     "command -v apt-get || echo no-apt-get")
    assert 'PRETTY_NAME="Rocky Linux 9.5 (Blue Onyx)"' in facts.stdout.splitlines()
    assert facts.stdout.split()[-4:] == ["Enforcing", "active", "active", "no-apt-get"]
    assert "SELINUX=enforcing" in ssh(lab, "cat /etc/selinux/config").stdout.splitlines()

    containerd = sudo(lab, "dnf install -y containerd")
    assert containerd.exit_status == 1
    # dnf 4: both lines, exit 1; RHEL has no containerd package (Docker's repository has containerd.io)
    assert "No match for argument: containerd" in containerd.stderr
    assert "Error: Unable to find a match: containerd" in containerd.stderr
    added = sudo(lab, "dnf config-manager --add-repo https://download.docker.com/linux/centos/docker-ce.repo && "
                      "dnf install -y containerd.io conntrack-tools")
    assert added.exit_status == 0, added.stderr
    assert "containerd.io-1.7.27-3.1.el9.x86_64" in added.stdout

    write(lab, "/etc/yum.repos.d/kubernetes.repo", K8S_REPO)
    excluded = sudo(lab, "dnf install -y kubeadm")
    assert excluded.exit_status == 1
    assert "All matches were filtered out by exclude filtering for argument: kubeadm" in excluded.stderr
    pinned = sudo(lab, "dnf install -y kubeadm-1.33.2 kubelet kubectl --disableexcludes=kubernetes")
    assert pinned.exit_status == 0, pinned.stderr
    assert ssh(lab, "kubeadm version -o short").stdout.strip() == "v1.33.2"

    permissive = sudo(lab, "setenforce 0 && getenforce")
    assert permissive.stdout.strip() == "Permissive"
    lab.set_fault(0, "reboot")  # runtime-only: /etc/selinux/config still says enforcing
    assert ssh(lab, "getenforce").stdout.strip() == "Enforcing"


def test_fedora_41_swap_is_zram_not_fstab(lab_factory):
    lab = lab_factory(hosts=1, scenario=named("fedora-41"))
    facts = ssh(lab, "cat /etc/os-release; tail -n +2 /proc/swaps; grep -c '^[^#].*swap' /etc/fstab; "
                     "systemctl is-active dev-zram0.swap; getenforce")
    lines = facts.stdout.splitlines()
    assert 'PRETTY_NAME="Fedora Linux 41 (Server Edition)"' in lines
    assert lines[-4].startswith("/dev/zram0") and lines[-3:] == ["0", "active", "Enforcing"]
    assert "[zram0]" in ssh(lab, "cat /usr/lib/systemd/zram-generator.conf").stdout
    assert sudo(lab, "dnf install -y containerd").exit_status == 0  # Fedora ships containerd
    unknown = sudo(lab, "dnf install -y no-such-package")
    assert unknown.exit_status == 1 and "No match for argument: no-such-package" in unknown.stderr

    assert sudo(lab, "swapoff -a").exit_status == 0  # what the seed does: not enough here
    lab.set_fault(0, "reboot")
    assert ssh(lab, "tail -n +2 /proc/swaps").stdout.startswith("/dev/zram0")
    # an empty override of the generator's defaults keeps it off after the next boot
    assert sudo(lab, "touch /etc/systemd/zram-generator.conf && swapoff -a").exit_status == 0
    lab.set_fault(0, "reboot")
    assert ssh(lab, "tail -n +2 /proc/swaps").stdout == ""
