# kwizard lab simulator support -- NOT libselinux.
# The simulated SELinux state of a host: the runtime mode (ctl/selinux.json, what
# getenforce reports) and /etc/selinux/config (SELINUX=..., read again at "reboot").
from __future__ import annotations

import re
from pathlib import Path

import common

CONFIG = Path("/etc/selinux/config")


def config_mode() -> str:
    try:
        match = re.search(r"^\s*SELINUX\s*=\s*(\w+)", CONFIG.read_text(), re.M)
    except OSError:
        return "disabled"
    return match.group(1).lower() if match else "disabled"


def runtime_mode() -> str:
    return common._json_file("selinux.json").get("mode", "disabled")


def set_runtime(mode: str) -> None:
    with common.host_file("selinux.json") as state:
        state["mode"] = mode


def boot() -> None:
    """After a reboot: the mode /etc/selinux/config names (disabled stays disabled until a relabel; ignored here)."""
    set_runtime(config_mode())
