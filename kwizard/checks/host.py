"""Preflight for the whole fleet, from the gathered facts: what would stop kubeadm, and what it cannot see.

`preflight(profile, facts)` returns findings with stable codes. A finding is
an error only when the plan would fail or do harm; what the plan itself
fixes (ip_forward, br_netfilter, firewalld ports, /etc/hosts, swap when the
profile says so) is reported as info, so a fresh host passes. Checks across
hosts (duplicate identities, names, the pod network) are in
kwizard.checks.fleet.
"""

from __future__ import annotations

import os

import re
from collections.abc import Mapping

from kwizard.checks.fleet import duplicate_identity_findings, network_findings, resolution_findings
from kwizard.facts.model import HostError, HostFacts
from kwizard.checks.findings import Finding, Level
from kwizard.kube.ports import CONTROL_PLANE_PREFLIGHT_PORTS, WORKER_PREFLIGHT_PORTS
from kwizard.kube.versions import KubeVersion
from kwizard.profile.model import Profile, Role

MIN_CPUS = 2
MIN_MEMORY_MB = 1700
WORKER_LOW_MEMORY_MB = 1024

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


def preflight(profile: Profile, facts: Mapping[str, HostFacts | HostError]) -> list[Finding]:
    """Every finding for this profile's hosts; hosts that did not answer are errors of their own."""
    findings: list[Finding] = []
    answered: dict[str, HostFacts] = {}
    for host in profile.hosts:
        result = facts.get(host.name)
        if isinstance(result, HostFacts):
            answered[host.name] = result
            findings += host_findings(profile, host.role, result)
        else:
            findings.append(unreachable_finding(host.name, result))
    findings += duplicate_identity_findings(answered)
    findings += resolution_findings(profile, answered)
    findings += network_findings(profile, answered)
    findings += network_plugin_findings(profile, answered)
    from kwizard.day2.upgrade_checks import cluster_newer_findings  # noqa: PLC0415 - pure; apply must not downgrade

    findings += cluster_newer_findings(profile, answered)
    return findings


def unreachable_finding(host: str, error: HostError | None) -> Finding:
    if error is None:
        return Finding(Level.ERROR, "host.no_facts", "no facts were gathered from this host", "run the checks again", host)
    code = "host." + re.sub(r"[^a-z]+", "_", error.kind.lower()).strip("_")
    return Finding(Level.ERROR, code, error.message, error.fix, host)


