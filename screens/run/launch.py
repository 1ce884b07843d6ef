"""How the run screen starts, retries and stops a run: through the service's one run path.

The screen talks to a `RunLauncher`; the real one (`ServiceLauncher`) opens a
Fleet with `kwizard.service.open_fleet`, starts the plan with
`service.start_setup` / `service.start_reset` (what `kwizard apply` and
`kwizard reset` run too) and keeps the `RunHandle`, so cancel can reach it.
Tests give the screen a scripted launcher instead. asyncssh loads only when a
Fleet is opened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kwizard import service
from kwizard.profile.model import Profile
from kwizard.run.events import Event
from kwizard.service import ResetOptions, RunHandle, RunRequest

if TYPE_CHECKING:
    from textual.app import App

    from kwizard.screens.state import WizardState

Listener = Callable[[Event], None]
FleetFactory = Callable[[Profile], Any]  # profile -> a Fleet (service.open_fleet), used as `async with`


class RunLauncher(Protocol):
    plan_name: str  # "setup" | "reset"
    hosts: tuple[str, ...]

    async def run(self, listener: Listener, run_dir: Path | None) -> Any:
        """One run; `run_dir` continues that run (retry, skip, resume). Returns its RunResult when it stops."""
        ...

    def cancel(self) -> None: ...

    def skip(self, run_dir: Path, step_id: str) -> None: ...


def fleet_factory_for(app: App[Any], state: WizardState | None = None) -> FleetFactory:
    """A Fleet whose new-host-key question is the same modal the Hosts step shows, with the
    session's sudo password (read when each Fleet is made, so one given mid-session counts)."""

    def make(profile: Profile) -> Any:
        async def ask(host: str, address: str, key_type: str, fingerprint: str) -> bool:
            from kwizard.screens.dialogs.host_key import HostKeyModal  # noqa: PLC0415

            answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            app.push_screen(HostKeyModal(host, address, key_type, fingerprint), callback=answer.set_result)
            return await answer

        # None lets the Fleet fall back to the profile's sudo_password_env.
        password = state.sudo_password if state is not None else None
        return service.open_fleet(profile, decide_host_key=ask, sudo_password=password)

    return make


@dataclass
class ServiceLauncher:
    """The real runs: setup or reset of `profile`, over a Fleet made by `fleet_factory`."""

    profile: Profile
    fleet_factory: FleetFactory | None
    plan_name: str = "setup"
    profile_path: Path | None = None
    reset_options: ResetOptions = ResetOptions()

    def __post_init__(self) -> None:
        self.hosts = tuple(h.name for h in self.profile.hosts)
        self._handle: RunHandle | None = None
        self._cancelled = False

    async def run(self, listener: Listener, run_dir: Path | None) -> Any:
        assert self.fleet_factory is not None, "the run screen gives the launcher its fleet factory on mount"
        self._cancelled = False
        request = RunRequest(self.profile, self.profile_path, run_dir=run_dir, listeners=(listener,))
        async with self.fleet_factory(self.profile) as fleet:
            if self.plan_name == "reset":
                self._handle = service.start_reset(request, fleet, self.reset_options)
            else:
                self._handle = service.start_setup(request, fleet)
            if self._cancelled:  # cancelled while the fleet was being set up
                self._handle.cancel()
            try:
                return await self._handle
            finally:
                self._handle = None

    def cancel(self) -> None:
        self._cancelled = True
        if self._handle is not None:
            self._handle.cancel()

    def skip(self, run_dir: Path, step_id: str) -> None:
        service.skip_step(run_dir, step_id)


@dataclass(frozen=True)
class RunOutcome:
    """What the run screen hands back when the user leaves it."""

    plan: str
    status: str  # succeeded | failed (aborted after a failure) | cancelled
    run_dir: Path | None

    @property
    def resumable(self) -> bool:
        return self.status in ("failed", "cancelled") and self.run_dir is not None
