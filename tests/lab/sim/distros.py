# kwizard lab simulator support -- NOT a real distribution.
# What each simulated distribution looks like to a session: /etc/os-release,
# its package manager, the packages its own repositories offer, which third-party
# repositories add which packages, and its defaults (SELinux, firewalld, swap).
# Used by the lab (to build a host) and by the simulated apt-get/dnf/preflight
# (to answer as that system would). Standard library only.
#
# Package lists are ILLUSTRATIVE: realistic names and versions for each release
# (Debian 12 bookworm, Ubuntu 24.04 noble, Rocky Linux 9, Fedora 41), not a copy of
# their repository indexes. The facts they encode come from upstream:
#  - RHEL/Rocky have no `containerd`; Docker's repository (download.docker.com/linux/centos/docker-ce.repo)
#    offers `containerd.io` (containerd docs/getting-started.md; kubernetes/website container-runtimes.md)
#  - Debian/Ubuntu ship `containerd` in the distribution; Fedora ships `containerd`
#  - `conntrack` (Debian/Ubuntu) / `conntrack-tools` (RHEL/Fedora) is a separate package that the
#    kubelet/kubeadm packages do not pull in (kubernetes/release cmd/krel/templates/latest/metadata.yaml)
#  - pkgs.k8s.io: one repository per minor, https://pkgs.k8s.io/core:/stable:/v1.NN/{deb,rpm}/
#    (kubernetes/website content/en/docs/setup/production-environment/tools/kubeadm/install-kubeadm.md)
from __future__ import annotations

import re

# pkgs.k8s.io patch releases per minor. ILLUSTRATIVE lists (as in the lab's brief), not fetched.
K8S_PATCHES = {"1.30": 14, "1.31": 10, "1.32": 6, "1.33": 3, "1.34": 1, "1.35": 0}
K8S_PACKAGES = ("kubeadm", "kubelet", "kubectl", "cri-tools", "kubernetes-cni")
# The package revision suffixes pkgs.k8s.io uses (OBS builds): deb 1.33.2-1.1, rpm 1.33.2-150500.1.1.
DEB_REVISION = "-1.1"
RPM_RELEASE = "-150500.1.1"
CRI_TOOLS = {"1.30": "1.30.1", "1.31": "1.31.1", "1.32": "1.32.0", "1.33": "1.33.0", "1.34": "1.34.0",
             "1.35": "1.35.0"}

# The binaries kubeadm's preflight looks for, and the package that brings each (per family).
BINARY_PACKAGE = {
    "apt": {"conntrack": "conntrack", "iptables": "iptables", "ip": "iproute2", "tc": "iproute2",
            "mount": "mount", "nsenter": "util-linux", "ebtables": "ebtables", "ethtool": "ethtool",
            "socat": "socat", "touch": "coreutils"},
    "dnf": {"conntrack": "conntrack-tools", "iptables": "iptables-nft", "ip": "iproute", "tc": "iproute-tc",
            "mount": "util-linux", "nsenter": "util-linux", "ebtables": "iptables-nft", "ethtool": "ethtool",
            "socat": "socat", "touch": "coreutils"},
}

_COMMON_APT = {"apt-transport-https": "2.6.1", "ca-certificates": "20230311", "curl": "7.88.1-10+deb12u12",
               "gpg": "2.2.40-1.1", "gnupg": "2.2.40-1.1", "iptables": "1.8.9-2", "iproute2": "6.1.0-3",
               "mount": "2.38.1-5+deb12u3", "util-linux": "2.38.1-5+deb12u3", "coreutils": "9.1-1",
               "conntrack": "1:1.4.7-1+b2", "socat": "1.7.4.4-2", "ebtables": "2.0.11-5", "ethtool": "1:6.1-1",
               "runc": "1.1.5+ds1-1+deb12u1", "containerd": "1.6.20~ds1-1+deb12u1", "jq": "1.6-2.1",
               "sudo": "1.9.13p3-1+deb12u1", "openssh-server": "1:9.2p1-2+deb12u5", "lsb-release": "12.0-1"}
