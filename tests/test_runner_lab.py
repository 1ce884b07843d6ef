"""The runner over real SSH against the lab: the issue's Must-show lines.

Each test opens real sessions (kwizard.ssh.Fleet) to lab hosts and runs small
plans; the run directory lands in tmp_path and is read back byte for byte.
"""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from kwizard.run.events import HostFinished, HostLine, HostSkipped, StepFinished
from kwizard.run.rundir import RunDir
from kwizard.run.runner import Runner
from kwizard.ssh import Fleet
from kwizard.plan.steps import Plan, Step
from kwizard.plan.context import RemoteScript
from tests.lab.naming import SIM_BIN
from tests.lab.scenario import HostOptions, Scenario

pytestmark = pytest.mark.lab

TOKEN_ID, TOKEN_SECRET = "k8wzrd", "0123456789abcdef"
CERT_KEY = "f" * 16 + "0123456789abcdef" * 3
SUDO_PASSWORD = "lab-Pw-7q!x"


class Recorder(list):
    def __call__(self, event) -> None:
        self.append(event)

    def of(self, kind):
        return [e for e in self if isinstance(e, kind)]


def plain(text: str, probe: str | None = None, **kwargs):
    """Step arguments for one script on every host (and an optional probe)."""
    made = {"script": lambda ctx, host: RemoteScript(text)}
    if probe is not None:
        made["probe"] = lambda ctx, host: RemoteScript(probe)
    return made | kwargs


async def run_plan(
    lab, steps, tmp_path, *, run_dir=None, resume=False, sudo_password=None, runners=None, **runner_args
):
    """One run of `steps` on every lab host over a fresh fleet; returns (result, events).

    `runners`, when given, receives the Runner (to cancel it from the test).
    """
    profile = lab.profile()
    plan = Plan(name="setup", steps=steps, hosts=tuple(h.name for h in profile.hosts))
    events = Recorder()
    run_dir = run_dir or RunDir.create("setup", profile.name, base=tmp_path / "runs")
    async with Fleet(profile, sudo_password=sudo_password, ssh_config=[], use_agent=False) as fleet:
        opened = await fleet.open_all()
        sessions = {name: s for name, s in opened.items() if not isinstance(s, Exception)}
        assert len(sessions) == len(opened), opened
        runner = Runner(plan, sessions, run_dir=run_dir, secrets=fleet.secrets, listeners=[events], **runner_args)
        if runners is not None:
            runners.append(runner)
        result = await runner.run(resume_state=run_dir.load_state() if resume else None)
    return result, events


async def eventually(check, within: float = 10.0) -> bool:
    """Poll a (blocking) lab check off the event loop until it holds or time runs out."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await asyncio.to_thread(check):
            return True
        await asyncio.sleep(0.1)
    return False


def needs_simulated_kubeadm(lab) -> None:
    """The lab's hang/cut faults fire inside its simulated tools (kubeadm here), not in plain shell commands."""
    assert lab.exec(0, "command -v kubeadm").returncode == 0, "the lab host has no simulated kubeadm"


def names(lab) -> tuple[str, ...]:
    return tuple(h.name for h in lab.profile().hosts)


def everything_in(run_dir: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file())


async def test_sudo_password_appears_nowhere_in_the_run(lab_factory, tmp_path):
    lab = lab_factory(hosts=2, scenario=Scenario(default=HostOptions(sudo_password=SUDO_PASSWORD)))
    steps = [
        Step("whoami", "Who am I", names(lab), **plain("id -u; sudo -n true && echo passwordless || echo asked")),
        # A careless script that prints the password, on both streams and in a failure.
        Step("careless", "Careless", names(lab),
             **plain(f"echo 'pw={SUDO_PASSWORD}'; echo '{SUDO_PASSWORD}' >&2; exit 3")),
    ]
    result, events = await run_plan(lab, steps, tmp_path, sudo_password=SUDO_PASSWORD)

    assert result.failed_step == "careless"
    uid_lines = [e.line for e in events.of(HostLine) if e.step_id == "whoami" and e.stream == "stdout"]
    assert uid_lines.count("0") == 2  # the steps really ran as root, through the password
    assert "pw=<masked>" in {e.line for e in events.of(HostLine)}
    assert SUDO_PASSWORD.encode() not in everything_in(result.run_dir)
    assert all(SUDO_PASSWORD not in e.to_json() for e in events)


