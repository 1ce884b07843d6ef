"""The lab itself: real sshd hosts in namespaces, and simulators that behave like kubeadm/kubectl."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import asyncssh
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.lab import HostOptions, Scenario, start_lab
from tests.lab import naming, netns

pytestmark = pytest.mark.lab
FIXTURES = naming.fixtures_dir() / "cni"
needs_fixtures = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"CNI fixture manifests not found at {FIXTURES}")


async def _connect(lab, host, user=None):
    return await asyncssh.connect(host.address, port=host.port, username=user or host.user,
                                  client_keys=[str(lab.client_key)], known_hosts=str(lab.known_hosts))


def _init_config(address: str, pod_subnet: str | None) -> str:
    networking = f"networking:\n  podSubnet: {pod_subnet}\n" if pod_subnet else ""
    return (
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
        f"localAPIEndpoint:\n  advertiseAddress: {address}\n"
        "nodeRegistration:\n  criSocket: unix:///var/run/containerd/containerd.sock\n"
        f"  kubeletExtraArgs:\n  - name: node-ip\n    value: {address}\n"
        "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n" + networking
    )


async def _sudo(conn, command: str, check: bool = True):
    return await conn.run(f"sudo -n {command}", check=check)


async def _init_cluster(lab, conn, pod_subnet: str | None) -> asyncssh.SSHCompletedProcess:
    """What kwizard's plan does on the control plane: kernel setting, config upload, kubeadm init."""
    await _sudo(conn, "sysctl -qw net.ipv4.ip_forward=1")
    await _sudo(conn, "systemctl enable --now kubelet")
    async with conn.start_sftp_client() as sftp:
        async with sftp.open("/tmp/kubeadm.yaml", "w") as handle:
            await handle.write(_init_config(lab.hosts[0].address, pod_subnet))
    return await _sudo(conn, "kubeadm init --config /tmp/kubeadm.yaml", check=False)


def test_three_hosts_with_own_hostnames_addresses_and_sudo(lab3):
    async def probe(host):
        async with await _connect(lab3, host) as conn:
            name = (await conn.run("hostname", check=True)).stdout.strip()
            addresses = json.loads((await conn.run("ip -j addr", check=True)).stdout)
            whoami = (await conn.run("id -un", check=True)).stdout.strip()
            sudo = (await conn.run("sudo -n id -u", check=True)).stdout.strip()
            return name, addresses, whoami, sudo

    async def probe_all():
        return await asyncio.gather(*(probe(h) for h in lab3.hosts))

    results = asyncio.run(probe_all())
    names = [r[0] for r in results]
    assert len(set(names)) == 3
    assert names == [h.name for h in lab3.hosts]
    for host, (_, addresses, whoami, sudo) in zip(lab3.hosts, results):
        ipv4 = [a["local"] for link in addresses for a in link["addr_info"] if a["family"] == "inet"]
        assert ipv4 == ["127.0.0.1", host.address]  # its own, and no other host's
        assert whoami == "kube" and sudo == "0"


def test_root_login_by_key_and_sftp(lab3):
    async def go():
        async with await _connect(lab3, lab3.hosts[1], user="root") as conn:
            assert (await conn.run("id -u", check=True)).stdout.strip() == "0"
            async with conn.start_sftp_client() as sftp:
                assert await sftp.exists("/etc/kubernetes") is False

    asyncio.run(go())


def test_writes_to_etc_stay_inside_the_lab_host(lab3):
    target = Path("/etc/sysctl.d/99-lab.conf")
    assert not target.exists()

    async def write():
        async with await _connect(lab3, lab3.hosts[0]) as conn:
            await conn.run("echo net.ipv4.ip_forward=1 | sudo -n tee /etc/sysctl.d/99-lab.conf", check=True)
            await conn.run("sudo -n sysctl -q -p /etc/sysctl.d/99-lab.conf", check=True)
            return (await conn.run("cat /etc/sysctl.d/99-lab.conf /proc/sys/net/ipv4/ip_forward", check=True)).stdout

    assert asyncio.run(write()) == "net.ipv4.ip_forward=1\n1\n"
    assert not target.exists()  # the machine's own /etc never saw it
    assert lab3.exec(1, "test -e /etc/sysctl.d/99-lab.conf").returncode == 1  # nor did the other hosts
    assert (lab3.hosts[0].dir / "upper/etc/sysctl.d/99-lab.conf").exists()  # it landed in the lab folder


