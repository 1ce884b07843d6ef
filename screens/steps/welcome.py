"""Welcome: start a new cluster, open a saved profile, or reset a cluster from one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Static

from kwizard.profile.store import ProfileSummary, list_profiles
from kwizard.service import latest_resumable_run
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.widgets.header import Header
from kwizard.screens.wizard import button_row

MODIFIED_FORMAT = "%Y-%m-%d %H:%M"

INTRO = (
    "kwizard stands up a kubeadm Kubernetes cluster over SSH: one control plane, any number of workers. "
    "It checks the hosts before it changes anything, and saves your answers as a profile that "
    "replays headless (`kwizard apply FILE`)."
)


@dataclass(frozen=True)
class ProfileFolder:
    """A folder to list profiles from, and the short label shown for it."""

    path: Path
    label: str


@dataclass(frozen=True)
class WelcomeChoice:
    action: str  # "new" | "open" | "reset" | "resume" | "quit"
    path: Path | None = None


class WelcomeScreen(Screen[WelcomeChoice]):
    BINDINGS = [
        Binding("n", "new", "New cluster", tooltip="Start a new cluster from scratch"),
        Binding("o", "open", "Open", tooltip="Open the highlighted profile and edit it"),
        Binding("r", "reset", "Reset cluster", tooltip="Tear down the cluster the highlighted profile set up"),
        Binding("u", "resume", "Resume run", tooltip="Continue the highlighted profile's unfinished run"),
        Binding("escape", "quit", "Quit", tooltip="Leave kwizard"),
    ]

    def __init__(self, folders: list[ProfileFolder]) -> None:
        super().__init__()
        self.folders = folders
        self.summaries: list[ProfileSummary] = []
        self.sub_title = "Welcome"  # before mounting: see StepScreen.__init__

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="welcome"):
            yield Static(INTRO, id="intro")
            yield button_row(
                Button("New cluster", id="new", variant="primary", tooltip="n: start from scratch"),
                Button("Open profile", id="open", tooltip="o: open the highlighted profile"),
                Button("Reset a cluster", id="reset", variant="warning", tooltip="r: tear a cluster down"),
            )
            yield Static("Saved profiles", classes="section-title")
            yield DataTable(id="profiles", cursor_type="row", zebra_stripes=True)
            yield Static("", id="profile-note", classes="note")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#profiles", DataTable)
        table.add_columns("Name", "Hosts", "Plugin", "Modified", "Where")
        self.summaries = list_profiles([f.path for f in self.folders])
        for summary in self.summaries:
            table.add_row(*self._row(summary), key=str(summary.path))
        note = self.query_one("#profile-note", Static)
        if not self.summaries:
            where = " or ".join(str(f.path) for f in self.folders)
            note.update(f"No saved profiles yet (looked in {where}). Press n to start a new cluster.")
            self.query_one("#new", Button).focus()
        else:
            table.focus()

    def _row(self, summary: ProfileSummary) -> tuple[str, ...]:
        if summary.error:
            return (summary.name, "-", "broken", summary.modified.strftime(MODIFIED_FORMAT), self._label(summary))
        return (
            summary.name,
            str(summary.host_count),
            summary.cni,
            summary.modified.strftime(MODIFIED_FORMAT),
            self._label(summary),
        )

    def _label(self, summary: ProfileSummary) -> str:
        folder = next((f for f in self.folders if f.path == summary.path.parent), None)
        return f"{folder.label}/{summary.path.name}" if folder else str(summary.path)

    def _highlighted(self) -> ProfileSummary | None:
        table = self.query_one("#profiles", DataTable)
        if not self.summaries or table.cursor_row < 0:
            return None
        return self.summaries[table.cursor_row]

    @on(DataTable.RowHighlighted, "#profiles")
    def _show_problem(self) -> None:
        summary = self._highlighted()
        if summary is not None and summary.error:
            self.query_one("#profile-note", Static).update(f"This profile does not load: {summary.error}")
        elif summary is not None:
            unfinished = latest_resumable_run(summary.name)
            note = "enter or o: open  ·  r: reset this cluster"
            if unfinished is not None:
                stopped = f"stopped at {unfinished.failed_step}" if unfinished.failed_step else unfinished.status
                note += f"  ·  u: resume its unfinished {unfinished.plan} run ({stopped})"
            self.query_one("#profile-note", Static).update(note)

    @on(DataTable.RowSelected, "#profiles")
    def _open_selected(self) -> None:
        self.action_open()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        {"new": self.action_new, "open": self.action_open, "reset": self.action_reset}[event.button.id or ""]()

    def action_new(self) -> None:
        self.dismiss(WelcomeChoice("new"))

    def action_open(self) -> None:
        self._choose("open")

    def action_reset(self) -> None:
        self._choose("reset")

    @work(group="ask", exclusive=True)
    async def action_resume(self) -> None:
        summary = self._highlighted()
        if summary is None or summary.error:
            self._choose("resume")  # says why not
            return
        unfinished = latest_resumable_run(summary.name)
        if unfinished is None:
            self.notify(f"{summary.name} has no unfinished run to resume.", severity="warning")
            return
        where = f" at {unfinished.failed_step}" if unfinished.failed_step else ""
        question = (f"Resume {summary.name}'s {unfinished.plan} run, stopped{where}? It goes on on the hosts "
                    "where it stopped (finished steps are not redone).")
        if await self.app.push_screen_wait(ConfirmModal(question, yes="Resume", no="Not now")):
            self._choose("resume")

    def action_quit(self) -> None:
        self.dismiss(WelcomeChoice("quit"))

    def _choose(self, action: str) -> None:
        summary = self._highlighted()
        if summary is None:
            self.notify("There is no saved profile to choose yet.", severity="warning")
        elif summary.error:
            self.notify(summary.error, title=f"{summary.path.name} does not load", severity="error")
        else:
            self.dismiss(WelcomeChoice(action, summary.path))
