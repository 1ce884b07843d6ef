"""Save profile: a name and a folder; the file is `<folder>/<name>.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from kwizard.profile.model import Profile
from kwizard.screens.draft import field_errors
from kwizard.screens.steps.welcome import ProfileFolder
from kwizard.screens.widgets.footer import KwizardFooter


@dataclass(frozen=True)
class SaveTarget:
    name: str
    path: Path


def profile_name_error(name: str) -> str:
    """What is wrong with `name` as a profile name (the model's own rule), or ''."""
    return field_errors(Profile, {"name": name}).get("name", "") if name else "required: e.g. lab-cluster"


class SaveProfileModal(ModalScreen[SaveTarget | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without saving"),
        Binding("ctrl+s", "save", "Save", tooltip="Save the profile here"),
    ]

    def __init__(self, name: str, folders: list[ProfileFolder], folder: Path | None = None) -> None:
        super().__init__()
        self.profile_name = name
        self.folders = folders
        self.folder = folder if folder in [f.path for f in folders] else folders[0].path

    def compose(self) -> ComposeResult:
        yield KwizardFooter()  # this dialog's own keys, where every screen shows them
        with Vertical(id="save-form", classes="dialog"):
            yield Static("Save profile", classes="dialog-title")
            yield Label("Name")
            yield Input(self.profile_name, id="name", placeholder="e.g. lab-cluster", compact=True)
            yield Static("", id="name-error", classes="field-error")
            yield Label("Where")
            options = [(f"{f.label}  ({f.path})", f.path) for f in self.folders]
            yield Select(options, value=self.folder, allow_blank=False, id="folder", compact=True)
            yield Static("", id="save-path", classes="note")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_mount(self) -> None:
        self._update()
        self.query_one("#name", Input).focus()

    def target(self) -> SaveTarget:
        name = self.query_one("#name", Input).value.strip()
        folder = Path(str(self.query_one("#folder", Select).value))
        return SaveTarget(name, folder / f"{name}.yaml")

    @on(Input.Changed)
    @on(Select.Changed)
    def _update(self) -> str:
        target = self.target()
        error = profile_name_error(target.name)
        self.query_one("#name-error", Static).update(error)
        self.query_one("#name", Input).set_class(bool(error), "-invalid")
        exists = " (exists: saving asks before replacing it)" if target.path.exists() else ""
        self.query_one("#save-path", Static).update("" if error else f"→ {target.path}{exists}")
        return error

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if not self._update():
            self.dismiss(self.target())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
