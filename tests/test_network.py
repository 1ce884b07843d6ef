"""Pod/service CIDR checks and the advertise-address choice, fed real `ip -j` output."""

from __future__ import annotations

import ipaddress
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kwizard.checks.findings import Level, has_errors
from kwizard.checks.advertise import AddressCandidate, choose_advertise_address
from kwizard.facts.hostnet import HostNetwork
from kwizard.facts.hostnet import InterfaceAddress
from kwizard.facts.hostnet import Route
from kwizard.checks.cidr import check_pod_cidr, check_service_cidr, nodes_that_fit, suggest_pod_cidr
from kwizard.facts.hostnet import host_networks
from kwizard.facts.hostnet import is_tunnel_interface

SERVICE = "10.96.0.0/12"

# --- Realistic iproute2 JSON ------------------------------------------------------------

LO = {
    "ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK", "UP", "LOWER_UP"], "mtu": 65536, "qdisc": "noqueue",
    "operstate": "UNKNOWN", "group": "default", "txqlen": 1000, "link_type": "loopback",
    "address": "00:00:00:00:00:00", "broadcast": "00:00:00:00:00:00",
    "addr_info": [
        {"family": "inet", "local": "127.0.0.1", "prefixlen": 8, "scope": "host", "label": "lo",
         "valid_life_time": 4294967295, "preferred_life_time": 4294967295},
        {"family": "inet6", "local": "::1", "prefixlen": 128, "scope": "host",
         "valid_life_time": 4294967295, "preferred_life_time": 4294967295},
    ],
}  # fmt: skip


def link(ifindex: int, ifname: str, *addrs: tuple[str, int], peer: str | None = None) -> dict:
    infos = []
    for local, prefixlen in addrs:
        family = "inet6" if ":" in local else "inet"
        info = {"family": family, "local": local, "prefixlen": prefixlen,
                "scope": "link" if local.startswith("fe80") else "global",
                "valid_life_time": 4294967295, "preferred_life_time": 4294967295}  # fmt: skip
        if peer and family == "inet":
            info["address"] = peer  # point-to-point: `address` is the far end
        if family == "inet":
            info["label"] = ifname
        infos.append(info)
    return {
        "ifindex": ifindex, "ifname": ifname, "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
        "mtu": 1500, "qdisc": "fq_codel", "operstate": "UP", "group": "default", "txqlen": 1000,
        "link_type": "none" if ifname.startswith("tun") else "ether",
        "address": f"52:54:00:12:34:{ifindex:02x}", "broadcast": "ff:ff:ff:ff:ff:ff", "addr_info": infos,
    }  # fmt: skip


KUBEMASTER_ADDR = [
    LO,
    link(2, "eth0", ("192.168.122.11", 24), ("fe80::5054:ff:fe12:3402", 64)),
    link(3, "docker0", ("172.17.0.1", 16)),
]
KUBEMASTER_ROUTE = [
    {"dst": "default", "gateway": "192.168.122.1", "dev": "eth0", "protocol": "dhcp",
     "prefsrc": "192.168.122.11", "metric": 100, "flags": []},
    {"dst": "172.17.0.0/16", "dev": "docker0", "protocol": "kernel", "scope": "link",
     "prefsrc": "172.17.0.1", "flags": ["linkdown"]},
    {"dst": "192.168.122.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link",
     "prefsrc": "192.168.122.11", "metric": 100, "flags": []},
]  # fmt: skip

# The seed's own trap: OpenConnect up while running kubeadm init.
VPN_ADDR = [
    LO,
    link(2, "eth0", ("192.168.122.11", 24)),
    link(5, "tun0", ("192.168.101.81", 32), ("fe80::abcd:1234:5678:9abc", 64)),
]
VPN_ROUTE = [
    {"dst": "default", "dev": "tun0", "scope": "link", "flags": []},
    {"dst": "10.0.0.0/8", "dev": "tun0", "scope": "link", "flags": []},
    {"dst": "192.168.101.0/24", "dev": "tun0", "scope": "link", "flags": []},
    {"dst": "192.168.122.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link",
     "prefsrc": "192.168.122.11", "flags": []},
    {"dst": "203.0.113.7", "gateway": "192.168.122.1", "dev": "eth0", "flags": []},
]  # fmt: skip


