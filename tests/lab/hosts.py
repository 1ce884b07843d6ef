"""One lab host: its namespaces, the process that holds them, and running things inside.

The namespaces are held by the host's PID 1 (sim/lab-init, which reaps orphans),
started under `nsenter --net` + `unshare --mount --uts --pid`; before it takes
over, the same shell mounts the host's overlays and its own /proc.
Everything else (sshd, `Lab.exec`) joins that process's namespaces with nsenter,
so sshd can be stopped and restarted without losing the host.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import hostfs, naming
from .scenario import HostOptions

SSHD = "/usr/sbin/sshd"


@dataclass
class LabHost:
    name: str  # the hostname inside the host
    address: str  # on the lab bridge; what SSH connects to
    netns: str
    index: int
    dir: Path
    options: HostOptions = field(default_factory=HostOptions)
    port: int = 22
    user: str = naming.LAB_USER
    holder_pid: int = 0
    _holder: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def ctl(self) -> Path:
        """This host's control folder (faults, services), seen inside at SIM_HOST."""
        return self.dir / "ctl"

    def to_json(self) -> dict:
        return {"name": self.name, "address": self.address, "netns": self.netns, "index": self.index,
                "dir": str(self.dir), "holder_pid": self.holder_pid}


def holder_script(host: LabHost, sim_dir: Path) -> str:
    q = shlex.quote
    d = str(host.dir)
    lines = ["set -e"]
    for top in naming.OVERLAID:
        lines.append(
            f"mount -t overlay kwl-{top} -o lowerdir=/{top},upperdir={q(d)}/upper/{top},workdir={q(d)}/work/{top} /{top}"
        )
    lines += [
        # A sysfs mounted from inside the netns shows this host's own /sys/class/net.
        "mount -t sysfs sysfs /sys",
        "mount -t proc proc /proc",  # this host's own PID namespace
        f"mount -t overlay kwl-sysclass -o lowerdir=/sys/class,upperdir={q(d)}/upper/sysclass,"
        f"workdir={q(d)}/work/sysclass /sys/class",
        f"mount --bind {q(str(sim_dir))} {naming.SIM_MOUNT}",
        f"mount --bind {q(d)}/ctl {naming.SIM_HOST}",
        f"hostname {q(host.name)}",
    ]
    if host.options.distro and (host.dir / "upper" / "usrlibsystemd").is_dir() and Path("/usr/lib/systemd").is_dir():
        # Fedora's zram-generator defaults live in /usr/lib/systemd: an overlay of its own for that folder.
        lines.append(f"mount -t overlay kwl-usrlibsystemd -o lowerdir=/usr/lib/systemd,upperdir={q(d)}/upper/usrlibsystemd,"
                     f"workdir={q(d)}/work/usrlibsystemd /usr/lib/systemd")
    if (host.dir / "upper" / "usrbin").is_dir():  # a dnf distribution: the machine's apt/dpkg hidden
        lines.append(f"mount -t overlay kwl-usrbin -o lowerdir=/usr/bin,upperdir={q(d)}/upper/usrbin,"
                     f"workdir={q(d)}/work/usrbin /usr/bin")
    if host.options.swap_on:
        lines += [f"mount --bind {naming.SIM_HOST}/swaps /proc/swaps", f"mount --bind {naming.SIM_HOST}/meminfo /proc/meminfo"]
    # Last: after this the lab folder (under the real /tmp) is out of sight.
    lines += [f"mount --bind {q(d)}/tmp /tmp", "echo ready", f"exec /usr/bin/python3 {naming.SIM_BIN}/lab-init"]
    return "\n".join(lines) + "\n"


def start_holder(host: LabHost, sim_dir: Path, timeout: float = 10.0) -> None:
    log = open(host.dir / "holder.log", "w")
    proc = subprocess.Popen(
        ["nsenter", f"--net=/run/netns/{host.netns}", "--",
         "unshare", "--mount", "--uts", "--pid", "--fork", "--propagation", "private", "--",
         "/bin/sh", "-c", holder_script(host, sim_dir)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True,
        start_new_session=True,  # survives `python -m tests.lab up` exiting; never gets the test's ^C
    )
    log.close()
    line = proc.stdout.readline()
    proc.stdout.close()
    if line.strip() != "ready":
        proc.kill()
        proc.wait()
        raise RuntimeError(f"lab host {host.name} did not start: {(host.dir / 'holder.log').read_text().strip()}")
    # unshare forks: the host's PID 1 (seen from here) is its one child.
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    host.holder_pid, host._holder = int(children[0]), proc


def exec_argv(host: LabHost, command: str, user: str = "root") -> list[str]:
    home = "/root" if user == "root" else f"/home/{user}"
    env = ["/usr/bin/env", "-i", f"PATH={hostfs.SESSION_PATH}", f"HOME={home}", f"USER={user}", "LANG=C.UTF-8"]
    run_as = [] if user == "root" else ["/usr/sbin/runuser", "-u", user, "--"]
    return ["nsenter", "-t", str(host.holder_pid), "-m", "-u", "-n", "-p", "--", *run_as, *env, "/bin/sh", "-c",
            # Start in the user's home, as an SSH session does.
            f'cd "$HOME" 2>/dev/null || cd /\n{command}']


def run_in(host: LabHost, command: str, user: str = "root", input: str | None = None,
           timeout: float = 60.0, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(exec_argv(host, command, user), input=input, capture_output=True, text=True,
                          timeout=timeout, check=check, cwd="/")


def port_open(address: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def start_sshd(host: LabHost, timeout: float = 10.0) -> None:
    result = run_in(host, f"{SSHD} -f {hostfs.SSHD_CONFIG}")
    if result.returncode != 0:
        raise RuntimeError(f"sshd on {host.name} failed: {result.stderr.strip()}")
    deadline = time.monotonic() + timeout
    while not port_open(host.address, host.port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"sshd on {host.name} ({host.address}) never accepted connections")
        time.sleep(0.02)


def sshd_pid(host: LabHost) -> int | None:
    try:
        return int(hostfs.upper(host.dir, "/run/sshd.pid").read_text())
    except (OSError, ValueError):
        return None


def stop_sshd(host: LabHost, timeout: float = 5.0) -> None:
    """Stop the listener only: like `systemctl stop ssh`, open sessions keep going."""
    pid = sshd_pid(host)
    if pid:
        run_in(host, f"kill {pid}")
    deadline = time.monotonic() + timeout
    while port_open(host.address, host.port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"sshd on {host.name} would not stop")
        time.sleep(0.02)