async def test_a_printed_bootstrap_token_is_masked_in_every_event_and_file(lab3, tmp_path):
    token = f"{TOKEN_ID}.{TOKEN_SECRET}"
    join = f"kubeadm join 10.0.0.1:6443 --token {token} --discovery-token-ca-cert-hash sha256:{'a' * 64}"
    steps = [
        Step("print", "Print", names(lab3), **plain(f"echo '{join}'; echo 'token {token}' >&2")),
        Step("upload", "Upload certs", names(lab3)[:1],
             **plain(f"echo '[upload-certs] Using certificate key:'; echo {CERT_KEY}; echo {token} | rev | rev; exit 1",
                     diagnose=lambda tail: f"the last lines were: {tail}")),
    ]  # fmt: skip
    result, events = await run_plan(lab3, steps, tmp_path)

    assert result.failed_step == "upload"
    written = everything_in(result.run_dir)
    for secret in (TOKEN_SECRET, CERT_KEY):
        assert secret.encode() not in written
        assert all(secret not in e.to_json() for e in events)
    assert f"{TOKEN_ID}.<masked>".encode() in written  # the token id stays readable, as kubeadm token list shows it
    printed = [e.line for e in events.of(HostLine) if e.step_id == "print"]
    assert len(printed) == 6 and all("<masked>" in line for line in printed)
    assert "<masked>" in events.of(StepFinished)[-1].diagnosis


async def test_a_hanging_command_is_killed_at_its_timeout(lab_factory, tmp_path):
    lab = lab_factory(hosts=2)
    needs_simulated_kubeadm(lab)
    lab.set_fault(0, "hang", "kubeadm config images pull")
    steps = [Step("images", "Images", names(lab), timeout=3.0, **plain("echo pulling; kubeadm config images pull"))]
    # image[s]: the pattern must not match the shell that runs pgrep itself.
    hung_pull = "pgrep -f 'kubeadm config image[s] pull'"
    run = asyncio.create_task(run_plan(lab, steps, tmp_path))
    assert await eventually(lambda: lab.exec(0, hung_pull).returncode == 0), "the command never started"
    result, events = await run

    assert (result.status, result.failed_hosts) == ("failed", (names(lab)[0],))
    hung = next(e for e in events.of(HostFinished) if not e.ok)
    assert "did not finish within 3s" in hung.error and hung.exit_status is None
    assert 3.0 <= hung.duration < 15.0
    assert await eventually(lambda: lab.exec(0, hung_pull).returncode == 1), "the hung command still runs"


async def test_a_timeout_kills_everything_the_script_started(lab_factory, tmp_path):
    lab = lab_factory(hosts=1)
    steps = [Step("stuck", "Stuck", names(lab), timeout=2.0, **plain("sleep 4242 & sleep 4243; wait"))]
    both_sleeps = "test $(pgrep -fc 'sleep 424[23]') -eq 2"
    run = asyncio.create_task(run_plan(lab, steps, tmp_path))
    assert await eventually(lambda: lab.exec(0, both_sleeps).returncode == 0), "the script never started"
    result, events = await run

    assert result.failed_step == "stuck"
    assert "did not finish within 2s" in events.of(HostFinished)[0].error
    assert await eventually(lambda: lab.exec(0, "pgrep -f 'sleep 424[23]'").returncode == 1), "a child survived"


async def test_cancel_stops_the_remote_commands_and_leaves_a_resumable_state(lab_factory, tmp_path):
    lab = lab_factory(hosts=2)
    steps = [
        Step("long", "Long", names(lab), **plain("sleep 4244")),
        Step("later", "Later", names(lab), **plain("echo later")),
    ]
    runners: list[Runner] = []
    run = asyncio.create_task(run_plan(lab, steps, tmp_path, runners=runners))
    sleeping = "pgrep -f 'sleep 424[4]'"
    assert await eventually(lambda: all(lab.exec(i, sleeping).returncode == 0 for i in (0, 1)))
    runners[0].cancel()
    result, events = await asyncio.wait_for(run, 15)

    assert result.status == "cancelled"
    assert await eventually(lambda: all(lab.exec(i, sleeping).returncode == 1 for i in (0, 1))), "still running"
    state = RunDir.open(result.run_dir).load_state()
    assert (state.status, state.finished_steps, state.resumable) == ("cancelled", [], True)


# The lab's own hook for dropping the SSH connection that serves the calling process.
CUT_HERE = f"python3 -c 'import sys; sys.path.insert(0, \"{SIM_BIN}\"); import common; common.cut_connection()'"


def cut_connection_on_host_0(lab, how: str) -> tuple[str, Callable[[], object]]:
    """Arrange a cut of host 0's connection mid-step; returns (the step's cutting command, how to undo it).

    "fault": the lab's `cut_during` fault, fired by its simulated kubeadm.
    "script": the same lab hook called straight from the script, so this does not wait on the simulators.
    """
    if how == "fault":
        needs_simulated_kubeadm(lab)
        lab.set_fault(0, "cut_during", "kubeadm config images pull")
        return "kubeadm config images pull", lambda: lab.clear_fault(0, "cut_during")
    lab.exec(0, "touch /root/cut-me")
    return f"if [ -e /root/cut-me ]; then {CUT_HERE}; sleep 10; fi", lambda: lab.exec(0, "rm /root/cut-me")


