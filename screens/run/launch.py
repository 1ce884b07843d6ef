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

    # Optional: `step_descriptions() -> dict[str, str]`, each step's one line for the status line.


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


def setup_or_reset_descriptions(profile: Profile, plan_name: str, options: ResetOptions = ResetOptions()) -> dict[str, str]:
    """Each step's one line of the setup (or reset) plan of `profile`, for the run screen's status line."""
    return service.step_descriptions(service.plan_to_show(profile, reset=plan_name == "reset", options=options))


Start = Callable[[RunRequest, Any], RunHandle]  # (request, fleet) -> the started run


class RunControl:
    """One launcher's run at a time: the fleet opened, the run started by `start`, its handle kept so
    cancel can reach it (also while the fleet is still being set up). Every launcher shares it."""

    def __init__(self) -> None:
        self._handle: RunHandle | None = None
        self._cancelled = False

    async def run(self, fleet_factory: FleetFactory | None, request: RunRequest, start: Start) -> Any:
        assert fleet_factory is not None, "the run screen gives the launcher its fleet factory on mount"
        self._cancelled = False
        async with fleet_factory(request.profile) as fleet:
            self._handle = start(request, fleet)
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
        self._control = RunControl()

    async def run(self, listener: Listener, run_dir: Path | None) -> Any:
        request = RunRequest(self.profile, self.profile_path, run_dir=run_dir, listeners=(listener,))
        return await self._control.run(self.fleet_factory, request, self._start)

    def step_descriptions(self) -> dict[str, str]:
        return setup_or_reset_descriptions(self.profile, self.plan_name, self.reset_options)

    def _start(self, request: RunRequest, fleet: Any) -> RunHandle:
        if self.plan_name == "reset":
            return service.start_reset(request, fleet, self.reset_options)
        return service.start_setup(request, fleet)

    def cancel(self) -> None:
        self._control.cancel()

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
