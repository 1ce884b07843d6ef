"""kwizard.checks: fleet-wide preflight from facts (synthetic facts, then the lab's duplicate scenarios)."""

from __future__ import annotations

import dataclasses

import pytest

from kwizard.checks.host import preflight
from kwizard.facts.model import HostFacts
from kwizard.facts.gather import gather_facts
from kwizard.checks.findings import Level, has_errors
from kwizard.facts.hostnet import HostNetwork
from kwizard.profile.model import Profile
from kwizard.ssh import HostKeyChanged, HostUnreachable
from tests.lab.scenario import NAMED

ADDRESSES = {"cp": "192.168.122.11", "w1": "192.168.122.12", "w2": "192.168.122.13"}


def profile(**cluster) -> Profile:
    hosts = [{"name": n, "address": a, "role": "control-plane" if n == "cp" else "worker"} for n, a in ADDRESSES.items()]
    return Profile(name="t", hosts=hosts, cluster=cluster)


def healthy(name: str, index: int) -> HostFacts:
    address = ADDRESSES[name]
    addr = [{"ifname": "eth0", "link_type": "ether", "address": f"52:54:00:00:00:0{index}",
             "addr_info": [{"family": "inet", "local": address, "prefixlen": 24}]}]
    route = [{"dst": "default", "gateway": "192.168.122.1", "dev": "eth0"}]
    return HostFacts(
        host=name, hostname=name, os_id="debian", os_version="12", os_pretty="Debian 12", kernel="6.1",
        network=HostNetwork.from_ip_json(name, addr, route), swap_total_kb=0, swap_on=False,
        ip_forward=True, bridge_nf_call_iptables=True, product_uuid=f"uuid-{index}", machine_id=f"mid-{index}",
        macs=(("eth0", f"52:54:00:00:00:0{index}"),), kubeadm_version="v1.33.1", kubelet_version="v1.33.1",
        kubectl_version="v1.33.1", cri_sockets=("unix:///var/run/containerd/containerd.sock",),
        firewalld_active=False, kubelet_enabled=True, cluster_files=(), etcd_data=False, cpu_count=2, mem_mb=4000,
        binaries_missing=(), ports_in_use=(22,), resolved=tuple((n, a) for n, a in ADDRESSES.items()),
        package_manager="apt-get",
    )


def fleet_facts(**changes_by_host):
    facts = {name: healthy(name, i) for i, name in enumerate(ADDRESSES)}
    for name, changes in changes_by_host.items():
        facts[name] = dataclasses.replace(facts[name], **changes)
    return facts


def codes(findings, level=None):
    return sorted(f.code for f in findings if level is None or f.level is level)


def test_a_healthy_fleet_has_no_errors_or_warnings():
    findings = preflight(profile(), fleet_facts())
    assert codes(findings, Level.ERROR) == [] and codes(findings, Level.WARNING) == []


def test_unreachable_host_is_an_error_naming_it_and_the_rest_are_checked():
    facts = fleet_facts(w2={"swap_on": True, "swap_total_kb": 1024})
    facts["w1"] = HostUnreachable("w1", "cannot connect to 192.168.122.12:22: refused", "check sshd")
    facts["cp"] = HostKeyChanged("cp", "HOST KEY CHANGED for 192.168.122.11", "ssh-keygen -R ...")
    findings = preflight(profile(), facts)
    by_code = {f.code: f for f in findings}
    assert by_code["host.unreachable"].host == "w1" and by_code["host.unreachable"].fix == "check sshd"
    assert by_code["host.host_key_changed"].host == "cp"
    assert by_code["swap.on"].host == "w2" and by_code["swap.on"].is_error


@pytest.mark.parametrize(("field", "value", "code"), [
    ("product_uuid", "same-uuid", "duplicate.product_uuid"),
    ("hostname", "twin", "duplicate.hostname"),
    ("machine_id", "same-mid", "duplicate.machine_id"),
    ("macs", (("eth0", "52:54:00:aa:bb:cc"),), "duplicate.mac"),
])
def test_duplicates_across_hosts_name_both(field, value, code):
    findings = preflight(profile(), fleet_facts(w1={field: value}, w2={field: value}))
    [duplicate] = [f for f in findings if f.code == code]
    assert duplicate.is_error and "w1" in duplicate.message and "w2" in duplicate.message and "cp" not in duplicate.message