def kubemaster() -> HostNetwork:
    return HostNetwork.from_ip_json("kubemaster-1", KUBEMASTER_ADDR, KUBEMASTER_ROUTE)


def vpn_host() -> HostNetwork:
    return HostNetwork.from_ip_json("kubemaster-1", VPN_ADDR, VPN_ROUTE)


def worker(name: str, address: str) -> HostNetwork:
    addr = [LO, link(2, "eth0", (address, 24))]
    route = [
        {"dst": "default", "gateway": "192.168.122.1", "dev": "eth0", "flags": []},
        {"dst": "192.168.122.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link",
         "prefsrc": address, "flags": []},
    ]  # fmt: skip
    return HostNetwork.from_ip_json(name, addr, route)


def errors(findings):
    return [f for f in findings if f.level is Level.ERROR]


def codes(findings):
    return [f.code for f in findings]


# --- Parsing ---------------------------------------------------------------------------


def test_parses_ip_json_like_iproute2_prints_it():
    net = kubemaster()
    assert InterfaceAddress("eth0", ipaddress.ip_interface("192.168.122.11/24")) in net.addresses
    assert InterfaceAddress("lo", ipaddress.ip_interface("127.0.0.1/8")) in net.addresses
    default = net.routes[0]
    assert default == Route(None, "eth0", ipaddress.ip_address("192.168.122.1"), ipaddress.ip_address("192.168.122.11"), 100)
    assert net.routes[2].dst == ipaddress.ip_network("192.168.122.0/24")


def test_parses_raw_json_text_too():
    assert HostNetwork.from_ip_json("kubemaster-1", json.dumps(KUBEMASTER_ADDR), json.dumps(KUBEMASTER_ROUTE)) == kubemaster()


def test_point_to_point_uses_the_local_address_not_the_peer():
    net = HostNetwork.from_ip_json("h", [link(4, "tun0", ("10.8.0.6", 32), peer="10.8.0.5")], [])
    assert net.addresses == (InterfaceAddress("tun0", ipaddress.ip_interface("10.8.0.6/32")),)


def test_route_table_all_multipath_and_blackholes():
    routes = [
        {"type": "local", "dst": "192.168.122.11", "dev": "eth0", "table": "local", "protocol": "kernel",
         "scope": "host", "prefsrc": "192.168.122.11", "flags": []},
        {"type": "blackhole", "dst": "10.244.0.0/26", "protocol": "bird", "flags": []},
        {"dst": "default", "protocol": "static", "metric": 50, "flags": [],
         "nexthops": [{"gateway": "192.168.122.1", "dev": "eth0", "weight": 1, "flags": []},
                      {"gateway": "192.168.123.1", "dev": "eth1", "weight": 1, "flags": []}]},
        {"dst": "fe80::/64", "dev": "eth0", "protocol": "kernel", "metric": 256, "flags": [], "pref": "medium"},
        {"dst": "default", "gateway": "fd00::1", "dev": "eth0", "metric": 1024, "flags": [], "pref": "medium"},
    ]  # fmt: skip
    net = HostNetwork.from_ip_json("h", [], routes)
    assert [(r.dst and str(r.dst), r.dev, r.metric) for r in net.routes] == [
        (None, "eth0", 50), (None, "eth1", 50), ("fe80::/64", "eth0", 256), (None, "eth0", 1024),
    ]  # fmt: skip


