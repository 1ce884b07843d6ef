"""One way to run a plan, for every face: connect, check, run, resume.

The TUI and headless mode both start runs with `start_setup` / `start_reset`
(a `RunHandle`: cancel it, await its `RunResult`); `run_setup` / `run_reset`
are those two, awaited. The faces differ only in the listeners they pass
(widgets or printed lines) and in how they answer the host-key question.

The face (screens/) reaches the engine through this module and the pure
modules only: what it needs from the run directory, the plan builders, the
facts gatherer, kubeadm's preflight output and the kubeconfig helpers is
here, under the names the face uses. Importing this module does not load
asyncssh; opening a Fleet or gathering facts does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kwizard.checks.host import preflight
from kwizard.run.events import Event, Note
from kwizard.checks.findings import Finding, finding_place, has_errors
from kwizard.facts.model import HostError, HostFacts
from kwizard.kube.join import fresh_join_command
from kwizard.profile.model import Profile
from kwizard.kube.nodes import node_list
from kwizard.run.oneshot import OneShotContext
from kwizard.plan.setup import build_setup_plan
from kwizard.plan.reset import ResetOptions, build_reset_plan
from kwizard.run.lock import RunLocks
from kwizard.run.rundir import RunDir, RunState, latest_resumable
from kwizard.run.runner import DEFAULT_CONCURRENCY, Runner, RunResult
from kwizard.run.timeline import text_timeline  # noqa: F401 - for the wizard's done screen: the run's timeline from its events
from kwizard.ssh import SSHError
from kwizard.plan.steps import LocalWork, Plan, StepFailed
from kwizard.plan.context import RunContext

if TYPE_CHECKING:
    from kwizard.ssh import Fleet  # loads asyncssh: only when a Fleet is opened (open_fleet)

Listener = Callable[[Event], None]


@dataclass
class CheckResult:
    facts: dict[str, HostFacts | HostError]  # host -> its facts, or the SSHError-like error it gave
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)


async def check(profile: Profile, fleet: Fleet) -> CheckResult:
    """Connect to every host at once, gather facts, run the fleet-wide preflight."""
    from kwizard.facts.gather import gather_facts  # noqa: PLC0415 - asyncssh loads only to connect

    facts = await gather_facts(profile, fleet)
    return CheckResult(facts, preflight(profile, facts))


def preflight_work(profile: Profile, fleet: Fleet, locks: RunLocks | None = None) -> LocalWork:
    """The plan's first step: the cluster lock, facts into the run context, findings into the events, stop on errors."""

    async def work(ctx: RunContext) -> None:
        if locks is not None:
            await locks.take_in_step(ctx, fleet)
        result = await check(profile, fleet)
        for finding in result.findings:
            ctx.report(finding)
        ctx.facts = {host: found for host, found in result.facts.items() if isinstance(found, HostFacts)}
        errors = [f for f in result.findings if f.is_error]
        if errors:
            raise StepFailed(
                f"preflight found {len(errors)} error{'s' if len(errors) != 1 else ''}; nothing was changed. "
                + "; ".join(f"{finding_place(f)}: {f.message}" for f in errors[:3])
            )

    return work


def connect_work(profile: Profile, fleet: Fleet, locks: RunLocks | None = None) -> LocalWork:
    """The reset plan's first step: every host must answer (and the cluster lock be ours) before anything is torn down."""

    async def work(ctx: RunContext) -> None:
        opened = await fleet.open_all()
        failed = {name: error for name, error in opened.items() if isinstance(error, SSHError)}
        for name, error in failed.items():
            ctx.note(name, str(error))
        if failed:
            raise StepFailed(f"cannot reach {', '.join(failed)}; nothing was reset")
        if locks is not None:
            await locks.take_in_step(ctx, fleet)

    return work


def setup_plan(profile: Profile, fleet: Fleet, schedule: str = "graph", locks: RunLocks | None = None) -> Plan:
    return build_setup_plan(profile, preflight=preflight_work(profile, fleet, locks), lockstep=schedule == "lockstep")


def reset_plan(profile: Profile, fleet: Fleet, options: ResetOptions, locks: RunLocks | None = None) -> Plan:
    return build_reset_plan(profile, options, connect=connect_work(profile, fleet, locks))


