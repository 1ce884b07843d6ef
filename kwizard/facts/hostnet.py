"""What a host's network looks like: addresses and routes from `ip -j addr` / `ip -j route`.

The facts gatherer builds a `HostNetwork` per host; kwizard.checks.cidr and kwizard.checks.advertise check
pod/service CIDRs and the advertise address against it. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network
from typing import Any

IPNetwork = IPv4Network | IPv6Network
IPAddress = IPv4Address | IPv6Address

# Names VPN and tunnel software gives its interfaces (OpenVPN/OpenConnect tun,
# WireGuard wg, Tailscale, ZeroTier zt, macOS utun, Cisco cscotun, GlobalProtect gpd ...).
TUNNEL_PREFIXES = ("tun", "tap", "wg", "tailscale", "ppp", "zt", "utun", "ipsec", "vti", "cscotun", "gpd", "nordlynx")
# Interfaces a CNI plugin or kube-proxy creates: on a re-run they hold the pod
# (or service) network itself, so they are not clashes and not advertise candidates.
POD_NETWORK_PREFIXES = (
    "cni", "flannel", "cali", "vxlan.calico", "vxlan-v6.calico", "tunl", "weave", "datapath",
    "vethwe", "vxlan-6784", "kube-ipvs", "cilium", "nodelocaldns", "kube-bridge",
)  # fmt: skip
# Local container/VM bridges: real clashes, but never the address other nodes should use.
CONTAINER_BRIDGE_PREFIXES = ("docker", "br-", "veth", "virbr", "lxcbr", "lxdbr", "podman")


# --- Shapes and parsers --------------------------------------------------------


@dataclass(frozen=True)
class InterfaceAddress:
    ifname: str
    address: IPv4Interface | IPv6Interface


@dataclass(frozen=True)
class Route:
    dst: IPNetwork | None  # None = the default route
    dev: str
    gateway: IPAddress | None = None
    prefsrc: IPAddress | None = None
    metric: int = 0


@dataclass(frozen=True)
class HostNetwork:
    host: str
    addresses: tuple[InterfaceAddress, ...]
    routes: tuple[Route, ...]

    @classmethod
    def from_ip_json(cls, host: str, addr_json: list | str, route_json: list | str) -> HostNetwork:
        """From `ip -j addr` and `ip -j route` output (parsed lists, or the raw JSON text)."""
        addr_data = json.loads(addr_json) if isinstance(addr_json, str) else addr_json
        route_data = json.loads(route_json) if isinstance(route_json, str) else route_json
        addresses = tuple(a for link in addr_data for a in _parse_link(link))
        routes = tuple(r for entry in route_data for r in _parse_route(entry))
        return cls(host, addresses, routes)


def _parse_link(link: dict[str, Any]) -> Iterator[InterfaceAddress]:
    for info in link.get("addr_info") or []:
        if info.get("family") in ("inet", "inet6") and "local" in info:
            # `local` is our address; `address` is the peer on point-to-point links (VPNs).
            yield InterfaceAddress(link["ifname"], ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}"))


def _parse_route(entry: dict[str, Any]) -> Iterator[Route]:
    # local/broadcast/blackhole/unreachable routes (table all, Calico's block
    # blackholes) are not networks reachable through an interface.
    if entry.get("type", "unicast") != "unicast":
        return
    dst = None if entry.get("dst") in (None, "default") else ipaddress.ip_network(entry["dst"], strict=False)
    if dst is not None and dst.prefixlen == 0:
        dst = None
    common = {"dst": dst, "prefsrc": _maybe_ip(entry.get("prefsrc")), "metric": int(entry.get("metric", 0))}
    # A multipath route lists its devices under `nexthops` instead of `dev`.
    for hop in entry.get("nexthops") or [entry]:
        if hop.get("dev"):
            yield Route(dev=hop["dev"], gateway=_maybe_ip(hop.get("gateway")), **common)


def _maybe_ip(text: str | None) -> IPAddress | None:
    return ipaddress.ip_address(text) if text else None


# --- Interface kinds -----------------------------------------------------------


def is_pod_network_interface(name: str) -> bool:
    return name.startswith(POD_NETWORK_PREFIXES)


def is_tunnel_interface(name: str) -> bool:
    """Looks like a VPN or tunnel (tun0, wg0, tailscale0, ppp0 ...); Calico's tunl0 does not count."""
    return not is_pod_network_interface(name) and name.startswith(TUNNEL_PREFIXES)


def is_container_bridge(name: str) -> bool:
    return name.startswith(CONTAINER_BRIDGE_PREFIXES)


def is_usable_address(ip: IPAddress) -> bool:
    return not (ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified)


# --- What a host's networks are ----------------------------------------------------


@dataclass(frozen=True)
class HostNet:
    """One network a host uses, and where it was seen (for the finding's message)."""

    network: IPNetwork
    host: str
    interface: str
    via: str  # "address 192.168.122.11/24" or "route"


def host_networks(host: HostNetwork) -> list[HostNet]:
    """Networks a pod or service CIDR must not overlap: address subnets, then non-default routes."""
    seen: set[tuple[IPNetwork, str]] = set()
    result: list[HostNet] = []
    for addr in host.addresses:
        if is_usable_address(addr.address.ip) and not is_pod_network_interface(addr.ifname):
            result.append(HostNet(addr.address.network, host.host, addr.ifname, f"address {addr.address}"))
            seen.add((addr.address.network, addr.ifname))
    for route in host.routes:
        if route.dst is None or (route.dst, route.dev) in seen or is_pod_network_interface(route.dev):
            continue
        # OpenVPN's def1 (0.0.0.0/1 + 128.0.0.0/1) is a default route in disguise.
        if route.dst.prefixlen <= 1 or route.dst.is_link_local or route.dst.is_loopback:
            continue
        result.append(HostNet(route.dst, host.host, route.dev, "route"))
        seen.add((route.dst, route.dev))
    return result


def overlaps(a: IPNetwork, b: IPNetwork) -> bool:
    return a.version == b.version and a.overlaps(b)
