"""Day-two runs on the existing run screen, and the cluster questions the status screen asks.

`Day2Launcher` is a `RunLauncher` (screens.run.launch) whose run is started by a service call
given to it: `service.start_upgrade` or `service.start_remove_node`, the RunHandle path setup and
reset take, so the run screen's logs, failure panel, retry and skip work the same. `ClusterActions`
is what the status screen and the App need from the engine; `ServiceClusterActions` is the real
one, tests give a fake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kwizard import service
from kwizard.profile.model import Profile
from kwizard.screens.run.launch import FleetFactory, Listener, RunControl, RunLauncher, Start
from kwizard.service import ClusterGlance, RunRequest


@dataclass
class Day2Launcher:
    """One day-two run of the profile saved at `profile_path` (the engine may edit that file).

    The profile is kept as `target`, not `profile`: the run screen describes a launcher's steps
    and offers its done screen from a `profile`, which are the setup plan's.
    """

    target: Profile
    profile_path: Path
    plan_name: str  # "upgrade" | "remove-node": what the run directory and the run screen call it
    hosts: tuple[str, ...]
    start: Start
    fleet_factory: FleetFactory | None = None
    plan: Callable[[], Any] | None = None  # the plan built without connecting, for its step descriptions

    def __post_init__(self) -> None:
        self._control = RunControl()

    async def run(self, listener: Listener, run_dir: Path | None) -> Any:
        request = RunRequest(self.target, self.profile_path, run_dir=run_dir, listeners=(listener,))
        return await self._control.run(self.fleet_factory, request, self.start)

    def step_descriptions(self) -> dict[str, str]:
        return service.step_descriptions(self.plan()) if self.plan is not None else {}

    def cancel(self) -> None:
        self._control.cancel()

    def skip(self, run_dir: Path, step_id: str) -> None:
        service.skip_step(run_dir, step_id)


class ClusterActions(Protocol):
    async def glance(self, profile: Profile) -> ClusterGlance:
        """The cluster at a glance, or why there is none (never raises for a missing cluster or host)."""
        ...

    def upgrade(self, profile: Profile, profile_path: Path, to: str) -> RunLauncher: ...

    def remove_node(self, profile: Profile, profile_path: Path, node: str) -> RunLauncher: ...


@dataclass
class ServiceClusterActions:
    """The real questions and runs, over Fleets from `fleets` (the wizard's host-key modal, its sudo password)."""

    fleets: FleetFactory

    async def glance(self, profile: Profile) -> ClusterGlance:
        async with self.fleets(profile) as fleet:
            return await service.cluster_glance(profile, fleet)

    def upgrade(self, profile: Profile, profile_path: Path, to: str) -> RunLauncher:
        hosts = tuple(h.name for h in profile.hosts)
        return Day2Launcher(profile, profile_path, "upgrade", hosts,
                            lambda request, fleet: service.start_upgrade(request, fleet, to), self.fleets,
                            lambda: service.upgrade_plan(profile, None, to, profile_path))

    def remove_node(self, profile: Profile, profile_path: Path, node: str) -> RunLauncher:
        hosts = (profile.control_plane.name, node)
        return Day2Launcher(profile, profile_path, "remove-node", hosts,
                            lambda request, fleet: service.start_remove_node(request, fleet, node), self.fleets,
                            lambda: service.remove_node_plan(profile, None, node, profile_path))
