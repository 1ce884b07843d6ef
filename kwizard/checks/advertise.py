"""The address kubeadm will advertise, chosen from the control plane's own routes, and what is wrong with it.

Pure functions over `HostNetwork` (kwizard.facts.hostnet). kubeadm advertises
the address of the interface its default route goes through; when that is a
VPN or tunnel (the seed guide's trap), the cluster breaks as soon as the VPN
goes down, and workers elsewhere cannot reach it. kwizard says exactly which
address it will use and why, and refuses a hand-set tunnel address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from kwizard.checks.findings import Finding, Level
from kwizard.facts.hostnet import HostNetwork, Route, is_container_bridge, is_pod_network_interface, is_tunnel_interface, is_usable_address


# --- Advertise address -------------------------------------------------------------


@dataclass(frozen=True)
class AddressCandidate:
    address: str
    interface: str


@dataclass(frozen=True)
class AdvertiseChoice:
    """What kubeadm would advertise (`address`), the alternatives, and what is wrong.

    `recommended` is the address kwizard proposes: `address`, unless that sits
    on a VPN/tunnel interface and a real one exists.
    """

    address: str | None
    interface: str | None
    candidates: tuple[AddressCandidate, ...] = ()
    findings: tuple[Finding, ...] = ()
    recommended: str | None = None


def choose_advertise_address(control_plane: HostNetwork) -> AdvertiseChoice:
    usable = _usable_addresses(control_plane)
    default = _default_route(control_plane)
    chosen = _address_for_route(default, usable) if default else None
    if chosen is None:
        return _choice_without_default_route(control_plane.host, usable)
    others = tuple(c for c in usable if c != chosen)
    if not is_tunnel_interface(chosen.interface):
        return AdvertiseChoice(chosen.address, chosen.interface, others, (), chosen.address)
    real = [c for c in others if not is_tunnel_interface(c.interface)]
    if real:
        picked = real[0]
        msg = (
            f"the default route on host {control_plane.host} goes through {chosen.interface}, which looks like a "
            f"VPN/tunnel: kubeadm left to itself would advertise {chosen.address} ({chosen.interface}), which the other "
            f"nodes may not reach; kwizard will advertise {picked.address} ({picked.interface}) instead, the host's "
            "first address on a real interface"
        )
        others_text = ", ".join(f"{c.address} ({c.interface})" for c in real[1:])
        fix = (
            f"to advertise another address set cluster.advertise_address"
            + (f" (also here: {others_text})" if others_text else "")
            + f"; and set cluster.cni_options.interface: {picked.interface} so the network plugin does not pick "
            f"{chosen.interface} either (Flannel and Calico follow the default route)"
        )
        level, recommended = Level.WARNING, picked.address
    else:
        msg = (
            f"the default route on host {control_plane.host} goes through {chosen.interface}, which looks like a "
            f"VPN/tunnel, and the host has no other address: kwizard will advertise {chosen.address} "
            f"({chosen.interface}), and the cluster breaks when the VPN goes down"
        )
        fix = (
            "connect the host to the nodes' network without the VPN, then set cluster.advertise_address to that "
            "address (or leave it auto) and cluster.cni_options.interface to that interface"
        )
        level, recommended = Level.WARNING, chosen.address
    finding = Finding(level, "advertise.default_route_via_tunnel", msg, fix, control_plane.host, chosen.interface)
    return AdvertiseChoice(chosen.address, chosen.interface, others, (finding,), recommended)


def _usable_addresses(host: HostNetwork) -> tuple[AddressCandidate, ...]:
    """Non-loopback, non-link-local addresses: IPv4 first, real interfaces before VPNs.

    Container/VM bridges are left out unless nothing else is there.
    """
    all_ = [a for a in host.addresses if is_usable_address(a.address.ip) and not is_pod_network_interface(a.ifname)]
    real = [a for a in all_ if not is_container_bridge(a.ifname)] or all_
    real.sort(key=lambda a: (a.address.version, is_tunnel_interface(a.ifname)))  # stable: keeps ip addr order
    return tuple(AddressCandidate(str(a.address.ip), a.ifname) for a in real)


def _default_route(host: HostNetwork) -> Route | None:
    """The default route kubeadm follows: IPv4 before IPv6, then the lowest metric."""
    defaults = [r for r in host.routes if r.dst is None]
    return min(defaults, key=lambda r: (_route_family(r), r.metric), default=None)


def _route_family(route: Route) -> int:
    known = route.gateway or route.prefsrc or route.dst
    return known.version if known is not None else 4


def _address_for_route(route: Route, usable: tuple[AddressCandidate, ...]) -> AddressCandidate | None:
    if route.prefsrc is not None:
        holder = next((c for c in usable if c.address == str(route.prefsrc)), None)
        return holder or AddressCandidate(str(route.prefsrc), route.dev)
    family = _route_family(route)
    on_dev = [c for c in usable if c.interface == route.dev and ipaddress.ip_address(c.address).version == family]
    return on_dev[0] if on_dev else next((c for c in usable if c.interface == route.dev), None)


def _choice_without_default_route(host: str, usable: tuple[AddressCandidate, ...]) -> AdvertiseChoice:
    real = [c for c in usable if not is_tunnel_interface(c.interface)] or list(usable)
    if not real:
        msg = f"host {host} has no usable address (only loopback or link-local)"
        finding = Finding(Level.ERROR, "advertise.no_address", msg, "give the host an address on the nodes' network", host)
        return AdvertiseChoice(None, None, (), (finding,), None)
    first = real[0]
    msg = f"host {host} has no default route, so kubeadm cannot pick an address by itself"
    fix = f"kwizard will set the advertise address to {first.address} ({first.interface}); pick another if that is wrong"
    finding = Finding(Level.WARNING, "advertise.no_default_route", msg, fix, host)
    others = tuple(c for c in usable if c != first)
    return AdvertiseChoice(first.address, first.interface, others, (finding,), first.address)
