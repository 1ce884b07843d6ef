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
from kwizard.checks.findings import Finding, Level, host_finding
from kwizard.kube.ports import CONTROL_PLANE_PREFLIGHT_PORTS, WORKER_PREFLIGHT_PORTS
from kwizard.profile.model import Profile, Role
from kwizard.checks.software import binaries_findings, distribution_findings, kubernetes_packages_findings, versions_findings
from kwizard.checks.cluster_state import existing_cluster_findings, network_plugin_findings

MIN_CPUS = 2
MIN_MEMORY_MB = 1700
WORKER_LOW_MEMORY_MB = 1024


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
        distribution_findings,
        binaries_findings,
        kubernetes_packages_findings,
        versions_findings,
        _runtime_socket,
        _firewalld,
        existing_cluster_findings,
        _ports,
        _capacity,
        _own_hostname,
    )
    findings: list[Finding] = []
    for check in checks:
        findings += check(profile, role, facts)
    return findings



def _sudo(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    if facts.sudo_ok:
        return []
    return [host_finding(Level.ERROR, "sudo.refused", facts, f"commands cannot run as root: {facts.sudo_problem}",
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
        return [host_finding(Level.INFO, "swap.on", facts,
                         "swap is on; the swap step turns it off and keeps it off after a reboot (swapoff -a, "
                         f"/etc/fstab, systemd .swap units, zram-generator){units}")]
    return [host_finding(Level.ERROR, "swap.on", facts,
                     f"swap is on ({facts.swap_total_kb // 1024} MiB): the kubelet will not start with swap on",
                     "set cluster.disable_swap: true (kwizard turns it off and comments it out of /etc/fstab), "
                     "or run `swapoff -a` and remove swap from /etc/fstab yourself")]


def _kernel_settings(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    findings = []
    if facts.ip_forward is False:
        findings.append(host_finding(Level.INFO, "kernel.ip_forward", facts,
                                 "net.ipv4.ip_forward is 0; the kernel step sets it to 1 (kubeadm requires it)"))
    elif facts.ip_forward is None:
        findings.append(host_finding(Level.WARNING, "kernel.ip_forward_unreadable", facts,
                                 "could not read /proc/sys/net/ipv4/ip_forward", "check the host runs Linux with IPv4"))
    if facts.bridge_nf_call_iptables is not True:
        state = "off" if facts.bridge_nf_call_iptables is False else "absent (br_netfilter not loaded)"
        findings.append(host_finding(Level.INFO, "kernel.bridge_nf_call_iptables", facts,
                                 f"net.bridge.bridge-nf-call-iptables is {state}; the kernel step loads "
                                 "br_netfilter and turns it on (bridge CNIs such as Flannel need it)"))
    return findings


def _runtime_socket(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    chosen, found = profile.cluster.cri_socket, facts.cri_sockets
    if chosen != "auto":
        if chosen in found or profile.cluster.install_packages:
            return []
        return [host_finding(Level.ERROR, "cri.chosen_missing", facts,
                         f"cri_socket {chosen} does not exist here (found: {', '.join(found) or 'none'})",
                         "start that container runtime, or set cluster.cri_socket to one that is there")]
    if not found:
        if profile.cluster.install_packages:
            return [host_finding(Level.INFO, "cri.none", facts, "no container runtime yet; the packages step installs containerd")]
        return [host_finding(Level.ERROR, "cri.none", facts, "no container runtime socket (containerd, CRI-O, cri-dockerd)",
                         "install and start containerd (with SystemdCgroup = true), or set cluster.install_packages: true")]
    if len(found) > 1:
        return [host_finding(Level.ERROR, "cri.several", facts,
                         f"several container runtime sockets ({', '.join(found)}); kubeadm refuses to guess",
                         f"set cluster.cri_socket to the one to use, e.g. {found[0]}")]
    return []


def _firewalld(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    if not facts.firewalld_active:
        return []
    if profile.cluster.open_firewall_ports:
        return [host_finding(Level.INFO, "firewalld.active", facts,
                         "firewalld is running; the firewall step opens the Kubernetes and network plugin ports")]
    ports = "6443 and 10250" if role is Role.CONTROL_PLANE else "10250"
    return [host_finding(Level.WARNING, "firewalld.active", facts,
                     f"firewalld is running and the profile does not open ports: {ports}/tcp will be blocked",
                     "set cluster.open_firewall_ports: true, or open them with firewall-cmd")]


def _ports(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    if facts.existing_cluster:
        return []  # its own control plane holds them
    wanted = CONTROL_PLANE_PREFLIGHT_PORTS if role is Role.CONTROL_PLANE else WORKER_PREFLIGHT_PORTS
    busy = [p for p in wanted if p in facts.ports_in_use]
    if not busy:
        return []
    return [host_finding(Level.ERROR, "ports.in_use", facts,
                     f"{_ports_phrase(busy)} already in use; kubeadm needs {'them' if len(busy) > 1 else 'it'}",
                     f"find the program with `ss -ltnp 'sport = :{busy[0]}'` and stop it")]


def _ports_phrase(ports: list[int]) -> str:
    return f"port{'s' if len(ports) > 1 else ''} {', '.join(map(str, ports))} {'are' if len(ports) > 1 else 'is'}"


def _capacity(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    findings = []
    if role is Role.CONTROL_PLANE:
        if 0 < facts.cpu_count < MIN_CPUS:
            findings.append(host_finding(Level.ERROR, "capacity.cpu", facts,
                                     f"{facts.cpu_count} CPU; a control plane needs at least {MIN_CPUS}",
                                     "give the machine another CPU"))
        if 0 < facts.mem_mb < MIN_MEMORY_MB:
            findings.append(host_finding(Level.ERROR, "capacity.memory", facts,
                                     f"{facts.mem_mb} MB of memory; a control plane needs at least {MIN_MEMORY_MB} MB",
                                     "give the machine at least 2 GB"))
    elif 0 < facts.mem_mb < WORKER_LOW_MEMORY_MB:
        findings.append(host_finding(Level.WARNING, "capacity.memory", facts,
                                 f"{facts.mem_mb} MB of memory leaves little room for pods", "give the node 2 GB or more"))
    return findings


def _own_hostname(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    findings = []
    if facts.hostname and facts.hostname != facts.host:
        findings.append(host_finding(Level.INFO, "hostname.differs", facts,
                                 f"the host calls itself {facts.hostname}; it joins the cluster as {facts.host}"))
    if facts.hostname and facts.resolved and facts.resolves(facts.hostname) is None:
        fixed_by_plan = profile.cluster.manage_etc_hosts and facts.hostname == facts.host
        if fixed_by_plan:
            findings.append(host_finding(Level.INFO, "hostname.unresolvable", facts,
                                     f"{facts.hostname} does not resolve on itself yet; the hosts-file step adds it"))
        else:
            findings.append(host_finding(Level.WARNING, "hostname.unresolvable", facts,
                                     f"the host cannot resolve its own name {facts.hostname} (kubeadm warns about it)",
                                     f"add `<its address> {facts.hostname}` to /etc/hosts on the host"))
    return findings
