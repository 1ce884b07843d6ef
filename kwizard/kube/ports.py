"""Firewall ports: the shape every port list in kwizard uses, and kubeadm's own.

The CNI catalogue (kwizard.cni) lists each plugin's ports in the same shape,
so the firewall step opens `CONTROL_PLANE_PORTS` or `WORKER_PORTS` plus
whatever the chosen plugin needs, with one loop.
"""

from __future__ import annotations

from dataclasses import dataclass

# Bare IP protocols (no port numbers), by their /etc/protocols names. IP-in-IP is protocol 4,
# `ipencap` in /etc/protocols (`ipip` there is 94, KA9Q's, not what Calico sends). The firewall
# step passes the NUMBER (firewall-cmd(1): --add-protocol takes a name from /etc/protocols or a
# number), because the files disagree on names (Debian's netbase: ipencap; IANA-derived: IPv4).
IP_PROTOCOL_NUMBERS = {"ipencap": 4, "esp": 50}


@dataclass(frozen=True)
class Port:
    """One port, port range or bare IP protocol a node must accept.

    `start`/`end` are None for a bare IP protocol such as IP-in-IP ("ipencap",
    protocol 4) or ESP ("esp", protocol 50). `needed_for` names the backends
    (or "encryption") that need it; empty means always needed.
    """

    start: int | None
    protocol: str
    purpose: str
    end: int | None = None
    needed_for: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.protocol in IP_PROTOCOL_NUMBERS:
            if self.start is not None or self.end is not None:
                raise ValueError(f"IP protocol {self.protocol} has no port numbers")
            return
        if self.protocol not in ("tcp", "udp"):
            raise ValueError(f"unknown protocol {self.protocol!r}")
        if self.start is None or not 0 < self.start < 65536:
            raise ValueError(f"bad port {self.start!r}")
        if self.end is not None and not self.start < self.end < 65536:
            raise ValueError(f"bad port range {self.start}-{self.end}")

    @property
    def is_ip_protocol(self) -> bool:
        return self.start is None

    @property
    def label(self) -> str:
        """How people write it: "8472/udp", "2379-2380/tcp", "IP protocol 4 (ipencap)"."""
        if self.is_ip_protocol:
            return f"IP protocol {IP_PROTOCOL_NUMBERS[self.protocol]} ({self.protocol})"
        span = f"{self.start}-{self.end}" if self.end else f"{self.start}"
        return f"{span}/{self.protocol}"

    @property
    def firewalld_arg(self) -> str:
        """The firewall-cmd option that opens it (a bare IP protocol by number: see IP_PROTOCOL_NUMBERS)."""
        if self.is_ip_protocol:
            return f"--add-protocol={IP_PROTOCOL_NUMBERS[self.protocol]}"
        return f"--add-port={self.label}"

    def is_needed(self, backend: str | None = None, encryption: bool = False) -> bool:
        if not self.needed_for:
            return True
        if backend is not None and backend in self.needed_for:
            return True
        return encryption and "encryption" in self.needed_for


# kubernetes/website content/en/docs/reference/networking/ports-and-protocols.md (control plane
# table); kubeadm's preflight checks these on the control plane (KUBEADM.md).
CONTROL_PLANE_PORTS: tuple[Port, ...] = (
    Port(6443, "tcp", "Kubernetes API server"),
    Port(2379, "tcp", "etcd server client API", end=2380),
    Port(10250, "tcp", "kubelet API"),
    Port(10259, "tcp", "kube-scheduler"),
    Port(10257, "tcp", "kube-controller-manager"),
)

# kubernetes/website content/en/docs/reference/networking/ports-and-protocols.md (worker node
# table): the kubelet, kube-proxy's health check, and NodePorts on TCP and UDP.
WORKER_PORTS: tuple[Port, ...] = (
    Port(10250, "tcp", "kubelet API"),
    Port(10256, "tcp", "kube-proxy"),
    Port(30000, "tcp", "NodePort Services", end=32767),
    Port(30000, "udp", "NodePort Services", end=32767),
)


def listening_ports(ports: tuple[Port, ...]) -> tuple[int, ...]:
    """Every TCP port number in `ports` (ranges spelled out): what kubeadm's Port-<n> preflight checks."""
    found: list[int] = []
    for port in ports:
        if port.protocol == "tcp" and port.start is not None:
            found.extend(range(port.start, (port.end or port.start) + 1))
    return tuple(found)


# kubeadm preflight (KUBEADM.md): Port-<n> on the control plane, only the kubelet's on a worker
# (the NodePort range is not listened on before Services exist).
CONTROL_PLANE_PREFLIGHT_PORTS = listening_ports(CONTROL_PLANE_PORTS)
WORKER_PREFLIGHT_PORTS = listening_ports(tuple(p for p in WORKER_PORTS if p.start == 10250))
