# kwizard lab simulator support -- NOT a real package manager.
# What apt-get/dnf/apt-mark share: installing kubeadm/kubelet/kubectl flips this
# host's PATH (common.link_tools); nothing is downloaded.
from __future__ import annotations

import common

KUBERNETES = {"kubeadm", "kubelet", "kubectl"}


def package_names(args: list[str]) -> list[str]:
    # "kubeadm=1.33.2-1.1" / "kubeadm-1.33.2" -> "kubeadm"
    names = []
    for arg in args:
        base = arg.split("=")[0]
        for known in KUBERNETES | {"containerd", "containerd.io", "cri-tools", "kubernetes-cni"}:
            if base == known or base.startswith(known + "-1"):
                base = known
        names.append(base)
    return names


def install(names: list[str]) -> None:
    common.link_tools(sorted(KUBERNETES & set(names)))
    with common.host_file("packages.json") as packages:
        packages.setdefault("installed", [])
        packages["installed"] = sorted(set(packages["installed"]) | set(names))
