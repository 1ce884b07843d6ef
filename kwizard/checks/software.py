"""What is installed on a host, and whether kwizard supports it: the distribution and its package manager, the binaries kubeadm's preflight looks for, the Kubernetes packages and their versions.
"""

from __future__ import annotations



from kwizard.facts.model import HostFacts
from kwizard.checks.findings import host_finding, Finding, Level
from kwizard.kube.versions import KubeVersion
from kwizard.profile.model import Profile, Role


# Which package brings a missing binary (Debian name / RHEL name where they differ).
_PACKAGES = {
    "conntrack": "conntrack (conntrack-tools on RHEL/Fedora)",
    "ip": "iproute2 (iproute on RHEL)",
    "tc": "iproute2 (iproute-tc on RHEL)",
    "iptables": "iptables",
    "mount": "mount (util-linux)",
    "nsenter": "util-linux",
    "ebtables": "ebtables",
    "ethtool": "ethtool",
    "socat": "socat",
    "touch": "coreutils",
}


# kubernetes/kubernetes cmd/kubeadm/app/preflight/checks_linux.go addExecChecks (what each binary's
# InPathCheck says): mandatory ones fail kubeadm's preflight, the others are warnings.
_BINARY_RULES = {
    "conntrack": "required by kubeadm's preflight below Kubernetes 1.32 (not checked from 1.32)",
    "ip": "required by kubeadm's preflight (every version)",
    "iptables": "required by kubeadm's preflight (every version)",
    "mount": "required by kubeadm's preflight (every version)",
    "nsenter": "required by kubeadm's preflight (every version)",
    "ebtables": "a kubeadm preflight warning (every version)",
    "ethtool": "a kubeadm preflight warning (every version)",
    "socat": "a kubeadm preflight warning (every version); kubectl port-forward needs it",
    "tc": "a kubeadm preflight warning (every version)",
    "touch": "a kubeadm preflight warning (every version)",
}
# What the packages step installs (kwizard/plan/scripts.py PREFLIGHT_PACKAGES): missing ones are fixed by it.
_INSTALLED_BY_PACKAGES = {"conntrack", "iptables", "ebtables", "ethtool", "socat", "tc"}
CONNTRACK_NOT_NEEDED_FROM = (1, 32)


