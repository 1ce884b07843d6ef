"""Faults a running lab host can be given (and relieved of).

Kinds and what a client sees:
  cut_during=TEXT   the SSH connection running a command containing TEXT drops
  hang=TEXT         a command containing TEXT never finishes
  ssh_down          sshd stopped: connections are refused
  sudo_password=PW  sudo asks for PW (NOPASSWD otherwise)
  host_key_changed  sshd presents a new host key; the lab's known_hosts keeps the old one
  swap_on           /proc/swaps and /proc/meminfo show a 2 GiB swap file (swapoff -a clears it)
  firewalld_running `systemctl is-active firewalld` says active, firewall-cmd --state says running
  cut_after=TEXT    a command containing TEXT runs to its end on the host, then the connection drops
                    before the exit status reaches the client (the work is done; the client cannot know)
  reboot_after=TEXT a command containing TEXT finishes, then the host reboots (see reboot)
  time_scale=FACTOR this host's realistic durations take FACTOR times as long (a slow host; needs durations on)
  reboot            (an action, set_fault only) the host reboots now: every session drops, runtime-only
                    changes are lost (swapoff when /etc/fstab or zram still lists swap, setenforce, firewalld
                    runtime rules, sysctl -w, modprobe), enabled services (kubelet, containerd) start again
                    (the kubelet not while swap is on), sshd comes back
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from . import hostfs, naming
from .hosts import LabHost, run_in, start_sshd, stop_sshd
from .sim import common, distros

KINDS = ("cut_during", "hang", "ssh_down", "sudo_password", "host_key_changed", "swap_on", "firewalld_running",
         "cut_after", "reboot_after", "reboot", "time_scale")
TEXT_FAULTS = ("cut_during", "hang", "cut_after", "reboot_after")  # files in ctl/faults that lab-session reads

SWAP_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
# What /proc/swaps shows per distribution (None: the lab's default host).
SWAP_DEVICES = {
    None: ("/swap.img", "file", 2097148, -2),
    "debian-12": ("/dev/sda3", "partition", 1998844, -2),
    "ubuntu-24.04": ("/swap.img", "file", 4194300, -2),
    "rocky-9": ("/dev/dm-1", "partition", 2097148, -2),
    "fedora-41": ("/dev/zram0", "partition", 8388604, 100),
}
SWAPS = SWAP_HEADER + "/swap.img                               file\t\t2097148\t\t0\t\t-2\n"
# Tools that are never on a host's PATH (lab machinery), and those only distribution hosts have.
NOT_TOOLS = {"lab-session", "lab-init", "lab-reboot"}
DISTRO_TOOLS = {"containerd", "getenforce", "setenforce"}


def _tools(host: LabHost, k8s_installed: bool) -> list[str]:
    found = [t.name for t in (host.dir.parent / "sim" / "bin").iterdir()
             if t.is_file() and "." not in t.name and t.name not in NOT_TOOLS]
    k8s_tools = (*common.KUBERNETES_TOOLS, "crictl")  # crictl: cri-tools, installed with kubeadm
    tools = [t for t in found if (k8s_installed or t not in k8s_tools) and t not in DISTRO_TOOLS]
    info = distros.get(host.options.distro)
    if info:
        drop = {"dnf"} if info["family"] == "apt" else {"apt-get", "apt-mark"}
        tools = [t for t in tools if t not in drop]
        if info.get("selinux"):
            tools += ["getenforce", "setenforce"]
    return tools


def write_control(host: LabHost, k8s_installed: bool) -> None:
    """The host's control folder as it starts: identity, services, packages, no faults."""
    ctl = host.ctl
    (ctl / "faults").mkdir(parents=True)
    (ctl / "host.json").write_text(json.dumps(host.to_json() | {"lab_id": host.netns.split("-")[0]}))
    info = distros.get(host.options.distro)
    packages = {"installed": list(common.KUBERNETES_TOOLS) if k8s_installed else []}
    services = {
        "containerd": {"enabled": True, "active": True},
        "kubelet": {"enabled": False, "active": False},
        "firewalld": {"enabled": False, "active": False},
    }
    if info:
        (ctl / "distro.json").write_text(json.dumps({"name": host.options.distro}))
        versions = {name: info["base"][name] for name in info["preinstalled"]}
        packages = {"installed": sorted(versions), "versions": versions}
        services = {"ssh" if info["family"] == "apt" else "sshd": {"enabled": True, "active": True}}
        if "firewalld" in versions:
            services["firewalld"] = {"enabled": False, "active": False}
        if info.get("network_manager"):
            services["NetworkManager"] = {"enabled": True, "active": True}
        if info.get("swap") == "zram":
            services["dev-zram0.swap"] = {"enabled": True, "active": True}
            services["systemd-zram-setup@zram0"] = {"enabled": True, "active": True}
        if info.get("selinux"):
            (ctl / "selinux.json").write_text(json.dumps({"mode": info["selinux"]}))
    (ctl / "packages.json").write_text(json.dumps(packages))
    common.link_tools(_tools(host, k8s_installed), ctl)
    (ctl / "services.json").write_text(json.dumps(services))
    device, kind, size, priority = SWAP_DEVICES.get(host.options.distro, SWAP_DEVICES[None])
    (ctl / "swaps").write_text(SWAP_HEADER + f"{device:<40}{kind}\t{'' if kind == 'partition' else chr(9)}{size}"
                               f"\t\t0\t\t{priority}\n")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    swapped = [
        f"{key}:{' ' * (15 - len(key))}{size} kB" if (key := line.split(":")[0]) in ("SwapTotal", "SwapFree") else line
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


def reboot(host: LabHost) -> None:
    """Reboot the host now: every process but its PID 1 dies (sessions drop, the listener stops), then
    sim/lab-reboot brings up what a boot would (see the module docstring), then sshd starts again."""
    run_in(host, "kill -9 -1; true")  # the shell's builtin kill spares only itself and PID 1
    seconds = 0.0
    result = run_in(host, f"/usr/bin/python3 {naming.SIM_BIN}/lab-reboot")
    if result.returncode != 0:
        raise RuntimeError(f"lab host {host.name} did not come back from a reboot: {result.stderr.strip()}")
    seconds = float(result.stdout.strip() or 0)
    if seconds > 0:
        import time

        time.sleep(seconds)
    start_sshd(host)


def set_fault(host: LabHost, kind: str, value=True) -> None:
    if kind == "reboot":
        reboot(host)
    elif kind == "time_scale":
        path = host.ctl / "faults" / kind
        path.write_text(str(float(value)))
        path.chmod(0o644)
    elif kind in TEXT_FAULTS:
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
    if kind == "reboot":
        return  # an action, nothing stays switched on
    if kind in TEXT_FAULTS or kind == "time_scale":
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
