"""What a step sees while it runs: the scripts it sends, the sessions to hosts, the run context.

`RemoteScript` (with its `Upload`s) is what reaches one host; `HostSession`
is the connection that runs it (kwizard.ssh provides the real one);
`RunContext` is what steps read and leave for later steps: the hosts' facts
and the run's outcome, typed. `DryRunContext` answers a dry run with
placeholders, so `kwizard plan` prints what would run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from kwizard.checks.findings import Finding
from kwizard.facts.model import HostFacts
from kwizard.run.outcome import RunOutcome


@dataclass(frozen=True)
class Upload:
    """A file to place on the host before the script runs."""

    path: str
    content: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class RemoteScript:
    """What runs on one host: a bash script (run with `set -euo pipefail`)."""

    script: str
    sudo: bool = True
    uploads: tuple[Upload, ...] = ()


class HostSession(Protocol):
    """One open connection to one host (kwizard.ssh provides the real one)."""

    host: str

    async def run(
        self,
        script: RemoteScript,
        on_line: Callable[[str, str], None],  # (stream, line)
        timeout: float | None = None,
    ) -> int: ...

    async def capture(self, script: RemoteScript, timeout: float | None = None) -> tuple[int, str, str]: ...

    async def upload(self, path: str, content: bytes, mode: int = 0o644, sudo: bool = True) -> None: ...

    async def download(self, path: str, sudo: bool = True) -> bytes: ...


class RunContext(Protocol):
    """What steps can read and leave for later steps during a run."""

    dry_run: bool  # True while a plan is printed: scripts then name what they would decide at run time
    facts: dict[str, HostFacts]  # host -> its facts, set by the preflight step; empty when none were gathered
    outcome: RunOutcome  # what the steps leave for later steps and the faces (kept in memory only)

    async def session(self, host: str) -> HostSession:
        """The open session to `host`, connecting (or reconnecting) when needed."""
        ...

    def report(self, finding: Finding) -> None:
        """A preflight finding, for every face and the run directory."""
        ...

    def add_secret(self, text: str) -> None:
        """Mask this text in every line, event and file from now on."""
        ...

    def note(self, host: str, line: str) -> None:
        """A line from kwizard itself (not the remote side) in that host's log."""
        ...


@dataclass(frozen=True)
class Placeholder:
    """Stands in for a value a dry run cannot know yet."""

    name: str

    def __str__(self) -> str:
        return f"<{self.name}>"


class DryRunContext:
    """A context for printing a plan: nothing runs; the facts known so far (if any) fill in what they can."""

    dry_run = True

    def __init__(self, facts: Mapping[str, object] | None = None):
        # Only hosts that answered: a host's error (an SSHError) says nothing about the plan.
        self.facts: dict[str, HostFacts] = {h: f for h, f in (facts or {}).items() if isinstance(f, HostFacts)}
        self.outcome = RunOutcome()

    async def session(self, host: str) -> HostSession:
        raise RuntimeError("a dry run opens no sessions")

    def report(self, finding: Finding) -> None:
        return None

    def add_secret(self, text: str) -> None:
        return None

    def note(self, host: str, line: str) -> None:
        return None
