"""Pod and service CIDR checks against what the hosts' own networks look like.

Pure functions over `HostNetwork` (kwizard.facts.hostnet, built from `ip -j
addr` / `ip -j route`). The rule they enforce comes from the seed guide: the
pod network must not cover any host network. Also kube-controller-manager's
and kube-apiserver's size limits, the plugin's own rules, and a free pod CIDR
to suggest. The syntax rule itself is kwizard.profile.cidr's.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable, Iterator, Sequence
from ipaddress import IPv4Network

from kwizard.cni.catalogue import CATALOGUE
from kwizard.checks.findings import Finding, Level
from kwizard.facts.hostnet import HostNetwork, IPNetwork, host_networks, overlaps
from kwizard.profile.cidr import POD_CIDR_FIELD, SERVICE_CIDR_FIELD, cidr_problem, exact_network, parse_cidr

NODE_PREFIX = {4: 24, 6: 64}  # kube-controller-manager's per-node pod CIDR sizes
MAX_NODE_MASK_DIFF = 16  # controller-manager refuses a cluster CIDR > 16 bits wider than a node's
MAX_SERVICE_BITS = 20  # kube-apiserver: service CIDR at most /12 (IPv4) or /108 (IPv6)
MIN_SERVICE_ADDRESSES = 16  # kubeadm puts cluster DNS at the 10th address
CALICO_BLOCK_PREFIX = 26
FALLBACK_POD_CIDRS = ("10.244.0.0/16", "10.32.0.0/12")
SERVICE_CIDR_CHOICES = ("10.96.0.0/12", "172.30.0.0/16", "10.208.0.0/12")  # kubeadm's default first


# --- Shared syntax and overlap findings --------------------------------------------

_FIELDS = {"pod_cidr": POD_CIDR_FIELD, "service_cidr": SERVICE_CIDR_FIELD}
_PROBLEM_CODES = {"syntax": "syntax", "no_prefix": "syntax", "host_bits": "host_bits", "ipv6": "ipv6_unsupported"}


def _syntax_findings(code: str, text: str) -> tuple[IPNetwork | None, list[Finding]]:
    """The profile's own rule (kwizard.profile.cidr), as a finding; the network, when it reads as one."""
    problem = cidr_problem(_FIELDS[code], text)
    if problem is None:
        return parse_cidr(text), []
    finding = Finding(Level.ERROR, f"{code}.{_PROBLEM_CODES[problem.kind]}", problem.message, problem.fix)
    usable = problem.network if problem.kind in ("host_bits", "ipv6") else None
    return usable, [finding]


def _host_overlap_findings(label: str, code: str, net: IPNetwork, hosts: Sequence[HostNetwork], fix: str) -> list[Finding]:
    findings = []
    for host in hosts:
        for used in host_networks(host):
            if not overlaps(net, used.network):
                continue
            if used.via == "route":
                msg = f"{label} {net} overlaps the route to {used.network} via {used.interface} on host {used.host}"
                kind = "overlaps_route"
            else:
                msg = f"{label} {net} overlaps {used.network} on host {used.host} interface {used.interface} ({used.via})"
                kind = "overlaps_host_address"
            findings.append(Finding(Level.ERROR, f"{code}.{kind}", msg, fix, used.host, used.interface))
    return findings


_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT; private in practice


def _not_private_finding(label: str, code: str, net: IPNetwork) -> list[Finding]:
    if net.is_private or (net.version == 4 and net.subnet_of(_SHARED_ADDRESS_SPACE)):
        return []
    msg = f"{label} {net} is public address space: pods could not reach the real hosts it covers"
    return [Finding(Level.WARNING, f"{code}.not_private", msg, "use a private range such as 10.0.0.0/8 or 172.16.0.0/12")]


# --- Pod CIDR ------------------------------------------------------------------------