@pytest.mark.parametrize("how", ["fault", "script"])
async def test_a_cut_connection_fails_that_host_and_resume_continues_from_that_step(lab3, tmp_path, how):
    cutting, undo_cut = cut_connection_on_host_0(lab3, how)
    counting = "echo x >> /root/ran-{step}; wc -l < /root/ran-{step}"
    steps = [
        Step("prepare", "Prepare", names(lab3), **plain(counting.format(step="prepare"))),
        Step("init", "Init", names(lab3), **plain(counting.format(step="init") + f"; {cutting}")),
        Step("after", "After", names(lab3), **plain(counting.format(step="after"))),
    ]
    first, events = await run_plan(lab3, steps, tmp_path)

    cut_host = names(lab3)[0]
    assert (first.status, first.failed_step, first.failed_hosts) == ("failed", "init", (cut_host,))
    by_host = {e.host: e for e in events.of(HostFinished) if e.step_id == "init"}
    assert "connection was lost" in by_host[cut_host].error
    assert all(by_host[h].ok for h in names(lab3)[1:])
    assert "after" not in {e.step_id for e in events.of(HostLine)}

    undo_cut()
    run_dir = RunDir.open(first.run_dir)
    second, events = await run_plan(lab3, steps, tmp_path, run_dir=run_dir, resume=True)

    assert second.ok
    assert [(s.step_id, s.status) for s in events.of(StepFinished)] == [
        ("prepare", "skipped"), ("init", "done"), ("after", "done"),
    ]  # fmt: skip
    assert {(e.step_id, e.host) for e in events.of(HostSkipped) if e.step_id == "init"} == {
        ("init", h) for h in names(lab3)[1:]
    }
    for index in range(3):
        assert lab3.exec(index, "cat /root/ran-prepare").stdout.count("x") == 1  # never twice
        assert lab3.exec(index, "cat /root/ran-after").stdout.count("x") == 1
    assert lab3.exec(0, "cat /root/ran-init").stdout.count("x") == 2  # cut once, then again on resume
    assert lab3.exec(1, "cat /root/ran-init").stdout.count("x") == 1


async def test_probe_skip_and_bounded_concurrency_over_ssh(lab3, tmp_path):
    lab3.exec(1, "touch /root/kernel-done")
    steps = [
        Step("kernel", "Kernel", names(lab3), **plain("touch /root/kernel-done", probe="test -f /root/kernel-done")),
        Step("one-by-one", "One by one", names(lab3), **plain("sleep 0.4")),
    ]
    result, events = await run_plan(lab3, steps, tmp_path, concurrency=1)

    assert result.ok
    assert [e.host for e in events.of(HostSkipped)] == [names(lab3)[1]]
    assert lab3.exec(0, "test -f /root/kernel-done").returncode == 0
    finished = sorted(e.at for e in events.of(HostFinished) if e.step_id == "one-by-one")
    durations = [e.duration for e in events.of(HostFinished) if e.step_id == "one-by-one"]
    assert finished[-1] - finished[0] >= 2 * 0.4 * 0.95  # one host at a time
    assert min(durations) >= 0.4


async def test_stop_at_first_failure_and_continue_on_error_over_ssh(lab_factory, tmp_path):
    lab = lab_factory(hosts=2)
    steps = [
        Step("breaks", "Breaks", names(lab), **plain("echo no; exit 7")),
        Step("next", "Next", names(lab), **plain("echo reached")),
    ]
    stopped, events = await run_plan(lab, steps, tmp_path)
    assert stopped.failed_step == "breaks" and "next" not in {e.step_id for e in events.of(StepFinished)}
    assert {e.exit_status for e in events.of(HostFinished)} == {7}

    going_on, events = await run_plan(lab, steps, tmp_path, continue_on_error=True)
    assert [(s.step_id, s.status) for s in events.of(StepFinished)] == [("breaks", "failed"), ("next", "done")]
    assert going_on.status == "failed"


async def test_the_run_directory_is_private(lab_factory, tmp_path):
    lab = lab_factory(hosts=1)
    result, _ = await run_plan(lab, [Step("hello", "Hello", names(lab), **plain("echo hi"))], tmp_path)
    paths = [result.run_dir, *result.run_dir.rglob("*")]
    assert {p.name for p in paths} >= {"events.jsonl", "state.json", f"{names(lab)[0]}.log", "hosts"}
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