def binaries_findings(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    findings = []
    wanted = _minor(profile.cluster.kubernetes_version)
    conntrack_required = wanted is not None and wanted < CONNTRACK_NOT_NEEDED_FROM
    required = list(facts.required_missing) + ([b for b in facts.versioned_missing] if conntrack_required else [])
    for level, missing in ((Level.ERROR, required), (Level.WARNING, list(facts.wanted_missing))):
        if not missing:
            continue
        fixed = [b for b in missing if b in _INSTALLED_BY_PACKAGES] if profile.cluster.install_packages else []
        left = [b for b in missing if b not in fixed]
        why = "; ".join(f"{b}: {_BINARY_RULES.get(b, 'checked by kubeadm')}" for b in missing)
        version = f" (this cluster: {profile.cluster.kubernetes_version})"
        if fixed:
            findings.append(host_finding(Level.INFO, "binaries.installed_by_packages", facts,
                                     f"missing here, the packages step installs them: {', '.join(fixed)} — "
                                     f"{why}{version}"))
        if left:
            packages = sorted({_PACKAGES.get(b, b) for b in left})
            findings.append(host_finding(level, f"binaries.missing_{level.value}", facts,
                                     f"kubeadm looks for these programs, missing here: {', '.join(left)} — "
                                     f"{why}{version}",
                                     f"install {', '.join(packages)}"))
    return findings


# Distributions kwizard's package step and checks are written and tested for (docs/upstream.md,
# "Supported distributions"): ID from /etc/os-release -> the VERSION_ID majors.
SUPPORTED_DISTRIBUTIONS = {
    "debian": ("Debian", ("12",)),
    "ubuntu": ("Ubuntu", ("22.04", "24.04")),
    "rocky": ("Rocky Linux", ("9",)),
    "rhel": ("RHEL", ("9",)),
    "almalinux": ("AlmaLinux", ("9",)),
    "fedora": ("Fedora", ("40", "41")),
}
PACKAGE_MANAGERS = {"apt-get": "apt", "dnf": "dnf"}


def supported_distributions_text() -> str:
    return ", ".join(f"{name} {'/'.join(versions)}" for name, versions in SUPPORTED_DISTRIBUTIONS.values())


def distribution_findings(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    found = f"ID={facts.os_id or '?'} VERSION_ID={facts.os_version or '?'}"
    name, versions = SUPPORTED_DISTRIBUTIONS.get(facts.os_id, (None, ()))
    major = facts.os_version if facts.os_id == "ubuntu" else facts.os_version.split(".")[0]
    findings = []
    if name is None or major not in versions:
        what = facts.os_pretty or found
        findings.append(host_finding(Level.WARNING, "os.unsupported", facts,
                                 f"{what} ({found} in /etc/os-release) is not a distribution kwizard supports: "
                                 f"{supported_distributions_text()}",
                                 "kwizard may still work; use a supported release, or check each step's commands "
                                 "(`kwizard plan`) against docs/upstream.md"))
    else:
        findings.append(host_finding(Level.INFO, "os.supported", facts,
                                 f"{name} {facts.os_version} ({found}): supported "
                                 f"(kwizard supports {supported_distributions_text()})"))
    if facts.selinux == "Enforcing" and profile.cluster.install_packages:
        findings.append(host_finding(Level.INFO, "selinux.enforcing", facts,
                                 "SELinux is Enforcing; the packages step sets it to permissive (setenforce 0 and "
                                 "SELINUX=permissive in /etc/selinux/config), as install-kubeadm.md says"))
    elif facts.selinux == "Enforcing":
        findings.append(host_finding(Level.WARNING, "selinux.enforcing", facts,
                                 "SELinux is Enforcing; kubeadm's instructions set it to permissive "
                                 "(pod networks need the host filesystem)",
                                 "run `setenforce 0` and set SELINUX=permissive in /etc/selinux/config, or set "
                                 "cluster.install_packages: true"))
    return findings


def kubernetes_packages_findings(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    wanted = {"kubeadm": facts.kubeadm_version, "kubelet": facts.kubelet_version}
    if role is Role.CONTROL_PLANE:
        wanted["kubectl"] = facts.kubectl_version
    missing = [name for name, version in wanted.items() if version is None]
    if profile.cluster.install_packages and facts.package_family is None:
        # The packages step has no script for this host, installed or not: refuse before changing anything.
        missing = missing or ["containerd", "kubeadm"]
    elif not missing:
        return []
    if profile.cluster.install_packages:
        if facts.package_family is None:
            found = facts.package_manager or "none"
            return [host_finding(Level.ERROR, "packages.no_manager", facts,
                             f"{', '.join(missing)} must be installed but kwizard drives only apt-get and dnf "
                             f"(package manager found: {found}; {facts.os_pretty or facts.os_id or 'unknown system'})",
                             "install containerd, conntrack and kubeadm/kubelet/kubectl yourself from pkgs.k8s.io, "
                             "then set cluster.install_packages: false")]
        return [host_finding(Level.INFO, "packages.missing", facts,
                         f"{', '.join(missing)} not installed yet; the packages step installs them")]
    return [host_finding(Level.ERROR, "packages.missing", facts, f"{', '.join(missing)} not installed",
                     "set cluster.install_packages: true, or install them from pkgs.k8s.io "
                     f"(v{profile.cluster.kubernetes_version})")]


def _minor(version: str | None) -> tuple[int, int] | None:
    found = KubeVersion.find(version)
    return found.minor_pair if found else None


def versions_findings(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    wanted = _minor(profile.cluster.kubernetes_version)
    kubeadm, kubelet = _minor(facts.kubeadm_version), _minor(facts.kubelet_version)
    findings = []
    if kubeadm and wanted and kubeadm != wanted and not profile.cluster.install_packages:
        findings.append(host_finding(Level.WARNING, "version.kubeadm", facts,
                                 f"kubeadm is {facts.kubeadm_version} but the profile asks for "
                                 f"{profile.cluster.kubernetes_version}",
                                 "install the matching kubeadm, or set cluster.kubernetes_version to match"))
    if kubeadm and kubelet and kubelet > kubeadm:
        findings.append(host_finding(Level.ERROR, "version.kubelet_newer", facts,
                                 f"kubelet {facts.kubelet_version} is newer than kubeadm {facts.kubeadm_version}; "
                                 "the kubelet may not be newer than the control plane",
                                 "install kubelet and kubeadm of the same version"))
    return findings
