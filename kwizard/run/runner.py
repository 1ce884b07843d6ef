"""Runs a plan: every (step, host) as soon as what it needs is done (kwizard.run.schedule).

For every step the runner asks each host "already done?" (the probe) and
skips it when so, otherwise streams the step's script there; a bounded number
of hosts work at the same time. A failed host, a lost connection or a timeout
fails that host's part (never raises out of `run`); what needs it does not
start, the rest goes on, and the run ends failed unless told to go on. Every line is masked before anyone sees it: the events the
faces get, events.jsonl and the per-host logs in the run directory all carry
the same, masked text. The state file written after each step lets a later
run continue at the first step that did not finish.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kwizard.checks.findings import Finding
from kwizard.facts.model import HostFacts
from kwizard.plan.context import HostSession
from kwizard.plan.steps import Plan, Step, StepFailed
from kwizard.run.events import (
    Event,
    FindingReported,
    HostLine,
    Note,
    RunFinished,
    RunStarted,
)
from kwizard.run.hostwork import HostWork, describe_error
from kwizard.run.masking import SHORT_SECRET_NOTE, Masker
from kwizard.run.outcome import RunOutcome
from kwizard.run.rundir import RunDir, RunState
from kwizard.run.schedule import Schedule, current_step
from kwizard.run.timeline import WAITING_PREFIX, svg_timeline

Listener = Callable[[Event], None]
SessionSource = Callable[[str], Awaitable[HostSession]]

# Hosts working at once. Each is one SSH channel waiting on its host, so the cap only guards
# against an unbounded fleet: a cluster of up to 64 hosts never queues behind it (handshakes have
# their own, lower bound per server: ssh/fleet.py).
DEFAULT_CONCURRENCY = 64
TAIL_LINES = 40  # per host, what a step's diagnose() gets to read

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    status: str  # succeeded | failed | cancelled
    failed_step: str | None
    failed_hosts: tuple[str, ...]
    duration: float
    run_dir: Path
    outcome: RunOutcome = field(default_factory=RunOutcome, repr=False)  # in memory only; holds the join token

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


class Runner:
    """Runs one plan over open sessions; it is also the steps' RunContext."""

    dry_run = False  # steps.DryRunContext says True; scripts may ask

    def __init__(
        self,
        plan: Plan,
        sessions: Mapping[str, HostSession] | SessionSource,
        *,
        run_dir: RunDir,
        concurrency: int = DEFAULT_CONCURRENCY,
        continue_on_error: bool = False,
        secrets: Iterable[str] = (),
        listeners: Iterable[Listener] = (),
        step_timeouts: Mapping[str, float] | None = None,  # step id -> seconds per host, over the plan's own
    ):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if step_timeouts:
            plan = dataclasses.replace(plan, steps=[
                dataclasses.replace(s, timeout=float(step_timeouts[s.id])) if s.id in step_timeouts else s
                for s in plan.steps
            ])
        self.plan = plan
        self.run_dir = run_dir
        self.facts: dict[str, HostFacts] = {}  # the preflight step's, for the steps after it
        self.outcome = RunOutcome()
        self.continue_on_error = continue_on_error
        # A mapping of open sessions, or an async source (the Fleet) that opens
        # and reopens them on demand, so a retry after a lost connection works.
        self._sessions = dict(sessions) if isinstance(sessions, Mapping) else {}
        self._open_session = None if isinstance(sessions, Mapping) else sessions
        self._slots = asyncio.Semaphore(concurrency)
        self._masker = Masker(secrets)
        self._listeners: list[Listener] = list(listeners)
        self._tails: dict[str, dict[str, deque[str]]] = {}  # step id -> host -> its last lines
        self._step_task: asyncio.Future[None] | None = None
        self._cancel_requested = False
        self._hosts = HostWork(self, self._emit, self._host_line)
        self._timeline: list[Event] = []  # what timeline.svg is drawn from

    # --- RunContext ---

    async def session(self, host: str) -> HostSession:
        if self._open_session is not None:
            return await self._open_session(host)
        session = self._sessions.get(host)
        if session is None:
            raise StepFailed(f"no open connection to {host}")
        return session

    def add_secret(self, text: str) -> None:
        self._masker.add(text)

    def note(self, host: str, line: str) -> None:
        self._host_line(current_step.get(), host, "kwizard", line)

    # --- for the faces ---

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def report(self, finding: Finding) -> None:
        self._emit(FindingReported(finding))

    def cancel(self) -> None:
        """Stop the run: running commands are cancelled (the sessions kill them remotely)."""
        self._cancel_requested = True
        if self._step_task is not None and not self._step_task.done():
            self._step_task.cancel()

    # --- the run ---

    async def run(self, resume_state: RunState | None = None) -> RunResult:
        state = self._starting_state(resume_state)
        started = time.monotonic()
        self._emit(
            RunStarted(
                run_id=self.run_dir.run_id,
                run_dir=str(self.run_dir.path),
                plan=self.plan.name,
                steps=tuple((s.id, s.title) for s in self.plan.steps),
                hosts=tuple(self.plan.hosts),
            )
        )
        if self._masker.has_short_secret():
            self._emit(Note(SHORT_SECRET_NOTE))
        try:
            await self._run_steps_cancellably(state)
        except asyncio.CancelledError:
            # Cancelled from outside (the face's worker went away): leave a resumable state behind.
            self._finish(state, "cancelled", started)
            raise
        status = "cancelled" if self._cancel_requested else ("failed" if state.failed_step else "succeeded")
        return self._finish(state, status, started)

    async def _run_steps(self, state: RunState) -> None:
        await Schedule(self, state).run()

    def _starting_state(self, resume_state: RunState | None) -> RunState:
        if resume_state is None:
            state = self.run_dir.load_state()
            state.finished_steps.clear()
            state.hosts_done.clear()
        else:
            if resume_state.plan != self.plan.name:
                raise ValueError(f"cannot resume a {resume_state.plan!r} run with the {self.plan.name!r} plan")
            state = dataclasses.replace(
                resume_state,
                finished_steps=list(resume_state.finished_steps),
                hosts_done={k: list(v) for k, v in resume_state.hosts_done.items()},
            )
        state.status, state.failed_step, state.failed_hosts = "running", None, []
        self.run_dir.save_state(state)
        return state

    def _finish(self, state: RunState, status: str, started: float) -> RunResult:
        duration = time.monotonic() - started
        state.status = status
        self.run_dir.save_state(state)
        self._emit(
            RunFinished(
                status=status,
                duration=duration,
                failed_step=state.failed_step,
                failed_hosts=tuple(state.failed_hosts),
                run_dir=str(self.run_dir.path),
            )
        )
        self._write_timeline()
        self.run_dir.close()
        return RunResult(
            status=status,
            failed_step=state.failed_step,
            failed_hosts=tuple(state.failed_hosts),
            duration=duration,
            run_dir=self.run_dir.path,
            outcome=self.outcome,
        )

    async def _run_steps_cancellably(self, state: RunState) -> None:
        self._step_task = asyncio.ensure_future(self._run_steps(state))
        try:
            await self._step_task
        except asyncio.CancelledError:
            if not self._cancel_requested:
                raise
        finally:
            self._step_task = None

    async def _local_work(self, step: Step, where: str, work: Awaitable[None]) -> str | None:
        """A step's kwizard-side work (`after`, `after_each`); its failure message, or None."""
        try:
            await work
        except StepFailed as exc:
            message = str(exc) or "the step's own check failed"
        except Exception as exc:  # noqa: BLE001 - shown as the step's failure
            message = describe_error(exc)
        else:
            return None
        self._host_line(step.id, where, "kwizard", message)
        return message

    def _diagnose(self, step: Step, failed: tuple[str, ...]) -> str | None:
        if step.diagnose is None:
            return None
        hosts = failed or step.hosts
        tails = self._tails.get(step.id, {})
        tail = "\n".join(line for host in hosts for line in tails.get(host, ()))
        try:
            return step.diagnose(tail)
        except Exception:  # noqa: BLE001 - a broken diagnosis must not hide the failure itself
            _log.debug("diagnose() of step %s failed", step.id, exc_info=True)
            return None

    # --- lines and events ---

    def _host_line(self, step_id: str, host: str, stream: str, line: str) -> None:
        masked = self._masker(line.rstrip("\r\n"))
        self._tails.setdefault(step_id, {}).setdefault(host, deque(maxlen=TAIL_LINES)).append(masked)
        self.run_dir.record_host_line(host, step_id, masked, stream)
        self._publish(HostLine(step_id=step_id, host=host, line=masked, stream=stream))

    def _emit(self, event: Event) -> None:
        self._publish(self._masker.event(event))

    def _write_timeline(self) -> None:
        try:
            write_private(self.run_dir.path / "timeline.svg", svg_timeline(self._timeline))
        except OSError:  # the picture is a convenience: never what fails a run
            _log.debug("timeline.svg not written", exc_info=True)

    def _publish(self, event: Event) -> None:
        """Only masked events get here (masking twice could mangle a mask that contains a short secret)."""
        if not isinstance(event, HostLine) or event.line.startswith(WAITING_PREFIX):
            self._timeline.append(event)
        self.run_dir.record_event(event)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a face's bug must not stop a half-built cluster
                _log.debug("listener %r failed on %s", listener, event.kind, exc_info=True)


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


__all__ = ["DEFAULT_CONCURRENCY", "Listener", "Masker", "RunResult", "Runner", "describe_error"]