def test_host_networks_skip_loopback_link_local_and_duplicate_kernel_routes():
    seen = [(str(u.network), u.interface, u.via) for u in host_networks(kubemaster())]
    assert seen == [
        ("192.168.122.0/24", "eth0", "address 192.168.122.11/24"),
        ("172.17.0.0/16", "docker0", "address 172.17.0.1/16"),
    ]


# --- Pod CIDR: the must-shows -----------------------------------------------------------


def test_calico_default_clashes_with_the_kvm_lan_and_the_suggestion_is_clean():
    hosts = [kubemaster()]
    findings = check_pod_cidr("192.168.0.0/16", SERVICE, hosts, 1, "calico")
    clash = [f for f in findings if f.code == "pod_cidr.overlaps_host_address"]
    assert len(clash) == 1 and clash[0].level is Level.ERROR
    assert clash[0].host == "kubemaster-1" and clash[0].interface == "eth0"
    assert "kubemaster-1" in clash[0].message and "eth0" in clash[0].message
    assert "192.168.122.0/24" in clash[0].message and "pod CIDR 192.168.0.0/16" in clash[0].message
    assert clash[0].fix == "use 10.244.0.0/16, which clashes with nothing on these hosts"

    suggestion = suggest_pod_cidr(hosts, SERVICE, 1, prefer="192.168.0.0/16")
    assert not errors(check_pod_cidr(suggestion, SERVICE, hosts, 1, "calico"))


def test_flannel_default_against_the_same_host_is_clean():
    assert check_pod_cidr("10.244.0.0/16", SERVICE, [kubemaster()], 1, "flannel") == []


def test_calico_with_a_moved_pool_has_only_the_patch_notice():
    findings = check_pod_cidr("10.244.0.0/16", SERVICE, [kubemaster()], 1, "calico")
    assert codes(findings) == ["pod_cidr.manifest_patched"] and findings[0].level is Level.INFO


def test_vpn_default_route_warns_and_offers_eth0():
    choice = choose_advertise_address(vpn_host())
    assert choice.address == "192.168.101.81" and choice.interface == "tun0"  # what kubeadm would pick
    assert choice.recommended == "192.168.122.11"
    assert AddressCandidate("192.168.122.11", "eth0") in choice.candidates
    (warning,) = choice.findings
    assert warning.level is Level.WARNING and warning.code == "advertise.default_route_via_tunnel"
    assert warning.interface == "tun0" and warning.host == "kubemaster-1"
    # what will be advertised, and why, is in the message; the fix names the fields to change it
    assert "kwizard will advertise 192.168.122.11 (eth0) instead" in warning.message
    assert "cluster.advertise_address" in warning.fix and "cluster.cni_options.interface: eth0" in warning.fix


# --- Pod CIDR: everything else ---------------------------------------------------------


def test_every_host_on_the_lan_is_named():
    hosts = [kubemaster(), worker("kubenode-1", "192.168.122.21"), worker("kubenode-2", "192.168.122.22")]
    clashes = errors(check_pod_cidr("192.168.0.0/16", SERVICE, hosts, 3, "calico"))
    assert sorted(f.host for f in clashes) == ["kubemaster-1", "kubenode-1", "kubenode-2"]


def test_docker_bridge_is_a_clash():
    (finding,) = errors(check_pod_cidr("172.16.0.0/12", SERVICE, [kubemaster()], 1, "flannel"))
    assert finding.interface == "docker0" and "172.17.0.0/16" in finding.message


def test_vpn_pushed_route_is_a_clash_naming_host_and_dev():
    (finding,) = errors(check_pod_cidr("10.244.0.0/16", SERVICE, [vpn_host()], 1, "flannel"))
    assert finding.code == "pod_cidr.overlaps_route"
    assert finding.host == "kubemaster-1" and finding.interface == "tun0"
    assert "route to 10.0.0.0/8 via tun0 on host kubemaster-1" in finding.message
    assert "172.16.0.0/16" in finding.fix  # all of 10/8 is taken by the VPN


