"""The kwizard App: holds the one profile draft and walks the user through the steps.

`run_app` is what `kwizard`, `kwizard tui` and `kwizard --profile FILE` call.
The steps come back to the App through `dismiss` (screens.wizard.StepResult);
one worker (`_wizard`) pushes each step, waits for its result, stores the
draft and decides the next screen, so escape, "next" and the command palette
all move through the same loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from kwizard.profile.model import Profile
from kwizard.profile.store import ProfileError, load, user_profiles_dir
from kwizard.screens.connections import Gatherer, HostCheck, gather_host_checks
from kwizard.screens.draft import new_draft
from kwizard.screens.steps.welcome import ProfileFolder, WelcomeChoice, WelcomeScreen
from kwizard.plan.reset import ResetOptions
from kwizard.run.rundir import latest_resumable
from kwizard.screens.draft import validated
from kwizard.screens.dialogs.reset_confirm import ResetConfirmModal
from kwizard.screens.run.screen import reset_run_screen, running_screen, setup_run_screen
from kwizard.screens.run.launch import RunOutcome
from kwizard.screens.dialogs.sudo_password import SudoPasswordModal, password_known, remember_sudo_password, sudo_wants_a_password
from kwizard.screens.wizard import QUIT, RESET, RUN, STEP_TITLES, STEPS, StepResult, StepScreen, target_step

LIGHT_THEME = "textual-light"
DARK_THEME = "textual-dark"


def default_profile_folders() -> list[ProfileFolder]:
    """The XDG profiles folder (where the wizard saves) and ./profiles (examples in a clone)."""
    return [ProfileFolder(user_profiles_dir(), "saved"), ProfileFolder(Path("profiles"), "./profiles")]


class KwizardApp(App[int]):
    TITLE = "kwizard"
    CSS_PATH = ["kwizard.tcss", "run.tcss"]
    BINDINGS = [
        Binding("ctrl+t", "toggle_dark", "Theme", tooltip="Switch between the light and dark theme", id="theme"),
    ]

    def __init__(
        self,
        profile_path: str | None = None,
        *,
        folders: list[ProfileFolder] | None = None,
        gather: Gatherer = gather_host_checks,
    ) -> None:
        super().__init__()
        self.draft: Profile = new_draft()
        self.draft_path: Path | None = None  # where the draft was loaded from or last saved to
        self.checks: dict[str, HostCheck] = {}  # the last "Test connections", by host name
        self.facts: dict[str, object] = {}  # the engine's raw facts from that test, for preflight and the plan
        self.folders = folders if folders is not None else default_profile_folders()
        self.gather = gather
        self._start_path = profile_path
        self._step: str | None = None  # the step on screen; None = welcome
        self.resetting = False  # opened from "Reset a cluster": the review shows the reset plan
        # Given in screens.sudo_password's modal; memory only, for this session. Every Fleet the
        # wizard opens takes it from here (screens.run_launch, the Hosts step's Test connections).
        self.sudo_password: str | None = None

    def on_mount(self) -> None:
        self._wizard()

    # --- the wizard loop ---

    @work(exclusive=True, group="wizard")
    async def _wizard(self) -> None:
        if self._start_path is not None and self._open(Path(self._start_path)):
            self._step = STEPS[0]
        while True:
            if self._step is None:
                choice = await self.push_screen_wait(WelcomeScreen(self.folders))
                if choice.action == "resume" and self._open(choice.path):
                    await self._resume()
                    continue
                if not self._welcome(choice):
                    continue
            result: StepResult = await self.push_screen_wait(self._step_screen(self._step))
            self.draft = result.draft
            if result.go == QUIT:
                self.exit(0)
                return
            if result.go in (RUN, RESET):
                await (self._run_setup() if result.go == RUN else self._run_reset())
                continue
            self._step = target_step(self._step, result.go)

    # --- running plans (the run screen) ---

    async def _ask_sudo_password_if_needed(self) -> None:
        """Before a run: the last test found sudo wanting a password and none is known, so ask now
        rather than let the run stop at its first sudo step. Cancelling runs anyway (and says why)."""
        ssh = self.draft.ssh
        if sudo_wants_a_password(ssh, self.checks) and not password_known(self, ssh):
            remember_sudo_password(self, await self.push_screen_wait(SudoPasswordModal(ssh.user)))

    async def _run_setup(self) -> None:
        await self._ask_sudo_password_if_needed()
        outcome = await self.push_screen_wait(setup_run_screen(validated(self.draft), self.draft_path))
        self._after_run(outcome)

    async def _run_reset(self) -> None:
        profile = validated(self.draft)
        options = await self.push_screen_wait(ResetConfirmModal(profile))
        if options is None:
            return  # kept the cluster: back on the reset review
        await self._ask_sudo_password_if_needed()
        outcome = await self.push_screen_wait(reset_run_screen(profile, options, self.draft_path))
        self._after_run(outcome)

    async def _resume(self) -> None:
        """Continue the opened profile's unfinished run, on the run screen."""
        profile = validated(self.draft)
        found = latest_resumable(profile.name)
        if found is None:
            return
        if found.load_state().plan == "reset":
            screen = reset_run_screen(profile, ResetOptions(), self.draft_path, resume_dir=found.path)
        else:
            screen = setup_run_screen(profile, self.draft_path, resume_dir=found.path)
        self._after_run(await self.push_screen_wait(screen))

    def _after_run(self, outcome: RunOutcome | None) -> None:
        """Back to the welcome screen, which offers to resume a stopped run of a saved profile;
        a stopped run of an unsaved draft goes back to the review, where it can be saved or run again."""
        finished = outcome is not None and outcome.status == "succeeded"
        self._step = None if finished or self.draft_path is not None else "review"
        if finished:
            self.resetting = False

    async def action_quit(self) -> None:
        """Quitting mid-run asks first (the run screen cancels the run and leaves it resumable)."""
        run = running_screen(self)
        if run is not None:
            run.ask_to_quit()
            return
        self.exit(0)

    def _welcome(self, choice: WelcomeChoice) -> bool:
        """Act on the welcome screen's choice; True when a step should follow."""
        if choice.action == "quit":
            self.exit(0)
            return False
        if choice.action == "new":
            self.draft, self.draft_path = new_draft(), None
            self._forget_checks()
        elif not self._open(choice.path):
            return False
        self.resetting = choice.action == "reset"
        self._step = "review" if self.resetting else STEPS[0]
        return True

    def _open(self, path: Path | None) -> bool:
        if path is None:
            return False
        try:
            self.draft = load(path)
        except ProfileError as exc:
            self.notify(str(exc), title=f"Cannot open {path.name}", severity="error", timeout=10)
            return False
        self.draft_path = path
        self._forget_checks()
        return True

    def _forget_checks(self) -> None:
        self.checks, self.facts = {}, {}

    def _step_screen(self, step: str) -> Screen[StepResult]:
        # Imported here so each screen module stays independent of the App module.
        from kwizard.screens.steps.hosts import HostsScreen  # noqa: PLC0415
        from kwizard.screens.steps.plugin import PluginScreen  # noqa: PLC0415
        from kwizard.screens.steps.pod_network import PodNetworkScreen  # noqa: PLC0415
        from kwizard.screens.steps.review import ResetReviewScreen, ReviewScreen  # noqa: PLC0415

        review = ResetReviewScreen if self.resetting else ReviewScreen
        screens = {"hosts": HostsScreen, "plugin": PluginScreen, "network": PodNetworkScreen, "review": review}
        return screens[step](self.draft)

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

    def action_toggle_dark(self) -> None:
        self.theme = LIGHT_THEME if self.current_theme.dark else DARK_THEME


def run_app(profile_path: str | None) -> int:
    """Run the wizard; returns the process exit code."""
    result = KwizardApp(profile_path).run()
    return result if isinstance(result, int) else 0