def test_init_join_and_the_hash_is_the_cas_real_pin(lab3):
    cp, worker, stranger = lab3.hosts

    async def go():
        async with await _connect(lab3, cp) as conn:
            init = await _init_cluster(lab3, conn, "10.244.0.0/16")
            assert init.exit_status == 0, init.stderr
            join = (await _sudo(conn, "kubeadm token create --print-join-command")).stdout.strip()
            ca_pem = (await _sudo(conn, "cat /etc/kubernetes/pki/ca.crt")).stdout
        async with await _connect(lab3, worker) as conn:
            await _sudo(conn, "sysctl -qw net.ipv4.ip_forward=1")
            joined = await _sudo(conn, join, check=False)
        async with await _connect(lab3, stranger) as conn:
            await _sudo(conn, "sysctl -qw net.ipv4.ip_forward=1")
            wrong = join.split("sha256:")[0] + "sha256:" + "0" * 64
            refused = await _sudo(conn, wrong, check=False)
        async with await _connect(lab3, cp) as conn:
            nodes = json.loads((await _sudo(conn, "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json")).stdout)
        return init.stdout, join, ca_pem, joined, refused, nodes

    init_out, join, ca_pem, joined, refused, nodes = asyncio.run(go())
    assert "Your Kubernetes control-plane has initialized successfully!" in init_out
    assert f"kubeadm join {cp.address}:6443 --token " in init_out
    assert joined.exit_status == 0, joined.stderr
    assert "This node has joined the cluster" in joined.stdout

    cert = x509.load_pem_x509_certificate(ca_pem.encode())
    pin = hashlib.sha256(cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).hexdigest()
    assert join.rstrip().endswith(f"--discovery-token-ca-cert-hash sha256:{pin}")
    assert f"sha256:{pin}" in init_out

    assert refused.exit_status == 1
    assert "couldn't validate the identity of the API Server" in refused.stderr
    assert f'none of the public keys "sha256:{pin}" are pinned' in refused.stderr

    assert sorted(item["metadata"]["name"] for item in nodes["items"]) == sorted([cp.name, worker.name])
    state = lab3.cluster_state()
    assert state["cluster"]["ca_hash"] == f"sha256:{pin}"


@needs_fixtures
def test_flannel_without_pod_subnet_crash_loops_with_the_seeds_error(lab_factory):
    lab = lab_factory(hosts=1)

    async def go():
        async with await _connect(lab, lab.hosts[0]) as conn:
            init = await _init_cluster(lab, conn, pod_subnet=None)
            assert init.exit_status == 0, init.stderr
            kubectl = "kubectl --kubeconfig /etc/kubernetes/admin.conf"
            await _sudo(conn, f"{kubectl} apply -f https://github.com/flannel-io/flannel/releases/download/v0.28.9/kube-flannel.yml")
            pods = (await _sudo(conn, f"{kubectl} get pods -A")).stdout
            nodes = (await _sudo(conn, f"{kubectl} get nodes")).stdout
            logs = (await _sudo(conn, f"{kubectl} logs -n kube-flannel ds/kube-flannel-ds")).stdout
            return pods, nodes, logs

    pods, nodes, logs = asyncio.run(go())
    flannel = [line for line in pods.splitlines() if "kube-flannel-ds-" in line]
    assert flannel and all("CrashLoopBackOff" in line for line in flannel)
    assert all("Pending" in line for line in pods.splitlines() if "coredns" in line)
    assert "NotReady" in nodes
    assert f'failed to acquire lease: node "{lab.hosts[0].name}" pod cidr not assigned' in logs
    manifests = [m for m in lab.cluster_state()["manifests"] if m["cni"]]
    assert manifests[-1]["cni"] == "flannel" and manifests[-1]["cidr"] == "10.244.0.0/16"


@needs_fixtures
def test_flannel_matching_pod_subnet_makes_nodes_ready(lab_factory):
    lab = lab_factory(hosts=1)
    cmd = "kubectl --kubeconfig /etc/kubernetes/admin.conf"

    async def go():
        async with await _connect(lab, lab.hosts[0]) as conn:
            assert (await _init_cluster(lab, conn, "10.244.0.0/16")).exit_status == 0
            before = (await _sudo(conn, f"{cmd} get nodes")).stdout
            await conn.run(f"curl -fsSL https://github.com/flannel-io/flannel/releases/download/v0.28.9/kube-flannel.yml -o /tmp/f.yml", check=True)
            await _sudo(conn, f"{cmd} apply -f /tmp/f.yml")
            return before, (await _sudo(conn, f"{cmd} get nodes")).stdout, (await _sudo(conn, f"{cmd} get pods -A")).stdout

    before, after, pods = asyncio.run(go())
    assert "NotReady" in before
    assert " Ready " in after
    assert all("Running" in line for line in pods.splitlines()[1:])


