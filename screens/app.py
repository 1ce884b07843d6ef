"""The kwizard App: holds the one profile draft and walks the user through the steps.

`run_app` is what `kwizard`, `kwizard tui` and `kwizard --profile FILE` call.
The steps come back to the App through `dismiss` (screens.wizard.StepResult);
one worker (`_wizard`) pushes each step, waits for its result, stores the
draft and decides the next screen, so escape, "next" and the command palette
all move through the same loop. What the wizard knows (the draft, its path,
the last connection test, the sudo password) is one `WizardState`
(screens.state) that the screens receive. A wizard worker that raises does
not take the app down: `on_worker_state_changed` shows the error and starts
the loop again.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.markup import escape
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from kwizard.profile.store import ProfileError, load, user_profiles_dir
from kwizard.service import ResetOptions, latest_resumable_run
from kwizard.screens.commands import KwizardCommands
from kwizard.screens.day2.launch import ClusterActions, ServiceClusterActions
from kwizard.screens.day2.status import ClusterStatusScreen
from kwizard.screens.connections import Gatherer, gather_host_checks
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.dialogs.reset_confirm import ResetConfirmModal
from kwizard.screens.dialogs.sudo_password import SudoPasswordModal, password_known, remember_sudo_password, sudo_wants_a_password
from kwizard.screens.draft import new_draft, validated
from kwizard.screens.run.launch import RunOutcome, fleet_factory_for
from kwizard.screens.run.screen import RunScreen, reset_run_screen, running_screen, setup_run_screen
from kwizard.screens.state import WizardState
from kwizard.screens.steps.welcome import ProfileFolder, WelcomeChoice, WelcomeScreen
from kwizard.screens.wizard import QUIT, RESET, RUN, STEP_TITLES, STEPS, StepResult, StepScreen, target_step

WIZARD = "wizard"  # the worker group of the wizard loop
EXIT_INTERRUPTED = 130  # kwizard.cli.exitcodes: a run the user cancelled

LIGHT_THEME = "textual-light"
DARK_THEME = "textual-dark"

# A clone's example profiles (someone else's addresses); an installed kwizard has none.
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "profiles"

ADD_WORKER_HINT = (
    "Add the new worker (a), test it, then go on to Review and run. The hosts already in the cluster "
    "skip every step they have done: only the new worker is prepared and joined."
)


def default_profile_folders() -> list[ProfileFolder]:
    """The XDG profiles folder (where the wizard saves) and ./profiles: the examples when run in a clone."""
    here = Path("profiles")
    return [ProfileFolder(user_profiles_dir(), "saved"),
            ProfileFolder(here, "./profiles", examples=here.resolve() == EXAMPLES_DIR)]


class KwizardApp(App[int]):
    TITLE = "kwizard"
    CSS_PATH = "kwizard.tcss"
    COMMANDS = App.COMMANDS | {KwizardCommands}
    BINDINGS = [
        Binding("ctrl+t", "toggle_dark", "Theme", show=False, id="theme",
                tooltip="Switch between the light and dark theme (not in the footer, to leave 80 columns to the screen's keys; ? lists it)"),
        Binding("question_mark,f1", "help", "Help", tooltip="What this screen is for, and all its keys"),
    ]

    def __init__(
        self,
        profile_path: str | None = None,
        *,
        folders: list[ProfileFolder] | None = None,
        gather: Gatherer = gather_host_checks,
        cluster: ClusterActions | None = None,
    ) -> None:
        super().__init__()
        self.state = WizardState(new_draft())
        self.folders = folders if folders is not None else default_profile_folders()
        self.gather = gather  # the Hosts step's "Test connections" (tests give fake hosts)
        # The status screen's questions and day-two runs (tests give a fake cluster); None: the real one.
        self.cluster = cluster
        self._start_path = profile_path
        self._step: str | None = None  # the step on screen; None = welcome
        self._failed_again = False  # the loop failed, was restarted, and has not shown a screen since
        # What quitting returns: 130 once the user cancelled a run (like the headless commands),
        # 0 again after a later run finished.
        self.quit_code = 0

    def on_mount(self) -> None:
        self._wizard()

    # --- the wizard loop ---

    @work(exclusive=True, group=WIZARD, exit_on_error=False)
    async def _wizard(self) -> None:
        start, self._start_path = self._start_path, None
        if start is not None and self._open(Path(start)):
            self._step = STEPS[0]
        while True:
            if self._step is None:
                choice = await self.push_screen_wait(WelcomeScreen(self.folders))
                self._failed_again = False
                if choice.action == "quit":
                    # Return at once: another turn of the loop would mount a new Welcome while
                    # the app exits (its on_mount then finds no #profiles: NoMatches).
                    self.exit(self.quit_code)
                    return
                if choice.action == "resume" and self._open(choice.path):
                    await self._resume()
                    continue
                if choice.action == "status" and self._open(choice.path):
                    await self._cluster_day_two()
                    continue
                if not self._welcome(choice):
                    continue
            result: StepResult = await self.push_screen_wait(self._step_screen(self._step))
            self._failed_again = False
            self.state.draft = result.draft
            if result.go == QUIT:
                self.exit(self.quit_code)
                return
            if result.go in (RUN, RESET):
                await (self._run_setup() if result.go == RUN else self._run_reset())
                continue
            self._step = target_step(self._step, result.go)
            if self._step is None:  # back on the welcome screen: the user said to leave these answers
                self.state.draft = self.state.saved or new_draft()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's error ends up: shown to the user, and the app goes on.

        The wizard loop is started again: on the step it was on, or, when it fails again before
        any screen was left, on the welcome screen (the draft is kept either way)."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        self.notify(
            escape(f"{type(error).__name__}: {error}"),
            title="Something went wrong",
            severity="error",
            timeout=15,
        )
        if event.worker.group != WIZARD:
            return
        while len(self.screen_stack) > 1:
            self.pop_screen()  # what the failed loop had pushed: the loop pushes its screen afresh
        if self._failed_again and self._step is None:
            return  # even the welcome screen fails: stay up, the message shown (ctrl+q quits)
        if self._failed_again:
            self._step = None
        self._failed_again = True
        self._wizard()

    # --- running plans (the run screen) ---

    async def _ask_sudo_password_if_needed(self) -> None:
        """Before a run: the last test found sudo wanting a password and none is known, so ask now
        rather than let the run stop at its first sudo step. Cancelling runs anyway (and says why)."""
        state = self.state
        ssh = state.draft.ssh
        if sudo_wants_a_password(ssh, state.checks) and not password_known(state, ssh):
            remember_sudo_password(self, state, await self.push_screen_wait(SudoPasswordModal(ssh.user)))

    async def _run_setup(self) -> None:
        await self._ask_sudo_password_if_needed()
        screen = setup_run_screen(validated(self.state.draft), self.state.draft_path, fleet_factory=fleet_factory_for(self, self.state))
        self._after_run(await self.push_screen_wait(screen))

    async def _run_reset(self) -> None:
        profile = validated(self.state.draft)
        options = await self.push_screen_wait(ResetConfirmModal(profile))
        if options is None:
            return  # kept the cluster: back on the reset review
        await self._ask_sudo_password_if_needed()
        screen = reset_run_screen(profile, options, self.state.draft_path, fleet_factory=fleet_factory_for(self, self.state))
        self._after_run(await self.push_screen_wait(screen))

    async def _resume(self) -> None:
        """Continue the opened profile's unfinished run, on the run screen."""
        profile = validated(self.state.draft)
        found = latest_resumable_run(profile.name)
        if found is None:
            return
        if found.plan == "upgrade":  # the status screen offers to finish it, in a fresh run (every step probes)
            await self._cluster_day_two()
            return
        fleets = fleet_factory_for(self, self.state)
        if found.plan == "reset":
            screen = reset_run_screen(profile, ResetOptions(), self.state.draft_path, resume_dir=found.path, fleet_factory=fleets)
        else:
            screen = setup_run_screen(profile, self.state.draft_path, resume_dir=found.path, fleet_factory=fleets)
        self._after_run(await self.push_screen_wait(screen))

    async def _cluster_day_two(self) -> None:
        """The opened profile's status screen and what it leads to: an upgrade or a node removal on
        the run screen, then the status again; or the Hosts step, to add a worker."""
        actions = self.cluster or ServiceClusterActions(fleet_factory_for(self, self.state))
        while self.state.draft_path is not None:
            path, profile = self.state.draft_path, validated(self.state.draft)
            choice = await self.push_screen_wait(ClusterStatusScreen(profile, path, actions))
            if choice.action == "back":
                return
            if choice.action == "add-worker":
                self.state.resetting, self._step = False, "hosts"
                self.notify(ADD_WORKER_HINT, title=f"Add a worker to {profile.name}", timeout=20)
                return
            await self._ask_sudo_password_if_needed()
            if choice.action == "upgrade":
                launcher = actions.upgrade(profile, path, choice.to)
            else:
                launcher = actions.remove_node(profile, path, choice.node)
            self._count_for_quitting(await self.push_screen_wait(RunScreen(launcher)))
            if not self._open(path):  # the engine edits the file: kubernetes_version, a removed host
                return

    def _count_for_quitting(self, outcome: RunOutcome | None) -> None:
        """Quitting returns 130 once a run was cancelled, 0 again after a later run finished (as headless)."""
        if outcome is not None and outcome.status in ("succeeded", "cancelled"):
            self.quit_code = 0 if outcome.status == "succeeded" else EXIT_INTERRUPTED

    def _after_run(self, outcome: RunOutcome | None) -> None:
        """Back to the welcome screen, which offers to resume a stopped run of a saved profile;
        a stopped run of an unsaved draft goes back to the review, where it can be saved or run again."""
        finished = outcome is not None and outcome.status == "succeeded"
        self._count_for_quitting(outcome)
        self._step = None if finished or self.state.draft_path is not None else "review"
        if finished:
            self.state.resetting = False

    @work(group="quit", exclusive=True)
    async def action_quit(self) -> None:
        """Quitting mid-run asks first (the run screen cancels the run and leaves it resumable)."""
        run = running_screen(self)
        if run is not None:
            run.ask_to_quit()
            return
        if any(isinstance(s, ConfirmModal) for s in self.screen_stack):
            return  # already asking
        lost = self.unsaved_work()
        if lost:
            question = f"Quit kwizard? {lost} will be lost."
            if not await self.push_screen_wait(ConfirmModal(question, yes="Quit without saving", no="Stay")):
                return
        self.exit(self.quit_code)

    def unsaved_work(self) -> str:
        """What quitting now would lose, in words; empty when nothing."""
        for screen in reversed(self.screen_stack):
            edited = getattr(screen, "unsaved_edits", None)
            if edited is not None and edited():
                return edited()
        draft = next((s.collect() for s in reversed(self.screen_stack) if isinstance(s, StepScreen)), self.state.draft)
        if self.state.unsaved(draft):
            return "The answers not saved as a profile (ctrl+s on the Review step saves them)"
        return ""

    def _welcome(self, choice: WelcomeChoice) -> bool:
        """Act on the welcome screen's choice; True when a step should follow."""
        if choice.action == "new":
            self.state.draft, self.state.draft_path, self.state.saved = new_draft(), None, None
            self.state.forget_checks()
        elif not self._open(choice.path):
            return False
        self.state.resetting = choice.action == "reset"
        self._step = "review" if self.state.resetting else STEPS[0]
        return True

    def _open(self, path: Path | None) -> bool:
        if path is None:
            return False
        try:
            self.state.draft = load(path)
        except ProfileError as exc:
            self.notify(str(exc), title=f"Cannot open {path.name}", severity="error", timeout=10)
            return False
        self.state.draft_path = path
        self.state.saved = self.state.draft
        self.state.forget_checks()
        return True

    def _step_screen(self, step: str) -> Screen[StepResult]:
        # Imported here so each screen module stays independent of the App module.
        from kwizard.screens.steps.hosts import HostsScreen  # noqa: PLC0415
        from kwizard.screens.steps.plugin import PluginScreen  # noqa: PLC0415
        from kwizard.screens.steps.pod_network import PodNetworkScreen  # noqa: PLC0415
        from kwizard.screens.steps.review import ResetReviewScreen, ReviewScreen  # noqa: PLC0415

        state = self.state
        screens = {
            "hosts": lambda: HostsScreen(state, self.gather),
            "plugin": lambda: PluginScreen(state),
            "network": lambda: PodNetworkScreen(state),
            "review": lambda: (ResetReviewScreen if state.resetting else ReviewScreen)(state, self.folders),
        }
        return screens[step]()

    # --- commands and keys ---

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, StepScreen):
            for step in STEPS:
                if step != screen.STEP:
                    yield SystemCommand(
                        f"Go to {STEP_TITLES[step]}",
                        f"Show the {STEP_TITLES[step]} step (answers are kept)",
                        lambda step=step: screen.action_leave(step),
                    )
            yield from screen.palette_commands()

    def action_help(self) -> None:
        from kwizard.screens.dialogs.help import HelpModal  # noqa: PLC0415

        if not isinstance(self.screen, HelpModal):
            self.push_screen(HelpModal(self.screen))

    def action_toggle_dark(self) -> None:
        self.theme = LIGHT_THEME if self.current_theme.dark else DARK_THEME


def run_app(profile_path: str | None) -> int:
    """Run the wizard; returns the process exit code."""
    result = KwizardApp(profile_path).run()
    return result if isinstance(result, int) else 0
