"""The runner's step loop: each (step, host) runs as soon as what it needs is done.

A step's `needs` (kwizard.plan.steps.Need) say what each host's part waits
for: the same host's part of an earlier step, or another step finished on all
its hosts (its `after` work included). A step that declares nothing waits for
every earlier step on all hosts: lock-step, v1's order (the reset plan, and
`Plan.lockstep()`).

Events keep their v1 meaning: StepStarted when the first host starts working
on a step, HostFinished/HostSkipped per host, StepFinished when its last host
has ended and its kwizard-side work ran. A host that waits on another host's
step says so once ("waiting for cp: init"). A failed part blocks only what
needs it: the other hosts go on as far as they can, and what they finished is
in state.json for a resume.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from kwizard.plan.steps import Need, Step
from kwizard.run.events import WAITING_PREFIX, HostSkipped, StepFinished, StepStarted

if TYPE_CHECKING:
    from kwizard.run.rundir import RunState
    from kwizard.run.runner import Runner

OK = ("done", "skipped")
EARLIER_RUN = "done in an earlier run"

current_step: contextvars.ContextVar[str] = contextvars.ContextVar("kwizard_current_step", default="run")


class Schedule:
    """One run of a plan's steps over the dependency graph; `run()` returns when nothing more can start."""

    def __init__(self, runner: Runner, state: RunState):
        self.runner = runner
        self.state = state
        self.steps = list(runner.plan.steps)
        self._by_id = {s.id: s for s in self.steps}
        self._index = {s.id: i for i, s in enumerate(self.steps)}
        self._part_done: dict[tuple[str, str], asyncio.Event] = {}
        self._part_result: dict[tuple[str, str], str] = {}
        self._step_done = {s.id: asyncio.Event() for s in self.steps}
        self._step_status: dict[str, str] = {}
        self._started: dict[str, float] = {}  # step id -> when its first host started
        self._finished: set[str] = set()

    # --- the whole run ---

    async def run(self) -> None:
        replayed = [s for s in self.steps if self.state.is_finished(s.id) and not s.rerun_on_resume]
        for step in self.steps:
            if step.rerun_on_resume:
                self.state.forget_step(step.id)
            for host in step.hosts:
                self._part_done[(step.id, host)] = asyncio.Event()
        for step in replayed:
            self._replay(step)
        try:
            async with asyncio.TaskGroup() as group:
                for step in self.steps:
                    if step in replayed:
                        continue
                    for host in step.hosts:
                        group.create_task(self._part(step, host), context=contextvars.copy_context())
                    group.create_task(self._finish_step(step))
        except asyncio.CancelledError:
            for step_id, started in self._started.items():
                if step_id not in self._finished:
                    self.runner._emit(StepFinished(step_id=step_id, status="cancelled", duration=time.monotonic() - started))
            raise

    def _replay(self, step: Step) -> None:
        """A step an earlier run finished: shown as skipped, so every face lists every step."""
        emit = self.runner._emit
        emit(StepStarted(step_id=step.id, title=step.title, hosts=tuple(step.hosts)))
        for host in step.hosts:
            emit(HostSkipped(step_id=step.id, host=host, reason=EARLIER_RUN))
            self._part_result[(step.id, host)] = "skipped"
            self._part_done[(step.id, host)].set()
        emit(StepFinished(step_id=step.id, status="skipped", duration=0.0))
        self._step_status[step.id] = "skipped"
        self._step_done[step.id].set()
        self._finished.add(step.id)

    # --- what a part waits for ---

    def needs_of(self, step: Step) -> tuple[Need, ...]:
        if step.needs is None:
            return tuple(Need(s.id, "all") for s in self.steps[: self._index[step.id]])
        return tuple(n for n in step.needs if n.step in self._by_id)  # a step the profile left out: nothing to wait for

    def _same_ok(self, need: Need, host: str | None) -> bool | None:
        """None: still to come; True/False: done (ok or not)."""
        key = (need.step, host)
        if host is None or key not in self._part_done:
            return self._all_ok(need) if host is None else True
        if not self._part_done[key].is_set():
            return None
        return self._acceptable(self._part_result[key])

    def _all_ok(self, need: Need) -> bool | None:
        if not self._step_done[need.step].is_set():
            return None
        return self._acceptable(self._step_status[need.step])

    def _acceptable(self, status: str) -> bool:
        return status in OK or (self.runner.continue_on_error and status == "failed")

    async def _wait_needs(self, step: Step, host: str | None) -> bool:
        """True once every need is met; False as soon as one cannot be (it failed or was blocked)."""
        needs = self.needs_of(step)
        for need in needs:  # the host's own earlier parts first: those it works on meanwhile
            if need.on == "same" and host is not None:
                key = (need.step, host)
                if key in self._part_done:
                    await self._part_done[key].wait()
                if not self._same_ok(need, host):
                    return False
        told = step.needs is None or host is None  # lock-step waits silently, as in v1
        for need in needs:
            if need.on == "same" and host is not None:
                continue
            if not told and not self._step_done[need.step].is_set():
                told = True
                self._say_waiting(step, host, need)
            await self._step_done[need.step].wait()
            if not self._all_ok(need):
                return False
        return True

    def _say_waiting(self, step: Step, host: str, need: Need) -> None:
        other = self._by_id[need.step]
        pending = [h for h in other.hosts if not self._part_done[(other.id, h)].is_set()]
        if not pending or host in pending:
            return  # still in that step itself (a barrier such as the preflight), or only kwizard's work left
        where = ", ".join(pending)
        self.runner._host_line(step.id, host, "kwizard", f"{WAITING_PREFIX}{where}: {other.id}")

    # --- one host's part, one step's end ---

    async def _part(self, step: Step, host: str) -> None:
        key = (step.id, host)
        result = "blocked"
        try:
            if await self._wait_needs(step, host):
                current_step.set(step.id)
                result = await self._work(step, host)
        finally:
            self._part_result[key] = result
            self._part_done[key].set()

    async def _work(self, step: Step, host: str) -> str:
        runner = self.runner
        self._start(step)
        if not step.rerun_on_resume and host in self.state.done_on(step.id):
            runner._emit(HostSkipped(step_id=step.id, host=host, reason=EARLIER_RUN))
            return "skipped"
        async with runner._slots:
            result = await runner._hosts.run(step, host)
        if result != "failed" and step.after_each is not None:
            if await runner._local_work(step, host, step.after_each(runner, host)) is not None:
                result = "failed"
        if result != "failed":
            self.state.mark_host_done(step.id, host)
            runner.run_dir.save_state(self.state)
        else:
            self._failed(step, (host,))
        return result

    def _start(self, step: Step) -> None:
        if step.id not in self._started:
            self._started[step.id] = time.monotonic()
            self.runner._emit(StepStarted(step_id=step.id, title=step.title, hosts=tuple(step.hosts)))

    async def _finish_step(self, step: Step) -> None:
        if step.hosts:
            for host in step.hosts:
                await self._part_done[(step.id, host)].wait()
            results = {h: self._part_result[(step.id, h)] for h in step.hosts}
        else:
            results = {} if await self._wait_needs(step, None) else {"": "blocked"}
        status, failed = await self._conclude(step, results)
        self._step_status[step.id] = status
        self._step_done[step.id].set()

    async def _conclude(self, step: Step, results: dict[str, str]) -> tuple[str, tuple[str, ...]]:
        runner = self.runner
        failed = tuple(h for h, r in results.items() if r == "failed")
        blocked = [h for h, r in results.items() if r == "blocked"]
        if blocked and not failed:
            if step.id in self._started:  # some hosts did their part: the step stops here, unfinished
                self._end(step, "cancelled")
            return "blocked", ()
        if not results or not step.hosts:
            self._start(step)
        after_error = None
        if not failed and step.after is not None:
            current_step.set(step.id)
            after_error = await runner._local_work(step, step.hosts[0] if step.hosts else "local", step.after(runner))
        if failed or after_error is not None:
            status = "failed"
        elif results and all(r == "skipped" for r in results.values()):
            status = "skipped"
        else:
            status = "done"
        diagnosis = runner._diagnose(step, failed) if status == "failed" else None
        self._end(step, status, failed, diagnosis)
        if status == "failed":
            self._failed(step, failed)
        else:
            self.state.mark_step_finished(step.id)
        if step.rerun_on_resume:
            # What it leaves (facts, the join command) is not kept, so a resume must not trust it as done.
            self.state.forget_step(step.id)
        runner.run_dir.save_state(self.state)
        return status, failed

    def _end(self, step: Step, status: str, failed: tuple[str, ...] = (), diagnosis: str | None = None) -> None:
        self._finished.add(step.id)
        duration = time.monotonic() - self._started.get(step.id, time.monotonic())
        self.runner._emit(
            StepFinished(step_id=step.id, status=status, duration=duration, failed_hosts=failed, diagnosis=diagnosis)
        )

    def _failed(self, step: Step, hosts: Iterable[str]) -> None:
        """The run's failure is the first failed step, with every host it failed on."""
        state = self.state
        if state.failed_step is None:
            state.failed_step, state.failed_hosts = step.id, []
        if state.failed_step == step.id:
            state.failed_hosts.extend(h for h in hosts if h not in state.failed_hosts)
