"""Welcome: start a new cluster, open a profile (listed or anywhere), see a saved cluster's status, or reset it.

Examples (a folder marked `examples`: the clone's profiles/, someone else's addresses) are
tagged in the list and never offered status, resume or reset: those contact the hosts. Reset sits
on its own at the bottom, away from the everyday actions at the top.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Static

from kwizard.profile.store import ProfileError, ProfileSummary, list_profiles, load
from kwizard.service import latest_resumable_run
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.widgets.footer import KwizardFooter
from kwizard.screens.widgets.header import Header
from kwizard.screens.wizard import button_row

MODIFIED_FORMAT = "%Y-%m-%d %H:%M"
WHERE_WIDTH = 22  # the Where column's widest label: the row fits 80 columns with a long name
RESUMABLE_HERE = ("setup", "reset", "upgrade")  # the plans the wizard itself continues (App._resume)
# What only a person with their own hosts may do: each of these contacts the profile's hosts.
NOT_FOR_EXAMPLES = ("status", "reset", "resume")

INTRO = (
    "kwizard stands up a kubeadm Kubernetes cluster over SSH: one control plane, any number of workers. "
    "It checks the hosts before it changes anything, and saves your answers as a profile that "
    "replays headless (`kwizard apply FILE`)."
)


@dataclass(frozen=True)
class ProfileFolder:
    """A folder to list profiles from, the short label shown for it, and whether it holds examples."""

    path: Path
    label: str
    examples: bool = False  # someone else's hosts: open and copy them, never run against them


@dataclass(frozen=True)
class WelcomeChoice:
    action: str  # "new" | "open" | "status" | "reset" | "resume" | "quit"
    path: Path | None = None


def short_path(path: Path | str) -> str:
    """The path with the home folder as ~ (what a person recognises, and shorter)."""
    text, home = str(path), str(Path.home())
    return "~" + text[len(home):] if text == home or text.startswith(home + "/") else text


def elided(text: str, width: int) -> str:
    """`text` cut from the left to `width` characters: the end of a path is what tells it apart."""
    return text if len(text) <= width else "…" + text[-(width - 1):]


def profile_file_problem(typed: str) -> tuple[Path | None, str]:
    """The profile at the path a person typed, or why not, saying what to do."""
    if not typed.strip():
        return None, "Type the path of a profile file, e.g. ~/clusters/lab.yaml, then press enter."
    path = Path(typed.strip()).expanduser()
    try:
        load(path)
    except ProfileError as exc:
        shown = short_path(path)
        if not exc.problems:
            return None, f"{shown} does not load"
        first = exc.problems[0]
        # A problem with the file itself (missing, a folder) has no field or line to name.
        said = f"{shown}: {first.message}" if first.path == "(file)" else first.render(shown)
        more = f" (and {len(exc.problems) - 1} more: kwizard validate {shown})" if len(exc.problems) > 1 else ""
        return None, said + more
    return path, ""


class WelcomeScreen(Screen[WelcomeChoice]):
    DEFAULT_CSS = """
    WelcomeScreen #open-path-row { height: 1; margin: 1 1 0 1; }
    WelcomeScreen #open-path-row Static { width: auto; padding: 0 1 0 0; }
    WelcomeScreen #open-path { width: 1fr; }
    WelcomeScreen #open-file { margin-left: 1; }
    WelcomeScreen #open-path-error { color: $error; padding: 0 1; height: auto; }
    WelcomeScreen #danger-row { height: 1; margin: 1 1 0 1; }
    WelcomeScreen #danger-row Static { width: 1fr; padding: 0 0 0 2; color: $text-muted; }
    """
    BINDINGS = [
        Binding("n", "new", "New", tooltip="New cluster: start one from scratch"),
        Binding("o", "open", "Open", tooltip="Open the highlighted profile and edit it"),
        Binding("s", "status", "Status", tooltip="The highlighted profile's cluster: nodes, versions, upgrade, add or remove nodes"),
        Binding("u", "resume", "Resume", tooltip="Resume run: continue the highlighted profile's unfinished run (asks first)"),
        Binding("r", "reset", "Reset", tooltip="Reset cluster: tear down the cluster the highlighted profile set up"),
        Binding("p", "open_path", "Open a file", show=False, tooltip="Type the path of a profile file anywhere"),
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
                Button("Cluster status", id="status", tooltip="s: nodes, versions, upgrade, add or remove nodes"),
            )
            yield Static("Saved profiles", classes="section-title")
            yield DataTable(id="profiles", cursor_type="row", zebra_stripes=True)
            yield Static("", id="profile-note", classes="note")
            with Horizontal(id="open-path-row"):
                yield Static("Or a file:")
                yield Input(placeholder="~/clusters/lab.yaml  (p)", id="open-path", compact=True)
                yield Button("Open file", id="open-file", compact=True)
            yield Static("", id="open-path-error")
            with Horizontal(id="danger-row"):
                yield Button("Reset a cluster", id="reset", variant="warning", compact=True,
                             tooltip="r: tear the highlighted profile's cluster down (asks first)")
                yield Static("tears down the highlighted profile's cluster; asks first")
        yield KwizardFooter()

    def on_mount(self) -> None:
        table = self.query_one("#profiles", DataTable)
        table.add_columns("Name", "Hosts", "Plugin", "Modified", "Where")
        self.summaries = list_profiles([f.path for f in self.folders])
        for summary in self.summaries:
            table.add_row(*self._row(summary), key=str(summary.path))
        note = self.query_one("#profile-note", Static)
        if not self.summaries:
            where = " or ".join(short_path(f.path) for f in self.folders)
            note.update(escape(f"No saved profiles yet (looked in {where}). Press n to start a new cluster."))
            self.query_one("#new", Button).focus()
        else:
            table.focus()
        self._offer_actions()

    # --- the list ---

    def _folder(self, summary: ProfileSummary) -> ProfileFolder | None:
        return next((f for f in self.folders if f.path == summary.path.parent), None)

    def _is_example(self, summary: ProfileSummary | None) -> bool:
        folder = self._folder(summary) if summary is not None else None
        return folder is not None and folder.examples

    def _row(self, summary: ProfileSummary) -> tuple[str | Text, ...]:
        name = Text(summary.name)
        if self._is_example(summary):
            name.append(" example", style="italic yellow")
        folder = self._folder(summary)
        where = elided(folder.label if folder else short_path(summary.path.parent), WHERE_WIDTH)
        modified = summary.modified.strftime(MODIFIED_FORMAT)
        if summary.error:
            return (name, "-", "broken", modified, where)
        return (name, str(summary.host_count), summary.cni, modified, where)

    def _highlighted(self) -> ProfileSummary | None:
        table = self.query_one("#profiles", DataTable)
        if not self.summaries or table.cursor_row < 0:
            return None
        return self.summaries[table.cursor_row]

    @on(DataTable.RowHighlighted, "#profiles")
    def _show_problem(self) -> None:
        summary = self._highlighted()
        note = self.query_one("#profile-note", Static)
        if summary is not None and summary.error:
            note.update(escape(f"This profile does not load: {summary.error}"))
        elif self._is_example(summary):
            note.update(escape(f"{short_path(summary.path)} is an example (someone else's addresses): open it and "
                               "save it with your own hosts. Status, resume and reset are off for examples."))
        elif summary is not None:
            text = f"{short_path(summary.path)}  ·  enter: open  ·  s: status"
            unfinished = latest_resumable_run(summary.name)
            if unfinished is not None:
                stopped = f"stopped at {unfinished.failed_step}" if unfinished.failed_step else unfinished.status
                text += f"  ·  u: resume its unfinished {unfinished.plan} run ({stopped})"
            note.update(escape(text))
        self._offer_actions()

    def _offer_actions(self) -> None:
        for action in ("status", "reset"):
            self.query_one(f"#{action}", Button).disabled = not self.check_action(action, ())
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in NOT_FOR_EXAMPLES and self.is_mounted and self._is_example(self._highlighted()):
            return False  # the note under the list says why
        return True

    # --- the choices ---

    @on(DataTable.RowSelected, "#profiles")
    def _open_selected(self) -> None:
        self.action_open()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        actions = {"new": self.action_new, "open": self.action_open, "status": self.action_status,
                   "reset": self.action_reset, "open-file": self._open_typed_path}
        actions[event.button.id or ""]()

    def action_new(self) -> None:
        self.dismiss(WelcomeChoice("new"))

    def action_open(self) -> None:
        self._choose("open")

    def action_status(self) -> None:
        self._choose("status")

    def action_reset(self) -> None:
        self._choose("reset")

    def action_open_path(self) -> None:
        self.query_one("#open-path", Input).focus()

    @on(Input.Submitted, "#open-path")
    def _open_typed_path(self) -> None:
        path, problem = profile_file_problem(self.query_one("#open-path", Input).value)
        self.query_one("#open-path-error", Static).update(escape(problem))
        if path is not None:
            self.dismiss(WelcomeChoice("open", path))

    @work(group="ask", exclusive=True)
    async def action_resume(self) -> None:
        summary = self._highlighted()
        if summary is None or summary.error or self._is_example(summary):
            self._choose("resume")  # says why not
            return
        unfinished = latest_resumable_run(summary.name)
        if unfinished is None:
            self.notify(f"{summary.name} has no unfinished run to resume.", severity="warning")
            return
        if unfinished.plan not in RESUMABLE_HERE:
            self.notify(f"Continue it headless: kwizard {unfinished.plan} --resume {short_path(summary.path)} …",
                        title=f"An unfinished {unfinished.plan} run", timeout=10)
            return
        where = f" at {unfinished.failed_step}" if unfinished.failed_step else ""
        question = (f"Resume {summary.name}'s {unfinished.plan} run, stopped{where}? It goes on on the hosts "
                    "where it stopped (finished steps are not redone).")
        if unfinished.plan == "upgrade":
            question = (f"{summary.name}'s upgrade stopped{where}. Open its cluster status? It offers to finish "
                        "the upgrade (nodes already upgraded are not redone).")
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
        elif action in NOT_FOR_EXAMPLES and self._is_example(summary):
            self.notify(f"{summary.name} is an example with someone else's addresses: open it and save it "
                        "with your own hosts first.", title=f"No {action} for an example", severity="warning")
        else:
            self.dismiss(WelcomeChoice(action, summary.path))