def test_host_route_via_gateway_is_a_clash_too():
    (finding,) = errors(check_pod_cidr("203.0.113.0/24", "172.30.0.0/16", [vpn_host()], 1, "flannel"))
    assert finding.code == "pod_cidr.overlaps_route" and finding.interface == "eth0"


def test_interfaces_of_this_cluster_are_not_clashes_on_a_rerun():
    addr = [*KUBEMASTER_ADDR, link(7, "flannel.1", ("10.244.0.0", 32)), link(8, "cni0", ("10.244.0.1", 24)),
            link(9, "kube-ipvs0", ("10.96.0.1", 32), ("10.96.0.10", 32))]  # fmt: skip
    routes = [*KUBEMASTER_ROUTE, {"dst": "10.244.1.0/24", "gateway": "10.244.1.0", "dev": "flannel.1", "flags": ["onlink"]}]
    host = HostNetwork.from_ip_json("kubemaster-1", addr, routes)
    assert check_pod_cidr("10.244.0.0/16", SERVICE, [host], 2, "flannel") == []
    assert check_service_cidr(SERVICE, [host]) == []


def test_openvpn_def1_routes_are_not_clashes():
    routes = [{"dst": "0.0.0.0/1", "gateway": "10.8.0.5", "dev": "tun0", "flags": []},
              {"dst": "128.0.0.0/1", "gateway": "10.8.0.5", "dev": "tun0", "flags": []}]  # fmt: skip
    host = HostNetwork.from_ip_json("h", [LO], routes)
    assert not errors(check_pod_cidr("10.244.0.0/16", SERVICE, [host], 1, "flannel"))


@pytest.mark.parametrize(
    ("pod", "code", "in_fix"),
    [
        ("10.244.1.0/16", "pod_cidr.host_bits", "did you mean 10.244.0.0/16?"),
        ("10.244.0.0", "pod_cidr.syntax", "10.244.0.0/16"),
        ("banana", "pod_cidr.syntax", "address/prefix"),
        ("10.96.0.0/16", "pod_cidr.overlaps_service_cidr", "use 10.32.0.0/12"),  # Weave's default first
        ("10.244.0.0/23", "pod_cidr.too_small", "use 10.32.0.0/12"),
        ("10.0.0.0/7", "pod_cidr.too_large", "/8 or smaller"),
        ("fd00:10::/48", "pod_cidr.ipv6_unsupported", "use an IPv4 range such as 10.244.0.0/16"),
        ("8.8.0.0/16", "pod_cidr.not_private", "private range"),
    ],
)
def test_pod_cidr_problems(pod, code, in_fix):
    findings = check_pod_cidr(pod, SERVICE, [kubemaster()], 3, "weave")
    finding = next(f for f in findings if f.code == code)
    assert in_fix in finding.fix


def test_too_small_names_the_room_and_the_node_count():
    finding = next(f for f in check_pod_cidr("10.244.0.0/23", SERVICE, [], 3, "flannel") if f.code == "pod_cidr.too_small")
    assert "room for 2 node(s) at /24 per node" in finding.message and "has 3" in finding.message
    assert not errors(check_pod_cidr("10.244.0.0/22", SERVICE, [], 4, "flannel"))
    assert nodes_that_fit(ipaddress.ip_network("10.244.0.0/16")) == 256


def test_calico_needs_room_for_a_block_and_other_plugin_rules():
    assert "pod_cidr.calico_block_size" in codes(check_pod_cidr("10.244.0.0/27", SERVICE, [], 1, "calico"))
    six = check_pod_cidr("fd00:10::/48", "fd00:96::/112", [], 2, "calico")
    assert [f.code for f in errors(six)] == ["pod_cidr.ipv6_unsupported"]  # IPv4 only, whatever the plugin
    mixed = check_pod_cidr("fd00:10::/48", SERVICE, [], 2, "calico")
    assert "pod_cidr.family_mismatch" in codes(mixed)
    assert "pod_cidr.unknown_plugin" in codes(check_pod_cidr("10.244.0.0/16", SERVICE, [], 1, "cilium"))