_COMMON_DNF = {"curl": "7.76.1-31.el9", "ca-certificates": "2024.2.69_v8.0.303-91.4.el9_4",
               "dnf-plugins-core": "4.3.0-16.el9", "yum-utils": "4.3.0-16.el9", "iptables-nft": "1.8.10-4.el9_4",
               "iproute": "6.2.0-6.el9_4", "iproute-tc": "6.2.0-6.el9_4", "util-linux": "2.37.4-18.el9",
               "coreutils": "8.32-35.el9", "conntrack-tools": "1.4.7-2.el9", "socat": "1.7.4.1-5.el9",
               "ethtool": "6.2-1.el9", "container-selinux": "3:2.229.0-1.el9", "jq": "1.6-16.el9",
               "runc": "4:1.1.12-4.el9", "sudo": "1.9.5p2-10.el9_3", "openssh-server": "8.7p1-38.el9",
               "policycoreutils": "3.6-2.1.el9", "firewalld": "1.3.4-1.el9", "NetworkManager": "1:1.48.10-2.el9_5"}

DISTROS: dict[str, dict] = {
    "debian-12": {
        "family": "apt", "codename": "bookworm",
        "os_release": ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                       'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
                       'HOME_URL="https://www.debian.org/"\nSUPPORT_URL="https://www.debian.org/support"\n'
                       'BUG_REPORT_URL="https://bugs.debian.org/"\n'),
        "base": dict(_COMMON_APT),
        "preinstalled": ["iptables", "iproute2", "mount", "util-linux", "coreutils", "ca-certificates", "curl",
                         "sudo", "openssh-server", "gpg"],
        "docker_repo": "https://download.docker.com/linux/debian",
        "swap": "fstab",  # a swap partition listed in /etc/fstab (the Debian installer's default)
    },
    "ubuntu-24.04": {
        "family": "apt", "codename": "noble",
        "os_release": ('PRETTY_NAME="Ubuntu 24.04.2 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'
                       'VERSION="24.04.2 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n'
                       'HOME_URL="https://www.ubuntu.com/"\nSUPPORT_URL="https://help.ubuntu.com/"\n'
                       'BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\nUBUNTU_CODENAME=noble\n'
                       'LOGO=ubuntu-logo\n'),
        "base": dict(_COMMON_APT, **{"containerd": "1.7.24-0ubuntu1~24.04.2", "iptables": "1.8.10-3ubuntu2",
                                     "conntrack": "1:1.4.8-1ubuntu1", "curl": "8.5.0-2ubuntu10.6",
                                     "gpg": "2.4.4-2ubuntu17", "gnupg": "2.4.4-2ubuntu17"}),
        "preinstalled": ["iptables", "iproute2", "mount", "util-linux", "coreutils", "ca-certificates", "curl",
                         "sudo", "openssh-server", "gpg"],
        "docker_repo": "https://download.docker.com/linux/ubuntu",
        "swap": "fstab",  # /swap.img in /etc/fstab (the Ubuntu installer's default)
    },
    "rocky-9": {
        "family": "dnf", "dnf5": False,
        "os_release": ('NAME="Rocky Linux"\nVERSION="9.5 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
                       'VERSION_ID="9.5"\nPLATFORM_ID="platform:el9"\nPRETTY_NAME="Rocky Linux 9.5 (Blue Onyx)"\n'
                       'ANSI_COLOR="0;32"\nLOGO="fedora-logo-icon"\nCPE_NAME="cpe:/o:rocky:rocky:9::baseos"\n'
                       'HOME_URL="https://rockylinux.org/"\nBUG_REPORT_URL="https://bugs.rockylinux.org/"\n'
                       'ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"\nROCKY_SUPPORT_PRODUCT_VERSION="9.5"\n'
                       'REDHAT_SUPPORT_PRODUCT="Rocky Linux"\nREDHAT_SUPPORT_PRODUCT_VERSION="9.5"\n'),
        "base": dict(_COMMON_DNF),  # no containerd: it comes from Docker's repository as containerd.io
        "preinstalled": ["iptables-nft", "iproute", "iproute-tc", "util-linux", "coreutils", "curl",
                         "ca-certificates", "sudo", "openssh-server", "dnf-plugins-core", "policycoreutils",
                         "firewalld", "NetworkManager"],
        "docker_repo": "https://download.docker.com/linux/centos",
        "docker_packages": {"containerd.io": "1.7.27-3.1.el9", "docker-ce": "3:28.3.2-1.el9",
                            "docker-ce-cli": "1:28.3.2-1.el9", "docker-buildx-plugin": "0.25.0-1.el9"},
        "selinux": "enforcing",
        "firewalld": True,
        "network_manager": True,
        "swap": "fstab",  # /dev/mapper/rl-swap in /etc/fstab (Anaconda's default LVM layout)
    },
    "fedora-41": {
        "family": "dnf", "dnf5": True,
        "os_release": ('NAME="Fedora Linux"\nVERSION="41 (Server Edition)"\nRELEASE_TYPE=stable\nID=fedora\n'
                       'VERSION_ID=41\nVERSION_CODENAME=""\nPLATFORM_ID="platform:f41"\n'
                       'PRETTY_NAME="Fedora Linux 41 (Server Edition)"\nANSI_COLOR="0;38;2;60;110;180"\n'
                       'LOGO=fedora-logo-icon\nCPE_NAME="cpe:/o:fedoraproject:fedora:41"\n'
                       'HOME_URL="https://fedoraproject.org/"\nVARIANT="Server Edition"\nVARIANT_ID=server\n'),
        "base": dict({k: v.replace(".el9_4", ".fc41").replace(".el9_5", ".fc41").replace(".el9_3", ".fc41")
                      .replace(".el9", ".fc41") for k, v in _COMMON_DNF.items()},
                     **{"containerd": "1.7.26-1.fc41", "zram-generator-defaults": "1.2.1-1.fc41",
                        "zram-generator": "1.2.1-1.fc41"}),
        "preinstalled": ["iptables-nft", "iproute", "iproute-tc", "util-linux", "coreutils", "curl",
                         "ca-certificates", "sudo", "openssh-server", "dnf-plugins-core", "policycoreutils",
                         "firewalld", "NetworkManager", "zram-generator", "zram-generator-defaults"],
        "docker_repo": "https://download.docker.com/linux/fedora",
        "docker_packages": {"containerd.io": "1.7.27-3.1.fc41", "docker-ce": "3:28.3.2-1.fc41"},
        "selinux": "enforcing",
        "firewalld": True,
        "network_manager": True,
        "swap": "zram",  # /dev/zram0 from zram-generator (dev-zram0.swap), nothing in /etc/fstab
    },
}

PKGS_K8S = re.compile(r"https://pkgs\.k8s\.io/core:/stable:/v(1\.\d+)/(deb|rpm)/?")


def k8s_versions(minor: str) -> list[str]:
    return [f"{minor}.{patch}" for patch in range(K8S_PATCHES.get(minor, -1) + 1)]


def k8s_repo_packages(minor: str, family: str) -> dict[str, list[str]]:
    """{package: [full versions, oldest first]} a pkgs.k8s.io minor repository offers."""
    suffix = DEB_REVISION if family == "apt" else RPM_RELEASE
    patches = [v + suffix for v in k8s_versions(minor)]
    cri = CRI_TOOLS.get(minor, minor + ".0") + suffix
    return {"kubeadm": patches, "kubelet": patches, "kubectl": patches, "cri-tools": [cri],
            "kubernetes-cni": ["1.6.0" + suffix if family == "apt" else "1.6.0" + RPM_RELEASE]}


def get(name: str | None) -> dict | None:
    return DISTROS.get(name or "")
