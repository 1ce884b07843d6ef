"""Done: what the user takes away — the join command, kubeconfig set-up, the nodes, the replay.

This is the one place the full join token is shown. Each "Copy" puts the
text on the terminal's clipboard (OSC 52, `App.copy_to_clipboard`) and, for
terminals that cannot take it, writes it to a 0600 file outside the run
folder, whose path the screen shows. The screen dismisses with "finish"
(leave the run) or "log" (back to the run screen's logs).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import platformdirs
from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Static

from kwizard import service
from kwizard.profile.model import Profile
from kwizard.screens.widgets.header import Header

PROXY_URL = "http://localhost:8001/"
DASHBOARD_URL = (
    "http://localhost:8001/api/v1/namespaces/kubernetes-dashboard/services/https:kubernetes-dashboard:/proxy/"
)


def default_copies_dir() -> Path:
    """Beside the run folders, never inside one: copies may hold the token."""
    return Path(platformdirs.user_state_dir("kwizard")) / "copied"


def write_private_copy(path: Path, text: str) -> Path:
    """`text` into `path`, readable by the user alone (0600 from creation, also when the file existed)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text + "\n")
    return path


@dataclass(frozen=True)
class FinishSummary:
    profile: Profile
    join_command: Any = field(default=None, repr=False)  # kubeadm.JoinCommand: holds the token
    kubeconfig_path: Path | None = None
    nodes: tuple[Any, ...] = ()  # nodes.NodeStatus
    run_dir: Path | None = None
    profile_path: Path | None = None
    timeline: tuple[str, ...] = ()  # kwizard.run.timeline's text: per host, when each step waited and worked

    @classmethod
    def from_result(cls, profile: Profile, result: Any, profile_path: Path | None,
                    timeline: tuple[str, ...] = ()) -> FinishSummary:
        outcome = result.outcome  # kwizard.run.outcome.RunOutcome: what the run left
        path = outcome.kubeconfig_path
        return cls(profile, outcome.join_command, Path(path) if path else None,
                   tuple(outcome.nodes), result.run_dir, profile_path, timeline)


class ClusterAccess(Protocol):
    async def new_join_command(self) -> Any: ...

    async def nodes(self) -> list[Any]: ...


@dataclass
class FleetCluster:
    """Asks the control plane over a fresh Fleet (the run's own is closed by now)."""

    profile: Profile
    fleet_factory: Any

    async def new_join_command(self) -> Any:
        async with self.fleet_factory(self.profile) as fleet:
            return await service.new_join_command(self.profile, fleet)

    async def nodes(self) -> list[Any]:
        async with self.fleet_factory(self.profile) as fleet:
            return await service.current_nodes(self.profile, fleet)


def nodes_text(nodes: tuple[Any, ...] | list[Any]) -> str:
    if not nodes:
        return "[dim]No node list (the control plane did not answer); press n to ask again.[/]"
    ready = sum(n.ready for n in nodes)
    width = max(len(n.name) for n in nodes)
    lines = [f"{ready} of {len(nodes)} node{'s' if len(nodes) != 1 else ''} Ready"]
    for n in nodes:
        status = "[green]Ready[/]   " if n.ready else "[red]NotReady[/]"
        lines.append(f"  {escape(n.name.ljust(width))}  {status}  {escape(', '.join(n.roles)):14} {escape(n.version)}  {escape(n.internal_ip)}")
    return "\n".join(lines)


def copy_row(button_id: str, label: str = "Copy") -> Horizontal:
    return Horizontal(Button(label, id=button_id, compact=True), classes="copy-row")


