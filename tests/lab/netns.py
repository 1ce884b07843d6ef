"""The lab's wiring on the real machine: one bridge per lab, one netns + veth per host.

Only `ip` is used. Subnets are allocated under a file lock so labs started at
the same time (pytest-xdist, two sessions) never pick the same /24.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import secrets
import subprocess
from contextlib import contextmanager
from pathlib import Path

from . import naming


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def ip_batch(commands: list[str], netns: str | None = None) -> None:
    """Many `ip` commands in one process: a host's wiring costs one fork, not ten."""
    where = ["-n", netns] if netns else []
    result = subprocess.run(["ip", *where, "-batch", "-"], input="\n".join(commands) + "\n", capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"ip -batch failed: {result.stderr.strip()}\n" + "\n".join(commands))


@contextmanager
def allocation_lock():
    root = naming.lab_root()
    root.mkdir(parents=True, exist_ok=True, mode=0o755)
    with open(root / ".alloc.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _networks_in_use() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network the machine routes or holds an address in, plus other labs' claims."""
    used = []
    for route in json.loads(ip("-j", "-4", "route", "show", "table", "all").stdout or "[]"):
        dst = route.get("dst", "")
        if dst and dst != "default" and route.get("type", "unicast") in ("unicast", "blackhole", "unreachable"):
            used.append(ipaddress.ip_network(dst if "/" in dst else f"{dst}/32", strict=False))
    for link in json.loads(ip("-j", "-4", "addr").stdout or "[]"):
        for info in link.get("addr_info", []):
            used.append(ipaddress.ip_network(f"{info['local']}/{info['prefixlen']}", strict=False))
    for claim in naming.lab_root().glob(f"{naming.PREFIX}*/lab.json"):
        try:
            used.append(ipaddress.ip_network(json.loads(claim.read_text())["subnet"]))
        except (OSError, ValueError, KeyError):
            pass
    return used


def _existing_ids() -> set[str]:
    links = json.loads(ip("-j", "link").stdout or "[]")
    names = {link["ifname"] for link in links} | set(os.listdir("/run/netns") if os.path.isdir("/run/netns") else [])
    names |= {p.name for p in naming.lab_root().glob(f"{naming.PREFIX}*")}
    return {n[len(naming.PREFIX):len(naming.PREFIX) + 4] for n in names if n.startswith(naming.PREFIX)}


def claim_lab(lab_dir_for) -> tuple[str, ipaddress.IPv4Network]:
    """Pick a fresh lab id and a /24 nobody routes; create the bridge while still holding the lock.

    `lab_dir_for(lab_id, subnet)` writes the claim (lab.json) inside the lock, so a
    concurrent allocator sees it even before the bridge route appears.
    """
    with allocation_lock():
        taken = _existing_ids()
        lab_id = secrets.token_hex(2)
        while lab_id in taken:
            lab_id = secrets.token_hex(2)
        used = _networks_in_use()
        candidates = list(naming.SUBNET_POOL.subnets(new_prefix=24))[1:-1]
        start = secrets.randbelow(len(candidates))
        for subnet in candidates[start:] + candidates[:start]:
            if not any(subnet.overlaps(u) for u in used):
                break
        else:
            raise RuntimeError(f"no free /24 left in {naming.SUBNET_POOL} for a new lab")
        lab_dir_for(lab_id, subnet)
        create_bridge(lab_id, subnet)
        return lab_id, subnet


def gateway(subnet: ipaddress.IPv4Network) -> str:
    return str(subnet.network_address + 1)


def host_address(subnet: ipaddress.IPv4Network, index: int) -> str:
    return str(subnet.network_address + 10 + index)


def create_bridge(lab_id: str, subnet: ipaddress.IPv4Network) -> None:
    br = naming.bridge_name(lab_id)
    ip_batch([
        f"link add {br} type bridge",
        f"addr add {gateway(subnet)}/{subnet.prefixlen} dev {br}",
        f"link set {br} up",
    ])
    # Packets from lab hosts must never be routed onward to a real network:
    # with forwarding off on the bridge, the machine only answers them itself.
    for key in (f"net/ipv4/conf/{br}/forwarding", f"net/ipv6/conf/{br}/disable_ipv6"):
        path = Path("/proc/sys") / key
        if path.exists():
            path.write_text("0" if "forwarding" in key else "1")


def create_host_netns(lab_id: str, index: int, subnet: ipaddress.IPv4Network) -> tuple[str, str]:
    """A namespace with eth0 on the lab bridge, loopback up, default route via the bridge."""
    ns, veth, br = naming.netns_name(lab_id, index), naming.veth_name(lab_id, index), naming.bridge_name(lab_id)
    address = host_address(subnet, index)
    ip("netns", "add", ns)
    ip_batch([
        f"link add {veth} type veth peer name eth0 netns {ns}",
        f"link set {veth} master {br} up",
    ])
    ip_batch([
        "link set lo up",
        f"addr add {address}/{subnet.prefixlen} dev eth0",
        "link set eth0 up",
        f"route add default via {gateway(subnet)} dev eth0",
    ], netns=ns)
    return ns, address


def netns_pids(ns: str) -> list[int]:
    result = ip("netns", "pids", ns, check=False)
    return [int(p) for p in result.stdout.split() if p.isdigit()]


def delete_netns(ns: str) -> None:
    ip("netns", "del", ns, check=False)


def delete_link(name: str) -> None:
    ip("link", "del", name, check=False)


def lab_netns_names() -> list[str]:
    if not os.path.isdir("/run/netns"):
        return []
    return sorted(n for n in os.listdir("/run/netns") if n.startswith(naming.PREFIX))


def lab_links() -> list[str]:
    return sorted(
        link["ifname"] for link in json.loads(ip("-j", "link").stdout or "[]") if link["ifname"].startswith(naming.PREFIX)
    )