@dataclass(frozen=True)
class RunRequest:
    profile: Profile
    profile_path: Path | None = None
    resume: bool = False  # continue the latest unfinished run of this profile and plan
    run_dir: Path | None = None  # continue this run (the TUI's retry / skip / resume)
    listeners: Iterable[Listener] = ()
    concurrency: int = DEFAULT_CONCURRENCY
    step_timeouts: Mapping[str, float] = field(default_factory=dict)  # over the profile's cluster.step_timeouts
    schedule: str = "graph"  # graph: each host as soon as it can; lockstep: v1's order, step by step


def new_runner(plan: Plan, fleet: Fleet, request: RunRequest, run_dir: RunDir) -> Runner:
    return Runner(
        plan,
        fleet.session,
        run_dir=run_dir,
        concurrency=request.concurrency,
        step_timeouts={**request.profile.cluster.step_timeouts, **request.step_timeouts},
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


class RunHandle:
    """A run that has started: `cancel()` stops it (it stays resumable), `await handle` gives its RunResult.

    The run is a task on the running loop. Cancelling the coroutine that awaits the handle
    cancels the run too (the runner leaves a resumable state behind).
    """

    def __init__(self, plan: Plan, runner: Runner, resume_state: RunState | None, locks: RunLocks | None = None) -> None:
        self.plan_name = plan.name
        self.hosts: tuple[str, ...] = tuple(plan.hosts)
        self.run_dir: Path = runner.run_dir.path
        self._runner = runner
        self._task: asyncio.Task[RunResult] = asyncio.ensure_future(_run_then_unlock(runner, resume_state, locks))

    def cancel(self) -> None:
        self._runner.cancel()

    @property
    def done(self) -> bool:
        return self._task.done()

    async def result(self) -> RunResult:
        return await self._task

    def __await__(self) -> Generator[Any, None, RunResult]:
        return self._task.__await__()


async def _run_then_unlock(runner: Runner, resume_state: RunState | None, locks: RunLocks | None) -> RunResult:
    try:
        return await runner.run(resume_state)
    finally:
        if locks is not None:
            await locks.release()


def start_plan(plan: Plan, fleet: Fleet, request: RunRequest, locks: RunLocks | None = None) -> RunHandle:
    """Start `plan` over `fleet` (which the caller keeps open until the handle is done).

    With `locks`, the local lock is taken first (LockHeld: another run of this
    cluster on this workstation; nothing is written), the cluster lock in the
    plan's first step, and both are released when the run ends, however it ends.
    """
    if locks is not None:
        locks.take_local()
    try:
        run_dir, resume_state = run_dir_for(plan, request)
        runner = new_runner(plan, fleet, request, run_dir)
    except BaseException:
        if locks is not None:
            locks.release_local()
        raise
    return RunHandle(plan, runner, resume_state, locks)


def start_setup(request: RunRequest, fleet: Fleet) -> RunHandle:
    locks = RunLocks.for_run(request.profile, request.profile_path, "setup")
    return start_plan(setup_plan(request.profile, fleet, request.schedule, locks), fleet, request, locks)


def start_reset(request: RunRequest, fleet: Fleet, options: ResetOptions = ResetOptions()) -> RunHandle:
    locks = RunLocks.for_run(request.profile, request.profile_path, "reset")
    plan = reset_plan(request.profile, fleet, options, locks)
    return start_plan(plan.lockstep() if request.schedule == "lockstep" else plan, fleet, request, locks)


async def run_plan(plan: Plan, fleet: Fleet, request: RunRequest) -> RunResult:
    return await start_plan(plan, fleet, request)


async def run_setup(request: RunRequest, fleet: Fleet) -> RunResult:
    return await start_setup(request, fleet)


async def run_reset(request: RunRequest, fleet: Fleet, options: ResetOptions = ResetOptions()) -> RunResult:
    return await start_reset(request, fleet, options)


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


# --- what the face needs besides runs (screens/ imports nothing else of the engine's impure parts) ---

# (host name, address, key type, SHA256 fingerprint) -> trust it?  (kwizard.ssh.HostKeyDecision)
HostKeyQuestion = Callable[[str, str, str, str], Awaitable[bool]]


def open_fleet(
    profile: Profile,
    *,
    decide_host_key: HostKeyQuestion | None = None,
    sudo_password: str | None = None,
) -> Fleet:
    """A Fleet for `profile` (use it as `async with`); None for the password falls back to
    the profile's `ssh.sudo_password_env`."""
    from kwizard.ssh import Fleet  # noqa: PLC0415 - asyncssh loads only to connect

    return Fleet(profile, decide_host_key=decide_host_key, sudo_password=sudo_password)


async def gather_host_facts(
    profile: Profile,
    *,
    decide_host_key: HostKeyQuestion | None = None,
    sudo_password: str | None = None,
    ssh_config: Sequence[str] | tuple[()] = (),
) -> dict[str, Any]:
    """Facts from every host at once (the Hosts step's "Test connections"): host -> HostFacts,
    or the error (an SSHError-like HostError) that host gave."""
    from kwizard.facts.gather import gather_facts  # noqa: PLC0415 - asyncssh loads only to connect

    return await gather_facts(profile, decide_host_key=decide_host_key, sudo_password=sudo_password, ssh_config=ssh_config)


@dataclass(frozen=True)
class UnfinishedRun:
    """The latest run of a profile that stopped before the end (what "resume" would continue)."""

    path: Path
    plan: str  # setup | reset
    status: str
    failed_step: str | None


def latest_resumable_run(profile_name: str, plan: str | None = None) -> UnfinishedRun | None:
    found = latest_resumable(profile_name, plan)
    if found is None:
        return None
    state = found.load_state()
    return UnfinishedRun(found.path, state.plan, state.status, state.failed_step)


def plan_view(profile: Profile, *, reset: bool = False, options: ResetOptions = ResetOptions(), facts: dict[str, HostFacts | HostError] | None = None):
    """The steps the review shows (kwizard.plan.view.StepView): the setup or reset plan, and per
    host the commands it would run; `facts` from the last connection test fill in what they can."""
    from kwizard.plan.view import view_plan  # noqa: PLC0415

    return view_plan(plan_to_show(profile, reset=reset, options=options), facts)


def plan_to_show(profile: Profile, *, reset: bool = False, options: ResetOptions = ResetOptions()) -> Plan:
    """The setup or reset plan of `profile`, built without connecting (to show it, not to run it)."""
    return build_reset_plan(profile, options) if reset else build_setup_plan(profile)


def step_descriptions(plan: Plan) -> dict[str, str]:
    """Each step's one line (what it does, how long it may wait), for the run screen's status line."""
    from kwizard.plan.view import view_plan  # noqa: PLC0415

    return {view.id: view.describe for view in view_plan(plan) if view.describe}


def preflight_issues(text: str):
    """kubeadm's own preflight errors in a step's output ([ERROR Port-6443] ...), as PreflightIssue."""
    from kwizard.kube.preflight import parse_preflight_errors  # noqa: PLC0415

    return parse_preflight_errors(text)


def control_plane_kubeconfig_commands() -> list[str]:
    """What another user on the control plane runs to use kubectl there."""
    from kwizard.kube.kubeconfig import control_plane_setup_commands  # noqa: PLC0415

    return control_plane_setup_commands()


def local_kubeconfig_instructions(path: Path) -> list[str]:
    """How to use the admin kubeconfig kwizard saved here: [export line, merge line]."""
    from kwizard.kube.kubeconfig import kubeconfig_instructions  # noqa: PLC0415

    return kubeconfig_instructions(path)


# --- day two (kwizard/day2/facade.py): status, certificates, backups, removing nodes, upgrades ---
# Imported last: the facade reaches back into this module (start_plan, connect_work) when called.

from kwizard.day2.facade import (  # noqa: E402, F401 - re-exported: the faces call day two through service
    ClusterGlance,
    UpgradeOffer,
    backup_plan,
    certificate_expiry,
    certificate_findings,
    cluster_glance,
    cluster_status,
    removal_problem,
    remove_node_plan,
    renew_certs_plan,
    start_remove_node,
    start_upgrade,
    upgrade_offer,
    upgrade_plan,
)
