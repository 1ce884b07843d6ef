"""The runner's own logic, over an in-process fake session (no SSH).

The promises that depend on real SSH — timeouts killing remote commands,
connections cut mid-step, sudo passwords — are proven against the lab in
test_runner_lab.py. Here: ordering, skipping, the concurrency bound,
failure handling, cancellation, resume and masking of what steps print.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from kwizard.run.events import Note, HostFinished, HostLine, HostSkipped, RunFinished, RunStarted, StepFinished, StepStarted
from kwizard.run.rundir import RunDir
from kwizard.run.runner import Runner
from kwizard.ssh.errors import ConnectionLost
from kwizard.plan.steps import Plan, Step, StepFailed
from kwizard.plan.context import RemoteScript
from kwizard.plan.decide import join_command_text

TOKEN = "abcdef.0123456789abcdef"
TOKEN_SECRET = "0123456789abcdef"
PASSWORD = "hunter2-Sup3r"


class FakeSession:
    """Runs a tiny script language: `echo TEXT`, `err TEXT`, `sleep S`, `exit N`, `lose TEXT`, `crash TEXT`."""

    def __init__(self, host: str, gauge: Gauge | None = None):
        self.host = host
        self.gauge = gauge or Gauge()
        self.ran: list[str] = []
        self.cancelled = False

    async def run(self, script: RemoteScript, on_line, timeout=None) -> int:
        self.ran.append(script.script)
        with self.gauge:
            try:
                return await self._interpret(script.script, on_line)
            except asyncio.CancelledError:
                self.cancelled = True  # the real session kills the remote process here
                raise

    async def capture(self, script: RemoteScript, timeout=None):
        out: list[str] = []
        code = await self.run(script, lambda stream, line: out.append(line))
        return code, "\n".join(out), ""

    async def upload(self, path, content, mode=0o644, sudo=True):
        raise NotImplementedError

    async def download(self, path, sudo=True):
        raise NotImplementedError

    async def _interpret(self, text: str, on_line) -> int:
        for command in text.splitlines():
            verb, _, arg = command.strip().partition(" ")
            if verb == "echo":
                on_line("stdout", arg)
            elif verb == "err":
                on_line("stderr", arg)
            elif verb == "sleep":
                await asyncio.sleep(float(arg))
            elif verb == "exit":
                return int(arg)
            elif verb == "lose":
                raise ConnectionLost(self.host, arg, "check the network")
            elif verb == "crash":
                raise RuntimeError(arg)
        return 0


class Gauge:
    """Counts sessions working at the same time."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    def __enter__(self) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        self.now -= 1


def script(text: str, per_host: dict[str, str] | None = None):
    """A ScriptFor: the same text on every host, or per-host overrides."""
    return lambda ctx, host: RemoteScript((per_host or {}).get(host, text))


def step(step_id: str, text: str = "echo ok", hosts=("a", "b"), **kwargs) -> Step:
    return Step(id=step_id, title=step_id.title(), hosts=tuple(hosts), script=script(text), **kwargs)


class Recorder(list):
    def __call__(self, event) -> None:
        self.append(event)

    def of(self, kind):
        return [e for e in self if isinstance(e, kind)]


@pytest.fixture
def events() -> Recorder:
    return Recorder()


@pytest.fixture
def make_runner(tmp_path, events):
    def make(steps, hosts=("a", "b"), sessions=None, run_dir=None, **kwargs) -> Runner:
        plan = Plan(name="setup", steps=list(steps), hosts=tuple(hosts))
        sessions = sessions or {h: FakeSession(h) for h in hosts}
        run_dir = run_dir or RunDir.create("setup", "lab", base=tmp_path / "runs")
        return Runner(plan, sessions, run_dir=run_dir, listeners=[events], **kwargs)

    return make


def everything_written(run_dir: Path) -> str:
    return "\n".join(p.read_text() for p in run_dir.rglob("*") if p.is_file())


async def test_steps_run_in_order_and_report_each_host(make_runner, events):
    runner = make_runner([step("one", "echo hello"), step("two", "err careful")])
    result = await runner.run()

    assert result.ok and result.failed_step is None
    kinds = [type(e) for e in events if not isinstance(e, (HostLine, HostFinished))]
    assert kinds == [RunStarted, StepStarted, StepFinished, StepStarted, StepFinished, RunFinished]
    assert {(e.host, e.line, e.stream) for e in events.of(HostLine) if e.step_id == "one"} == {
        ("a", "hello", "stdout"),
        ("b", "hello", "stdout"),
    }
    finished = events.of(HostFinished)
    assert all(f.ok and f.exit_status == 0 and f.remote_duration <= f.duration for f in finished)
    assert [s.status for s in events.of(StepFinished)] == ["done", "done"]
    assert events[-1].status == "succeeded"


