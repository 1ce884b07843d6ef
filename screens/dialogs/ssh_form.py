"""SSH defaults for every host: user, port, key, known_hosts, jump host, host-key policy, sudo."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, Switch

from kwizard.profile.model import HostKeyPolicy, SSHSettings
from kwizard.screens.draft import field_errors
from kwizard.screens.dialogs.sudo_password import SudoPasswordModal, known_sudo_password, remember_sudo_password
from kwizard.screens.widgets.footer import KwizardFooter

if TYPE_CHECKING:
    from kwizard.screens.state import WizardState

TEXT_FIELDS = {
    # field: (label, placeholder)
    "user": ("User", "root"),
    "port": ("Port", "22"),
    "identity_file": ("Private key", "agent and default keys (~/.ssh/id_*)"),
    "known_hosts": ("known_hosts file", "~/.ssh/known_hosts"),
    "jump_host": ("Jump host", "none (write it like admin@bastion:22)"),
    "sudo_password_env": ("sudo password from env var", "none: passwordless sudo, or asked at run time"),
}
POLICY_CHOICES = [
    ("strict: only keys already in known_hosts", HostKeyPolicy.STRICT),
    ("accept-new: ask me about a key never seen", HostKeyPolicy.ACCEPT_NEW),
]


DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")  # what ssh (and asyncssh) try when no key is named


def key_file_problem(path_text: str) -> str:
    """Why the Private key field's path cannot be a key; empty when it is a readable file (or unset)."""
    if not path_text.strip():
        return ""
    path = Path(path_text.strip()).expanduser()
    if not path.exists():
        return f"there is no file at {path}: give your private key's path (e.g. ~/.ssh/id_ed25519), or leave it empty"
    if not path.is_file() or not os.access(path, os.R_OK):
        return f"{path} is not a file you can read"
    return ""


def no_key_at_all(ssh: SSHSettings) -> str:
    """Said before a test when no key could possibly be offered (so the user hears it first)."""
    if ssh.identity_file or os.environ.get("SSH_AUTH_SOCK"):
        return ""
    if any((Path.home() / ".ssh" / name).is_file() for name in DEFAULT_KEYS):
        return ""
    return ("No SSH key is set: Private key in the SSH defaults (s) is empty, no ssh-agent runs, and "
            "~/.ssh has no id_ed25519, id_ecdsa or id_rsa. The hosts will refuse the login.")


def describe_ssh(ssh: SSHSettings) -> str:
    """One line for the Hosts screen."""
    parts = [
        f"{ssh.user}@:{ssh.port}",
        f"key {ssh.identity_file or 'agent/default'}",
        f"known_hosts {ssh.known_hosts or '~/.ssh/known_hosts'}",
        f"host keys {ssh.host_key_policy.value}",
        "sudo" if ssh.sudo else "no sudo",
    ]
    if ssh.jump_host:
        parts.append(f"via {ssh.jump_host}")
    return " · ".join(parts)


class SSHSettingsModal(ModalScreen[SSHSettings | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without changing the SSH defaults"),
        Binding("ctrl+s", "save", "Save", tooltip="Keep these SSH defaults (only when every field is valid)"),
    ]

    def __init__(self, ssh: SSHSettings, state: WizardState) -> None:
        super().__init__()
        self.ssh = ssh
        self.state = state  # the sudo password button keeps the password there

    def compose(self) -> ComposeResult:
        yield KwizardFooter()  # this dialog's own keys, where every screen shows them
        values = self.ssh.model_dump(mode="json")
        with Vertical(id="ssh-form", classes="dialog"):
            yield Static("SSH defaults (every host, unless the host says otherwise)", classes="dialog-title")
            with VerticalScroll():
                for name, (label, placeholder) in TEXT_FIELDS.items():
                    value = values.get(name)
                    yield Label(label)
                    kind = "integer" if name == "port" else "text"
                    yield Input("" if value is None else str(value), placeholder=placeholder, id=name, type=kind, compact=True)
                    yield Static("", id=f"{name}-error", classes="field-error")
                yield Label("Host keys")
                yield Select(POLICY_CHOICES, value=self.ssh.host_key_policy, allow_blank=False, id="host_key_policy", compact=True)
                with Horizontal(classes="toggle"):
                    yield Switch(self.ssh.sudo, id="sudo")
                    yield Static("Use sudo for commands that need root (when the user is not root)")
                    # The password itself is never a setting: this asks for it for this session only.
                    yield Button("Sudo password…", id="sudo-password-button", compact=True, tooltip="Give it for this session (memory only)")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#sudo-password-button").display = self.ssh.sudo
        self.query_one("#user", Input).focus()

    def form_data(self) -> dict[str, Any]:
        # Start from the current settings so fields not on the form (connect_timeout) are kept.
        data = self.ssh.model_dump()
        for name in TEXT_FIELDS:
            value = self.query_one(f"#{name}", Input).value.strip()
            data[name] = value or SSHSettings.model_fields[name].default
        data["host_key_policy"] = self.query_one("#host_key_policy", Select).value
        data["sudo"] = self.query_one("#sudo", Switch).value
        return data

    def unsaved_edits(self) -> str:
        """For the App's quit: what this open form would lose."""
        try:
            data = self.form_data()
        except Exception:  # noqa: BLE001 - not mounted yet
            return ""
        try:
            changed = SSHSettings.model_validate(data) != self.ssh
        except ValueError:  # a field half typed: that is an edit too
            changed = True
        return "Your changes to the SSH defaults (ctrl+s keeps them)" if changed else ""

    def _show_errors(self) -> dict[str, str]:
        errors = field_errors(SSHSettings, self.form_data())
        key_problem = key_file_problem(self.query_one("#identity_file", Input).value)
        if key_problem and "identity_file" not in errors:
            errors["identity_file"] = key_problem
        for name in TEXT_FIELDS:
            message = errors.get(name, "")
            self.query_one(f"#{name}-error", Static).update(message)
            self.query_one(f"#{name}", Input).set_class(bool(message), "-invalid")
        return errors

    @on(Input.Changed)
    def _typed(self) -> None:
        self._show_errors()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if not self._show_errors():
            self.dismiss(SSHSettings.model_validate(self.form_data()))

    @on(Switch.Changed, "#sudo")
    def _sudo_switched(self, event: Switch.Changed) -> None:
        self.query_one("#sudo-password-button").display = event.value

    @on(Button.Pressed, "#sudo-password-button")
    def _ask_sudo_password(self) -> None:
        user = self.query_one("#user", Input).value.strip() or self.ssh.user
        known = known_sudo_password(self.state) is not None
        self.app.push_screen(
            SudoPasswordModal(user, known=known), lambda answer: remember_sudo_password(self.app, self.state, answer)
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
