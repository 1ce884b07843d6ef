"""Checks no single host can make: identities that must differ, names nodes must resolve, the pod network.

kubeadm's preflight runs on one host at a time, so it never sees two clones
with one product_uuid or one MAC; the cluster then breaks in odd ways later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from kwizard.facts.model import HostFacts
from kwizard.checks.findings import Finding, Level
from kwizard.profile.model import Profile
from kwizard.checks.cidr import check_pod_cidr, check_service_cidr
from kwizard.checks.advertise import AddressCandidate, choose_advertise_address
from kwizard.facts.hostnet import is_tunnel_interface

_IDENTITIES: tuple[tuple[str, str, Callable[[HostFacts], Iterable[str]], str], ...] = (
    ("hostname", "hostname", lambda f: [f.hostname] if f.hostname else [],
     "give each machine its own name (hostnamectl set-hostname NAME)"),
    ("product_uuid", "product_uuid", lambda f: [f.product_uuid] if f.product_uuid else [],
     "these look like clones of one VM: give each its own SMBIOS UUID (recreate it, or change the VM's uuid)"),
    ("machine_id", "machine-id", lambda f: [f.machine_id] if f.machine_id else [],
     "regenerate it on the clones: `rm /etc/machine-id && systemd-machine-id-setup`"),
    ("mac", "MAC address", lambda f: [mac for _, mac in f.macs],
     "give each VM's network card its own MAC address"),
)


def duplicate_identity_findings(facts: Mapping[str, HostFacts]) -> list[Finding]:
    """One error per value that two or more hosts share, naming all of them."""
    findings = []
    for code, label, values_of, fix in _IDENTITIES:
        holders: dict[str, list[str]] = defaultdict(list)
        for name, host_facts in facts.items():
            for value in dict.fromkeys(values_of(host_facts)):  # one host's own repeats don't count
                holders[value.lower()].append(name)
        for value, names in holders.items():
            if len(names) > 1:
                message = f"{' and '.join(names)} have the same {label} {value}; every node needs its own"
                findings.append(Finding(Level.ERROR, f"duplicate.{code}", message, fix))
    return findings


def resolution_findings(profile: Profile, facts: Mapping[str, HostFacts]) -> list[Finding]:
    """Can each node resolve every other node's name, to the address the profile gives it?"""
    addresses = {h.name: h.address for h in profile.hosts}
    findings = []
    for name, host_facts in facts.items():
        if not host_facts.resolved:
            continue  # the names were not asked (older facts); nothing to say
        others = [n for n in addresses if n != name]
        unresolved = [n for n in others if host_facts.resolves(n) is None]
        wrong = [(n, host_facts.resolves(n)) for n in others if host_facts.resolves(n) not in (None, addresses[n])]
        if unresolved:
            findings.append(_unresolved(profile, name, unresolved))
        for other, seen in wrong:
            findings.append(Finding(
                Level.WARNING, "names.wrong_address",
                f"{name} resolves {other} to {seen}, but the profile says {addresses[other]}",
                f"fix the {other} entry in /etc/hosts (or DNS) on {name}; an earlier /etc/hosts line wins over "
                "kwizard's managed block", name))
    return findings


def _unresolved(profile: Profile, host: str, names: list[str]) -> Finding:
    text = f"{host} cannot resolve {', '.join(names)}"
    if profile.cluster.manage_etc_hosts:
        return Finding(Level.INFO, "names.unresolved", f"{text}; the hosts-file step adds them to /etc/hosts", host=host)
    return Finding(Level.WARNING, "names.unresolved", f"{text} (kubectl logs/exec and node-to-node traffic by name fail)",
                   "set cluster.manage_etc_hosts: true, or add the names to DNS or /etc/hosts", host)


def network_findings(profile: Profile, facts: Mapping[str, HostFacts]) -> list[Finding]:
    """The pod and service CIDR against every host's networks, and the control plane's advertise address."""
    networks = [f.network for f in facts.values()]
    cluster = profile.cluster
    findings = check_pod_cidr(cluster.pod_cidr, cluster.service_cidr, networks, len(profile.hosts), cluster.cni.value)
    findings += check_service_cidr(cluster.service_cidr, networks)
    control_plane = facts.get(profile.control_plane.name)
    if control_plane is not None:
        findings += _advertise_findings(profile, control_plane, facts)
    return findings


def _advertise_findings(profile: Profile, control_plane: HostFacts,
                        facts: Mapping[str, HostFacts] | None = None) -> list[Finding]:
    wanted = profile.cluster.advertise_address
    if wanted == "auto":
        return list(choose_advertise_address(control_plane.network).findings)
    held = {str(a.address.ip) for a in control_plane.network.addresses}
    if wanted not in held:
        return [Finding(Level.ERROR, "advertise.not_on_host",
                        f"advertise address {wanted} is not an address of {control_plane.host} ({', '.join(sorted(held))})",
                        "set cluster.advertise_address to one of the host's addresses, or to auto",
                        control_plane.host)]
    others = {name: f for name, f in (facts or {}).items() if name != control_plane.host}
    return _hand_set_tunnel_address(control_plane, wanted, others)


def _hand_set_tunnel_address(control_plane: HostFacts, wanted: str, others: Mapping[str, HostFacts]) -> list[Finding]:
    """A hand-set address on a VPN/tunnel interface: every worker must reach it, and usually cannot.

    An error unless every other host has an address in the tunnel's network (a mesh VPN the cluster is
    meant to run over): then a warning.
    """
    holder = next(a for a in control_plane.network.addresses if str(a.address.ip) == wanted)
    if not is_tunnel_interface(holder.ifname):
        return []
    choice = choose_advertise_address(control_plane.network)
    real = [c for c in (*choice.candidates, AddressCandidate(choice.address or "", choice.interface or ""))
            if c.address and not is_tunnel_interface(c.interface)]
    offered = ", ".join(f"{c.address} ({c.interface})" for c in dict.fromkeys(real))
    network = holder.address.network
    on_tunnel = [name for name, f in others.items() if any(a.address.ip in network for a in f.network.addresses)]
    message = (
        f"cluster.advertise_address {wanted} is on {holder.ifname}, which looks like a VPN/tunnel interface: kubeadm "
        f"will advertise it, so every worker must reach {wanted}:6443 through that tunnel; where it cannot, "
        f"the join fails with `dial tcp {wanted}:6443: i/o timeout`"
    )
    fix = ((f"set cluster.advertise_address to an address on the nodes' network ({offered}), or to auto"
            if offered else "set cluster.advertise_address to an address on the nodes' network")
           + "; if the cluster is meant to run over this tunnel, set cluster.cni_options.interface to "
           f"{holder.ifname} too")
    if others and len(on_tunnel) == len(others):
        return [Finding(Level.WARNING, "advertise.tunnel_address",
                        message + f" (every other host has an address in {network}, so it may be meant)",
                        fix, control_plane.host, holder.ifname)]
    return [Finding(Level.ERROR, "advertise.tunnel_address", message, fix, control_plane.host, holder.ifname)]