async def test_host_lines_reach_the_host_logs_and_events_jsonl(make_runner):
    runner = make_runner([step("one", "echo hello\nerr careful", hosts=("a",))], hosts=("a",))
    result = await runner.run()
    log = (result.run_dir / "hosts" / "a.log").read_text().splitlines()
    assert [line[9:] for line in log] == ["[one] hello", "[one] [stderr] careful"]
    recorded = [json.loads(line) for line in (result.run_dir / "events.jsonl").read_text().splitlines()]
    assert recorded[0]["event"] == "RunStarted" and recorded[-1]["event"] == "RunFinished"


async def test_concurrency_is_bounded(make_runner):
    hosts = tuple(f"h{i}" for i in range(10))
    gauge = Gauge()
    sessions = {h: FakeSession(h, gauge) for h in hosts}
    runner = make_runner([step("slow", "sleep 0.05", hosts=hosts)], hosts=hosts, sessions=sessions, concurrency=3)
    assert (await runner.run()).ok
    assert gauge.most == 3


async def test_a_probe_that_says_done_skips_the_host(make_runner, events):
    probe = script("exit 1", per_host={"a": "exit 0"})
    sessions = {h: FakeSession(h) for h in ("a", "b")}
    runner = make_runner([step("kernel", "echo work", probe=probe)], sessions=sessions)
    assert (await runner.run()).ok
    assert [(e.host, e.reason) for e in events.of(HostSkipped)] == [("a", "already done")]
    assert sessions["a"].ran == ["exit 0"]  # the probe only
    assert sessions["b"].ran == ["exit 1", "echo work"]
    assert events.of(StepFinished)[0].status == "done"


async def test_a_step_skipped_everywhere_is_skipped(make_runner, events):
    runner = make_runner([step("kernel", probe=script("exit 0")), Step("local", "Local work only", ("a", "b"))])
    assert (await runner.run()).ok
    # A step with nothing to run on its hosts did its (kwizard-side) work: done, not skipped.
    assert [s.status for s in events.of(StepFinished)] == ["skipped", "done"]
    assert [e.host for e in events.of(HostSkipped)] == ["a", "b"], "only the probed step skips hosts"


async def test_the_run_stops_at_the_first_failed_step(make_runner, events):
    failing = Step("two", "Two", ("a", "b"), script=script("echo ok", per_host={"b": "echo broken\nexit 3"}))
    runner = make_runner([step("one"), failing, step("three")])
    result = await runner.run()

    assert (result.status, result.failed_step, result.failed_hosts) == ("failed", "two", ("b",))
    assert "three" not in {e.step_id for e in events.of(StepStarted)}
    bad = next(e for e in events.of(HostFinished) if e.host == "b" and e.step_id == "two")
    assert (bad.ok, bad.exit_status, bad.error) == (False, 3, "exited with status 3")
    assert events.of(StepFinished)[-1].failed_hosts == ("b",)
    assert events[-1] == RunFinished(
        status="failed", duration=events[-1].duration, failed_step="two", failed_hosts=("b",),
        run_dir=str(result.run_dir), at=events[-1].at,
    )  # fmt: skip


async def test_continue_on_error_runs_the_rest_and_still_fails(make_runner, events):
    runner = make_runner([step("one", "exit 1"), step("two")], continue_on_error=True)
    result = await runner.run()
    assert [s.status for s in events.of(StepFinished)] == ["failed", "done"]
    assert (result.status, result.failed_step) == ("failed", "one")


async def test_a_session_error_fails_that_host_only(make_runner, events):
    lossy = Step("join", "Join", ("a", "b"), script=script("echo ok", per_host={"a": "echo half\nlose link went away"}))
    result = await make_runner([lossy]).run()
    assert result.failed_hosts == ("a",)
    by_host = {e.host: e for e in events.of(HostFinished)}
    assert by_host["b"].ok
    assert (by_host["a"].ok, by_host["a"].exit_status) == (False, None)
    assert by_host["a"].error == "a: link went away (fix: check the network)"
    notes = [e.line for e in events.of(HostLine) if e.stream == "kwizard"]
    assert notes == ["a: link went away (fix: check the network)"]


