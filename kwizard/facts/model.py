"""What a host is, as kwizard knows it: `HostFacts`, parsed from the facts script's answer.

Pure: `parse_facts` turns the script's sections (kwizard.facts.script) into a
frozen `HostFacts`; unit tests feed it captured text. A host that could not
answer is represented by its typed SSH error (`HostError`) instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from kwizard.facts.script import REQUIRED_BELOW_1_32, REQUIRED_BINARIES, WANTED_BINARIES
from kwizard.kube.cri import socket_url
from kwizard.facts.hostnet import HostNetwork, is_container_bridge, is_pod_network_interface, is_tunnel_interface
from kwizard.ssh.errors import SSHError

# A per-host failure: the ssh layer's typed error (its .kind, .message, .fix).
HostError = SSHError
_VERSION = re.compile(r"v?(\d+\.\d+\.\d+\S*)")


@dataclass(frozen=True)
class HostFacts:
    host: str  # the profile's name for the host
    hostname: str
    os_id: str
    os_version: str
    os_pretty: str
    kernel: str
    network: HostNetwork
    swap_total_kb: int
    swap_on: bool  # /proc/swaps lists an active device or file
    ip_forward: bool | None  # None: could not read
    bridge_nf_call_iptables: bool | None  # None: br_netfilter not loaded
    product_uuid: str | None  # None: unreadable (root only on most systems)
    machine_id: str | None
    macs: tuple[tuple[str, str], ...]  # (interface, MAC) of the host's own NICs
    kubeadm_version: str | None
    kubelet_version: str | None
    kubectl_version: str | None
    cri_sockets: tuple[str, ...]  # unix:// URLs, the form kubeadm takes
    firewalld_active: bool
    kubelet_enabled: bool
    cluster_files: tuple[str, ...]  # kubeconfigs and static pod manifests under /etc/kubernetes
    etcd_data: bool  # /var/lib/etcd is not empty
    cpu_count: int
    mem_mb: int
    binaries_missing: tuple[str, ...]
    ports_in_use: tuple[int, ...]  # TCP ports something listens on
    resolved: tuple[tuple[str, str | None], ...] = ()  # (name, address or None) as this host resolves them
    package_manager: str | None = None  # apt-get, dnf, yum, zypper
    sudo_ok: bool = True
    sudo_problem: str = ""
    cluster_cidr: str | None = None  # an existing control plane's --cluster-cidr ("" when it has none)
    # The network plugin already there (defect 10): /etc/cni/net.d file names, and with admin.conf the
    # cluster's DaemonSets/Deployments (`kubectl get -o name` lines). kwizard.cni.installed_plugins reads them.
    cni_config_files: tuple[str, ...] = ()
    cluster_workloads: tuple[str, ...] = ()
    os_like: str = ""  # /etc/os-release ID_LIKE ("rhel centos fedora" on Rocky)
    selinux: str | None = None  # getenforce: Enforcing, Permissive, Disabled; None without SELinux tools
    swap_units: tuple[str, ...] = ()  # active systemd .swap units (dev-zram0.swap from zram-generator, ...)
    raw: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def existing_cluster(self) -> bool:
        return bool(self.cluster_files)

    @property
    def required_missing(self) -> tuple[str, ...]:
        return tuple(b for b in self.binaries_missing if b in REQUIRED_BINARIES)

    @property
    def wanted_missing(self) -> tuple[str, ...]:
        return tuple(b for b in self.binaries_missing if b in WANTED_BINARIES)

    @property
    def versioned_missing(self) -> tuple[str, ...]:
        """Missing binaries kubeadm requires only for some Kubernetes versions (conntrack below 1.32)."""
        return tuple(b for b in self.binaries_missing if b in REQUIRED_BELOW_1_32)

    @property
    def package_family(self) -> str | None:
        """Which package script fits: apt (Debian, Ubuntu), rhel (Rocky, RHEL, Alma, CentOS), fedora; None: none."""
        if self.package_manager == "apt-get":
            return "apt"
        if self.package_manager == "dnf":
            return "fedora" if self.os_id == "fedora" else "rhel"
        return None

    def summary(self) -> str:
        """One line for `kwizard check` and the hosts table: what a person checks first."""
        runtime = ", ".join(s.rsplit("/", 1)[-1] for s in self.cri_sockets) or "no runtime"
        kube = f"kubeadm {self.kubeadm_version}" if self.kubeadm_version else "no kubeadm"
        parts = [self.os_pretty or f"{self.os_id} {self.os_version}", kube, runtime,
                 "swap on" if self.swap_on else "swap off", "sudo ok" if self.sudo_ok else "sudo refused"]
        if self.existing_cluster:
            parts.append("already in a cluster")
        return "; ".join(parts)

    def resolves(self, name: str) -> str | None:
        return dict(self.resolved).get(name)


# --- parsing (pure: unit tests feed it captured text) ---


def parse_facts(host: str, sections: Mapping[str, str], sudo_problem: str = "") -> HostFacts:
    os_release = _os_release(sections.get("os_release", ""))
    meminfo = _meminfo(sections.get("meminfo", ""))
    addr_json = _json_list(sections.get("ip_addr", ""))
    return HostFacts(
        host=host,
        hostname=sections.get("hostname", ""),
        os_id=os_release.get("ID", ""),
        os_version=os_release.get("VERSION_ID", ""),
        os_pretty=os_release.get("PRETTY_NAME", ""),
        os_like=os_release.get("ID_LIKE", ""),
        selinux=(sections.get("selinux") or "").split("\n")[0].strip() or None,
        swap_units=tuple(line.split()[0] for line in _lines(sections.get("swap_units", "")) if line.endswith(".swap") or ".swap " in line),
        kernel=sections.get("kernel", ""),
        network=HostNetwork.from_ip_json(host, addr_json, _json_list(sections.get("ip_route", ""))),
        swap_total_kb=meminfo.get("SwapTotal", 0),
        swap_on=_swap_on(sections.get("swaps", "")),
        ip_forward=_flag(sections.get("ip_forward", "")),
        bridge_nf_call_iptables=_flag(sections.get("bridge_nf", "")),
        product_uuid=sections.get("product_uuid") or None,
        machine_id=sections.get("machine_id") or None,
        macs=_macs(addr_json),
        kubeadm_version=_version(sections.get("kubeadm", "")),
        kubelet_version=_version(sections.get("kubelet", "")),
        kubectl_version=_version(sections.get("kubectl", "")),
        cri_sockets=tuple(socket_url(s) for s in _lines(sections.get("cri_sockets", ""))),
        firewalld_active=sections.get("firewalld", "").split("\n")[0] in ("active", "running"),
        kubelet_enabled=sections.get("kubelet_enabled", "").split("\n")[0] == "enabled",
        cluster_files=tuple(_lines(sections.get("cluster_files", ""))),
        etcd_data=bool(sections.get("etcd_data")),
        cluster_cidr=_cluster_cidr(sections),
        cni_config_files=tuple(_lines(sections.get("cni_config", ""))),
        cluster_workloads=tuple(_lines(sections.get("cni_workloads", ""))),
        cpu_count=_int(sections.get("cpus", "")),
        mem_mb=meminfo.get("MemTotal", 0) // 1024,
        binaries_missing=tuple(line.split()[0] for line in _lines(sections.get("binaries", "")) if line.endswith(" no")),
        ports_in_use=_listening_ports(sections.get("listening", "")),
        resolved=_resolved(sections.get("resolves", "")),
        package_manager=sections.get("package_manager") or None,
        sudo_ok=not sudo_problem and sections.get("uid") == "0",
        sudo_problem=sudo_problem or ("" if sections.get("uid") == "0" else "the facts ran without root"),
        raw=dict(sections),
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _int(text: str) -> int:
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        return 0


def _flag(text: str) -> bool | None:
    value = text.strip()
    return None if value not in ("0", "1") else value == "1"


def _json_list(text: str) -> list:
    try:
        data = json.loads(text or "[]")
    except json.JSONDecodeError:
        return []
    return data if isinstance(data, list) else []


def _os_release(text: str) -> dict[str, str]:
    values = {}
    for line in _lines(text):
        key, sep, value = line.partition("=")
        if sep:
            values[key] = value.strip().strip('"').strip("'")
    return values


def _meminfo(text: str) -> dict[str, int]:
    """{'MemTotal': kB, 'SwapTotal': kB}."""
    values = {}
    for line in _lines(text):
        key, _, rest = line.partition(":")
        values[key] = _int(rest)
    return values


def _swap_on(text: str) -> bool:
    """Any line after /proc/swaps' header is an active swap device or file."""
    return len(_lines(text)) > 1


