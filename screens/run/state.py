"""What the run screen knows about a run, built from the engine's events alone.

No Textual here: the widgets read this model, and tests can feed it events
and look at it without an App. Times come from the screen's clock (injected,
so screenshots do not depend on the wall clock), taken when an event arrives.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from kwizard.run.events import WAITING_PREFIX, Event, FindingReported, HostFinished, HostLine, HostSkipped, RunFinished, RunStarted, StepFinished, StepStarted
from kwizard.checks.findings import Finding

# How many of each host's last lines the failure panel shows (the run folder has them all).
FAILURE_TAIL = 8

PENDING, RUNNING, DONE, SKIPPED, FAILED, CANCELLED = "pending", "running", "done", "skipped", "failed", "cancelled"
# The engine replays a step the user skipped as "done in an earlier run": the face knows better.
SKIPPED_BY_YOU = "skipped by you (not done)"


@dataclass
class StepRow:
    id: str
    number: int
    title: str
    status: str = PENDING
    started_at: float | None = None  # the screen's clock when the step started
    duration: float | None = None  # from StepFinished
    skip_reason: str = ""  # "done in an earlier run" / "already done" / SKIPPED_BY_YOU
    describe: str = ""  # what the step does and what it waits for (the plan's words), when known
    # While it runs, per host (the graph schedule runs hosts at their own pace):
    hosts: tuple[str, ...] = ()
    hosts_finished: set[str] = field(default_factory=set)  # done, skipped or failed there
    waiting: dict[str, str] = field(default_factory=dict)  # host -> on what ("kubemaster: init")

    def hosts_line(self) -> str:
        """How the step's hosts stand, while it runs: "1/3 hosts done · waiting: w2 (for cp: init)"."""
        if len(self.hosts) < 2:
            return ""
        line = f"{len(self.hosts_finished)}/{len(self.hosts)} hosts done"
        waiting = [f"{host} (for {what})" for host, what in self.waiting.items() if host not in self.hosts_finished]
        if waiting:
            line += " · waiting: " + ", ".join(waiting)
        return line

    def elapsed(self, now: float) -> float | None:
        if self.duration is not None:
            return self.duration
        if self.started_at is not None:
            return max(0.0, now - self.started_at)
        return None


@dataclass
class StepFailure:
    """Everything the failure panel says about one failed step."""

    step_id: str
    number: int
    title: str
    hosts: tuple[str, ...]
    errors: dict[str, str]  # host -> what went wrong there (lost connection, sudo refused, exit status)
    tails: dict[str, list[str]]  # host -> its last lines in this step
    diagnosis: str | None
    findings: tuple[Finding, ...] = ()  # preflight errors, when the failed step is the preflight