async def test_an_unexpected_error_is_reported_with_its_type(make_runner, events):
    result = await make_runner([step("one", "crash disk on fire", hosts=("a",))], hosts=("a",)).run()
    assert result.status == "failed"
    assert events.of(HostFinished)[0].error == "RuntimeError: disk on fire"


async def test_a_host_without_a_session_fails_clearly(make_runner, events):
    runner = make_runner([step("one", hosts=("a", "ghost"))], sessions={"a": FakeSession("a")})
    result = await runner.run()
    assert result.failed_hosts == ("ghost",)
    assert events.of(HostFinished)[-1].error == "no open connection to ghost"


async def test_a_script_that_cannot_be_built_fails_the_host(make_runner, events):
    needs_value = Step("join", "Join", ("a",), script=lambda ctx, host: RemoteScript(join_command_text(ctx)))
    result = await make_runner([needs_value], hosts=("a",)).run()
    assert result.status == "failed"
    assert events.of(HostFinished)[0].error == (
        "the script needs the join command, which no earlier step of this run has set"
    )


async def test_after_work_runs_once_every_host_succeeded(make_runner, events):
    seen = []

    async def after(ctx):
        seen.append((await ctx.session("a")).host)
        ctx.outcome.kubeconfig_path = Path("lab.conf")

    runner = make_runner([step("init", after=after), step("fails", "exit 1", after=after)])
    result = await runner.run()
    assert seen == ["a"]
    assert result.outcome.kubeconfig_path == Path("lab.conf")


async def test_step_failed_in_after_work_fails_the_step_with_its_message(make_runner, events):
    async def after(ctx):
        ctx.note("a", "checking the CA hash")
        raise StepFailed("the CA hash does not match")

    diagnosed = []

    def diagnose(tail: str) -> str:
        diagnosed.append(tail)
        return "re-run init"

    runner = make_runner([step("join", "echo joined", after=after, diagnose=diagnose), step("later")])
    result = await runner.run()
    assert result.failed_step == "join"
    notes = [(e.host, e.line) for e in events.of(HostLine) if e.stream == "kwizard"]
    assert notes == [("a", "checking the CA hash"), ("a", "the CA hash does not match")]
    finished = events.of(StepFinished)[-1]
    assert (finished.status, finished.diagnosis) == ("failed", "re-run init")
    assert "the CA hash does not match" in diagnosed[0] and "joined" in diagnosed[0]


async def test_diagnose_reads_the_tail_of_the_failed_hosts(make_runner, events):
    noisy = "\n".join(f"echo line {i}" for i in range(100)) + "\necho pod cidr not assigned\nexit 1"
    failing = Step(
        "ready", "Ready", ("a", "b"),
        script=script("echo fine", per_host={"b": noisy}),
        diagnose=lambda tail: "no pod CIDR" if "pod cidr not assigned" in tail and "fine" not in tail else None,
    )  # fmt: skip
    await make_runner([failing]).run()
    assert events.of(StepFinished)[0].diagnosis == "no pod CIDR"


async def test_a_broken_listener_does_not_stop_the_run(make_runner, events):
    def broken(event):
        raise RuntimeError("face bug")

    runner = make_runner([step("one")])
    runner.add_listener(broken)
    assert (await runner.run()).ok


async def test_cancel_stops_running_commands_and_leaves_a_resumable_state(make_runner, events):
    sessions = {h: FakeSession(h) for h in ("a", "b")}
    runner = make_runner([step("quick"), step("slow", "echo started\nsleep 30"), step("never")], sessions=sessions)
    task = asyncio.create_task(runner.run())
    while not any(isinstance(e, HostLine) and e.step_id == "slow" for e in events):
        await asyncio.sleep(0.01)
    runner.cancel()
    result = await asyncio.wait_for(task, 5)

    assert result.status == "cancelled"
    assert all(s.cancelled for s in sessions.values())
    assert [e.error for e in events.of(HostFinished) if e.step_id == "slow"] == ["cancelled", "cancelled"]
    assert events.of(StepFinished)[-1].status == "cancelled"
    assert events[-1].status == "cancelled"
    state = RunDir.open(result.run_dir).load_state()
    assert (state.status, state.finished_steps, state.resumable) == ("cancelled", ["quick"], True)


