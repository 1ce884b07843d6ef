"""The run directory: what one run leaves behind, and what a resume starts from.

    <state dir>/runs/<UTC timestamp>-<profile>-<plan>/
        events.jsonl       one event per line, flushed as it goes
        hosts/<host>.log   that host's lines, `HH:MM:SS [step] line`
        state.json         which steps finished; rewritten atomically after each step

Everything written here has been masked by the runner first; this module
never sees a secret value, and the state holds no step values at all (they
may be secret), which is why some steps run again on resume. Folders are
created 0700 and files 0600 from the start (never chmod'ed afterwards), so
there is no moment where another user could open them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import platformdirs

from kwizard.run.events import Event
from kwizard.files import make_private_dirs, write_private_atomically

DIR_MODE = 0o700
FILE_MODE = 0o600
STATE_FILE = "state.json"
EVENTS_FILE = "events.jsonl"
HOSTS_DIR = "hosts"

# A run that stopped before it was done; `running` means kwizard itself died mid-run.
RESUMABLE = frozenset({"failed", "cancelled", "running"})

_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def default_runs_dir() -> Path:
    return Path(platformdirs.user_state_dir("kwizard")) / "runs"


@dataclass
class RunState:
    """Where a run got to. Step ids and host names only: nothing secret."""

    plan: str
    profile: str
    profile_path: str | None = None
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    status: str = "running"  # running | succeeded | failed | cancelled
    finished_steps: list[str] = field(default_factory=list)
    hosts_done: dict[str, list[str]] = field(default_factory=dict)  # step id -> hosts done or skipped
    failed_step: str | None = None
    failed_hosts: list[str] = field(default_factory=list)

    @property
    def resumable(self) -> bool:
        return self.status in RESUMABLE

    def is_finished(self, step_id: str) -> bool:
        return step_id in self.finished_steps

    def done_on(self, step_id: str) -> set[str]:
        return set(self.hosts_done.get(step_id, ()))

    def mark_host_done(self, step_id: str, host: str) -> None:
        hosts = self.hosts_done.setdefault(step_id, [])
        if host not in hosts:
            hosts.append(host)

    def mark_step_finished(self, step_id: str) -> None:
        if step_id not in self.finished_steps:
            self.finished_steps.append(step_id)

    def forget_step(self, step_id: str) -> None:
        """A step that must run again on resume keeps no markers."""
        if step_id in self.finished_steps:
            self.finished_steps.remove(step_id)
        self.hosts_done.pop(step_id, None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RunState:
        data: dict[str, Any] = json.loads(text)
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


class RunDir:
    """One run's folder. Create it for a new run, open it to resume or read one."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._events: IO[str] | None = None
        self._host_logs: dict[str, IO[str]] = {}

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def events_path(self) -> Path:
        return self.path / EVENTS_FILE

    @property
    def state_path(self) -> Path:
        return self.path / STATE_FILE

    def host_log_path(self, host: str) -> Path:
        return self.path / HOSTS_DIR / f"{_safe_file_name(host)}.log"

    @classmethod
    def create(
        cls,
        plan_name: str,
        profile_name: str,
        *,
        base: str | os.PathLike[str] | None = None,
        profile_path: str | os.PathLike[str] | None = None,
    ) -> RunDir:
        """A new, empty run folder with its first state written (status running)."""
        runs = Path(base) if base is not None else default_runs_dir()
        make_private_dirs(runs)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        path = _claim_new_dir(runs, f"{stamp}-{_safe_file_name(profile_name)}-{_safe_file_name(plan_name)}")
        os.mkdir(path / HOSTS_DIR, DIR_MODE)
        run_dir = cls(path)
        state = RunState(
            plan=plan_name,
            profile=profile_name,
            profile_path=str(Path(profile_path).resolve()) if profile_path else None,
        )
        run_dir.save_state(state)
        return run_dir

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RunDir:
        """An existing run folder (to resume it or to read it)."""
        run_dir = cls(Path(path))
        if not run_dir.state_path.is_file():
            raise FileNotFoundError(f"{run_dir.path} is not a kwizard run folder (no {STATE_FILE})")
        return run_dir

    # --- the state ---

    def load_state(self) -> RunState:
        return RunState.from_json(self.state_path.read_text(encoding="utf-8"))

    def save_state(self, state: RunState) -> None:
        state.updated_at = time.time()
        write_private_atomically(self.state_path, state.to_json())

    # --- the logs (text already masked by the runner) ---

    def record_event(self, event: Event) -> None:
        if self._events is None:
            self._events = _open_private_for_append(self.events_path)
        self._events.write(event.to_json() + "\n")
        self._events.flush()

    def record_host_line(self, host: str, step_id: str, line: str, stream: str = "stdout") -> None:
        log = self._host_logs.get(host)
        if log is None:
            log = self._host_logs[host] = _open_private_for_append(self.host_log_path(host))
        marker = "" if stream == "stdout" else f"[{stream}] "
        log.write(f"{time.strftime('%H:%M:%S')} [{step_id}] {marker}{line}\n")
        log.flush()

    def close(self) -> None:
        for handle in [self._events, *self._host_logs.values()]:
            if handle is not None:
                with contextlib.suppress(OSError):
                    handle.close()
        self._events = None
        self._host_logs.clear()


def list_runs(base: str | os.PathLike[str] | None = None) -> list[tuple[RunDir, RunState]]:
    """Every readable run under base, newest first."""
    runs = Path(base) if base is not None else default_runs_dir()
    if not runs.is_dir():
        return []
    found = []
    for path in runs.iterdir():
        with contextlib.suppress(OSError, ValueError, TypeError):
            run_dir = RunDir.open(path)
            found.append((run_dir, run_dir.load_state()))
    return sorted(found, key=lambda pair: pair[1].started_at, reverse=True)


def latest_resumable(
    profile_name: str,
    plan_name: str | None = None,
    *,
    base: str | os.PathLike[str] | None = None,
) -> RunDir | None:
    """The newest run of this profile (and plan), if it stopped before finishing.

    Only the newest counts: once a later run has succeeded, an older failure
    is history, not something to continue.
    """
    for run_dir, state in list_runs(base):
        if state.profile != profile_name or (plan_name is not None and state.plan != plan_name):
            continue
        return run_dir if state.resumable else None
    return None


# --- private files and folders ---


def _safe_file_name(name: str) -> str:
    return _UNSAFE_IN_FILE_NAME.sub("_", name) or "_"



def _claim_new_dir(parent: Path, name: str) -> Path:
    """mkdir is atomic, so two runs started in the same second get different folders."""
    for attempt in range(1, 1000):
        candidate = parent / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            os.mkdir(candidate, DIR_MODE)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"could not make a new run folder under {parent}")


def _open_private_for_append(path: Path) -> IO[str]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    return os.fdopen(fd, "a", encoding="utf-8")
