"""Names and places every lab shares, so a later run can find (and reap) what an earlier one left.

Everything a lab creates on the real machine carries the prefix `kwl` plus the
lab's id: network namespaces `kwl<id>-h<n>`, the bridge `kwl<id>`, host-side
veths `kwl<id>h<n>`, and the folder `<tmp>/kwizard-lab/kwl<id>`.
Interface names stay under Linux's 15-character limit.
"""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path

PREFIX = "kwl"

# The lab hands out /24s from here. Chosen outside every default CIDR kwizard's
# checks know (flannel 10.244/16, services 10.96/12, weave 10.32/12,
# calico 192.168/16, docker 172.17/16) so a lab never trips the overlap checks it
# is meant to test. Each candidate is still checked against the machine's routes.
SUBNET_POOL = ipaddress.ip_network("10.210.0.0/16")

# Where the simulators appear inside every lab host (inside the host's own /opt overlay).
SIM_MOUNT = "/opt/kwizard-lab-sim"
SIM_BIN = f"{SIM_MOUNT}/bin"
SIM_HOST = f"{SIM_MOUNT}/host"  # this host's own control folder (faults, services)
# On PATH (SSH sessions, sudo's secure_path): links to the simulators this host "has installed".
SIM_PATH_DIR = f"{SIM_HOST}/bin"

LAB_USER = "kube"

# Host folders given a private overlay per lab host; writes land in the lab folder.
OVERLAID = ("etc", "var", "run", "root", "home", "opt")


def lab_root() -> Path:
    return Path(tempfile.gettempdir()) / "kwizard-lab"


def bridge_name(lab_id: str) -> str:
    return f"{PREFIX}{lab_id}"


def netns_name(lab_id: str, index: int) -> str:
    return f"{PREFIX}{lab_id}-h{index}"


def veth_name(lab_id: str, index: int) -> str:
    return f"{PREFIX}{lab_id}h{index}"


def lab_name(lab_id: str) -> str:
    return f"{PREFIX}{lab_id}"


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def fixtures_dir() -> Path:
    """The shared fixtures sit beside the repo clone (../shared), in CI and here."""
    return (repo_root() / ".." / "shared" / "fixtures").resolve()