def test_faults_hang_cut_ssh_down_sudo_password_host_key(lab_factory):
    lab = lab_factory(hosts=2, scenario=Scenario("faults").with_host(1, sudo_password="pw-123", swap_on=True,
                                                                    firewalld_running=True, tun0=True))
    first, second = lab.hosts

    async def go():
        lab.set_fault(first, "hang", "sleepy-command")
        lab.set_fault(first, "cut_during", "kubeadm config images pull")
        async with await _connect(lab, first) as conn:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(conn.run("echo sleepy-command"), 1.0)
        async with await _connect(lab, first) as conn:
            cut = await conn.run("sudo -n kubeadm config images pull")
            # The server's side vanished mid-command: no exit status, and the connection is gone.
            assert cut.exit_status is None and cut.exit_signal is None
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.run("true")
        async with await _connect(lab, second) as conn:
            nopass = await conn.run("sudo -n true")
            withpass = await conn.run("sudo -S -p '' id -u", input="pw-123\n")
            swaps = (await conn.run("cat /proc/swaps")).stdout
            firewalld = (await conn.run("systemctl is-active firewalld")).stdout.strip()
            route = json.loads((await conn.run("ip -j route show default")).stdout)
        return nopass, withpass, swaps, firewalld, route

    nopass, withpass, swaps, firewalld, route = asyncio.run(go())
    assert nopass.exit_status == 1 and "a password is required" in nopass.stderr
    assert withpass.stdout.strip() == "0"
    assert "/swap.img" in swaps
    assert firewalld == "active"
    assert route[0]["dev"] == "tun0"

    lab.set_fault(first, "ssh_down")
    with pytest.raises(OSError):
        asyncio.run(_connect(lab, first))
    lab.clear_fault(first, "ssh_down")
    lab.set_fault(first, "host_key_changed")
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        asyncio.run(_connect(lab, first))
    lab.clear_fault(first, "host_key_changed")

    async def reconnect():
        async with await _connect(lab, first) as conn:
            return (await conn.run("hostname", check=True)).stdout.strip()

    assert asyncio.run(reconnect()) == first.name


def test_profile_points_at_the_lab(lab3):
    profile = lab3.profile(cni="calico", pod_cidr="10.50.0.0/16")
    assert [h.address for h in profile.hosts] == [h.address for h in lab3.hosts]
    assert [h.role.value for h in profile.hosts] == ["control-plane", "worker", "worker"]
    assert profile.ssh.user == "kube" and profile.ssh.identity_file == str(lab3.client_key)
    assert profile.cluster.pod_cidr == "10.50.0.0/16"
    path = lab3.write_profile(cni="flannel")
    assert path.exists() and "identity_file" in path.read_text()


def test_duplicate_identity_scenario(lab_factory):
    dup = "4c4c4544-0042-3510-8052-b4c04f4b4c31"
    lab = lab_factory(hosts=2, scenario=Scenario(default=HostOptions(product_uuid=dup, hostname="twin")))
    outs = [lab.exec(h, "hostname; cat /sys/class/dmi/id/product_uuid; cat /etc/machine-id").stdout.split()
            for h in lab.hosts]
    assert outs[0][:2] == outs[1][:2] == ["twin", dup]
    assert outs[0][2] != outs[1][2]
    assert [h.name for h in lab.profile().hosts] == ["twin", "twin-2"]


def test_parallel_labs_do_not_collide():
    from tests.lab import require_lab

    require_lab()
    with start_lab(1) as a, start_lab(1) as b:
        assert a.subnet != b.subnet and a.id != b.id
        assert netns.host_address(a.subnet, 0) != netns.host_address(b.subnet, 0)


def test_up_and_down_is_quick_and_leaves_nothing():
    from tests.lab import require_lab

    require_lab()
    begun = time.monotonic()
    lab = start_lab(3)
    up = time.monotonic() - begun
    holders = [h.holder_pid for h in lab.hosts]
    lab.down()
    total = time.monotonic() - begun
    assert up < 5 and total < 8, f"up {up:.2f}s, up+down {total:.2f}s"
    assert not [n for n in netns.lab_netns_names() if n.startswith(naming.netns_name(lab.id, 0)[:-1])]
    assert not [link for link in netns.lab_links() if link.startswith(naming.bridge_name(lab.id))]
    assert not lab.dir.exists()
    assert all(not Path(f"/proc/{pid}").exists() for pid in holders)


def test_a_killed_run_is_reaped():
    from tests.lab import require_lab
    from tests.lab.lab import reap_stale

    require_lab()
    script = "from tests.lab import start_lab; import os; lab = start_lab(1); print(lab.id, flush=True); os._exit(0)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=naming.repo_root()).stdout.split()
    lab_id = out[-1]
    assert any(n.startswith(naming.lab_name(lab_id)) for n in netns.lab_netns_names())
    assert lab_id in reap_stale()
    assert not any(n.startswith(naming.lab_name(lab_id)) for n in netns.lab_netns_names())


def test_no_packages_until_installed(lab_factory):
    lab = lab_factory(hosts=1, scenario=Scenario(default=HostOptions(k8s_installed=False)))
    assert lab.exec(0, "command -v kubeadm", user="kube").returncode != 0
    installed = lab.exec(0, "sudo -n apt-get install -y kubelet kubeadm kubectl && kubeadm version -o short", user="kube")
    assert installed.returncode == 0 and installed.stdout.strip().endswith("v1.33.2")


def test_simulators_say_what_they_are():
    sim = Path(__file__).parent / "lab" / "sim"
    for tool in sim.iterdir():
        if tool.is_file() and tool.suffix in ("", ".py") and tool.name != "__init__.py":
            head = "".join(tool.read_text().splitlines(keepends=True)[:3])
            assert "kwizard lab" in head and "NOT" in head, tool.name


def test_require_lab_skips_or_fails_with_the_reason(monkeypatch):
    from tests.lab import requirements

    monkeypatch.setattr(requirements, "lab_unavailable_reason", lambda: "the lab needs root")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs root"):
        requirements.require_lab()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="needs root"):
        requirements.require_lab()
