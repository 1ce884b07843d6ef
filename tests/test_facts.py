"""kwizard.facts: the parser on captured text, and gathering from a real (lab) fleet."""

from __future__ import annotations

import time

import pytest

from kwizard.facts.model import HostFacts, parse_facts
from kwizard.facts.gather import gather_facts
from kwizard.facts.script import facts_script, split_sections
from kwizard.ssh import Fleet, HostUnreachable

# What the facts script printed on a Debian 12 VM with containerd, swap on and kubeadm 1.33.
CAPTURED = """\
sudo: unable to resolve host kube1
==kwizard:uid==
0
==kwizard:hostname==
kube1
==kwizard:os_release==
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
==kwizard:kernel==
6.1.0-25-amd64
==kwizard:ip_addr==
[{"ifindex":1,"ifname":"lo","link_type":"loopback","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},\
{"ifindex":2,"ifname":"enp1s0","link_type":"ether","address":"52:54:00:AB:CD:01","addr_info":[{"family":"inet","local":"192.168.122.11","prefixlen":24}]},\
{"ifindex":3,"ifname":"docker0","link_type":"ether","address":"02:42:ac:11:00:01","addr_info":[{"family":"inet","local":"172.17.0.1","prefixlen":16}]}]
==kwizard:ip_route==
[{"dst":"default","gateway":"192.168.122.1","dev":"enp1s0"},{"dst":"192.168.122.0/24","dev":"enp1s0","prefsrc":"192.168.122.11"}]
==kwizard:swaps==
Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority
/swap.img                               file\t\t2097148\t\t0\t\t-2
==kwizard:meminfo==
MemTotal:        4028252 kB
SwapTotal:       2097148 kB
==kwizard:cpus==
2
==kwizard:ip_forward==
0
==kwizard:bridge_nf==
==kwizard:product_uuid==
4c4c4544-0042-3510-8052-b4c04f4b4c31
==kwizard:machine_id==
0f1e2d3c4b5a69788796a5b4c3d2e1f0
==kwizard:binaries==
ip yes
iptables yes
mount yes
nsenter yes
ebtables no
ethtool yes
socat no
tc yes
touch yes
==kwizard:kubeadm==
v1.33.2
==kwizard:kubelet==
Kubernetes v1.33.2
==kwizard:kubectl==
Client Version: v1.33.2
Kustomize Version: v5.6.0
==kwizard:cri_sockets==
/var/run/containerd/containerd.sock
==kwizard:firewalld==
inactive
==kwizard:kubelet_enabled==
enabled
==kwizard:cluster_files==
==kwizard:etcd_data==
==kwizard:listening==
LISTEN 0      4096   127.0.0.1:10248      0.0.0.0:*
LISTEN 0      128      0.0.0.0:22         0.0.0.0:*
LISTEN 0      128         [::]:22            [::]:*
==kwizard:resolves==
kube2 192.168.122.12
kube1 127.0.1.1
kube3 -
==kwizard:package_manager==
apt-get
==kwizard:end==
"""


def test_parser_reads_every_section():
    facts = parse_facts("kube1", split_sections(CAPTURED))
    assert (facts.hostname, facts.os_id, facts.os_version, facts.kernel) == ("kube1", "debian", "12", "6.1.0-25-amd64")
    assert facts.os_pretty == "Debian GNU/Linux 12 (bookworm)"
    assert facts.swap_on and facts.swap_total_kb == 2097148
    assert facts.ip_forward is False and facts.bridge_nf_call_iptables is None
    assert facts.product_uuid == "4c4c4544-0042-3510-8052-b4c04f4b4c31"
    assert facts.machine_id == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert facts.macs == (("enp1s0", "52:54:00:ab:cd:01"),)  # docker0 is no identity
    assert (facts.kubeadm_version, facts.kubelet_version, facts.kubectl_version) == ("v1.33.2",) * 3
    assert facts.cri_sockets == ("unix:///var/run/containerd/containerd.sock",)
    assert not facts.firewalld_active and facts.kubelet_enabled
    assert not facts.existing_cluster and not facts.etcd_data
    assert (facts.cpu_count, facts.mem_mb) == (2, 3933)
    assert facts.binaries_missing == ("ebtables", "socat") and facts.required_missing == ()
    assert facts.ports_in_use == (22, 10248)
    assert facts.resolves("kube2") == "192.168.122.12" and facts.resolves("kube3") is None
    assert facts.package_manager == "apt-get" and facts.sudo_ok
    assert [str(a.address) for a in facts.network.addresses] == ["127.0.0.1/8", "192.168.122.11/24", "172.17.0.1/16"]
    assert facts.network.host == "kube1"


