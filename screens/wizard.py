"""How the step screens hand back their answers: one typed result per screen.

Each step screen is a `Screen[StepResult]`: it gets the App's `WizardState`
(screens.state) when it is pushed, works on its own copy of the draft, and
dismisses with the draft as it left it plus where to go next. The App's wizard loop (screens.app) is the only place that stores the
draft, so no screen ever edits shared state behind another's back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Static

from kwizard.profile.model import Profile
from kwizard.screens.widgets.header import Header
from kwizard.screens.widgets.footer import KwizardFooter

if TYPE_CHECKING:
    from kwizard.screens.state import WizardState

# The wizard's steps in order; names double as command palette targets.
STEPS: tuple[str, ...] = ("hosts", "plugin", "network", "review")
STEP_TITLES: dict[str, str] = {
    "welcome": "Welcome",
    "hosts": "Hosts",
    "plugin": "Network plugin",
    "network": "Pod network",
    "review": "Review",
}
NEXT = "next"
BACK = "back"
QUIT = "quit"
RUN = "run"  # from Review: run the setup plan on the run screen
RESET = "reset"  # from the reset review: confirm, then run the reset plan


@dataclass(frozen=True)
class StepResult:
    """Where to go (`NEXT`, `BACK`, `QUIT` or a step name) and the draft as the screen left it."""

    go: str
    draft: Profile


def target_step(current: str, go: str) -> str | None:
    """The step to show after `current` dismisses with `go`; None means back to the welcome screen."""
    if go in STEPS:
        return go
    index = STEPS.index(current)
    if go == NEXT:
        return STEPS[min(index + 1, len(STEPS) - 1)]
    if go == BACK:
        return STEPS[index - 1] if index > 0 else None
    raise ValueError(f"unknown navigation {go!r}")


class StepScreen(Screen[StepResult]):
    """A wizard step: header, a breadcrumb of the steps, the body, the footer.

    Subclasses set `STEP`, compose their body in `compose_body`, and may refuse
    to move on by overriding `problems_before_next`.
    """

    STEP = ""
    BINDINGS = [
        Binding("escape", "leave('back')", "Back", tooltip="Go back to the previous step (answers are kept)"),
        Binding("ctrl+n", "leave('next')", "Next", tooltip="Go on to the next step", id="next"),
    ]

    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state  # the App's: connection checks, where the draft is saved, the sudo password
        self.draft = state.draft  # this screen's copy, handed back on leaving (the App stores it)
        # Set before mounting: a title change after mount reaches the Header's watcher, which
        # fails (Textual's NoMatches on HeaderTitle) if the screen is already being dismissed.
        self.sub_title = STEP_TITLES[self.STEP]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._breadcrumb(), id="breadcrumb")
        yield from self.compose_body()
        yield KwizardFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        return None

    def _breadcrumb(self) -> str:
        parts = []
        for number, step in enumerate(STEPS, start=1):
            title = f"{number} {STEP_TITLES[step]}"
            parts.append(f"[b reverse] {title} [/]" if step == self.STEP else f" {title} ")
        return " › ".join(parts)

    # --- leaving the step ---

    def collect(self) -> Profile:
        """The draft with this screen's answers in it (subclasses fold in their inputs)."""
        return self.draft

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave" and parameters == (NEXT,) and self.STEP == STEPS[-1]:
            return False  # the last step goes on with Run (ctrl+r), not "next"
        return True

    def palette_commands(self) -> Iterable[SystemCommand]:
        """This step's actions for the command palette."""
        return ()

    def problems_before_next(self, draft: Profile) -> list[str]:
        """What must be fixed before the next step; empty when the step is complete."""
        return []

    def action_leave(self, go: str) -> None:
        draft = self.collect()
        if go not in (BACK, QUIT, RUN, RESET):
            problems = self.problems_before_next(draft)
            if problems and (go == NEXT or STEPS.index(go) > STEPS.index(self.STEP)):
                self.notify("\n".join(problems), title="Not yet", severity="warning")
                return
        self.dismiss(StepResult(go, draft))


def button_row(*buttons: Button) -> Horizontal:
    """A right-aligned row of one-line buttons under a step's body (the footer has the same keys)."""
    for button in buttons:
        button.compact = True
    return Horizontal(*buttons, classes="buttons")
