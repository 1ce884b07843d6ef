"""Run: the step list beside the logs, the failure panel, cancel, and on to the done screen.

Push `setup_run_screen(...)` or `reset_run_screen(...)` (or `RunScreen(launcher)`)
and wait: the screen dismisses with a `RunOutcome` once the user leaves it
(after the done screen, after an abort, or after a cancel). The run itself is
one async worker on the app's loop; the engine's events arrive as plain calls
and become widget updates (lines are batched by the log area).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Static

from kwizard import service
from kwizard.profile.model import Profile
from kwizard.run.events import Event, FindingReported, HostLine, HostSkipped, RunStarted, StepFinished, StepStarted
from kwizard.service import ResetOptions
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.run.failure_panel import FailurePanel
from kwizard.screens.run.launch import FleetFactory, RunLauncher, RunOutcome, ServiceLauncher, fleet_factory_for
from kwizard.screens.widgets.header import Header
from kwizard.screens.widgets.log_pane import ALL_HOSTS, LogArea
from kwizard.screens.run.state import RunProgress
from kwizard.screens.run.widgets import StepList, run_status_line
from kwizard.screens.widgets.footer import KwizardFooter

INTERRUPTED = 130  # the exit code of a run cancelled by quitting (kwizard.cli.exitcodes, like headless)
QUIT_GRACE_SECONDS = 15.0  # after "quit anyway": how long to wait for the remote commands to stop


@contextmanager
def frozen_heap() -> Iterator[None]:
    """While a run streams, keep the objects alive at its start out of the garbage collector's scans.

    bench/log_flood.py (docs/benchmarks.md) found the run screen's worst event-loop lags were
    full collections re-scanning the whole app (76-183 ms pauses) while 200k lines streamed in.
    Frozen objects are skipped by every collection, so a pause only covers what the run itself
    made. Collected first so no garbage is frozen; unfrozen after, so a later collection can
    still free what was alive then (a dismissed run screen, say).
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def setup_run_screen(
    profile: Profile,
    profile_path: Path | None = None,
    *,
    resume_dir: Path | None = None,
    fleet_factory: FleetFactory | None = None,
) -> RunScreen:
    """The setup plan of `profile`; `resume_dir` continues that earlier run instead of starting anew."""
    launcher = ServiceLauncher(profile, fleet_factory, "setup", profile_path)
    return RunScreen(launcher, resume_dir=resume_dir)


def reset_run_screen(
    profile: Profile,
    options: ResetOptions = ResetOptions(),
    profile_path: Path | None = None,
    *,
    resume_dir: Path | None = None,
    fleet_factory: FleetFactory | None = None,
) -> RunScreen:
    launcher = ServiceLauncher(profile, fleet_factory, "reset", profile_path, options)
    return RunScreen(launcher, resume_dir=resume_dir)


def step_descriptions(launcher: Any) -> dict[str, str]:
    """The plan's one line per step (what it does, how long it may wait), for the status line."""
    describe = getattr(launcher, "step_descriptions", None)
    if describe is None:
        return {}
    try:
        return describe()
    except Exception:  # noqa: BLE001 - a description is a help, never what stops a run
        return {}


def running_screen(app: Any) -> RunScreen | None:
    """The run screen whose run is still going, if any (for the App's quit action)."""
    return next((s for s in app.screen_stack if isinstance(s, RunScreen) and s.is_running), None)


# The screen's title per plan (the run directory's plan name).
RUN_TITLES = {"setup": "Run", "reset": "Reset", "upgrade": "Upgrade", "remove-node": "Remove node"}