# --- Service CIDR ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "code", "level"),
    [
        ("10.96.0.0/11", "service_cidr.too_large", Level.ERROR),
        ("10.96.0.0/29", "service_cidr.too_small", Level.ERROR),
        ("10.96.0.0/26", "service_cidr.small", Level.WARNING),
        ("10.96.0.1/12", "service_cidr.host_bits", Level.ERROR),
        ("10.96/12", "service_cidr.syntax", Level.ERROR),
        ("fd00:96::/107", "service_cidr.too_large", Level.ERROR),
        ("192.168.0.0/16", "service_cidr.overlaps_host_address", Level.ERROR),
    ],
)
def test_service_cidr_problems(service, code, level):
    finding = next(f for f in check_service_cidr(service, [kubemaster()]) if f.code == code)
    assert finding.level is level


def test_service_cidr_defaults_are_clean_and_clash_fix_is_free():
    assert check_service_cidr(SERVICE, [kubemaster()]) == []
    assert codes(check_service_cidr("fd00:96::/108", [kubemaster()])) == ["service_cidr.ipv6_unsupported"]
    (finding,) = check_service_cidr("10.0.0.0/12", [vpn_host()])
    assert finding.interface == "tun0" and "172.30.0.0/16" in finding.fix


# --- Suggestions ------------------------------------------------------------------------------


def test_suggestion_prefers_the_plugin_default_when_free():
    assert suggest_pod_cidr([kubemaster()], SERVICE, 3, prefer="10.32.0.0/12") == "10.32.0.0/12"
    assert suggest_pod_cidr([kubemaster()], SERVICE, 3) == "10.244.0.0/16"


def test_suggestion_walks_past_what_is_taken():
    assert suggest_pod_cidr([], SERVICE, 1, taken=["10.244.0.0/16", "10.32.0.0/12"]) == "10.0.0.0/16"
    assert suggest_pod_cidr([], SERVICE, 1, taken=["10.244.0.0/16", "10.32.0.0/12", "10.0.0.0/14"]) == "10.4.0.0/16"
    assert suggest_pod_cidr([vpn_host()], SERVICE, 1) == "172.16.0.0/16"


def test_suggestion_grows_with_the_node_count():
    assert suggest_pod_cidr([], SERVICE, 256) == "10.244.0.0/16"
    big = suggest_pod_cidr([], SERVICE, 1000)
    assert nodes_that_fit(ipaddress.ip_network(big)) >= 1000 and big == "10.32.0.0/12"
    with pytest.raises(ValueError):
        suggest_pod_cidr([], SERVICE, 70_000)


# --- Advertise address ------------------------------------------------------------------------


def test_plain_host_advertises_the_default_route_source():
    choice = choose_advertise_address(kubemaster())
    assert (choice.address, choice.interface, choice.recommended) == ("192.168.122.11", "eth0", "192.168.122.11")
    assert choice.findings == ()
    assert choice.candidates == ()  # docker0, lo and link-local are not candidates


def test_without_prefsrc_the_first_address_of_the_route_family_on_the_dev_is_used():
    addr = [LO, link(2, "eth0", ("fd00::2", 64), ("192.0.2.2", 24), ("192.0.2.3", 24)), link(3, "eth1", ("198.51.100.2", 24))]
    routes = [{"dst": "default", "gateway": "192.0.2.1", "dev": "eth0", "flags": []}]
    choice = choose_advertise_address(HostNetwork.from_ip_json("h", addr, routes))
    assert (choice.address, choice.interface) == ("192.0.2.2", "eth0")
    assert [c.address for c in choice.candidates] == ["192.0.2.3", "198.51.100.2", "fd00::2"]


