"""One run at a time per cluster: a lock on this workstation and a lock on the control plane.

Two `kwizard apply` of one profile started in the same second would both run
`kubeadm init`; an `apply` beside a `reset` leaves no cluster. So a run holds
two locks while it changes hosts:

- a **local** lock (`flock` on a file in kwizard's state folder, named after
  the control plane's address): a second kwizard on the same workstation is
  refused at once, before it connects anywhere;
- a **cluster** lock on the control plane itself (like k0sctl's host lock):
  the folder `/var/lib/kwizard/lock.d`, made with `mkdir` (atomic, so of two
  runs from two workstations exactly one gets it), holding who took it —
  user, machine, pid, run, since — and refreshed while the run goes on.

A lock is **stale** when its holder cannot still be running: the same machine
and its pid is gone, or its heartbeat is older than STALE_AFTER_S. A stale
lock is taken over (and the run says so); a live one is refused with who holds
it, since when, and how to clear it if the user knows better.

When the control plane cannot be reached, the cluster lock cannot be taken:
the run refuses to start. That is the safe answer, not a limitation: a run
needs every host anyway (preflight connects to all of them first), and a lock
that is skipped when its host is down would protect nothing exactly when two
people are each retrying a flaky cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import getpass
import json
import os
import re
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import platformdirs

from kwizard.files import make_private_dirs
from kwizard.plan.context import HostSession, RemoteScript, RunContext
from kwizard.plan.steps import StepFailed
from kwizard.profile.model import Profile
from kwizard.ssh.errors import SSHError

LOCK_DIR = "/var/lib/kwizard/lock.d"
HOLDER_FILE = f"{LOCK_DIR}/holder.json"
STALE_AFTER_S = 600.0  # no heartbeat for 10 minutes: the holder is gone
HEARTBEAT_EVERY_S = 60.0
LOCK_TIMEOUT_S = 60.0


class LockHeld(Exception):
    """Another run holds the lock: who, since when, and how to clear it."""

    def __init__(self, holder: Holder | None, where: str, how_to_clear: str):
        self.holder = holder
        self.where = where
        self.how_to_clear = how_to_clear
        who = holder.describe() if holder else "another kwizard (no details readable)"
        super().__init__(f"{where} is locked by {who}; {how_to_clear}")


@dataclass(frozen=True)
class Holder:
    user: str
    machine: str
    pid: int
    run: str  # what the holder is doing: "setup of lab" / "reset of lab"
    since: float
    token: str  # tells our own lock from another's, for release and heartbeat

    @classmethod
    def me(cls, run: str) -> Holder:
        return cls(_user(), socket.gethostname(), os.getpid(), run, time.time(), os.urandom(8).hex())

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.since))
        return f"{self.user}@{self.machine} (pid {self.pid}, {self.run}, since {since})"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Holder | None:
        try:
            data = json.loads(text)
            return cls(str(data["user"]), str(data["machine"]), int(data["pid"]), str(data["run"]),
                       float(data["since"]), str(data["token"]))
        except (ValueError, KeyError, TypeError):
            return None


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


# --- the local lock ---


def local_lock_path(control_plane_address: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", control_plane_address) or "_"
    return Path(platformdirs.user_state_dir("kwizard")) / "locks" / f"{name}.lock"


class LocalLock:
    """flock on a file: released by the kernel when the process dies, so it is never stale."""

    def __init__(self, path: Path, holder: Holder):
        self.path = path
        self.holder = holder
        self._fd: int | None = None

    def acquire(self) -> None:
        make_private_dirs(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = Holder.from_json(os.pread(fd, 4096, 0).decode(errors="replace"))
            os.close(fd)
            raise LockHeld(
                other, "this cluster (on this workstation)",
                "wait for that run to finish, or stop it (Ctrl-C) first",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, self.holder.to_json().encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None


# --- the cluster lock, on the control plane ---


def _acquire_script(holder: Holder) -> str:
    # Runs under sudo. The holder's JSON goes in the script text (stdin), never argv.
    # Prints one line: "acquired", or "held <age seconds>" followed by the holder's JSON.
    return f"""\
umask 077
mkdir -p {os.path.dirname(LOCK_DIR)}
if mkdir {LOCK_DIR} 2>/dev/null; then
  cat > {HOLDER_FILE} <<'KWIZARD_LOCK'
{holder.to_json()}
KWIZARD_LOCK
  echo acquired
else
  now=$(date +%s)
  changed=$(stat -c %Y {HOLDER_FILE} 2>/dev/null || echo 0)
  echo "held $((now - changed))"
  cat {HOLDER_FILE} 2>/dev/null || true
fi
"""


def _take_over_script(stale_token: str, holder: Holder) -> str:
    # Replace a stale holder only if it is still the one we judged stale (no race with a third run).
    return f"""\
umask 077
if grep -q '"token": "{stale_token}"' {HOLDER_FILE} 2>/dev/null || [ ! -s {HOLDER_FILE} ]; then
  cat > {HOLDER_FILE}.new <<'KWIZARD_LOCK'
{holder.to_json()}
KWIZARD_LOCK
  mv -f {HOLDER_FILE}.new {HOLDER_FILE}
  echo acquired
else
  echo "held 0"
  cat {HOLDER_FILE}
fi
"""


def _owned_script(token: str, action: str) -> str:
    """Touch (heartbeat) or remove (release) the lock, only while it is ours."""
    body = f"touch {HOLDER_FILE}" if action == "touch" else f"rm -rf {LOCK_DIR}"
    return f"""\