def host_findings(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    """What one host's own facts say, the way kubeadm's preflight on that host would (and a bit more)."""
    checks = (
        _sudo,
        _swap,
        _kernel_settings,
        _distribution,
        _binaries,
        _kubernetes_packages,
        _versions,
        _runtime_socket,
        _firewalld,
        _existing_cluster,
        _ports,
        _capacity,
        _own_hostname,
    )
    findings: list[Finding] = []
    for check in checks:
        findings += check(profile, role, facts)
    return findings


def _finding(level: Level, code: str, facts: HostFacts, message: str, fix: str = "") -> Finding:
    return Finding(level, code, message, fix, facts.host)


def _sudo(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    if facts.sudo_ok:
        return []
    return [_finding(Level.ERROR, "sudo.refused", facts, f"commands cannot run as root: {facts.sudo_problem}",
                     _sudo_fix(profile))]


def _sudo_fix(profile: Profile) -> str:
    name = profile.ssh.sudo_password_env
    if name and os.environ.get(name):
        return f"check the password in {name} (ssh.sudo_password_env names it), or allow this user passwordless sudo"
    if name:
        return f"export {name} (the variable ssh.sudo_password_env names) with the sudo password, or allow passwordless sudo"
    return ("give the sudo password at run time (--sudo-password-stdin, or name a variable in ssh.sudo_password_env), "
            "or allow this user passwordless sudo")


def _swap(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    if not facts.swap_on:
        return []
    if profile.cluster.disable_swap:
        units = f"; swap units {', '.join(facts.swap_units)} get masked" if facts.swap_units else ""
        return [_finding(Level.INFO, "swap.on", facts,
                         "swap is on; the swap step turns it off and keeps it off after a reboot (swapoff -a, "
                         f"/etc/fstab, systemd .swap units, zram-generator){units}")]
    return [_finding(Level.ERROR, "swap.on", facts,
                     f"swap is on ({facts.swap_total_kb // 1024} MiB): the kubelet will not start with swap on",
                     "set cluster.disable_swap: true (kwizard turns it off and comments it out of /etc/fstab), "
                     "or run `swapoff -a` and remove swap from /etc/fstab yourself")]


def _kernel_settings(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    findings = []
    if facts.ip_forward is False:
        findings.append(_finding(Level.INFO, "kernel.ip_forward", facts,
                                 "net.ipv4.ip_forward is 0; the kernel step sets it to 1 (kubeadm requires it)"))
    elif facts.ip_forward is None:
        findings.append(_finding(Level.WARNING, "kernel.ip_forward_unreadable", facts,
                                 "could not read /proc/sys/net/ipv4/ip_forward", "check the host runs Linux with IPv4"))
    if facts.bridge_nf_call_iptables is not True:
        state = "off" if facts.bridge_nf_call_iptables is False else "absent (br_netfilter not loaded)"
        findings.append(_finding(Level.INFO, "kernel.bridge_nf_call_iptables", facts,
                                 f"net.bridge.bridge-nf-call-iptables is {state}; the kernel step loads "
                                 "br_netfilter and turns it on (bridge CNIs such as Flannel need it)"))
    return findings


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


def _binaries(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
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
            findings.append(_finding(Level.INFO, "binaries.installed_by_packages", facts,
                                     f"missing here, the packages step installs them: {', '.join(fixed)} — "
                                     f"{why}{version}"))
        if left:
            packages = sorted({_PACKAGES.get(b, b) for b in left})
            findings.append(_finding(level, f"binaries.missing_{level.value}", facts,
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


def _distribution(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    found = f"ID={facts.os_id or '?'} VERSION_ID={facts.os_version or '?'}"
    name, versions = SUPPORTED_DISTRIBUTIONS.get(facts.os_id, (None, ()))
    major = facts.os_version if facts.os_id == "ubuntu" else facts.os_version.split(".")[0]
    findings = []
    if name is None or major not in versions:
        what = facts.os_pretty or found
        findings.append(_finding(Level.WARNING, "os.unsupported", facts,
                                 f"{what} ({found} in /etc/os-release) is not a distribution kwizard supports: "
                                 f"{supported_distributions_text()}",
                                 "kwizard may still work; use a supported release, or check each step's commands "
                                 "(`kwizard plan`) against docs/upstream.md"))
    else:
        findings.append(_finding(Level.INFO, "os.supported", facts,
                                 f"{name} {facts.os_version} ({found}): supported "
                                 f"(kwizard supports {supported_distributions_text()})"))
    if facts.selinux == "Enforcing" and profile.cluster.install_packages:
        findings.append(_finding(Level.INFO, "selinux.enforcing", facts,
                                 "SELinux is Enforcing; the packages step sets it to permissive (setenforce 0 and "
                                 "SELINUX=permissive in /etc/selinux/config), as install-kubeadm.md says"))
    elif facts.selinux == "Enforcing":
        findings.append(_finding(Level.WARNING, "selinux.enforcing", facts,
                                 "SELinux is Enforcing; kubeadm's instructions set it to permissive "
                                 "(pod networks need the host filesystem)",
                                 "run `setenforce 0` and set SELINUX=permissive in /etc/selinux/config, or set "
                                 "cluster.install_packages: true"))
    return findings


def _kubernetes_packages(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
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
            return [_finding(Level.ERROR, "packages.no_manager", facts,
                             f"{', '.join(missing)} must be installed but kwizard drives only apt-get and dnf "
                             f"(package manager found: {found}; {facts.os_pretty or facts.os_id or 'unknown system'})",
                             "install containerd, conntrack and kubeadm/kubelet/kubectl yourself from pkgs.k8s.io, "
                             "then set cluster.install_packages: false")]
        return [_finding(Level.INFO, "packages.missing", facts,
                         f"{', '.join(missing)} not installed yet; the packages step installs them")]
    return [_finding(Level.ERROR, "packages.missing", facts, f"{', '.join(missing)} not installed",
                     "set cluster.install_packages: true, or install them from pkgs.k8s.io "
                     f"(v{profile.cluster.kubernetes_version})")]


def _minor(version: str | None) -> tuple[int, int] | None:
    found = KubeVersion.find(version)
    return found.minor_pair if found else None


def _versions(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    wanted = _minor(profile.cluster.kubernetes_version)
    kubeadm, kubelet = _minor(facts.kubeadm_version), _minor(facts.kubelet_version)
    findings = []
    if kubeadm and wanted and kubeadm != wanted and not profile.cluster.install_packages:
        findings.append(_finding(Level.WARNING, "version.kubeadm", facts,
                                 f"kubeadm is {facts.kubeadm_version} but the profile asks for "
                                 f"{profile.cluster.kubernetes_version}",
                                 "install the matching kubeadm, or set cluster.kubernetes_version to match"))
    if kubeadm and kubelet and kubelet > kubeadm:
        findings.append(_finding(Level.ERROR, "version.kubelet_newer", facts,
                                 f"kubelet {facts.kubelet_version} is newer than kubeadm {facts.kubeadm_version}; "
                                 "the kubelet may not be newer than the control plane",
                                 "install kubelet and kubeadm of the same version"))
    return findings


def _runtime_socket(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    chosen, found = profile.cluster.cri_socket, facts.cri_sockets
    if chosen != "auto":
        if chosen in found or profile.cluster.install_packages:
            return []
        return [_finding(Level.ERROR, "cri.chosen_missing", facts,
                         f"cri_socket {chosen} does not exist here (found: {', '.join(found) or 'none'})",
                         "start that container runtime, or set cluster.cri_socket to one that is there")]
    if not found:
        if profile.cluster.install_packages:
            return [_finding(Level.INFO, "cri.none", facts, "no container runtime yet; the packages step installs containerd")]
        return [_finding(Level.ERROR, "cri.none", facts, "no container runtime socket (containerd, CRI-O, cri-dockerd)",
                         "install and start containerd (with SystemdCgroup = true), or set cluster.install_packages: true")]
    if len(found) > 1:
        return [_finding(Level.ERROR, "cri.several", facts,
                         f"several container runtime sockets ({', '.join(found)}); kubeadm refuses to guess",
                         f"set cluster.cri_socket to the one to use, e.g. {found[0]}")]
    return []


def _firewalld(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    if not facts.firewalld_active:
        return []
    if profile.cluster.open_firewall_ports:
        return [_finding(Level.INFO, "firewalld.active", facts,
                         "firewalld is running; the firewall step opens the Kubernetes and network plugin ports")]
    ports = "6443 and 10250" if role is Role.CONTROL_PLANE else "10250"
    return [_finding(Level.WARNING, "firewalld.active", facts,
                     f"firewalld is running and the profile does not open ports: {ports}/tcp will be blocked",
                     "set cluster.open_firewall_ports: true, or open them with firewall-cmd")]


def _existing_cluster(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    mismatch = _existing_pod_network(profile, facts) if role is Role.CONTROL_PLANE else []
    if mismatch:
        return mismatch
    if facts.existing_cluster:
        what = "init" if role is Role.CONTROL_PLANE else "join"
        return [_finding(Level.WARNING, "cluster.existing", facts,
                         f"this host already belongs to a cluster ({', '.join(facts.cluster_files[:3])}); "
                         f"kwizard will skip {what} here",
                         "if it belongs to another cluster, run `kwizard reset` (or `kubeadm reset -f` on it) first")]
    if facts.etcd_data and role is Role.CONTROL_PLANE:
        return [_finding(Level.ERROR, "cluster.etcd_data", facts,
                         "/var/lib/etcd is not empty but no cluster config is there: kubeadm init refuses it",
                         "remove the old etcd data (`kubeadm reset -f`, or move /var/lib/etcd away)")]
    return []


def _existing_pod_network(profile: Profile, facts: HostFacts) -> list[Finding]:
    """A control plane that already runs with another pod network (or none) cannot take this profile's plugin."""
    wanted, found = profile.cluster.pod_cidr, facts.cluster_cidr
    if found is None or found == wanted:
        return []
    reset = "reset it (`kwizard reset`) and apply again, or set cluster.pod_cidr to what the cluster has"
    if found == "":
        return [_finding(Level.ERROR, "cluster.no_pod_cidr", facts,
                         "this control plane was initialised without a pod network (no --cluster-cidr): nodes get "
                         "no pod CIDR and Flannel would crash-loop with 'pod cidr not assigned'",
                         "reset it (`kwizard reset`) and apply again, so init gets podSubnet " + wanted)]
    return [_finding(Level.ERROR, "cluster.pod_cidr_differs", facts,
                     f"this control plane already runs with pod CIDR {found}, not the profile's {wanted}", reset)]


def _ports(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    if facts.existing_cluster:
        return []  # its own control plane holds them
    wanted = CONTROL_PLANE_PREFLIGHT_PORTS if role is Role.CONTROL_PLANE else WORKER_PREFLIGHT_PORTS
    busy = [p for p in wanted if p in facts.ports_in_use]
    if not busy:
        return []
    return [_finding(Level.ERROR, "ports.in_use", facts,
                     f"{_ports_phrase(busy)} already in use; kubeadm needs {'them' if len(busy) > 1 else 'it'}",
                     f"find the program with `ss -ltnp 'sport = :{busy[0]}'` and stop it")]


def _ports_phrase(ports: list[int]) -> str:
    return f"port{'s' if len(ports) > 1 else ''} {', '.join(map(str, ports))} {'are' if len(ports) > 1 else 'is'}"


def _capacity(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    findings = []
    if role is Role.CONTROL_PLANE:
        if 0 < facts.cpu_count < MIN_CPUS:
            findings.append(_finding(Level.ERROR, "capacity.cpu", facts,
                                     f"{facts.cpu_count} CPU; a control plane needs at least {MIN_CPUS}",
                                     "give the machine another CPU"))
        if 0 < facts.mem_mb < MIN_MEMORY_MB:
            findings.append(_finding(Level.ERROR, "capacity.memory", facts,
                                     f"{facts.mem_mb} MB of memory; a control plane needs at least {MIN_MEMORY_MB} MB",
                                     "give the machine at least 2 GB"))
    elif 0 < facts.mem_mb < WORKER_LOW_MEMORY_MB:
        findings.append(_finding(Level.WARNING, "capacity.memory", facts,
                                 f"{facts.mem_mb} MB of memory leaves little room for pods", "give the node 2 GB or more"))
    return findings


def _own_hostname(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    findings = []
    if facts.hostname and facts.hostname != facts.host:
        findings.append(_finding(Level.INFO, "hostname.differs", facts,
                                 f"the host calls itself {facts.hostname}; it joins the cluster as {facts.host}"))
    if facts.hostname and facts.resolved and facts.resolves(facts.hostname) is None:
        fixed_by_plan = profile.cluster.manage_etc_hosts and facts.hostname == facts.host
        if fixed_by_plan:
            findings.append(_finding(Level.INFO, "hostname.unresolvable", facts,
                                     f"{facts.hostname} does not resolve on itself yet; the hosts-file step adds it"))
        else:
            findings.append(_finding(Level.WARNING, "hostname.unresolvable", facts,
                                     f"the host cannot resolve its own name {facts.hostname} (kubeadm warns about it)",
                                     f"add `<its address> {facts.hostname}` to /etc/hosts on the host"))
    return findings


# --- the network plugin's inputs and the plugin already there (defects 10, 12) ---


def network_plugin_findings(profile: Profile, answered: Mapping[str, HostFacts]) -> list[Finding]:
    """Every plugin input checked before anything changes, and a plugin already installed."""
    from kwizard.checks.offline import workstation_input_findings  # noqa: PLC0415 - offline imports checks.cidr only

    findings = workstation_input_findings(profile, at_run_time=True)
    findings += _cni_interface(profile, answered)
    findings += _installed_plugin(profile, answered)
    findings += _calico_firewalld(profile, answered)
    return findings


def _cni_interface(profile: Profile, answered: Mapping[str, HostFacts]) -> list[Finding]:
    """cni_options.interface must exist on every node: Flannel's --iface and Calico's interface= name it exactly."""
    wanted = profile.cluster.cni_options.interface
    if not wanted or not answered:
        return []
    have = {name: {a.ifname for a in f.network.addresses} | {n for n, _ in f.macs} for name, f in answered.items()}
    lacking = sorted(name for name, names in have.items() if wanted not in names)
    if not lacking:
        return []
    seen = sorted({n for names in have.values() for n in names if n != "lo"})
    where = "no host has it" if len(lacking) == len(have) else f"{', '.join(lacking)} lack{'s' if len(lacking) == 1 else ''} it"
    return [Finding(Level.ERROR, "cni_options.interface_missing",
                    f"cluster.cni_options.interface is {wanted}, but {where}: the network plugin would fail on "
                    f"{'every node' if len(lacking) == len(have) else 'those nodes'}",
                    f"set cluster.cni_options.interface to an interface every node has (seen: {', '.join(seen)}), "
                    "or remove it")]


def _installed_plugin(profile: Profile, answered: Mapping[str, HostFacts]) -> list[Finding]:
    """A running cluster's network plugin cannot be swapped in place: refuse another one."""
    from kwizard.cni import catalogue as cni  # noqa: PLC0415

    wanted = profile.cluster.cni.value
    findings = []
    for name, facts in answered.items():
        found = cni.installed_plugins(facts.cni_config_files, facts.cluster_workloads)
        others = [p for p in found if p != wanted]
        if not others:
            continue
        names = " and ".join(cni.get_plugin(p).name for p in others)
        seen = ", ".join([*facts.cni_config_files, *(w for w in facts.cluster_workloads
                                                   if cni.installed_plugins((), (w,)))][:4])
        findings.append(_finding(Level.ERROR, "cni.installed_differs", facts,
                                 f"{names} is already installed here ({seen}), but the profile asks for "
                                 f"{cni.get_plugin(wanted).name}: the network plugin cannot be changed in place "
                                 "(kwizard would install a second one beside the first)",
                                 f"run `kwizard reset` (with --remove-cni-config) and apply again, or set "
                                 f"cluster.cni back to {others[0]}"))
    return findings


def _calico_firewalld(profile: Profile, answered: Mapping[str, HostFacts]) -> list[Finding]:
    """Calico asks for firewalld disabled; kwizard does it only with the profile's consent."""
    if profile.cluster.cni.value != "calico":
        return []
    consent = profile.cluster.cni_options.disable_firewalld
    findings = []
    for facts in answered.values():
        if not facts.firewalld_active:
            continue
        if consent:
            findings.append(_finding(Level.INFO, "firewalld.calico", facts,
                                     "firewalld is running; the firewall step disables it, as Calico requires "
                                     "(cluster.cni_options.disable_firewalld)"))
        else:
            findings.append(_finding(Level.WARNING, "firewalld.calico", facts,
                                     "firewalld is running, and Calico's system requirements say it should be "
                                     "disabled (it may interfere with Calico's rules); kwizard only opens Calico's "
                                     "ports in it",
                                     "to let kwizard stop and disable firewalld, set "
                                     "cluster.cni_options.disable_firewalld: true"))
    return findings
