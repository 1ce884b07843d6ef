"""What a run reports as it goes: small frozen records, the same for every face.

The runner emits these to its listeners; the TUI turns them into widget
updates, headless mode prints them as text or JSON Lines, and the run
directory keeps them in events.jsonl. Every text field has already been
masked by the runner before an event is made.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import Any

from kwizard.checks.findings import Finding


# The runner's note (a HostLine on the "kwizard" stream) when a host waits on another host's
# step, e.g. "waiting for cp: init"; the timeline and the run screen read it.
WAITING_PREFIX = "waiting for "


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class Event:
    at: float = field(default_factory=_now, kw_only=True)

    @property
    def kind(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        data = {"event": self.kind}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            data[item.name] = _plain(value)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, Finding):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if hasattr(value, "value") and not isinstance(value, (str, int, float)):  # enums
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Note(Event):
    """Something kwizard itself wants the user to know, outside any step."""

    message: str


@dataclass(frozen=True)
class RunStarted(Event):
    run_id: str
    run_dir: str
    plan: str  # "setup" or "reset"
    steps: tuple[tuple[str, str], ...]  # (step id, title) in order
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class StepStarted(Event):
    step_id: str
    title: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class HostLine(Event):
    step_id: str
    host: str
    line: str
    stream: str = "stdout"  # stdout | stderr | kwizard (the tool's own notes)


@dataclass(frozen=True)
class HostSkipped(Event):
    """The step's probe said this host is already done."""

    step_id: str
    host: str
    reason: str = "already done"


@dataclass(frozen=True)
class HostFinished(Event):
    step_id: str
    host: str
    ok: bool
    exit_status: int | None
    duration: float
    remote_duration: float  # time spent waiting on the remote side
    error: str | None = None  # connection lost, timeout, sudo refused, …


@dataclass(frozen=True)
class StepFinished(Event):
    step_id: str
    status: str  # done | skipped | failed | cancelled
    duration: float
    failed_hosts: tuple[str, ...] = ()
    diagnosis: str | None = None  # the likely cause and fix, when the engine knows one


@dataclass(frozen=True)
class FindingReported(Event):
    finding: Finding


@dataclass(frozen=True)
class RunFinished(Event):
    status: str  # succeeded | failed | cancelled
    duration: float
    failed_step: str | None = None
    failed_hosts: tuple[str, ...] = ()
    run_dir: str = ""
