"""A day-two run on the run screen says what its running step does, as a setup run does.

The launcher is the real one (`ServiceClusterActions`) with its run started by a stand-in
that plays the plan's first step and holds until cancelled: no host is contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from pathlib import Path

from textual.widgets import Static

from kwizard.run.events import RunFinished, RunStarted, StepFinished, StepStarted
from kwizard.run.runner import RunResult
from kwizard.screens.day2.launch import ServiceClusterActions
from kwizard.screens.run.screen import RunScreen

from .run_fakes import ScreenHarness, seed_profile

RUN_DIR = "state/kwizard/runs/20260101T000000Z-seed-day2"


class HeldRun:
    """A started run (what `service.start_upgrade` returns) that stops in `step_id` until cancelled."""

    def __init__(self, request, plan, step_id: str) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self._play(list(request.listeners), plan, step_id))

    async def _play(self, listeners, plan, step_id: str) -> RunResult:
        def emit(event) -> None:
            for listener in listeners:
                listener(event)

        step = next(s for s in plan.steps if s.id == step_id)
        emit(RunStarted("day2", RUN_DIR, plan.name, tuple((s.id, s.title) for s in plan.steps), tuple(plan.hosts)))
        emit(StepStarted(step.id, step.title, tuple(step.hosts)))
        await self._stop.wait()
        emit(StepFinished(step.id, "cancelled", 1.0))
        emit(RunFinished("cancelled", 1.0, run_dir=RUN_DIR))
        return RunResult("cancelled", None, (), 1.0, Path(RUN_DIR))

    def cancel(self) -> None:
        self._stop.set()

    def __await__(self):
        return self._task.__await__()


def status_line(screen) -> str:
    return str(screen.query_one("#run-status", Static).render())


async def test_an_upgrade_and_a_node_removal_say_what_their_running_step_does(tmp_path):
    profile = seed_profile()
    path = tmp_path / "seed.yaml"
    actions = ServiceClusterActions(fleets=lambda _profile: contextlib.nullcontext())
    worker = profile.hosts[-1].name
    cases = [
        (actions.upgrade(profile, path, "1.34"), "cp-drain", "kubectl drain --ignore-daemonsets"),
        (actions.remove_node(profile, path, worker), "reset", "kubeadm reset -f"),
    ]
    for launcher, step_id, words in cases:
        plan = launcher.plan()
        held = dataclasses.replace(launcher, start=lambda request, _fleet, plan=plan, step_id=step_id: HeldRun(request, plan, step_id))
        app = ScreenHarness(RunScreen(held))
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.first
            for _ in range(100):
                if screen.progress.running:
                    break
                await pilot.pause(0.02)
            await pilot.pause()
            line = status_line(screen)
            number = [s.id for s in plan.steps].index(step_id) + 1
            assert f"now {number}: " in line and words in line, line
            held.cancel()
            for _ in range(100):
                if not screen.is_running:
                    break
                await pilot.pause(0.02)