def test_no_default_route_picks_a_real_address_with_a_warning():
    host = HostNetwork.from_ip_json("h", [LO, link(2, "wg0", ("10.9.0.2", 24)), link(3, "eth0", ("192.0.2.2", 24))], [])
    choice = choose_advertise_address(host)
    assert choice.address == "192.0.2.2" and codes(choice.findings) == ["advertise.no_default_route"]


def test_no_usable_address_is_an_error():
    choice = choose_advertise_address(HostNetwork.from_ip_json("h", [LO], []))
    assert choice.address is None and has_errors(list(choice.findings))


def test_vpn_only_host_still_warns_without_offering_nothing():
    host = HostNetwork.from_ip_json("h", [LO, link(5, "tun0", ("192.168.101.81", 32))], [{"dst": "default", "dev": "tun0", "flags": []}])
    choice = choose_advertise_address(host)
    assert choice.recommended == "192.168.101.81" and choice.findings[0].level is Level.WARNING


@pytest.mark.parametrize(
    ("name", "tunnel"),
    [("tun0", True), ("tap1", True), ("wg0", True), ("tailscale0", True), ("ppp0", True), ("zt5u4y6abc", True),
     ("utun3", True), ("cscotun0", True), ("eth0", False), ("enp1s0", False), ("tunl0", False),
     ("docker0", False), ("wlan0", False), ("br0", False)],
)  # fmt: skip
def test_is_tunnel_interface(name, tunnel):
    assert is_tunnel_interface(name) is tunnel


# --- Properties ---------------------------------------------------------------------------------

private_interfaces = st.builds(
    lambda base, offset, prefix: ipaddress.ip_interface(
        f"{ipaddress.ip_network(base).network_address + offset % ipaddress.ip_network(base).num_addresses}/{prefix}"
    ),
    st.sampled_from(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]),
    st.integers(min_value=1, max_value=2**24),
    st.integers(min_value=12, max_value=30),
)


@st.composite
def host_fleets(draw):
    count = draw(st.integers(min_value=1, max_value=4))
    fleet = []
    for i in range(count):
        ifaces = draw(st.lists(private_interfaces, min_size=1, max_size=3))
        addr = [LO] + [link(2 + n, f"eth{n}", (str(a.ip), a.network.prefixlen)) for n, a in enumerate(ifaces)]
        routes = [{"dst": str(r), "dev": "eth0", "flags": []}
                  for r in draw(st.lists(private_interfaces, max_size=3)) for r in [r.network]]  # fmt: skip
        fleet.append(HostNetwork.from_ip_json(f"node-{i}", addr, routes))
    return fleet


@settings(max_examples=150, deadline=None)
@given(
    hosts=host_fleets(),
    node_count=st.integers(min_value=1, max_value=600),
    plugin_id=st.sampled_from(["flannel", "calico", "weave"]),
    prefer=st.sampled_from([None, "192.168.0.0/16", "10.244.0.0/16", "10.32.0.0/12"]),
)
def test_suggestion_never_clashes_and_passes_its_own_check(hosts, node_count, plugin_id, prefer):
    suggestion = suggest_pod_cidr(hosts, SERVICE, node_count, prefer=prefer)
    net = ipaddress.ip_network(suggestion)
    assert not any(net.overlaps(u.network) for h in hosts for u in host_networks(h))
    assert not net.overlaps(ipaddress.ip_network(SERVICE))
    assert not errors(check_pod_cidr(suggestion, SERVICE, hosts, node_count, plugin_id))
    assert suggest_pod_cidr(hosts, SERVICE, node_count, prefer=prefer) == suggestion  # deterministic


@settings(max_examples=100, deadline=None)
@given(hosts=host_fleets())
def test_any_clash_the_check_reports_names_a_host_and_interface(hosts):
    for finding in errors(check_pod_cidr("10.0.0.0/8", SERVICE, hosts, 1, "flannel")):
        if finding.code.startswith("pod_cidr.overlaps_host") or finding.code == "pod_cidr.overlaps_route":
            assert finding.host in finding.message and finding.interface in finding.message
