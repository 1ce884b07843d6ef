"""A cluster that answers from memory, for the status screen and the day-two runs.

`FakeCluster` is a `ClusterActions` (screens.day2.launch): each glance is the next one given (the
last repeats), and each run plays the real plan's steps (the engine's own plan builders, no host
contacted) as events, editing the profile file at its "profile" step the way the engine does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from kwizard.day2.certs import CertExpiry
from kwizard.day2.nodes import build_remove_plan
from kwizard.day2.profile_edit import remove_host, set_kubernetes_version
from kwizard.day2.status import ClusterStatus
from kwizard.day2.upgrade import build_upgrade_plan
from kwizard.kube.nodes import NodeStatus
from kwizard.profile.model import Profile
from kwizard.run.events import HostFinished, HostLine, RunFinished, RunStarted, StepFinished, StepStarted
from kwizard.run.runner import RunResult
from kwizard.service import ClusterGlance, upgrade_offer

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
RUN_DIR = "state/kwizard/runs/20260101T000000Z-home-lab-day2"  # relative: screenshots must not vary


def nodes(version: str = "v1.33.2", *, not_ready: tuple[str, ...] = (), worker_version: str | None = None) -> list[NodeStatus]:
    """The three hosts of test_snapshots.three_hosts as nodes."""
    return [
        NodeStatus("kubemaster", "kubemaster" not in not_ready, ("control-plane",), version, "10.0.0.10"),
        NodeStatus("kubenode-1", "kubenode-1" not in not_ready, ("<none>",), worker_version or version, "10.0.0.11"),
        NodeStatus("kubenode-2", "kubenode-2" not in not_ready, ("<none>",), worker_version or version, "10.0.0.12"),
    ]


def certs() -> list[CertExpiry]:
    return [
        CertExpiry("apiserver", NOW + timedelta(days=300), "299d", "ca"),
        CertExpiry("admin.conf", NOW + timedelta(days=301), "300d", "ca"),
        CertExpiry("ca", NOW + timedelta(days=3600), "9y", None),
    ]


def healthy_glance(profile: Profile, server: str = "v1.33.2", **node_options: Any) -> ClusterGlance:
    """A cluster as `kwizard status` reports it, with the upgrade offer the engine's rules make."""
    status = ClusterStatus("kubemaster", nodes(server, **node_options), server, "flannel", {"Running": 3}, certs())
    return ClusterGlance("kubemaster", status, upgrade=upgrade_offer(profile, status), asked_at=NOW)


def no_cluster() -> ClusterGlance:
    return ClusterGlance("kubemaster", problem="no cluster on kubemaster: /etc/kubernetes/admin.conf is not there "
                         "(never set up, or reset); set the cluster up with `kwizard apply` first")


def unreachable() -> ClusterGlance:
    return ClusterGlance("kubemaster", unreachable=True, problem="cannot reach the control plane kubemaster: cannot "
                         "connect to 10.0.0.10:22: Connection refused (fix: check the host is up and sshd runs)")


@dataclass
class PlayedPlan:
    """A RunLauncher that plays the plan's steps; the first run fails at `fail_at` when given."""

    target: Profile
    profile_path: Path
    plan: Any  # kwizard.plan.steps.Plan
    edit: Any  # what the plan's "profile" step does to the file
    fail_at: str | None = None
    fleet_factory: Any = "unused"  # not None: the run screen must not make a real one
    runs: list[Path | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.plan_name = self.plan.name
        self.hosts = tuple(self.plan.hosts)

    async def run(self, listener, run_dir: Path | None) -> RunResult:
        self.runs.append(run_dir)
        fail_at = self.fail_at if len(self.runs) == 1 else None
        listener(RunStarted("day2", RUN_DIR, self.plan.name, tuple((s.id, s.title) for s in self.plan.steps), self.hosts))
        for step in self.plan.steps:
            listener(StepStarted(step.id, step.title, tuple(step.hosts)))
            failed = step.id == fail_at
            for host in step.hosts:
                listener(HostLine(step.id, host, f"{step.id} on {host}"))
                listener(HostFinished(step.id, host, not failed, 1 if failed else 0, 0.5, 0.5))
            if failed:
                listener(StepFinished(step.id, "failed", 0.5, tuple(step.hosts)))
                listener(RunFinished("failed", 2.0, step.id, tuple(step.hosts), RUN_DIR))
                return RunResult("failed", step.id, tuple(step.hosts), 2.0, Path(RUN_DIR))
            if step.id == "profile":
                self.edit()
            listener(StepFinished(step.id, "done", 0.5))
            await asyncio.sleep(0)
        listener(RunFinished("succeeded", 5.0, run_dir=RUN_DIR))
        return RunResult("succeeded", None, (), 5.0, Path(RUN_DIR))

    def cancel(self) -> None:
        pass

    def skip(self, run_dir: Path, step_id: str) -> None:
        pass


@dataclass
class FakeCluster:
    glances: list[ClusterGlance]
    fail_at: str | None = None  # the first day-two run fails at this step
    asked: int = 0
    started: list[tuple[str, str]] = field(default_factory=list)  # (plan, the release or the node)

    async def glance(self, profile: Profile) -> ClusterGlance:
        self.asked += 1
        await asyncio.sleep(0)
        return self.glances[min(self.asked, len(self.glances)) - 1]

    def upgrade(self, profile: Profile, profile_path: Path, to: str) -> PlayedPlan:
        self.started.append(("upgrade", to))
        return PlayedPlan(profile, profile_path, build_upgrade_plan(profile, to, profile_path),
                          lambda: set_kubernetes_version(profile_path, to), self.fail_at)

    def remove_node(self, profile: Profile, profile_path: Path, node: str) -> PlayedPlan:
        self.started.append(("remove-node", node))
        return PlayedPlan(profile, profile_path, build_remove_plan(profile, node, profile_path),
                          lambda: remove_host(profile_path, node), self.fail_at)
