"""The scheduler over fake sessions: each (step, host) as soon as its needs are done.

The lab proves the setup plan's order against real sshd (test_schedule_lab.py);
here: overlap, waiting, a failure on one host, per-host resume, events, the
"still running" note, step timeouts and the timeline.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from kwizard.plan.steps import Plan, Step, on_all_hosts, on_same_host
from kwizard.run import hostwork
from kwizard.run.events import HostFinished, HostLine, HostSkipped, StepFinished, StepStarted
from kwizard.run.rundir import RunDir
from kwizard.run.runner import Runner
from kwizard.run.timeline import bars, svg_timeline, text_timeline
from tests.test_runner import FakeSession, Recorder, script

HOSTS = ("cp", "w1", "w2")


def _step(step_id, text="echo ok", hosts=HOSTS, per_host=None, **kwargs) -> Step:
    return Step(id=step_id, title=step_id.title(), hosts=tuple(hosts), script=script(text, per_host), **kwargs)


def cluster_plan(prep_slow="sleep 0.05", init="sleep 0.3", prep_w1=None, join="sleep 0.05") -> Plan:
    steps = [
        _step("preflight", "echo facts", rerun_on_resume=True),
        _step("prep", prep_slow, per_host={"w1": prep_w1 or prep_slow}, needs=on_all_hosts("preflight")),
        _step("init", init, hosts=("cp",), needs=on_same_host("prep")),
        _step("join-command", "echo token", hosts=("cp",), needs=on_all_hosts("init")),
        _step("join", join, hosts=("w1", "w2"), needs=on_same_host("prep") + on_all_hosts("join-command")),
        _step("verify", "echo ready", hosts=("cp",), needs=on_all_hosts("join")),
    ]
    return Plan("setup", steps, HOSTS)


@pytest.fixture
def events() -> Recorder:
    return Recorder()


@pytest.fixture
def run(tmp_path, events):
    async def run(plan, run_dir=None, resume_state=None, sessions=None, **kwargs):
        run_dir = run_dir or RunDir.create("setup", "lab", base=tmp_path / "runs")
        sessions = sessions or {h: FakeSession(h) for h in plan.hosts}
        runner = Runner(plan, sessions, run_dir=run_dir, listeners=[events], **kwargs)
        return await runner.run(resume_state), run_dir

    return run


def span(events, step_id, host):
    (done,) = [e for e in events.of(HostFinished) if e.step_id == step_id and e.host == host]
    return done.at - done.duration, done.at


async def test_a_workers_prep_overlaps_the_control_planes_init(run, events):
    result, _ = await run(cluster_plan(prep_w1="sleep 0.8"))
    assert result.ok
    init_start, init_end = span(events, "init", "cp")
    prep_start, prep_end = span(events, "prep", "w1")
    assert prep_start < init_end and init_start < prep_end  # they ran at the same time
    # the other worker joined before the slow one had even finished its prep
    assert span(events, "join", "w2")[1] < prep_end


async def test_no_join_before_the_join_command_and_a_waiting_host_says_so(run, events):
    result, _ = await run(cluster_plan())
    assert result.ok
    (made,) = [e for e in events.of(StepFinished) if e.step_id == "join-command"]
    for worker in ("w1", "w2"):
        assert span(events, "join", worker)[0] >= made.at
    waiting = [e for e in events.of(HostLine) if e.stream == "kwizard" and e.line.startswith("waiting for")]
    assert {(e.host, e.line) for e in waiting} == {("w1", "waiting for cp: join-command"),
                                                    ("w2", "waiting for cp: join-command"),
                                                    ("cp", "waiting for w1, w2: join")}


async def test_events_keep_their_order_per_step(run, events):
    await run(cluster_plan(prep_w1="sleep 0.4"))
    for step_id in ("prep", "init", "join"):
        started = [i for i, e in enumerate(events) if isinstance(e, StepStarted) and e.step_id == step_id]
        finished = [i for i, e in enumerate(events) if isinstance(e, StepFinished) and e.step_id == step_id]
        hosts = [i for i, e in enumerate(events) if isinstance(e, HostFinished) and e.step_id == step_id]
        assert len(started) == len(finished) == 1
        assert started[0] < min(hosts) and max(hosts) < finished[0]


async def test_a_failed_worker_leaves_the_others_progress_and_resumes_alone(run, events, tmp_path):
    result, run_dir = await run(cluster_plan(prep_w1="echo broken\nexit 3"))
    assert result.status == "failed"
    assert (result.failed_step, result.failed_hosts) == ("prep", ("w1",))
    state = run_dir.load_state()
    assert "w2" in state.done_on("join") and "w1" not in state.done_on("join")
    assert "init" in state.finished_steps and "join" not in state.finished_steps
    (join_end,) = [e for e in events.of(StepFinished) if e.step_id == "join"]
    assert join_end.status == "cancelled"  # w2 joined, w1 never could

    events.clear()
    sessions = {h: FakeSession(h) for h in HOSTS}
    again, _ = await run(cluster_plan(), run_dir=RunDir.open(run_dir.path), resume_state=state, sessions=sessions)
    assert again.ok
    assert sessions["w2"].ran == ["echo facts"]  # only the preflight, which every run does again
    assert [s for s in sessions["w1"].ran] == ["echo facts", "sleep 0.05", "sleep 0.05"]
    skipped = {(e.step_id, e.host) for e in events.of(HostSkipped)}
    assert ("join", "w2") in skipped and ("init", "cp") in skipped


async def test_a_failure_on_the_control_plane_stops_what_needs_it(run, events):
    result, _ = await run(cluster_plan(init="exit 1"))
    assert (result.failed_step, result.failed_hosts) == ("init", ("cp",))
    ran = {e.step_id for e in events.of(HostFinished)}
    assert "join" not in ran and "verify" not in ran and "prep" in ran


async def test_a_plan_without_needs_runs_lock_step(run, events):
    plan = cluster_plan(prep_w1="sleep 0.3").lockstep()
    result, _ = await run(plan)
    assert result.ok
    assert span(events, "init", "cp")[0] >= span(events, "prep", "w1")[1]


async def test_a_quiet_host_says_it_is_still_running(run, events, monkeypatch):
    monkeypatch.setattr(hostwork, "QUIET_NOTE_EVERY", 0.1)
    plan = Plan("setup", [_step("images", "echo pulling\nsleep 0.35", hosts=("cp",))], ("cp",))
    await run(plan)
    notes = [e.line for e in events.of(HostLine) if e.stream == "kwizard"]
    assert notes and all(n.startswith("still running images: 0s, last output: pulling") for n in notes)
    assert 2 <= len(notes) <= 4


async def test_step_timeouts_replace_the_plans_and_the_message_names_the_setting(run, events, tmp_path):
    plan = Plan("setup", [_step("images", "sleep 5", hosts=("cp",), timeout=600)], ("cp",))
    runner = Runner(plan, {"cp": FakeSession("cp")}, run_dir=RunDir.create("setup", "lab", base=tmp_path / "r"),
                    step_timeouts={"images": 12})
    assert runner.plan.step("images").timeout == 12
    monkeypatch_grace = hostwork.TIMEOUT_GRACE
    try:
        hostwork.TIMEOUT_GRACE = 0.0
        result, _ = await run(plan, step_timeouts={"images": 0.1})
    finally:
        hostwork.TIMEOUT_GRACE = monkeypatch_grace
    assert result.status == "failed"
    (failed,) = events.of(HostFinished)
    assert "--step-timeout images=SECONDS" in failed.error and "cluster.step_timeouts" in failed.error


async def test_the_timeline_shows_waiting_apart_from_working(run, events):
    result, run_dir = await run(cluster_plan())
    hosts, all_bars, length = bars(events)
    assert hosts == list(HOSTS) and length > 0.3
    join = next(b for b in all_bars if b.host == "w1" and b.step_id == "join")
    assert join.waited_from is not None and join.waited_from < join.start
    lines = text_timeline(events)
    assert lines[0].startswith("timeline (") and any(line.strip().startswith("w1") and "join" in line for line in lines)
    svg = (run_dir.path / "timeline.svg").read_text()
    assert svg.startswith("<svg") and 'fill="url(#wait)"' in svg and "w2 join" in svg
    assert svg == svg_timeline([e for e in events if not isinstance(e, HostLine) or e.line.startswith("waiting")])


def test_every_plan_step_id_is_a_known_step_timeout():
    from kwizard.plan.reset import ResetOptions, build_reset_plan
    from kwizard.plan.setup import build_setup_plan
    from kwizard.profile.model import STEP_IDS, Profile

    profile = Profile.model_validate({
        "name": "t", "ssh": {"user": "u"},
        "hosts": [{"name": "cp", "address": "10.0.0.1", "role": "control-plane", "labels": {"a": "b"}},
                  {"name": "w", "address": "10.0.0.2", "role": "worker"}],
        "cluster": {"install_packages": True, "disable_swap": True, "schedule_on_control_plane": True,
                    "cni": "calico", "step_timeouts": {"images": 3600}},
    })
    ids = {s.id for s in build_setup_plan(profile).steps} | {s.id for s in build_setup_plan(profile, lockstep=True).steps}
    ids |= {s.id for s in build_reset_plan(profile, ResetOptions()).steps}
    assert ids <= set(STEP_IDS)
    with pytest.raises(Exception, match="no step 'image'"):
        Profile.model_validate({**json.loads(profile.model_dump_json()), "cluster": {"step_timeouts": {"image": 60}}})


def test_the_setup_plan_lets_workers_prepare_and_join_without_the_control_planes_readiness():
    from kwizard.plan.setup import build_setup_plan
    from kwizard.profile.model import Profile

    profile = Profile.model_validate({
        "name": "t", "ssh": {"user": "u"},
        "hosts": [{"name": "cp", "address": "10.0.0.1", "role": "control-plane"},
                  {"name": "w", "address": "10.0.0.2", "role": "worker"}],
        "cluster": {"install_packages": True},
    })
    plan = build_setup_plan(profile)
    needs = {s.id: {(n.step, n.on) for n in s.needs or ()} for s in plan.steps}
    assert needs["kernel"] == {("preflight", "all"), ("hosts-file", "same")}
    # a worker pulls its images once its packages are in, beside the control plane's images and init
    assert needs["node-images"] == {("preflight", "all"), ("packages", "same")}
    assert needs["join"] == {("preflight", "all"), ("node-images", "same"), ("join-command", "all")}
    assert needs["join-command"] == {("preflight", "all"), ("kubeconfig", "all")}
    assert "ready" not in needs and ("join", "all") in needs["verify"]
    # the plugin is applied from the manifest cni-fetch's `after` patches: its whole step, not only its part
    assert ("cni-fetch", "all") in needs["cni-apply"] and ("cni-fetch", "same") not in needs["cni-apply"]
    assert plan.step("packages").after is None and plan.step("packages").after_each is not None
    assert plan.step("node-images").hosts == ("w",) and "node-images" not in _ids(build_setup_plan(profile, lockstep=True))
    lone = Profile.model_validate({**profile.model_dump(), "hosts": profile.model_dump()["hosts"][:1]})
    assert "node-images" not in _ids(build_setup_plan(lone))  # no worker, nothing to pre-pull
    without_packages = Profile.model_validate({**profile.model_dump(), "cluster": {"install_packages": False}})
    needs = {s.id: {(n.step, n.on) for n in s.needs or ()} for s in build_setup_plan(without_packages).steps}
    assert ("packages", "same") not in needs["node-images"]  # the closest preparation step the plan has instead


def _ids(plan) -> list[str]:
    return [s.id for s in plan.steps]


async def test_a_resume_after_a_finished_step_goes_on_from_it_on_the_same_host(run, events):
    plan = Plan("setup", [_step("a"), _step("b", per_host={"w1": "exit 1"}, needs=on_same_host("a"))], HOSTS)
    failed, run_dir = await run(plan)
    assert failed.failed_hosts == ("w1",)
    fixed = Plan("setup", [_step("a"), _step("b", needs=on_same_host("a"))], HOSTS)
    again, _ = await asyncio.wait_for(run(fixed, run_dir=RunDir.open(run_dir.path), resume_state=run_dir.load_state()), 5)
    assert again.ok
