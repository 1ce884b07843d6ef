"""How the run screen starts, retries and stops a run, through the engine's orchestrator.

The screen talks to a `RunLauncher`; the real one (`EngineLauncher`) opens a
Fleet, builds the plan and holds the `Runner`, so cancel can reach it. Tests
give the screen a scripted launcher instead. asyncssh loads only when a run
starts (the imports sit inside the methods), like everywhere else in the face.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kwizard.run.events import Event
from kwizard.profile.model import Profile
from kwizard.plan.reset import ResetOptions

if TYPE_CHECKING:
    from textual.app import App

    from kwizard.run.runner import RunResult
    from kwizard.ssh import Fleet

Listener = Callable[[Event], None]
FleetFactory = Callable[[Profile], "Fleet"]


class RunLauncher(Protocol):
    plan_name: str  # "setup" | "reset"
    hosts: tuple[str, ...]

    async def run(self, listener: Listener, run_dir: Path | None) -> RunResult:
        """One run; `run_dir` continues that run (retry, skip, resume). Returns when it stops."""
        ...

    def cancel(self) -> None: ...

    def skip(self, run_dir: Path, step_id: str) -> None: ...


def fleet_factory_for(app: App[Any]) -> FleetFactory:
    """A Fleet whose new-host-key question is the same modal the Hosts step shows, with the
    session's sudo password (read when each Fleet is made, so one given mid-session counts)."""

    def make(profile: Profile) -> Fleet:
        from kwizard.ssh import Fleet  # noqa: PLC0415 - asyncssh only when a run starts

        async def ask(host: str, address: str, key_type: str, fingerprint: str) -> bool:
            from kwizard.screens.dialogs.host_key import HostKeyModal  # noqa: PLC0415

            answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            app.push_screen(HostKeyModal(host, address, key_type, fingerprint), callback=answer.set_result)
            return await answer

        # The password given in this session (screens.sudo_password); None lets the Fleet
        # fall back to the profile's sudo_password_env.
        return Fleet(profile, decide_host_key=ask, sudo_password=getattr(app, "sudo_password", None))

    return make


@dataclass
class EngineLauncher:
    """The real runs: setup or reset of `profile`, over a Fleet made by `fleet_factory`."""

    profile: Profile
    fleet_factory: FleetFactory
    plan_name: str = "setup"
    profile_path: Path | None = None
    reset_options: ResetOptions = ResetOptions()

    def __post_init__(self) -> None:
        self.hosts = tuple(h.name for h in self.profile.hosts)
        self._runner = None
        self._cancelled = False

    async def run(self, listener: Listener, run_dir: Path | None) -> RunResult:
        from kwizard import service as orchestrate  # noqa: PLC0415

        self._cancelled = False
        request = orchestrate.RunRequest(
            self.profile, self.profile_path, run_dir=run_dir, listeners=(listener,)
        )
        async with self.fleet_factory(self.profile) as fleet:
            if self.plan_name == "reset":
                plan = orchestrate.reset_plan(self.profile, fleet, self.reset_options)
            else:
                plan = orchestrate.setup_plan(self.profile, fleet)
            folder, state = orchestrate.run_dir_for(plan, request)
            self._runner = orchestrate.new_runner(plan, fleet, request, folder)
            if self._cancelled:  # cancelled while the fleet was being set up
                self._runner.cancel()
            try:
                return await self._runner.run(state)
            finally:
                self._runner = None

    def cancel(self) -> None:
        self._cancelled = True
        if self._runner is not None:
            self._runner.cancel()

    def skip(self, run_dir: Path, step_id: str) -> None:
        from kwizard.service import skip_step  # noqa: PLC0415

        skip_step(run_dir, step_id)


@dataclass(frozen=True)
class RunOutcome:
    """What the run screen hands back when the user leaves it."""

    plan: str
    status: str  # succeeded | failed (aborted after a failure) | cancelled
    run_dir: Path | None

    @property
    def resumable(self) -> bool:
        return self.status in ("failed", "cancelled") and self.run_dir is not None