async def test_cancelling_the_task_from_outside_still_records_the_state(make_runner, events):
    runner = make_runner([step("slow", "sleep 30")])
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert events[-1].status == "cancelled"
    assert RunDir.open(runner.run_dir.path).load_state().status == "cancelled"


async def test_resume_skips_finished_steps_and_hosts_and_reruns_the_rest(make_runner, events, tmp_path):
    flaky = {"b": "exit 1"}
    steps = [
        step("done-before"),
        step("secret", "echo token", rerun_on_resume=True),
        Step("flaky", "Flaky", ("a", "b"), script=lambda ctx, host: RemoteScript(flaky.get(host, "echo ok"))),
        step("last"),
    ]
    first = await make_runner(steps).run()
    assert first.failed_step == "flaky"
    state = RunDir.open(first.run_dir).load_state()
    assert state.finished_steps == ["done-before"]  # "secret" is never trusted as done
    assert state.done_on("flaky") == {"a"}

    flaky.clear()
    events.clear()
    sessions = {h: FakeSession(h) for h in ("a", "b")}
    run_dir = RunDir.open(first.run_dir)
    second = await make_runner(steps, sessions=sessions, run_dir=run_dir).run(resume_state=run_dir.load_state())

    assert second.ok
    assert [(s.step_id, s.status) for s in events.of(StepFinished)] == [
        ("done-before", "skipped"), ("secret", "done"), ("flaky", "done"), ("last", "done"),
    ]  # fmt: skip
    skipped = {(e.step_id, e.host) for e in events.of(HostSkipped)}
    assert skipped == {("done-before", "a"), ("done-before", "b"), ("flaky", "a")}
    assert sessions["a"].ran == ["echo token", "echo ok"]
    assert RunDir.open(first.run_dir).load_state().status == "succeeded"


async def test_resume_refuses_a_state_from_another_plan(make_runner):
    runner = make_runner([step("one")])
    state = runner.run_dir.load_state()
    state.plan = "reset"
    with pytest.raises(ValueError, match="cannot resume a 'reset' run"):
        await runner.run(resume_state=state)


async def test_secrets_are_masked_in_every_event_and_file(make_runner, events):
    join_token = "zyxwvu.zyxwvutsrqponmlk"

    async def learn_token(ctx):
        ctx.add_secret("s3cr3t-learned")
        ctx.note("a", "learned s3cr3t-learned")
        raise StepFailed(f"password {PASSWORD} refused for token {join_token}")

    printing = f"echo token {TOKEN} and password {PASSWORD}\nerr {PASSWORD}\nlose lost while sending {PASSWORD}"
    steps = [
        step("print", f"echo kubeadm join --token {TOKEN}\necho {join_token}", after=learn_token,
             diagnose=lambda tail: f"diagnosis quoting {PASSWORD}"),
    ]  # fmt: skip
    runner = make_runner(steps, secrets=[PASSWORD], continue_on_error=True)
    runner.plan.steps.append(step("lossy", printing, diagnose=lambda tail: tail))
    result = await runner.run()

    written = everything_written(result.run_dir)
    seen = "\n".join(e.to_json() for e in events)
    for text in (written, seen):
        for secret in (TOKEN_SECRET, PASSWORD, "zyxwvutsrqponmlk", "s3cr3t-learned"):
            assert secret not in text
        assert "abcdef.<masked>" in text and "learned <masked>" in text
    assert PASSWORD not in repr(result)


async def test_a_short_password_is_named_once_and_kwizards_own_text_stays_readable(make_runner, events):
    steps = [step("images", "echo pulled registry.k8s.io/kube-apiserver:v1.33.2\necho kube")]
    result = await make_runner(steps, secrets=["kube"]).run()
    notes = [e.message for e in events.of(Note)]
    assert len(notes) == 1 and "shorter than 8 characters" in notes[0] and "kube" not in notes[0]
    lines = [e.line for e in events.of(HostLine)]
    assert "pulled registry.k8s.io/kube-apiserver:v1.33.2" in lines  # not registry.k8s.io/<masked>-apiserver
    assert "<masked>" in lines and "kube" not in lines  # the password standing alone is masked
    assert result.ok


async def test_a_long_password_gets_no_note(make_runner, events):
    await make_runner([step("s", "echo hi")], secrets=["a-long-enough-secret"]).run()
    assert events.of(Note) == []