class RunScreen(Screen[RunOutcome]):
    BINDINGS = [
        Binding("escape", "stop", "Cancel run", tooltip="Stop the run (asks first); it can be resumed later"),
        # The same key once the run has stopped: the footer must not offer to cancel a finished run.
        Binding("escape", "close", "Close", tooltip="Leave the run screen (a stopped run can be resumed later)"),
        Binding("r", "retry", "Retry step", tooltip="Run the failed step again (finished steps are not redone)"),
        Binding("s", "skip", "Skip step", tooltip="Mark the failed step done and go on (asks first)"),
        Binding("a", "abort", "Abort", tooltip="Leave the run as it is; resume it later from the welcome screen"),
        Binding("slash", "search", "Search", tooltip="Search the shown log"),
        Binding("f", "follow", "Follow", tooltip="Scroll the shown log to the end and follow new lines"),
        Binding("w", "wrap", "Wrap", tooltip="Wrap long lines to the log's width (again: one screen line per line)"),
        Binding("d", "show_done", "Summary", tooltip="Show the join command and kubeconfig again"),
    ]

    def __init__(
        self,
        launcher: RunLauncher,
        *,
        resume_dir: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        finish: Callable[[Any], Screen[Any] | None] | None = None,
    ) -> None:
        super().__init__()
        self.launcher = launcher
        self.clock = clock
        self.progress = RunProgress()
        self.run_dir: Path | None = resume_dir
        self.result: Any = None  # the engine's RunResult of the last run (its values may hold secrets)
        self._timeline: list[Event] = []  # the last run's events but its output lines, for the done screen
        self._finish = finish
        self._quitting = False
        # Set before mounting: a Header that watches a title changed mid-mount can miss its own children.
        self.sub_title = RUN_TITLES.get(launcher.plan_name, "Run")

    @property
    def is_running(self) -> bool:
        return any(w.group == "run" and not w.is_finished for w in self.workers)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="run-folder")
        with Horizontal(id="run-body"):
            with VerticalScroll(id="run-steps"):
                yield Static("", id="run-status")
                yield StepList(self.progress, self.clock, id="steps")
            yield LogArea(self.launcher.hosts, id="logs")
        yield FailurePanel(id="failure")
        with Horizontal(id="run-finished", classes="buttons"):
            yield Static("", id="run-finished-text")
            yield Button("Close", id="close", variant="primary")
        yield KwizardFooter()

    def on_mount(self) -> None:
        if getattr(self.launcher, "fleet_factory", False) is None:
            self.launcher.fleet_factory = fleet_factory_for(self.app)  # type: ignore[attr-defined]
        self._logs = self.query_one(LogArea)
        self.progress.describes = step_descriptions(self.launcher)
        self.set_interval(0.5, self._show_status)
        self._start()

    # --- the run ---

    def _start(self) -> None:
        self.query_one(FailurePanel).hide()
        self.query_one("#run-finished").display = False
        self._run_worker()
        self.refresh_bindings()

    @work(exclusive=True, group="run")
    async def _run_worker(self) -> None:
        try:
            with frozen_heap():
                result = await self.launcher.run(self.engine_event, self.run_dir)
        except Exception as exc:  # noqa: BLE001 - e.g. the run folder to resume is gone: shown, not raised
            self.progress.fail_outside_the_run(f"{type(exc).__name__}: {exc}")
            self._show_failure()
            return
        self._logs.flush()
        self.refresh_bindings()
        self.result = result
        self.run_dir = result.run_dir
        self._ended(result)

    def engine_event(self, event: Event) -> None:
        """The engine's listener: called on the app's loop, once per event."""
        if isinstance(event, HostLine):  # the hot path: tens of thousands of these
            self.progress.apply(event, 0.0)
            self._logs.add_line(event.host, event.line, event.stream)
            if event.stream == "kwizard":  # kwizard's own few notes (a host waiting on another's step among them)
                self._timeline.append(event)
            return
        self.progress.apply(event, self.clock())
        if isinstance(event, RunStarted):
            self._timeline = []  # a retry is a new run: its own timeline
        self._timeline.append(event)  # one per step and host at most: bounded by the plan
        logs = self._logs
        if isinstance(event, RunStarted):
            self.run_dir = Path(event.run_dir)
            self._show_status()
        elif isinstance(event, StepStarted):
            row = self.progress.step(event.step_id)
            number = f"{row.number}/{len(self.progress.steps)} " if row else ""
            logs.add_header(f"{number}{event.title}", event.hosts)
        elif isinstance(event, HostSkipped):
            logs.add_line(event.host, f"skipped: {self.progress.skip_reason(event.step_id, event.reason)}", "kwizard")
        elif isinstance(event, FindingReported):
            finding = event.finding
            logs.add_line(finding.host or ALL_HOSTS, str(finding), "kwizard")
        elif isinstance(event, StepFinished) and event.status == "failed" and event.failed_hosts:
            logs.show_host(event.failed_hosts[0])
        if isinstance(event, (StepStarted, StepFinished)):
            # After the list has been laid out with this event's rows: a wrapped row's offset
            # depends on the list's width, which is only known then (otherwise the picture
            # depends on how loaded the machine is).
            self.call_after_refresh(self._scroll_steps_to, event.step_id)
        # layout=True: a step starting or ending adds or drops its hosts line, so the list's height changes.
        self.query_one(StepList).refresh(layout=True)
        self._show_status()

    def show_running_step(self) -> None:
        """Scroll the step list to the newest running step (as each step does when it starts)."""
        running = self.progress.running
        if running:
            self._scroll_steps_to(max(running, key=lambda row: row.started_at or 0.0).id)

    def _scroll_steps_to(self, step_id: str) -> None:
        """Keep the running (or failed) step in sight when the list is taller than its column."""
        steps = self.query_one(StepList)
        top = steps.row_top(step_id)
        column = self.query_one("#run-steps", VerticalScroll)
        if top is not None:
            # The row in the column's middle (the status lines sit above the list in the same column).
            column.scroll_to(y=max(0, steps.virtual_region.y + top - column.size.height // 2), animate=False)

    def _ended(self, result: Any) -> None:
        self._show_status()
        if self._quitting:
            self.app.exit(INTERRUPTED)
            return
        if result.status == "succeeded":
            self._finished(f"[green]✓ The {self.launcher.plan_name} run finished.[/]")
            self.action_show_done()
        elif result.status == "cancelled":
            self._finished("[yellow]Cancelled.[/] The hosts' commands were stopped; resume later from the welcome screen.")
        else:
            self._show_failure()

    def _finished(self, text: str) -> None:
        self.query_one("#run-finished-text", Static).update(text)
        self.query_one("#run-finished").display = True
        self.query_one("#close", Button).focus()

    def _show_failure(self) -> None:
        if self.progress.failure is not None:
            self.query_one(FailurePanel).show(self.progress.failure)
        self.refresh_bindings()

    def _show_status(self) -> None:
        folder = str(self.run_dir) if self.run_dir else "(not created yet)"
        home = str(Path.home())
        if folder.startswith(home + "/"):
            folder = "~" + folder[len(home):]
        self.query_one("#run-folder", Static).update(f"Run folder: {escape(folder)}")
        self.query_one("#run-status", Static).update(run_status_line(self.progress, self.clock()))

    # --- the user's choices ---

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        failed = not self.is_running and self.progress.failure is not None and self.progress.status == "failed"
        if action in ("retry", "abort"):
            return failed
        if action == "skip":
            return failed and self.progress.failure.step_id not in ("run", "preflight", "connect")  # type: ignore[union-attr]
        if action == "stop":
            return self.is_running
        if action == "close":
            return not self.is_running
        if action == "show_done":
            return self.progress.status == "succeeded" and self._done_screen() is not None
        return True

    def action_retry(self) -> None:
        if self.check_action("retry", ()):
            self._start()

    @work(group="ask")
    async def action_skip(self) -> None:
        failure = self.progress.failure
        if failure is None or self.run_dir is None or not self.check_action("skip", ()):
            return
        question = (
            f"Skip step {failure.number} \"{failure.title}\"?\n\n[b $warning]Warning:[/] kwizard will treat it as done "
            "and go on. Later steps may fail, or the cluster may not work, if it really was needed."
        )
        if await self.app.push_screen_wait(ConfirmModal(question, yes="Skip it")):
            self.launcher.skip(self.run_dir, failure.step_id)
            self.progress.user_skipped.add(failure.step_id)
            self._start()

    def action_abort(self) -> None:
        if self.is_running:
            return
        if self.progress.status in ("failed", "cancelled") and self.run_dir is not None:
            self.notify(f"The run stays in {self.run_dir}; the welcome screen offers to resume it.", title="Run kept")
        self._leave()

    def action_stop(self) -> None:
        if not self.is_running:
            self._leave()
            return
        question = "Cancel the run? The commands running on the hosts are stopped; you can resume it later."
        self.app.push_screen(ConfirmModal(question, yes="Cancel run", no="Keep running"), self._cancel_if)

    def action_close(self) -> None:
        if not self.is_running:
            self._leave()

    def _cancel_if(self, yes: bool | None) -> None:
        if yes and self.is_running:
            self.launcher.cancel()

    def ask_to_quit(self) -> None:
        """The App's quit while this run is going: ask, then cancel the run and exit once it stopped."""
        question = "A run is going. Quit kwizard? The run is cancelled first and can be resumed later."
        self.app.push_screen(ConfirmModal(question, yes="Cancel and quit", no="Keep running"), self._quit_if)

    def _quit_if(self, yes: bool | None) -> None:
        if not yes:
            return
        self._quitting = True
        self.launcher.cancel()
        self.set_timer(QUIT_GRACE_SECONDS, lambda: self.app.exit(INTERRUPTED))

    def action_search(self) -> None:
        self._logs.action_search()

    def action_follow(self) -> None:
        self._logs.active_log().follow()

    def action_wrap(self) -> None:
        self._logs.action_wrap()

    def action_show_done(self) -> None:
        done = self._done_screen()
        if done is not None:
            self.app.push_screen(done, self._after_done)

    def _after_done(self, choice: str | None) -> None:
        if choice != "log":  # "back to the log" keeps this screen; finishing leaves it
            self._leave()

    def _done_screen(self) -> Screen[Any] | None:
        if self.result is None:
            return None
        if self._finish is not None:
            return self._finish(self.result)
        if self.launcher.plan_name != "setup" or not hasattr(self.launcher, "profile"):
            return None
        from kwizard.screens.run.done import DoneScreen, FinishSummary, FleetCluster  # noqa: PLC0415

        launcher: Any = self.launcher
        summary = FinishSummary.from_result(launcher.profile, self.result, launcher.profile_path,
                                            tuple(service.text_timeline(self._timeline)))
        return DoneScreen(summary, FleetCluster(launcher.profile, launcher.fleet_factory))

    @on(Button.Pressed, "#retry")
    def _retry_pressed(self) -> None:
        self.action_retry()

    @on(Button.Pressed, "#skip")
    def _skip_pressed(self) -> None:
        self.action_skip()

    @on(Button.Pressed, "#abort")
    def _abort_pressed(self) -> None:
        self.action_abort()

    @on(Button.Pressed, "#close")
    def _close_pressed(self) -> None:
        self._leave()

    def _leave(self) -> None:
        status = self.progress.status if self.progress.status != "running" else "cancelled"
        self.dismiss(RunOutcome(self.launcher.plan_name, status, self.run_dir))