@dataclass
class RunProgress:
    plan: str = ""
    run_dir: str = ""
    hosts: tuple[str, ...] = ()
    steps: list[StepRow] = field(default_factory=list)
    status: str = "starting"  # starting | running | succeeded | failed | cancelled
    started_at: float | None = None
    finished_duration: float | None = None
    failure: StepFailure | None = None
    findings: list[Finding] = field(default_factory=list)
    user_skipped: set[str] = field(default_factory=set)  # step ids the user chose to skip
    describes: dict[str, str] = field(default_factory=dict)  # step id -> the plan's description
    # Per (step id, host): steps overlap in the graph schedule, so one step's lines and
    # errors must never land in another's failure panel.
    _tails: dict[tuple[str, str], deque[str]] = field(default_factory=dict)
    _errors: dict[tuple[str, str], str] = field(default_factory=dict)

    def apply(self, event: Event, now: float) -> None:
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        if handler is not None:
            handler(event, now)

    def step(self, step_id: str) -> StepRow | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @property
    def running(self) -> list[StepRow]:
        """Every step running now (several at once when hosts are at different steps)."""
        return [s for s in self.steps if s.status == RUNNING]

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")

    def elapsed(self, now: float) -> float:
        if self.finished_duration is not None:
            return self.finished_duration
        return max(0.0, now - self.started_at) if self.started_at is not None else 0.0

    # --- events ---

    def _on_RunStarted(self, event: RunStarted, now: float) -> None:
        # A retry or a skip starts a new run on the same folder: every row starts over.
        self.plan, self.run_dir, self.hosts = event.plan, event.run_dir, event.hosts
        self.steps = [StepRow(step_id, number, title, describe=self.describes.get(step_id, ""))
                      for number, (step_id, title) in enumerate(event.steps, 1)]
        self.status, self.started_at, self.finished_duration = "running", now, None
        self.failure, self.findings = None, []
        self._tails, self._errors = {}, {}

    def _on_StepStarted(self, event: StepStarted, now: float) -> None:
        row = self.step(event.step_id)
        if row is not None:
            row.status, row.started_at, row.duration, row.skip_reason = RUNNING, now, None, ""
            row.hosts, row.hosts_finished, row.waiting = event.hosts, set(), {}
        for host in event.hosts:  # a retried step starts its hosts' tails over
            self._tails[(event.step_id, host)] = deque(maxlen=FAILURE_TAIL)
            self._errors.pop((event.step_id, host), None)

    def _on_HostLine(self, event: HostLine, now: float) -> None:
        self._tails.setdefault((event.step_id, event.host), deque(maxlen=FAILURE_TAIL)).append(event.line)
        if event.stream == "kwizard" and event.line.startswith(WAITING_PREFIX):
            row = self.step(event.step_id)
            if row is not None:
                row.waiting[event.host] = event.line[len(WAITING_PREFIX):]

    def _on_HostSkipped(self, event: HostSkipped, now: float) -> None:
        row = self.step(event.step_id)
        if row is not None:
            row.skip_reason = self.skip_reason(event.step_id, event.reason)
            row.hosts_finished.add(event.host)

    def skip_reason(self, step_id: str, reason: str) -> str:
        return SKIPPED_BY_YOU if step_id in self.user_skipped else reason

    def _on_HostFinished(self, event: HostFinished, now: float) -> None:
        row = self.step(event.step_id)
        if row is not None:
            row.hosts_finished.add(event.host)
        if not event.ok:
            self._errors[(event.step_id, event.host)] = event.error or f"exited with status {event.exit_status}"

    def _on_FindingReported(self, event: FindingReported, now: float) -> None:
        self.findings.append(event.finding)

    def _on_StepFinished(self, event: StepFinished, now: float) -> None:
        row = self.step(event.step_id)
        if row is None:
            return
        row.status, row.duration = event.status, event.duration
        if event.status != FAILED:
            return
        errors = {h: e for (step, h), e in self._errors.items() if step == row.id}
        tails = {h: tail for (step, h), tail in self._tails.items() if step == row.id}
        hosts = event.failed_hosts or tuple(errors)
        shown = hosts or tuple(h for h, tail in tails.items() if tail)
        self.failure = StepFailure(
            step_id=row.id,
            number=row.number,
            title=row.title,
            hosts=hosts,
            errors={h: e for h, e in errors.items() if h in hosts or not hosts},
            tails={h: list(tails.get(h, ())) for h in shown},
            diagnosis=event.diagnosis,
            findings=tuple(f for f in self.findings if f.is_error) if row.id == "preflight" else (),
        )

    def _on_RunFinished(self, event: RunFinished, now: float) -> None:
        self.status, self.finished_duration = event.status, event.duration
        if event.status == "cancelled":
            for row in self.steps:
                if row.status == RUNNING:
                    row.status = CANCELLED

    def fail_outside_the_run(self, message: str) -> None:
        """The run could not even start (no run folder, a plan mismatch): shown like a failed step."""
        self.status = "failed"
        self.failure = StepFailure("run", 0, "Start the run", (), {"kwizard": message}, {}, None)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