class DoneScreen(Screen[str]):
    BINDINGS = [
        Binding("c", "copy('join')", "Copy join", tooltip="Copy the worker join command (and write it to a 0600 file)"),
        Binding("t", "new_token", "New token", tooltip="Make a fresh join command on the control plane"),
        Binding("n", "refresh_nodes", "Nodes", tooltip="Ask the control plane for the node list again"),
        Binding("l", "leave('log')", "Run log", tooltip="Back to the run's logs"),
        Binding("escape,q", "leave('finish')", "Finish", tooltip="Leave the summary (the profile and run folder stay)"),
    ]

    def __init__(self, summary: FinishSummary, cluster: ClusterAccess, *, copies_dir: Path | None = None) -> None:
        super().__init__()
        self.summary = summary
        self.cluster = cluster
        self.join = summary.join_command
        self.copies_dir = copies_dir if copies_dir is not None else default_copies_dir()
        self.copied: dict[str, Path] = {}  # what -> the 0600 file it was written to
        self.sub_title = "Done"  # before mounting, as the run screen does

    def compose(self) -> ComposeResult:
        profile, cp = self.summary.profile, self.summary.profile.control_plane
        cp_user = profile.user_for(cp)
        yield Header()
        with VerticalScroll(id="done-body"):
            yield Static("", id="done-title")
            yield Static("", id="nodes")
            yield Static("Join more workers [dim](as root on each; the token lives 24 h)[/]", classes="section-title")
            yield Static("", id="join-command", classes="command")
            yield Horizontal(Button("Copy", id="copy-join", compact=True),
                             Button("New token", id="new-token", compact=True), classes="copy-row")
            yield Static("", id="join-note", classes="note")
            yield Static(f"kubectl on the control plane [dim]({escape(cp.name)}, as {escape(cp_user)})[/]", classes="section-title")
            yield Static(escape("\n".join(service.control_plane_kubeconfig_commands())), id="cp-setup", classes="command")
            yield copy_row("copy-cp-setup")
            yield Static("kubectl here", classes="section-title")
            yield Static(self._local_kubeconfig_text(), id="local-kubeconfig", classes="command")
            if self.summary.kubeconfig_path:
                yield Horizontal(Button("Copy path", id="copy-kubeconfig-path", compact=True),
                                 Button("Copy export", id="copy-export", compact=True), classes="copy-row")
            yield Static("The API and a dashboard", classes="section-title")
            yield Static(
                f"[b]kubectl proxy[/] serves the API on {PROXY_URL}; a dashboard, once installed, is at\n{DASHBOARD_URL}",
                id="proxy", classes="command",
            )
            yield copy_row("copy-proxy")
            yield Static("Replay", classes="section-title")
            yield Static(self._replay_text(), id="replay", classes="command")
            if self.summary.timeline:
                yield Static("How the run went [dim](timeline.svg in the run folder draws it)[/]", classes="section-title")
                yield Static(escape("\n".join(self.summary.timeline)), id="timeline", classes="command")
        yield Footer()

    def on_mount(self) -> None:
        self._show_join()
        self._show_nodes(self.summary.nodes)

    # --- what is shown ---

    def _show_join(self) -> None:
        text = self.join.command() if self.join is not None else "(no join command: press t to make one)"
        self.query_one("#join-command", Static).update(escape(text))
        self.query_one("#copy-join", Button).disabled = self.join is None

    def _show_nodes(self, nodes: Any) -> None:
        ready = bool(nodes) and all(n.ready for n in nodes)
        title = "[b green]✓ The cluster is up.[/]" if ready else "[b]The run finished.[/]"
        self.query_one("#done-title", Static).update(f"{title} {escape(self.summary.profile.name)}")
        self.query_one("#nodes", Static).update(nodes_text(nodes))

    def _local_kubeconfig_text(self) -> str:
        path = self.summary.kubeconfig_path
        if path is None:
            return "[dim]No local kubeconfig was written; `kwizard kubeconfig PROFILE` fetches one.[/]"
        export = service.local_kubeconfig_instructions(path)[0]
        return f"kwizard saved the admin kubeconfig to (mode 0600):\n{escape(str(path))}\n{escape(export)}"

    def _replay_text(self) -> str:
        run_dir = f"\nThis run's logs: {escape(str(self.summary.run_dir))}" if self.summary.run_dir else ""
        path = self.summary.profile_path
        if path is None:
            return "[b $warning]The profile is not saved.[/] Save it on the Review step (ctrl+s) to replay it." + run_dir
        return f"Profile: {escape(str(path))}\nReplay headless: kwizard apply --yes {escape(shlex.quote(str(path)))}" + run_dir

    def copy_text(self, what: str) -> str | None:
        path = self.summary.kubeconfig_path
        texts = {
            "join": self.join.command() if self.join is not None else None,
            "cp-setup": "\n".join(service.control_plane_kubeconfig_commands()),
            "kubeconfig-path": str(path) if path else None,
            "export": service.local_kubeconfig_instructions(path)[0] if path else None,
            "proxy": "kubectl proxy",
        }
        return texts.get(what)

    # --- actions ---

    def action_copy(self, what: str) -> None:
        text = self.copy_text(what)
        if text is None:
            return
        self.app.copy_to_clipboard(text)
        name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{self.summary.profile.name}-{what}.txt")
        try:
            path = write_private_copy(self.copies_dir / name, text)
        except OSError as exc:
            self.notify(f"Copied to the clipboard; writing the file failed: {exc}", severity="warning")
            return
        self.copied[what] = path
        if what == "join":
            self.query_one("#join-note", Static).update(f"Copied; also in {escape(str(path))} (0600, for terminals that cannot copy)")
        self.notify(f"Also written to {path} (mode 0600)", title="Copied")

    @on(Button.Pressed, ".copy-row Button")
    def _copy_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        if button == "new-token":
            self.action_new_token()
        elif button.startswith("copy-"):
            self.action_copy(button.removeprefix("copy-"))

    @work(exclusive=True, group="token")
    async def action_new_token(self) -> None:
        self.query_one("#join-note", Static).update("Asking the control plane for a fresh token…")
        try:
            self.join = await self.cluster.new_join_command()
        except Exception as exc:  # noqa: BLE001 - shown where the user looks
            self.query_one("#join-note", Static).update(f"[red]No new token:[/] {escape(str(exc))}")
            return
        self._show_join()
        self.query_one("#join-note", Static).update("A fresh token; the earlier one still works until it expires.")

    @work(exclusive=True, group="nodes")
    async def action_refresh_nodes(self) -> None:
        try:
            nodes = await self.cluster.nodes()
        except Exception as exc:  # noqa: BLE001
            self.notify(str(exc), title="No node list", severity="error")
            return
        self._show_nodes(nodes)

    def action_leave(self, where: str) -> None:
        self.dismiss(where)