def read_tool_version(text: str) -> str | None:
    """The version a Kubernetes tool printed (kubeadm version -o short, kubelet --version, kubectl version --client)."""
    return _version(text)


def _version(text: str) -> str | None:
    """'v1.33.1' from `kubeadm version -o short`, `Kubernetes v1.33.1`, `Client Version: v1.33.1`."""
    match = _VERSION.search(text)
    return f"v{match[1]}" if match else None


def _macs(addr_json: list) -> tuple[tuple[str, str], ...]:
    """The MACs that identify the machine: real NICs, not bridges, veths, tunnels or CNI devices."""
    found = []
    for link in addr_json:
        name, mac = link.get("ifname", ""), link.get("address", "")
        if link.get("link_type") != "ether" or not mac or mac == "00:00:00:00:00:00":
            continue
        if is_container_bridge(name) or is_pod_network_interface(name) or is_tunnel_interface(name):
            continue
        found.append((name, mac.lower()))
    return tuple(found)


def _listening_ports(text: str) -> tuple[int, ...]:
    """Ports from `ss -ltnH` lines: 'LISTEN 0 128 0.0.0.0:22 0.0.0.0:*'."""
    ports = set()
    for line in _lines(text):
        fields = line.split()
        if len(fields) >= 4:
            port = fields[3].rpartition(":")[2]
            if port.isdigit():
                ports.add(int(port))
    return tuple(sorted(ports))


def _resolved(text: str) -> tuple[tuple[str, str | None], ...]:
    pairs = []
    for line in _lines(text):
        name, _, address = line.partition(" ")
        pairs.append((name, None if address in ("", "-") else address))
    return tuple(pairs)


CONTROLLER_MANAGER = "/etc/kubernetes/manifests/kube-controller-manager.yaml"


def _cluster_cidr(sections: Mapping[str, str]) -> str | None:
    """None: no control plane here; "": one that was initialised without a pod network."""
    if CONTROLLER_MANAGER not in _lines(sections.get("cluster_files", "")):
        return None
    found = sections.get("cluster_cidr", "").strip().partition("=")[2]
    return found.splitlines()[0] if found else ""
