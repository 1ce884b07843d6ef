# kwizard lab simulator support -- NOT a real package manager.
# What apt-get/dnf/apt-mark share. Two modes:
#  - the default lab host (no distribution scenario): lenient, as before: any package
#    installs; kubeadm/kubelet/kubectl become available (common.link_tools);
#  - a distribution scenario (distros.py): the package manager knows which packages
#    each configured repository offers (the distribution's own, Docker's, pkgs.k8s.io
#    per minor), installs exactly the version asked for, and refuses unknown packages
#    the way apt and dnf refuse them. Nothing is downloaded.
from __future__ import annotations

import fnmatch
import glob
import json
import os
import re
from pathlib import Path

import common
import distros

KUBERNETES = {"kubeadm", "kubelet", "kubectl"}
CONTAINERD = {"containerd", "containerd.io"}


# --- lenient mode (the default host) -------------------------------------------------------


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


def tools_of(names: set[str]) -> list[str]:
    """The simulated tools these packages put on PATH: crictl comes with cri-tools, which
    pkgs.k8s.io's kubeadm package depends on (deb Depends / rpm Requires)."""
    return sorted(KUBERNETES & names) + (["crictl"] if names & {"kubeadm", "cri-tools"} else [])


def install(names: list[str]) -> None:
    common.link_tools(tools_of(set(names)))
    with common.host_file("packages.json") as packages:
        packages.setdefault("installed", [])
        packages["installed"] = sorted(set(packages["installed"]) | set(names))


# --- distribution mode ---------------------------------------------------------------------


def distro() -> dict | None:
    path = common.HOST_DIR / "distro.json"
    if not path.exists():
        return None
    name = json.loads(path.read_text()).get("name")
    found = distros.get(name)
    return dict(found, name=name) if found else None


def installed() -> dict[str, str]:
    """{package: version} of what is installed on this host (distribution mode)."""
    data = common._json_file("packages.json")
    return dict(data.get("versions") or {})


def has_package(name: str) -> bool:
    return name in installed()