def test_parser_survives_a_host_with_almost_nothing():
    facts = parse_facts("bare", split_sections("==kwizard:uid==\n1000\n==kwizard:hostname==\nbare\n==kwizard:end==\n"))
    assert facts.hostname == "bare" and not facts.sudo_ok and facts.network.addresses == ()
    assert facts.ip_forward is None and facts.kubeadm_version is None and facts.cri_sockets == ()


def test_sudo_refusal_is_recorded():
    facts = parse_facts("h", split_sections("==kwizard:uid==\n1000\n==kwizard:end==\n"), sudo_problem="sudo refused")
    assert not facts.sudo_ok and facts.sudo_problem == "sudo refused"


def test_script_quotes_the_names_it_resolves():
    script = facts_script(["kube1", "kube-2"])
    assert "NAMES='kube1 kube-2'" in script and "==kwizard" not in script.split("section()")[0]


# --- against the lab ---


@pytest.mark.lab
async def test_three_hosts_in_one_call_about_as_fast_as_one(lab3, capsys):
    profile = lab3.profile()
    names = [h.name for h in profile.hosts]
    async with Fleet(profile, ssh_config=[], use_agent=False) as fleet:
        await fleet.open_all()  # time the facts, not the handshakes
        started = time.monotonic()
        one = await gather_facts(profile, fleet, only=names[:1])
        one_host = time.monotonic() - started
        started = time.monotonic()
        everyone = await gather_facts(profile, fleet)
        three_hosts = time.monotonic() - started
    with capsys.disabled():
        print(f"\nfacts: 1 host {one_host:.2f}s, 3 hosts {three_hosts:.2f}s")
    assert list(one) == names[:1] and list(everyone) == names
    assert all(isinstance(f, HostFacts) for f in everyone.values()), everyone
    assert three_hosts < one_host * 1.5 + 0.5
    for index, name in enumerate(names):
        facts = everyone[name]
        assert facts.hostname == lab3.hosts[index].name
        assert any(str(a.address.ip) == lab3.hosts[index].address for a in facts.network.addresses)
        assert facts.sudo_ok and facts.cpu_count >= 1 and facts.mem_mb > 0
    assert len({f.product_uuid for f in everyone.values()}) == 3


@pytest.mark.lab
async def test_each_host_says_how_it_resolves_the_others_and_leaves_nothing_behind(lab3):
    """The lookups run in parallel, each into its own file in a temporary folder: the answers
    land on the right names, an unknown name is unresolved, and the folder is gone afterwards."""
    names = [h.name for h in lab3.hosts]
    lab3.exec(0, f"echo '{lab3.hosts[1].address} {names[1]}' >> /etc/hosts")
    before = lab3.exec(0, "ls -A /tmp").stdout
    facts = (await gather_facts(lab3.profile(), ssh_config=[]))[names[0]]
    assert isinstance(facts, HostFacts), facts
    assert facts.resolves(names[1]) == lab3.hosts[1].address
    assert facts.resolves(names[2]) is None
    assert facts.resolves(names[0]) is not None  # its own name, from the lab's /etc/hosts
    assert lab3.exec(0, "ls -A /tmp").stdout == before


@pytest.mark.lab
async def test_a_down_host_gives_its_error_and_the_others_answer(lab3):
    lab3.set_fault(1, "ssh_down")
    profile = lab3.profile()
    results = await gather_facts(profile, ssh_config=[])
    down = results[profile.hosts[1].name]
    assert isinstance(down, HostUnreachable)
    assert profile.hosts[1].address in down.message and down.fix
    assert isinstance(results[profile.hosts[0].name], HostFacts)
    assert isinstance(results[profile.hosts[2].name], HostFacts)


@pytest.mark.lab
async def test_refused_sudo_still_gives_facts_marked_so(lab_factory):
    from tests.lab import Scenario

    lab = lab_factory(hosts=1, scenario=Scenario(name="pw").with_host(0, sudo_password="lab-sudo-pw"))
    results = await gather_facts(lab.profile(), ssh_config=[], sudo_password="not-it")
    facts = results[lab.profile().hosts[0].name]
    assert isinstance(facts, HostFacts) and facts.hostname
    assert not facts.sudo_ok and "sudo" in facts.sudo_problem