def check_pod_cidr(
    pod_cidr: str, service_cidr: str, hosts: Sequence[HostNetwork], node_count: int, plugin_id: str
) -> list[Finding]:
    """Everything wrong with `pod_cidr` for these hosts, this many nodes and this plugin."""
    net, findings = _syntax_findings("pod_cidr", pod_cidr)
    if net is None:
        return findings
    service = parse_cidr(service_cidr)
    fix = _suggestion_fix(hosts, service, node_count, plugin_id)
    findings += _host_overlap_findings("pod CIDR", "pod_cidr", net, hosts, fix)
    if service is not None and overlaps(net, service):
        msg = f"pod CIDR {net} overlaps the service CIDR {service}"
        findings.append(Finding(Level.ERROR, "pod_cidr.overlaps_service_cidr", msg, fix))
    if service is not None and service.version != net.version:
        msg = f"pod CIDR {net} is IPv{net.version} but the service CIDR {service} is IPv{service.version}"
        findings.append(Finding(Level.ERROR, "pod_cidr.family_mismatch", msg, "use one address family for both"))
    findings += _size_findings(net, node_count, fix)
    findings += _plugin_findings(net, plugin_id)
    findings += _not_private_finding("pod CIDR", "pod_cidr", net)
    return findings


def _suggestion_fix(hosts: Sequence[HostNetwork], service: IPNetwork | None, node_count: int, plugin_id: str) -> str:
    plugin = CATALOGUE.get(plugin_id)
    try:
        suggestion = suggest_pod_cidr(
            hosts, str(service) if service else "", node_count, prefer=plugin.default_pod_cidr if plugin else None
        )
    except ValueError:
        return "choose a private range that no host uses"
    return f"use {suggestion}, which clashes with nothing on these hosts"


def nodes_that_fit(net: IPNetwork) -> int:
    """How many nodes get a pod range (/24 IPv4, /64 IPv6 each) out of `net`."""
    node_prefix = NODE_PREFIX[net.version]
    return 2 ** (node_prefix - net.prefixlen) if net.prefixlen <= node_prefix else 0


def _size_findings(net: IPNetwork, node_count: int, fix: str) -> list[Finding]:
    node_prefix = NODE_PREFIX[net.version]
    room = nodes_that_fit(net)
    if room < max(node_count, 1):
        msg = f"pod CIDR {net} has room for {room} node(s) at /{node_prefix} per node; the cluster has {node_count}"
        return [Finding(Level.ERROR, "pod_cidr.too_small", msg, fix)]
    if node_prefix - net.prefixlen > MAX_NODE_MASK_DIFF:
        msg = (
            f"pod CIDR {net} is too large: kube-controller-manager splits it into /{node_prefix} per node "
            f"and accepts at most {MAX_NODE_MASK_DIFF} bits of difference"
        )
        return [Finding(Level.ERROR, "pod_cidr.too_large", msg, f"use a /{node_prefix - MAX_NODE_MASK_DIFF} or smaller")]
    return []


def _plugin_findings(net: IPNetwork, plugin_id: str) -> list[Finding]:
    plugin = CATALOGUE.get(plugin_id)
    if plugin is None:
        msg = f"unknown network plugin {plugin_id!r}"
        return [Finding(Level.ERROR, "pod_cidr.unknown_plugin", msg, f"choose one of {', '.join(CATALOGUE)}")]
    findings = []
    if plugin_id == "calico" and net.version == 4 and net.prefixlen > CALICO_BLOCK_PREFIX:
        msg = f"Calico hands out /{CALICO_BLOCK_PREFIX} blocks; pod CIDR {net} is smaller than one block"
        findings.append(Finding(Level.ERROR, "pod_cidr.calico_block_size", msg, f"use a /{CALICO_BLOCK_PREFIX} or larger"))
    if str(net) != plugin.default_pod_cidr:
        msg = f"{plugin.name}'s manifest defaults to {plugin.default_pod_cidr}; kwizard will set it to {net}"
        findings.append(Finding(Level.INFO, "pod_cidr.manifest_patched", msg))
    return findings


# --- Service CIDR ------------------------------------------------------------------


