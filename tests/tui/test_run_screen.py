"""The run screen with scripted runs: retry, skip, abort, cancel, quit, search, and 50,000 lines."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from pathlib import Path

from kwizard.run.outcome import RunOutcome as Leftovers  # the engine's; RunOutcome below is the run screen's
from kwizard.run.runner import RunResult
from kwizard.run.events import HostFinished, HostLine, RunFinished, StepFinished, StepStarted
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.run.done import DoneScreen
from kwizard.screens.widgets.log_pane import MAX_LINES, LogArea
from kwizard.screens.run.screen import RunScreen
from kwizard.screens.run.launch import RunOutcome

from .drive import screen_text
from .run_fakes import (
    HOLD,
    RUN_DIR,
    FakeClock,
    ScreenHarness,
    ScriptedLauncher,
    failing_join,
    fixed_join,
    fixed_nodes,
    retry_after_join,
    run_started,
    seed_profile,
    step_done,
    up_to_images,
)
from kwizard.plan.setup import build_setup_plan


def make(scripts, outcome=None):
    profile = seed_profile()
    launcher = ScriptedLauncher(profile, [s(profile) if callable(s) else s for s in scripts])
    launcher.outcome = outcome or Leftovers()
    screen = RunScreen(launcher, clock=launcher.clock)
    return ScreenHarness(screen), screen, launcher


async def wait_run(pilot, screen: RunScreen) -> None:
    for _ in range(200):
        await pilot.pause(0.02)
        if not screen.is_running:
            break
    screen.query_one(LogArea).flush()
    await pilot.pause()


def done_values():
    return Leftovers(fixed_join(), Path("k.conf"), tuple(fixed_nodes()))


async def test_failure_then_retry_resumes_the_same_run_and_reaches_the_done_screen():
    app, screen, launcher = make([failing_join, retry_after_join], done_values())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_run(pilot, screen)
        failure = screen.progress.failure
        assert failure is not None and failure.step_id == "join" and failure.hosts == ("kubenode-2",)
        text = str(screen.query_one("#failure-text").render())
        assert "Join the workers" in text and "kubenode-2" in text and "connection was lost" in text
        await pilot.press("r")
        await wait_run(pilot, screen)
        assert launcher.runs == [None, Path(RUN_DIR)], "the retry continues the failed run's folder"
        assert isinstance(app.screen, DoneScreen)
        timeline = str(app.screen.query_one("#timeline").render())
        assert timeline.startswith("timeline (") and "kubenode-2" in timeline, "the done screen ends with the run's timeline"
        await pilot.press("escape")  # finish
        await pilot.pause()
    assert app.outcomes == [RunOutcome("setup", "succeeded", Path(RUN_DIR))]


async def test_skip_warns_then_marks_the_step_and_resumes():
    app, screen, launcher = make([failing_join, retry_after_join], done_values())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_run(pilot, screen)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "Warning" in str(app.screen.query_one("Static").render())
        await pilot.press("y")
        await wait_run(pilot, screen)
        assert launcher.skipped == ["join"]
        assert len(launcher.runs) == 2


async def test_abort_leaves_the_run_resumable():
    app, screen, launcher = make([failing_join])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_run(pilot, screen)
        await pilot.press("a")
        await pilot.pause()
    (outcome,) = app.outcomes
    assert outcome.status == "failed" and outcome.resumable and outcome.run_dir == Path(RUN_DIR)


async def test_cancel_asks_first_then_stops_the_run():
    app, screen, launcher = make([lambda p: up_to_images(p) + [HOLD]])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")  # keep running
        await pilot.pause(0.05)
        assert screen.is_running and not launcher.cancelled
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await wait_run(pilot, screen)
        assert launcher.cancelled
        assert screen.progress.status == "cancelled"
        assert "resume" in str(screen.query_one("#run-finished-text").render())
        await pilot.press("escape")
        await pilot.pause()
    assert app.outcomes[0].status == "cancelled" and app.outcomes[0].resumable


async def test_quitting_mid_run_asks_and_cancels_before_leaving():
    app, screen, launcher = make([lambda p: up_to_images(p) + [HOLD]])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal), "quitting mid-run asks first"
        await pilot.press("y")
        await pilot.pause(0.3)
        assert launcher.cancelled
    assert app.return_code == 0 or app.return_code is None


async def test_per_host_panes_hold_that_hosts_lines_and_all_hosts_prefixes_them():
    app, screen, launcher = make([failing_join])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_run(pilot, screen)
        logs = screen.query_one(LogArea)
        node1 = "\n".join(logs.log_for("kubenode-1").lines)
        everyone = list(logs.log_for("all").lines)
        assert "[config/images]" not in node1, "the control plane's lines stay in its own pane"
        assert "[kubenode-2] [preflight] Running pre-flight checks" in everyone
        assert "[kubemaster-1] [config/images] Pulled registry.k8s.io/etcd:3.5.21-0" in everyone


async def test_search_jumps_to_the_matching_line():
    app, screen, launcher = make([failing_join])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_run(pilot, screen)
        logs = screen.query_one(LogArea)
        logs.show_host("all")
        await pilot.pause()
        await pilot.press("slash")  # from anywhere on the screen (the Retry button has focus)
        await pilot.press(*"etcd")
        await pilot.press("enter")
        await pilot.pause()
        count = str(screen.query_one("#search-count").render())
        assert "1 lines match" in count
        log = logs.active_log()
        line = int(count.split()[1]) - 1
        assert "etcd" in log.lines[line]
        await pilot.press("escape")  # closes the search, does not cancel or leave
        await pilot.pause()
        assert not screen.query_one("#log-search").has_class("-open")
        assert app.screen is screen


def flood_app(total: int, chunk: int = 250, go: asyncio.Event | None = None):
    """A run whose one step prints `total` lines on the control plane, `chunk` lines every 5 ms, once `go` is set."""
    profile = seed_profile()
    cp = profile.hosts[0].name
    streamed = asyncio.Event()

    class FloodLauncher(ScriptedLauncher):
        async def run(self, listener, run_dir):
            listener(run_started(profile))
            listener(StepStarted("packages", "Install packages", (cp,)))
            if go is not None:
                await go.wait()
            for start in range(0, total, chunk):  # asyncssh hands lines over in bursts like this
                for n in range(start, start + chunk):
                    listener(HostLine("packages", cp, f"Get:{n} http://archive.ubuntu.com/ubuntu noble/main amd64 libfoo{n} [{n} B]"))
                await asyncio.sleep(0.005)  # 50k lines in about a second: faster than any apt
            streamed.set()
            listener(StepFinished("packages", "cancelled", 1.0))
            listener(RunFinished("cancelled", 1.0, run_dir=RUN_DIR))
            return RunResult("cancelled", None, (), 1.0, Path(RUN_DIR))

    screen = RunScreen(FloodLauncher(profile, []), clock=FakeClock())
    return ScreenHarness(screen), screen, streamed, cp


async def test_50k_lines_into_one_pane_keep_the_app_answering(capsys):
    """Meanwhile a key is pressed every 20 ms; the gap is from the key reaching the app to its action running."""
    total = 50_000
    go = asyncio.Event()
    app, screen, streamed, cp = flood_app(total, go=go)
    answered = asyncio.Event()
    follow = screen.action_follow

    def timed_follow() -> None:
        follow()
        answered.set()

    screen.action_follow = timed_follow  # the binding dispatches to the instance attribute
    gaps: list[float] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        go.set()
        while not streamed.is_set():
            answered.clear()
            pressed = time.perf_counter()
            app.simulate_key("f")
            await answered.wait()
            gaps.append(time.perf_counter() - pressed)
            await asyncio.sleep(0.02)
        await wait_run(pilot, screen)
        logs = screen.query_one(LogArea)
        own = logs.log_for(cp)
        assert own.received == total + 1  # the step's header too
        assert own.lines[-1].endswith(f"libfoo{total - 1} [{total - 1} B]"), "the tail is the newest line"
    worst, median = max(gaps), sorted(gaps)[len(gaps) // 2]
    with capsys.disabled():
        print(f"\n50k lines: {len(gaps)} key presses while streaming, worst gap {worst * 1000:.0f} ms, "
              f"median {median * 1000:.1f} ms")
    assert len(gaps) >= 3, "keys were pressed while the lines streamed"
    assert worst < 1.0, "a key press is answered within a second even under the flood (typically ~0.1 s)"


async def test_memory_stays_bounded_however_long_the_output(capsys):
    """Panes and buffers keep MAX_LINES each, so 4x the lines is not 4x the memory.

    The peak includes lines in flight (a full buffer being written into a full
    log), so how often the flush timer wins against the flood moves it somewhat.
    """
    peaks = []
    for total in (25_000, 100_000):
        app, screen, streamed, cp = flood_app(total, chunk=2500)
        tracemalloc.start()
        async with app.run_test(size=(100, 30)) as pilot:
            await streamed.wait()
            await wait_run(pilot, screen)
            peaks.append(tracemalloc.get_traced_memory()[1])
            logs = screen.query_one(LogArea)
            assert len(logs.log_for(cp).lines) <= MAX_LINES and len(logs.log_for("all").lines) <= MAX_LINES
        tracemalloc.stop()
    with capsys.disabled():
        print(f"\npeak traced memory: 25k lines {peaks[0] / 1e6:.1f} MB, 100k lines {peaks[1] / 1e6:.1f} MB")
    assert peaks[1] < 80e6, "10,000 lines a pane, a few copies in flight: tens of MB at most"
    assert peaks[1] < peaks[0] * 3, "4x the lines must not mean 4x the memory"


def overlapping_failure(profile):
    """The graph schedule: a worker's packages run while the control plane's images fail."""
    cp, w1, _ = (h.name for h in profile.hosts)
    script = [run_started(profile), StepStarted("images", "Pull the control plane's images", (cp,)),
              HostLine("images", cp, "pulling registry.k8s.io/etcd"), StepStarted("kernel", "Kernel modules", (w1,))]
    script += [HostLine("kernel", w1, "WORKER LINE 1"),
               HostLine("images", cp, "error: no space left on device"), HostLine("kernel", w1, "WORKER LINE 2"),
               HostFinished("images", cp, False, 1, 3.0, 3.0), StepFinished("images", "failed", 3.0, (cp,)),
               HostFinished("kernel", w1, True, 0, 3.0, 3.0), StepFinished("kernel", "done", 3.0),
               RunFinished("failed", 5.0, "images", (cp,), RUN_DIR)]
    return script


async def test_the_failure_panel_shows_only_the_failed_steps_lines_when_steps_overlap():
    app, screen, _ = make([overlapping_failure])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_run(pilot, screen)
        text = str(screen.query_one("#failure-text").render())
        assert "no space left on device" in text and "exited with status 1" in text
        assert "pulling registry.k8s.io/etcd" in text, "a step starting elsewhere does not cut this one's lines"
        assert "WORKER LINE" not in text, "another step's lines are not this failure's"


async def test_w_wraps_long_lines_so_the_end_of_a_join_command_shows():
    long_line = "kubeadm join 10.0.0.10:6443 --token <masked> --discovery-token-ca-cert-hash sha256:" + "ab" * 32 + " END"

    def script(profile):
        return up_to_images(profile) + [HostLine("images", profile.hosts[0].name, long_line), HOLD]

    app, screen, launcher = make([script])
    async with app.run_test(size=(80, 24)) as pilot:
        await launcher.played.wait()
        logs = screen.query_one(LogArea)
        logs.flush()
        await pilot.pause()
        assert "END" not in screen_text(app), "unwrapped, the line runs past the pane"
        await pilot.press("w")
        await pilot.pause(0.1)
        assert "END" in screen_text(app), "wrapped, the whole line is on screen"
        await pilot.press("w")
        await pilot.pause()
        assert "END" not in screen_text(app)




async def test_the_running_step_stays_in_view_when_wrapped_titles_make_the_list_long():
    def script(profile):
        steps = build_setup_plan(profile, lockstep=True).steps
        events = [run_started(profile)]
        for step in steps[:-2]:
            events += step_done(profile, step.id, 1.0)
        join = steps[-2]
        return events + [StepStarted(join.id, join.title, tuple(join.hosts)), HOLD]

    app, screen, launcher = make([script])
    async with app.run_test(size=(80, 24)) as pilot:
        await launcher.played.wait()
        for _ in range(50):  # the list's timer (every 0.2 s) scrolls to the step that started
            await pilot.pause(0.1)
            text = screen_text(app)
            if "13 Join the" in text:
                break
        assert "13 Join the" in text
        assert " 1 Connect" not in text, "the list is longer than the screen here"


async def test_a_running_step_says_which_hosts_are_done_and_what_the_others_wait_for():
    def script(profile):
        cp, w1, w2 = (h.name for h in profile.hosts)
        return [run_started(profile), StepStarted("join", "Join the workers", (w1, w2)),
                HostLine("join", w2, f"waiting for {cp}: join-command", "kwizard"),
                HostLine("join", w1, "This node has joined the cluster"), 2.0,
                HostFinished("join", w1, True, 0, 2.0, 2.0), HOLD]

    app, screen, launcher = make([script])
    async with app.run_test(size=(120, 40)) as pilot:
        await launcher.played.wait()
        for _ in range(30):
            await pilot.pause(0.1)
            if "1/2 hosts done" in screen_text(app):
                break
        text = screen_text(app)
        assert "1/2 hosts done · waiting: kubenode-2" in text and "kubemaster-1: join-command)" in text