if grep -q '"token": "{token}"' {HOLDER_FILE} 2>/dev/null; then
  {body}
  echo ok
else
  echo "not ours"
fi
"""


UNLOCK_SCRIPT = f"rm -rf {LOCK_DIR}\necho cleared\n"


def is_stale(holder: Holder | None, age_s: float, machine: str | None = None) -> bool:
    """Can the holder no longer be running? (Same machine: is its pid alive; elsewhere: its heartbeat's age.)"""
    if holder is None:
        return age_s > STALE_AFTER_S  # unreadable holder: only its age can tell
    if holder.machine == (machine or socket.gethostname()):
        return not _pid_alive(holder.pid)
    return age_s > STALE_AFTER_S


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


class ClusterLock:
    """The lock folder on the control plane, taken over one session."""

    def __init__(self, session: HostSession, holder: Holder, control_plane: str, profile_path: str):
        self.session = session
        self.holder = holder
        self.control_plane = control_plane
        self.profile_path = profile_path
        self.took_over: Holder | None = None  # the stale holder replaced, to say so

    async def acquire(self) -> None:
        status, out, err = await self.session.capture(RemoteScript(_acquire_script(self.holder)), LOCK_TIMEOUT_S)
        state, other, age = _parse_answer(out)
        if status == 0 and state == "acquired":
            return
        if status != 0 or state != "held":
            raise LockHeld(None, f"the cluster on {self.control_plane}",
                           f"kwizard could not read its lock there ({(err or out).strip()[-200:]})")
        if not is_stale(other, age):
            raise LockHeld(other, f"the cluster on {self.control_plane}", self.how_to_clear())
        status, out, _ = await self.session.capture(
            RemoteScript(_take_over_script(other.token if other else "", self.holder)), LOCK_TIMEOUT_S
        )
        state, newer, _ = _parse_answer(out)
        if status != 0 or state != "acquired":
            raise LockHeld(newer, f"the cluster on {self.control_plane}", self.how_to_clear())
        self.took_over = other

    async def heartbeat(self) -> None:
        await self.session.capture(RemoteScript(_owned_script(self.holder.token, "touch")), LOCK_TIMEOUT_S)

    async def release(self) -> None:
        await self.session.capture(RemoteScript(_owned_script(self.holder.token, "remove")), LOCK_TIMEOUT_S)

    def how_to_clear(self) -> str:
        return (
            "wait for that run to finish; if it is certainly not running any more (its machine crashed), "
            f"clear the lock with `kwizard unlock {self.profile_path}`"
        )


def _parse_answer(out: str) -> tuple[str, Holder | None, float]:
    lines = out.strip().splitlines()
    if not lines:
        return "", None, 0.0
    first = lines[0].split()
    state = first[0] if first else ""
    age = float(first[1]) if len(first) > 1 and first[1].lstrip("-").isdigit() else 0.0
    holder = Holder.from_json("\n".join(lines[1:])) if len(lines) > 1 else None
    return state, holder, age


class RunLocks:
    """The two locks of one run, taken in order (local first, at once; the cluster's after connecting) and released together."""

    @classmethod
    def for_run(cls, profile: Profile, profile_path: Path | None, plan_name: str) -> RunLocks:
        cp = profile.control_plane
        return cls(cp.name, cp.address, str(profile_path or f"{profile.name}.yaml"), f"{plan_name} of {profile.name}")

    async def take_in_step(self, ctx: RunContext, fleet: Any) -> None:
        """The cluster lock, from a plan's first step: before anything changes, or the run stops there."""
        try:
            session = await fleet.session(self.control_plane)
            stale = await self.take_cluster(session)
        except SSHError:
            # Unreachable, or sudo refused: the preflight that follows names it as an error and
            # the run stops before any change, so no change happens without the lock.
            return
        except LockHeld as held:
            raise StepFailed(str(held)) from None
        if stale is not None:
            ctx.note(self.control_plane, f"took over a stale lock left by {stale.describe()}")

    def __init__(self, control_plane: str, control_plane_address: str, profile_path: str, run: str):
        self.control_plane = control_plane
        self.profile_path = profile_path
        self.holder = Holder.me(run)
        self._local = LocalLock(local_lock_path(control_plane_address), self.holder)
        self._local_held = False
        self._cluster: ClusterLock | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    def take_local(self) -> None:
        """Raises LockHeld naming the other run of this cluster on this workstation."""
        self._local.acquire()
        self._local_held = True

    async def take_cluster(self, session: HostSession) -> Holder | None:
        """Raises LockHeld; returns the stale holder it took over from, if any (to say so)."""
        if self._cluster is not None:
            return None  # a resumed preflight in the same process: already ours
        lock = ClusterLock(session, self.holder, self.control_plane, self.profile_path)
        await lock.acquire()
        self._cluster = lock
        self._heartbeat = asyncio.ensure_future(self._beat(lock))
        return lock.took_over

    async def _beat(self, lock: ClusterLock) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY_S)
            with contextlib.suppress(Exception):  # a missed beat only ages the lock; the run goes on
                await lock.heartbeat()

    def release_local(self) -> None:
        if self._local_held:
            self._local.release()
            self._local_held = False

    async def release(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._heartbeat
        if self._cluster is not None:
            with contextlib.suppress(Exception):  # unreachable now: the lock goes stale and is taken over later
                await asyncio.wait_for(self._cluster.release(), LOCK_TIMEOUT_S)
            self._cluster = None
        self.release_local()
