"""One way to run a plan, for every face: connect, check, run, resume.

The TUI and headless mode both call `run_setup` / `run_reset` / `check`; they
differ only in the listeners they pass (widgets or printed lines) and in how
they answer the host-key question.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kwizard.checks.host import preflight
from kwizard.run.events import Event, Note
from kwizard.facts.gather import gather_facts
from kwizard.checks.findings import Finding, has_errors
from kwizard.kube.join import fresh_join_command
from kwizard.profile.model import Profile
from kwizard.kube.nodes import node_list
from kwizard.run.oneshot import OneShotContext
from kwizard.plan.setup import build_setup_plan
from kwizard.plan.reset import ResetOptions, build_reset_plan
from kwizard.run.rundir import RunDir, RunState, latest_resumable
from kwizard.run.runner import Runner, RunResult
from kwizard.ssh import Fleet, SSHError
from kwizard.plan.steps import LocalWork, Plan, StepFailed
from kwizard.plan.context import RunContext

Listener = Callable[[Event], None]


@dataclass
class CheckResult:
    facts: dict[str, Any]  # host -> HostFacts | SSHError-like per-host error
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)


async def check(profile: Profile, fleet: Fleet) -> CheckResult:
    """Connect to every host at once, gather facts, run the fleet-wide preflight."""
    facts = await gather_facts(profile, fleet)
    return CheckResult(facts, preflight(profile, facts))


def preflight_work(profile: Profile, fleet: Fleet) -> LocalWork:
    """The plan's first step: facts into the run context, findings into the events, stop on errors."""

    async def work(ctx: RunContext) -> None:
        result = await check(profile, fleet)
        for finding in result.findings:
            ctx.report(finding)
        ctx.values["facts"] = result.facts
        errors = [f for f in result.findings if f.is_error]
        if errors:
            raise StepFailed(
                f"preflight found {len(errors)} error{'s' if len(errors) != 1 else ''}; nothing was changed. "
                + "; ".join(f"{f.host or 'all hosts'}: {f.message}" for f in errors[:3])
            )

    return work


def connect_work(profile: Profile, fleet: Fleet) -> LocalWork:
    """The reset plan's first step: every host must answer before anything is torn down."""

    async def work(ctx: RunContext) -> None:
        opened = await fleet.open_all()
        failed = {name: error for name, error in opened.items() if isinstance(error, SSHError)}
        for name, error in failed.items():
            ctx.note(name, str(error))
        if failed:
            raise StepFailed(f"cannot reach {', '.join(failed)}; nothing was reset")

    return work


def setup_plan(profile: Profile, fleet: Fleet) -> Plan:
    return build_setup_plan(profile, preflight=preflight_work(profile, fleet))


def reset_plan(profile: Profile, fleet: Fleet, options: ResetOptions) -> Plan:
    return build_reset_plan(profile, options, connect=connect_work(profile, fleet))


@dataclass(frozen=True)
class RunRequest:
    profile: Profile
    profile_path: Path | None = None
    resume: bool = False  # continue the latest unfinished run of this profile and plan
    run_dir: Path | None = None  # continue this run (the TUI's retry / skip / resume)
    listeners: Iterable[Listener] = ()
    concurrency: int = 32


def new_runner(plan: Plan, fleet: Fleet, request: RunRequest, run_dir: RunDir) -> Runner:
    return Runner(
        plan,
        fleet.session,
        run_dir=run_dir,
        concurrency=request.concurrency,
        secrets=fleet.secrets,
        listeners=request.listeners,
    )


def run_dir_for(plan: Plan, request: RunRequest) -> tuple[RunDir, RunState | None]:
    """A fresh run directory, or the unfinished one to resume."""
    if request.run_dir is not None:
        found = RunDir.open(request.run_dir)
        return found, found.load_state()
    if request.resume:
        found = latest_resumable(request.profile.name, plan.name)
        if found is not None:
            return found, found.load_state()
        for listener in request.listeners:
            listener(Note(f"no unfinished {plan.name} run of {request.profile.name} to resume: starting a new one"))
    profile_path = str(request.profile_path) if request.profile_path else None
    return RunDir.create(plan.name, request.profile.name, profile_path=profile_path), None


async def run_plan(plan: Plan, fleet: Fleet, request: RunRequest) -> RunResult:
    run_dir, resume_state = run_dir_for(plan, request)
    runner = new_runner(plan, fleet, request, run_dir)
    return await runner.run(resume_state)


async def run_setup(request: RunRequest, fleet: Fleet) -> RunResult:
    return await run_plan(setup_plan(request.profile, fleet), fleet, request)


async def run_reset(request: RunRequest, fleet: Fleet, options: ResetOptions = ResetOptions()) -> RunResult:
    return await run_plan(reset_plan(request.profile, fleet, options), fleet, request)


def skip_step(run_dir: Path, step_id: str) -> None:
    """Mark a failed step as finished so the next resume goes on after it (the user chose to skip it)."""
    found = RunDir.open(run_dir)
    state = found.load_state()
    state.mark_step_finished(step_id)
    if state.failed_step == step_id:
        state.failed_step, state.failed_hosts = None, []
    found.save_state(state)


async def new_join_command(profile: Profile, fleet: Fleet):
    """A fresh worker join command, its CA hash verified (the done screen's "new token")."""
    return await fresh_join_command(OneShotContext(fleet), profile.control_plane.name)


async def current_nodes(profile: Profile, fleet: Fleet):
    return await node_list(await fleet.session(profile.control_plane.name))