def test_what_the_plan_fixes_is_info_and_what_it_cannot_is_an_error():
    facts = fleet_facts(
        cp={"ip_forward": False, "bridge_nf_call_iptables": None, "firewalld_active": True,
            "ports_in_use": (22, 6443), "cpu_count": 1, "mem_mb": 1024, "binaries_missing": ("iptables", "socat")},
        w1={"cri_sockets": (), "kubeadm_version": None},
        w2={"cri_sockets": ("unix:///var/run/containerd/containerd.sock", "unix:///var/run/crio/crio.sock"),
            "resolved": (("cp", None), ("w1", "10.0.0.9"))},
    )
    findings = preflight(profile(), facts)
    assert codes(findings, Level.ERROR) == sorted([
        "binaries.missing_error", "capacity.cpu", "capacity.memory", "ports.in_use", "cri.none", "packages.missing",
        "cri.several",
    ])
    assert codes(findings, Level.WARNING) == ["binaries.missing_warning", "names.wrong_address"]
    assert {"kernel.ip_forward", "kernel.bridge_nf_call_iptables", "firewalld.active", "names.unresolved"} <= set(
        codes(findings, Level.INFO))
    with_packages = preflight(profile(install_packages=True), facts)
    assert "cri.none" not in codes(with_packages, Level.ERROR)
    assert "packages.missing" not in codes(with_packages, Level.ERROR)


def test_existing_cluster_is_reported_and_its_ports_are_not():
    facts = fleet_facts(cp={"cluster_files": ("/etc/kubernetes/admin.conf",), "ports_in_use": (6443, 10250)})
    findings = preflight(profile(), facts)
    assert [f.code for f in findings if f.host == "cp" and f.level is not Level.INFO] == ["cluster.existing"]


def test_pod_cidr_that_covers_a_host_network_is_an_error():
    findings = preflight(profile(pod_cidr="192.168.0.0/16"), fleet_facts())
    overlap = [f for f in findings if f.code == "pod_cidr.overlaps_host_address"]
    assert overlap and all(f.is_error for f in overlap)
    assert {f.host for f in overlap} == set(ADDRESSES)


def test_advertise_address_must_be_on_the_control_plane():
    findings = preflight(profile(advertise_address="10.1.2.3"), fleet_facts())
    assert "advertise.not_on_host" in codes(findings, Level.ERROR)


# --- the lab: clones kubeadm's own preflight cannot see ---


@pytest.mark.lab
@pytest.mark.parametrize("scenario", ["duplicate-uuid", "duplicate-hostname"])
async def test_lab_duplicates_are_errors_naming_both_hosts(lab_factory, scenario):
    lab = lab_factory(hosts=3, scenario=NAMED[scenario])
    prof = lab.profile()
    facts = await gather_facts(prof, ssh_config=[])
    findings = preflight(prof, facts)
    code = "duplicate.product_uuid" if scenario == "duplicate-uuid" else "duplicate.hostname"
    [duplicate] = [f for f in findings if f.code == code]
    first, second = (prof.hosts[0], prof.hosts[1]) if scenario == "duplicate-uuid" else (prof.hosts[1], prof.hosts[2])
    assert duplicate.is_error and first.name in duplicate.message and second.name in duplicate.message
    assert has_errors(findings)


def test_an_existing_control_plane_without_or_with_another_pod_cidr_is_an_error():
    """Unit-level: the facts a control plane initialised without --pod-network-cidr gives."""
    import dataclasses

    from kwizard.checks.host import preflight
    from kwizard.facts.model import parse_facts

    base = parse_facts("cp", {"uid": "0", "hostname": "cp", "cpus": "2", "meminfo": "MemTotal: 4000000 kB",
                              "cluster_files": "/etc/kubernetes/admin.conf\n/etc/kubernetes/manifests/kube-controller-manager.yaml",
                              "end": ""})
    profile = Profile(name="p", hosts=[{"name": "cp", "address": "10.0.0.1", "role": "control-plane"}])
    without = {f.code: f for f in preflight(profile, {"cp": dataclasses.replace(base, cluster_cidr="")})}
    assert without["cluster.no_pod_cidr"].is_error
    assert "pod cidr not assigned" in without["cluster.no_pod_cidr"].message
    other = {f.code: f for f in preflight(profile, {"cp": dataclasses.replace(base, cluster_cidr="10.32.0.0/12")})}
    assert "10.32.0.0/12" in other["cluster.pod_cidr_differs"].message
    same = {f.code for f in preflight(profile, {"cp": dataclasses.replace(base, cluster_cidr="10.244.0.0/16")})}
    assert not {"cluster.no_pod_cidr", "cluster.pod_cidr_differs"} & same