def _repo_files() -> list[tuple[str, str]]:
    """(section id, body) of every [section] in /etc/yum.repos.d/*.repo."""
    sections = []
    for path in sorted(glob.glob("/etc/yum.repos.d/*.repo")):
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        for match in re.finditer(r"^\[([^\]]+)\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S):
            sections.append((match.group(1).strip(), match.group(2)))
    return sections


def _option(body: str, key: str) -> str:
    match = re.search(rf"^\s*{key}\s*=\s*(.*)$", body, re.M)
    return match.group(1).strip() if match else ""


def _apt_sources() -> list[str]:
    lines = []
    for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list")),
                 *sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))]:
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        lines += [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return lines


def apt_update_snapshot(info: dict) -> list[str]:
    """`apt-get update`: read the sources now (apt only sees a new list after an update). Returns the Hit/Get lines."""
    sources = _apt_sources()
    minors = sorted({m.group(1) for line in sources for m in [distros.PKGS_K8S.search(line)] if m})
    docker = any("download.docker.com/linux/" in line for line in sources)
    with common.host_file("apt-lists.json") as lists:
        lists["k8s_minors"] = minors
        lists["docker"] = docker
    mirror = "http://archive.ubuntu.com/ubuntu" if info["name"].startswith("ubuntu") else "http://deb.debian.org/debian"
    code = info["codename"]
    out = [f"Hit:1 {mirror} {code} InRelease", f"Hit:2 {mirror} {code}-updates InRelease"]
    for i, minor in enumerate(minors, start=3):
        out.append(f"Get:{i} https://pkgs.k8s.io/core:/stable:/v{minor}/deb  InRelease [1,189 B]")
    if docker:
        out.append(f"Hit:{len(out) + 1} {info['docker_repo']} {code} InRelease")
    return out + ["Reading package lists... Done"]


def available(info: dict) -> dict[str, list[tuple[str, str, list[str]]]]:
    """{package: [(version, repository id, excluded-by)]}; excluded-by lists repo ids whose
    `exclude=` hides the package (dnf), empty when it is installable as is."""
    offer: dict[str, list] = {}

    def add(name, version, repo, excluded=()):
        offer.setdefault(name, []).append((version, repo, list(excluded)))

    family = info["family"]
    for name, version in info["base"].items():
        add(name, version, "baseos" if family == "dnf" else info["codename"])
    if family == "apt":
        lists = common._json_file("apt-lists.json")
        for minor in lists.get("k8s_minors", []):
            for name, versions in distros.k8s_repo_packages(minor, "apt").items():
                for version in versions:
                    add(name, version, f"pkgs.k8s.io v{minor}")
        if lists.get("docker"):
            add("containerd.io", "1.7.27-1", "download.docker.com")
            add("docker-ce", "5:28.3.2-1~debian.12~bookworm", "download.docker.com")
        return offer
    for repo_id, body in _repo_files():
        if _option(body, "enabled") in ("0", "false", "no"):
            continue
        baseurl = _option(body, "baseurl")
        excludes = _option(body, "exclude").split()
        match = distros.PKGS_K8S.search(baseurl)
        if match and match.group(2) == "rpm":
            for name, versions in distros.k8s_repo_packages(match.group(1), "dnf").items():
                for version in versions:
                    add(name, version, repo_id, [repo_id] if any(fnmatch.fnmatch(name, e) for e in excludes) else [])
        elif info["docker_repo"] in baseurl:
            for name, version in (info.get("docker_packages") or {}).items():
                add(name, version, repo_id)
    return offer


def _split_dnf(arg: str, names: list[str]) -> tuple[str, str | None]:
    """kubeadm-1.33.2 -> (kubeadm, 1.33.2); containerd.io -> (containerd.io, None)."""
    if arg in names:
        return arg, None
    for name in sorted(names, key=len, reverse=True):
        rest = arg[len(name) + 1:]
        if arg.startswith(name + "-") and rest[:1].isdigit():
            return name, rest
    return arg, None


def _strip_epoch(version: str) -> str:
    return version.split(":", 1)[1] if ":" in version else version


def resolve(info: dict, args: list[str], disabled_excludes: set[str]) -> tuple[dict, list[tuple[str, str]]]:
    """({package: (version, repo)}, [(problem kind, arg)]) for an install command line."""
    offer = available(info)
    chosen, problems = {}, []
    for arg in args:
        if info["family"] == "apt":
            name, _, wanted = arg.partition("=")
            candidates = offer.get(name, [])
            if not candidates:
                problems.append(("missing", arg))
                continue
            if wanted:
                candidates = [c for c in candidates if fnmatch.fnmatch(c[0], wanted) or c[0] == wanted]
                if not candidates:
                    problems.append(("version", arg))
                    continue
        else:
            name, wanted = _split_dnf(arg, list(offer))
            candidates = offer.get(name, [])
            if wanted:
                candidates = [c for c in candidates
                              if _strip_epoch(c[0]) == wanted or _strip_epoch(c[0]).startswith(wanted + "-")
                              or fnmatch.fnmatch(_strip_epoch(c[0]), wanted)]  # dnf takes globs: kubeadm-1.34.*
            if not candidates:
                problems.append(("missing", arg))
                continue
            visible = [c for c in candidates if not set(c[2]) - disabled_excludes or "all" in disabled_excludes]
            if not visible:
                problems.append(("excluded", arg))
                continue
            candidates = visible
        version, repo, _ = candidates[-1]  # the newest that matches
        chosen[name] = (version, repo)
    return chosen, problems


def upstream_version(version: str) -> str:
    """1.33.2-1.1 / 1.33.2-150500.1.1 -> 1.33.2 (what `kubeadm version` then reports)."""
    return _strip_epoch(version).split("-")[0].split("~")[0]


def install_resolved(chosen: dict) -> None:
    names = set(chosen)
    common.link_tools(tools_of(names))
    if names & CONTAINERD:
        common.link_tools(["containerd"])
    with common.host_file("packages.json") as packages:
        versions = packages.setdefault("versions", {})
        for name, (version, _) in chosen.items():
            versions[name] = version
        packages["installed"] = sorted(set(packages.get("installed", [])) | names)
    with common.host_file("services.json") as services:
        for name in names & CONTAINERD:
            services.setdefault("containerd", {"enabled": False, "active": False})
    if "containerd.io" in names:
        # Docker's containerd.io ships a config.toml that switches the CRI plugin off
        # (containerd docs/getting-started.md; kubeadm then fails [ERROR CRI]).
        os.makedirs("/etc/containerd", exist_ok=True)
        Path("/etc/containerd/config.toml").write_text(
            "#   Copyright 2018-2022 Docker Inc.\n\n#   (kwizard lab: stand-in for the file containerd.io installs)\n\n"
            'disabled_plugins = ["cri"]\n\n#root = "/var/lib/containerd"\n#state = "/run/containerd"\n')


def remove(names: list[str]) -> list[str]:
    """Uninstall; returns the names that were installed."""
    removed = []
    with common.host_file("packages.json") as packages:
        versions = packages.setdefault("versions", {})
        for name in names:
            if versions.pop(name, None) is not None:
                removed.append(name)
        packages["installed"] = sorted(set(packages.get("installed", [])) - set(removed))
    left = set(installed()) | set(common._json_file("packages.json").get("installed") or [])
    if set(removed) & {"kubeadm", "cri-tools"} and not left & {"kubeadm", "cri-tools"}:
        (common.HOST_DIR / "bin" / "crictl").unlink(missing_ok=True)
    for name in removed:
        if name in KUBERNETES or name in CONTAINERD:
            link = common.HOST_DIR / "bin" / ("containerd" if name in CONTAINERD else name)
            if link.is_symlink() and not (name in CONTAINERD and set(installed()) & CONTAINERD):
                link.unlink()
    return removed


def docker_repo_file(url: str) -> str:
    """The docker-ce.repo Docker publishes at download.docker.com/linux/<os>/docker-ce.repo (lab's own text)."""
    os_name = url.split("/linux/")[1].split("/")[0] if "/linux/" in url else "centos"
    return (f"[docker-ce-stable]\nname=Docker CE Stable - $basearch\n"
            f"baseurl=https://download.docker.com/linux/{os_name}/$releasever/$basearch/stable\n"
            f"enabled=1\ngpgcheck=1\ngpgkey=https://download.docker.com/linux/{os_name}/gpg\n")
