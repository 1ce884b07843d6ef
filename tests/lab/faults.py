"""Faults a running lab host can be given (and relieved of).

Kinds and what a client sees:
  cut_during=TEXT   the SSH connection running a command containing TEXT drops
  hang=TEXT         a command containing TEXT never finishes
  ssh_down          sshd stopped: connections are refused
  sudo_password=PW  sudo asks for PW (NOPASSWD otherwise)
  host_key_changed  sshd presents a new host key; the lab's known_hosts keeps the old one
  swap_on           /proc/swaps and /proc/meminfo show a 2 GiB swap file (swapoff -a clears it)
  firewalld_running `systemctl is-active firewalld` says active, firewall-cmd --state says running
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from . import hostfs, naming
from .hosts import LabHost, run_in, start_sshd, stop_sshd
from .sim import common

KINDS = ("cut_during", "hang", "ssh_down", "sudo_password", "host_key_changed", "swap_on", "firewalld_running")

SWAPS = (
    "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
    "/swap.img                               file\t\t2097148\t\t0\t\t-2\n"
)


def write_control(host: LabHost, k8s_installed: bool) -> None:
    """The host's control folder as it starts: identity, services, packages, no faults."""
    ctl = host.ctl
    (ctl / "faults").mkdir(parents=True)
    (ctl / "host.json").write_text(json.dumps(host.to_json() | {"lab_id": host.netns.split("-")[0]}))
    (ctl / "packages.json").write_text(json.dumps({"installed": list(common.KUBERNETES_TOOLS) if k8s_installed else []}))
    tools = [t.name for t in (host.dir.parent / "sim" / "bin").iterdir()
             if t.is_file() and "." not in t.name and t.name != "lab-session"]
    common.link_tools([t for t in tools if k8s_installed or t not in common.KUBERNETES_TOOLS], ctl)
    (ctl / "services.json").write_text(json.dumps({
        "containerd": {"enabled": True, "active": True},
        "kubelet": {"enabled": False, "active": False},
        "firewalld": {"enabled": False, "active": False},
    }))
    (ctl / "swaps").write_text(SWAPS)
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    swapped = [
        f"{key}:{' ' * (15 - len(key))}2097148 kB" if (key := line.split(":")[0]) in ("SwapTotal", "SwapFree") else line
        for line in meminfo
    ]
    (ctl / "meminfo").write_text("\n".join(swapped) + "\n")
    for path in [ctl, *ctl.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


def _set_service(host: LabHost, name: str, running: bool) -> None:
    with common.host_file("services.json", host.ctl) as services:
        services[name] = {"enabled": running, "active": running}


def _sudo(host: LabHost, password: str | None) -> None:
    """Switch sudo between NOPASSWD and a password, through the host's own tools (its /etc is live)."""
    text = hostfs.sudoers_text(password_required=password is not None)
    script = f"printf %s {shlex.quote(text)} > {hostfs.SUDOERS} && chmod 0440 {hostfs.SUDOERS}"
    if password is not None:
        script += f" && echo {shlex.quote(f'{naming.LAB_USER}:{password}')} | chpasswd"
    else:
        script += f" && usermod -p '*' {naming.LAB_USER}"
    run_in(host, script, check=True)


def _host_key(host: LabHost, changed: bool) -> None:
    key = hostfs.HOST_KEY
    if changed:
        script = f"rm -f {key} {key}.pub && ssh-keygen -q -t ed25519 -N '' -C kwizard-lab -f {key}"
    else:
        original = host.dir / "hostkey.orig"
        script = f"cat > {key} && chmod 0600 {key}"
        run_in(host, script, input=original.read_text(), check=True)
        script = f"ssh-keygen -y -f {key} > {key}.pub"
    run_in(host, script, check=True)
    stop_sshd(host)
    start_sshd(host)


def _swap(host: LabHost, on: bool) -> None:
    if on:
        script = f"mount --bind {naming.SIM_HOST}/swaps /proc/swaps && mount --bind {naming.SIM_HOST}/meminfo /proc/meminfo"
    else:
        script = "umount /proc/swaps 2>/dev/null; umount /proc/meminfo 2>/dev/null; true"
    run_in(host, script, check=True)


def set_fault(host: LabHost, kind: str, value=True) -> None:
    if kind in ("cut_during", "hang"):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{kind} needs the text of the command to match, e.g. {kind}='kubeadm init'")
        path = host.ctl / "faults" / kind
        path.write_text(value)
        path.chmod(0o644)
    elif kind == "ssh_down":
        stop_sshd(host)
    elif kind == "sudo_password":
        if not isinstance(value, str) or not value:
            raise ValueError("sudo_password needs the password, e.g. sudo_password='secret'")
        _sudo(host, value)
    elif kind == "host_key_changed":
        _host_key(host, changed=True)
    elif kind == "swap_on":
        _swap(host, on=True)
    elif kind == "firewalld_running":
        _set_service(host, "firewalld", True)
    else:
        raise ValueError(f"unknown fault {kind!r}; known: {', '.join(KINDS)}")


def clear_fault(host: LabHost, kind: str) -> None:
    if kind in ("cut_during", "hang"):
        (host.ctl / "faults" / kind).unlink(missing_ok=True)
    elif kind == "ssh_down":
        start_sshd(host)
    elif kind == "sudo_password":
        _sudo(host, None)
    elif kind == "host_key_changed":
        _host_key(host, changed=False)
    elif kind == "swap_on":
        _swap(host, on=False)
    elif kind == "firewalld_running":
        _set_service(host, "firewalld", False)
    else:
        raise ValueError(f"unknown fault {kind!r}; known: {', '.join(KINDS)}")
