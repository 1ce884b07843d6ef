"""The sudo password, given at run time in a masked input and kept in memory only.

A profile never holds a secret (`ssh.sudo_password_env` names a variable at
most), so when the hosts' sudo wants a password and no variable gives one,
the user types it here. It lives in one place, the App's `WizardState.sudo_password`,
for this app session only: never in the draft, the profile, the logs or the run
folder. Every Fleet the wizard opens (Test connections, runs, the done
screen) takes it from there, and the Fleet hands it to the runner to mask.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from kwizard.profile.model import SSHSettings
from kwizard.screens.widgets.footer import KwizardFooter

if TYPE_CHECKING:
    from kwizard.screens.state import WizardState

FORGET = ""  # the modal's answer for "forget the one given"; None means "leave it as it was"


def known_sudo_password(state: WizardState) -> str | None:
    """The password given in this session, if any (the wizard's state is the one place that holds it)."""
    return state.sudo_password


def remember_sudo_password(app: App[Any], state: WizardState, answer: str | None) -> None:
    """Keep (or forget) what the modal answered, in the wizard's state only, and say what happens next."""
    if answer is None:
        return
    state.sudo_password = answer or None
    if answer:
        app.notify("Kept in memory until kwizard quits. Test connections (t) to check it.", title="Sudo password set")
    else:
        app.notify("The sudo password given earlier is forgotten.", title="Sudo password")


def password_known(state: WizardState, ssh: SSHSettings) -> bool:
    """Whether a Fleet opened now would have a sudo password: given here, or from `sudo_password_env`."""
    from_env = os.environ.get(ssh.sudo_password_env) if ssh.sudo_password_env else None
    return bool(known_sudo_password(state) or from_env)


def sudo_wants_a_password(ssh: SSHSettings, checks: dict[str, Any]) -> list[str]:
    """Hosts whose last test found sudo refused, when sudo is on: the ones a password may fix."""
    return [name for name, check in checks.items() if ssh.sudo and getattr(check, "sudo_refused", False)]


class SudoPasswordModal(ModalScreen[str | None]):
    """Dismisses with the password, `FORGET` to drop the one given, or None (cancelled)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Close without changing the sudo password")]

    def __init__(self, user: str, *, known: bool = False) -> None:
        super().__init__()
        self.user = user
        self.known = known

    def compose(self) -> ComposeResult:
        yield KwizardFooter()
        with Vertical(id="sudo-password-form", classes="dialog"):
            yield Static("Sudo password", classes="dialog-title")
            yield Static(
                f"The password sudo asks [b]{self.user}[/] for on the hosts. kwizard keeps it in memory "
                "until it quits: never in the profile, the logs or the run folder.",
                id="sudo-password-why",
            )
            placeholder = "a password is set: type a new one" if self.known else "the sudo password"
            yield Input(password=True, placeholder=placeholder, id="sudo-password", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                if self.known:
                    yield Button("Forget it", id="forget", compact=True)
                yield Button("Use it", id="use", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#sudo-password", Input).focus()

    @on(Input.Submitted, "#sudo-password")
    @on(Button.Pressed, "#use")
    def _use(self) -> None:
        password = self.query_one("#sudo-password", Input).value
        if password:
            self.dismiss(password)
        else:
            self.notify("Type the password, or press escape.", severity="warning", timeout=3)

    @on(Button.Pressed, "#forget")
    def _forget(self) -> None:
        self.dismiss(FORGET)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