def check_service_cidr(service_cidr: str, hosts: Sequence[HostNetwork]) -> list[Finding]:
    """Syntax, size (kube-apiserver's /12 limit, room for cluster DNS) and host overlaps."""
    net, findings = _syntax_findings("service_cidr", service_cidr)
    if net is None:
        return findings
    bits = net.max_prefixlen - net.prefixlen
    if bits > MAX_SERVICE_BITS:
        limit = net.max_prefixlen - MAX_SERVICE_BITS
        msg = f"service CIDR {net} is too large: kube-apiserver accepts at most /{limit} for IPv{net.version}"
        findings.append(Finding(Level.ERROR, "service_cidr.too_large", msg, f"use a /{limit} or smaller, e.g. 10.96.0.0/12"))
    elif net.num_addresses < MIN_SERVICE_ADDRESSES:
        msg = f"service CIDR {net} has {net.num_addresses} addresses; kubeadm needs the 10th for cluster DNS"
        findings.append(Finding(Level.ERROR, "service_cidr.too_small", msg, "use a /24 or larger, e.g. 10.96.0.0/12"))
    elif net.num_addresses < 256:
        msg = f"service CIDR {net} leaves room for only {net.num_addresses - 2} Services"
        findings.append(Finding(Level.WARNING, "service_cidr.small", msg, "use a /24 or larger, e.g. 10.96.0.0/12"))
    findings += _host_overlap_findings("service CIDR", "service_cidr", net, hosts, _service_fix(hosts))
    findings += _not_private_finding("service CIDR", "service_cidr", net)
    return findings


def _service_fix(hosts: Sequence[HostNetwork]) -> str:
    used = [u.network for h in hosts for u in host_networks(h)]
    for text in SERVICE_CIDR_CHOICES:
        if not any(overlaps(IPv4Network(text), u) for u in used):
            return f"use {text}, which clashes with nothing on these hosts (and keep the pod CIDR clear of it)"
    return "use a private range no host uses"


# --- Suggesting a pod CIDR ---------------------------------------------------------


def suggest_pod_cidr(
    hosts: Sequence[HostNetwork],
    service_cidr: str,
    node_count: int,
    taken: Iterable[str | IPNetwork] = (),
    prefer: str | None = None,
) -> str:
    """The first IPv4 pod CIDR that clashes with no host network, route, the service CIDR or `taken`.

    Tries `prefer` (the plugin's default), 10.244.0.0/16 and 10.32.0.0/12, then
    walks 10.x.0.0/16 and 172.16-31.x.0.0/16 in order (a wider block when the
    nodes need more than 256 /24s). Raises ValueError when nothing is free.
    """
    prefix = _pod_prefix_for(node_count)
    used = [u.network for h in hosts for u in host_networks(h)]
    used += [n for n in (parse_cidr(str(t)) for t in [service_cidr, *taken]) if n is not None]
    for candidate in _candidates(prefix, prefer):
        if not any(overlaps(candidate, u) for u in used):
            return str(candidate)
    raise ValueError("no free private IPv4 range for the pod network")


def _pod_prefix_for(node_count: int) -> int:
    """/16 for up to 256 nodes; one bit wider per doubling beyond that."""
    prefix = min(16, NODE_PREFIX[4] - math.ceil(math.log2(max(node_count, 1))))
    if NODE_PREFIX[4] - prefix > MAX_NODE_MASK_DIFF:
        raise ValueError(f"{node_count} nodes need more than a /8 pod network")
    return prefix


def _candidates(prefix: int, prefer: str | None) -> Iterator[IPv4Network]:
    preferred = [prefer] if prefer else []
    for text in (*preferred, *FALLBACK_POD_CIDRS):
        net = exact_network(text)
        # Only a preference that passes check_pod_cidr's size rules is worth suggesting.
        if isinstance(net, IPv4Network) and NODE_PREFIX[4] - MAX_NODE_MASK_DIFF <= net.prefixlen <= prefix:
            yield net
    for block in (IPv4Network("10.0.0.0/8"), IPv4Network("172.16.0.0/12")):
        if prefix >= block.prefixlen:
            yield from block.subnets(new_prefix=prefix)
