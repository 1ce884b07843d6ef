"""A pod network that clashes with a host's second NIC (not its default route) is found, naming host and NIC.

The lab shows this once end to end; these unit tests pin it down on synthetic
`ip -j` answers so a change to the overlap rule cannot slip past the suite.
"""

from __future__ import annotations

from kwizard.checks.cidr import check_pod_cidr, check_service_cidr, suggest_pod_cidr
from kwizard.checks.findings import has_errors
from kwizard.facts.hostnet import HostNetwork
from tests.test_network import LO, link

SERVICE = "10.96.0.0/12"


def worker_with_storage_nic() -> HostNetwork:
    addresses = [LO, link(2, "eth0", ("10.210.0.12", 24)), link(3, "ens4", ("10.244.8.5", 22))]
    routes = [
        {"dst": "default", "gateway": "10.210.0.1", "dev": "eth0", "prefsrc": "10.210.0.12", "metric": 100, "flags": []},
        {"dst": "10.244.8.0/22", "dev": "ens4", "protocol": "kernel", "scope": "link", "prefsrc": "10.244.8.5", "flags": []},
    ]
    return HostNetwork.from_ip_json("w2", addresses, routes)


def worker_with_tunnel() -> HostNetwork:
    addresses = [LO, link(2, "eth0", ("10.210.0.13", 24)), link(5, "tun0", ("10.96.4.2", 24))]
    return HostNetwork.from_ip_json("w3", addresses, [])


def test_the_pod_cidr_over_a_second_nic_is_an_error_naming_host_and_nic():
    findings = check_pod_cidr("10.244.0.0/16", SERVICE, [worker_with_storage_nic()], node_count=3, plugin_id="flannel")
    clashes = [f for f in findings if f.code == "pod_cidr.overlaps_host_address"]
    assert has_errors(findings) and len(clashes) == 1
    (clash,) = clashes
    assert clash.host == "w2" and clash.interface == "ens4"
    assert "10.244.8.0/22" in clash.message


def test_the_suggestion_avoids_the_second_nic():
    suggestion = suggest_pod_cidr([worker_with_storage_nic()], SERVICE, node_count=3, prefer="10.244.0.0/16")
    assert suggestion != "10.244.0.0/16"
    assert not has_errors(check_pod_cidr(suggestion, SERVICE, [worker_with_storage_nic()], 3, "flannel"))


def test_the_service_cidr_over_a_tunnel_nic_is_an_error_naming_it():
    findings = check_service_cidr(SERVICE, [worker_with_tunnel()])
    assert any(f.is_error and f.host == "w3" and f.interface == "tun0" for f in findings)
