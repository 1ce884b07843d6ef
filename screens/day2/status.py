"""Cluster status: a saved profile's cluster at a glance, and what can be done to it next.

Asks the control plane (read-only, in a worker) through `ClusterActions.glance`: the nodes with
their readiness, roles and kubelet versions, the API server, the network plugin, the certificates'
expiry, and the one upgrade worth offering (the engine's skew rules decide it). From here: upgrade,
remove a worker, add a worker. The screen asks before anything that changes the cluster and
dismisses with a `StatusChoice`; the App runs it on the run screen and comes back here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Static

from kwizard.profile.model import Profile
from kwizard.service import ClusterGlance, removal_problem
from kwizard.screens.day2.launch import ClusterActions
from kwizard.screens.day2.questions import remove_question, upgrade_question
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.dialogs.sudo_password import SudoPasswordModal, known_sudo_password
from kwizard.screens.steps.welcome import short_path
from kwizard.screens.widgets.footer import KwizardFooter
from kwizard.screens.widgets.header import Header
from kwizard.screens.wizard import button_row


@dataclass(frozen=True)
class StatusChoice:
    action: str  # "back" | "upgrade" | "remove" | "add-worker"
    to: str = ""  # upgrade: the release ("1.34")
    node: str = ""  # remove: the worker's name


class ClusterStatusScreen(Screen[StatusChoice]):
    DEFAULT_CSS = """
    ClusterStatusScreen #status-title { text-style: bold; padding: 1 1 0 1; }
    ClusterStatusScreen #status-body { height: 1fr; }
    ClusterStatusScreen #status-summary { padding: 0 1; }
    ClusterStatusScreen #status-nodes { height: 1fr; margin: 0 1; }
    ClusterStatusScreen #status-details { padding: 0 1; color: $text-muted; }
    ClusterStatusScreen #status-upgrade { padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the welcome screen (nothing is changed)"),
        Binding("f5", "refresh", "Refresh", tooltip="Ask the control plane again"),
        Binding("u", "upgrade", "Upgrade", tooltip="Upgrade the cluster one minor release (asks first)"),
        Binding("a", "add_worker", "Add worker", tooltip="Add a host to the profile; a normal run joins just it"),
        Binding("x,delete", "remove", "Remove node", tooltip="Drain, delete and reset the highlighted worker (asks first)"),
        Binding("p", "sudo_password", "Sudo pass", show=False,
                tooltip="Sudo password: give it for this session (kept in memory only), then ask again"),
    ]

    def __init__(self, profile: Profile, profile_path: Path, actions: ClusterActions) -> None:
        super().__init__()
        self.profile, self.profile_path, self.actions = profile, profile_path, actions
        self.glance: ClusterGlance | None = None
        self.sub_title = "Cluster status"  # before mounting: see StepScreen.__init__

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"{escape(self.profile.name)}  ·  {escape(short_path(self.profile_path))}", id="status-title")
        with Vertical(id="status-body"):  # fills the screen, so the buttons stay at the bottom
            yield Static("", id="status-summary")
            yield DataTable(id="status-nodes", cursor_type="row", zebra_stripes=True)
            yield Static("", id="status-details")
            yield Static("", id="status-upgrade")
        yield button_row(
            Button("Refresh", id="refresh", tooltip="F5: ask the control plane again"),
            Button("Add worker", id="add_worker", tooltip="a: add a host, then run: only it is joined"),
            Button("Remove node", id="remove", variant="warning", tooltip="x: remove the highlighted worker"),
            Button("Upgrade", id="upgrade", variant="primary", tooltip="u: one minor release up"),
        )
        yield KwizardFooter()

    def on_mount(self) -> None:
        self.query_one("#status-nodes", DataTable).add_columns("Node", "Status", "Roles", "Version", "Internal IP")
        self.action_refresh()

    @work(exclusive=True, group="sudo")
    async def action_sudo_password(self) -> None:
        """The hosts want a sudo password and none was given this session: ask for it, then ask again."""
        state = getattr(self.app, "state", None)
        if state is None or not self.profile.ssh.sudo:
            return
        user = self.profile.user_for(self.profile.control_plane)
        answer = await self.app.push_screen_wait(SudoPasswordModal(user, known=known_sudo_password(state) is not None))
        if answer is not None:
            state.sudo_password = answer or None
            self.action_refresh()

    # --- asking the control plane ---

    def action_refresh(self) -> None:
        self.glance = None
        self._show_buttons()
        self.query_one("#status-summary", Static).update(
            f"Asking the control plane {escape(self.profile.control_plane.name)} (read-only)…")
        self._ask()

    @work(exclusive=True, group="status")
    async def _ask(self) -> None:
        cp = self.profile.control_plane.name
        try:
            glance = await self.actions.glance(self.profile)
        except Exception as exc:  # noqa: BLE001 - shown on the screen, which stays usable (F5, escape)
            glance = ClusterGlance(cp, problem=f"could not ask {cp}: {type(exc).__name__}: {exc}", unreachable=True)
        self._show(glance)

    def _show(self, glance: ClusterGlance) -> None:
        self.glance = glance
        table = self.query_one("#status-nodes", DataTable)
        table.clear()
        details = self.query_one("#status-details", Static)
        status = glance.status
        table.display = status is not None  # no empty table under a problem
        if status is None:
            if "sudo" in glance.problem.lower():
                fix = ("Press p to give the sudo password for this session (or set sudo_password_env in the "
                       "profile), then F5.")
            elif glance.unreachable:
                fix = "Check the host is up and answers SSH, then press F5."
            else:
                fix = "Open the profile (enter on the welcome screen) and run it to set the cluster up."
            self.query_one("#status-summary", Static).update(f"[b $error]{escape(glance.problem)}[/]\n{fix}")
            details.update("")
            self.query_one("#status-upgrade", Static).update("")
            self._show_buttons()
            return
        lines = status.lines(glance.asked_at)
        self.query_one("#status-summary", Static).update(escape(lines[0]))
        for node in status.nodes:
            ready = Text(node.status, style="green" if node.ready else "bold red")
            table.add_row(node.name, ready, ",".join(node.roles), node.version, node.internal_ip, key=node.name)
        # status.lines(): the summary, a blank line, the table's header and rows, then the rest
        # (certificates, CAs, warnings, what could not be asked): the same words as `kwizard status`.
        rest = [line.strip() for line in lines[3 + len(status.nodes):] if line.strip()]
        details.update(escape("\n".join(rest)))
        self.query_one("#status-upgrade", Static).update(self._upgrade_text(glance))
        self._show_buttons()
        table.focus()

    def _upgrade_text(self, glance: ClusterGlance) -> str:
        offer = glance.upgrade
        if offer is None:
            return "No upgrade to offer: the API server did not say its version."
        if not offer.ok:
            return f"[b]Upgrade to {offer.to}[/] is not possible yet: " + escape("; ".join(offer.problems))
        if offer.finishing:
            return f"[b]u[/]: finish the upgrade to {offer.to} (some nodes still run an older kubelet)."
        return f"[b]u[/]: upgrade to {offer.to}, one minor release up (kubeadm upgrades one minor at a time)."

    def _show_buttons(self) -> None:
        offer = self.glance.upgrade if self.glance is not None else None
        self.query_one("#upgrade", Button).label = f"Upgrade to {offer.to}" if offer is not None else "Upgrade"
        for button in self.query(Button):
            if button.id != "refresh":
                button.disabled = not self.check_action(button.id or "", ())
        self.refresh_bindings()

    # --- what the user can do ---

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        has_status = self.glance is not None and self.glance.status is not None
        if action == "upgrade":
            return has_status and self.glance.upgrade is not None and self.glance.upgrade.ok  # type: ignore[union-attr]
        if action in ("remove", "add_worker"):
            return has_status
        return True

    def _highlighted_node(self) -> str | None:
        table = self.query_one("#status-nodes", DataTable)
        if self.glance is None or self.glance.status is None or not self.glance.status.nodes or table.cursor_row < 0:
            return None
        return self.glance.status.nodes[table.cursor_row].name

    def action_back(self) -> None:
        self.dismiss(StatusChoice("back"))

    def action_add_worker(self) -> None:
        if self.check_action("add_worker", ()):
            self.dismiss(StatusChoice("add-worker"))

    @work(group="ask", exclusive=True)
    async def action_upgrade(self) -> None:
        if not self.check_action("upgrade", ()):
            return
        offer = self.glance.upgrade  # type: ignore[union-attr]
        question = upgrade_question(self.profile, self.profile_path, offer.server, offer.to)  # type: ignore[union-attr]
        if await self.app.push_screen_wait(ConfirmModal(question, yes=f"Upgrade to {offer.to}", no="Not now")):  # type: ignore[union-attr]
            self.dismiss(StatusChoice("upgrade", to=offer.to))  # type: ignore[union-attr]

    @work(group="ask", exclusive=True)
    async def action_remove(self) -> None:
        node = self._highlighted_node()
        if node is None or not self.check_action("remove", ()):
            return
        why_not = removal_problem(self.profile, node)
        if why_not:
            self.notify(why_not, title=f"{node} cannot be removed here", severity="warning", timeout=10)
            return
        question = remove_question(node, self.profile_path)
        if await self.app.push_screen_wait(ConfirmModal(question, yes=f"Remove {node}", no="Keep it")):
            self.dismiss(StatusChoice("remove", node=node))

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        actions = {"refresh": self.action_refresh, "add_worker": self.action_add_worker,
                   "remove": self.action_remove, "upgrade": self.action_upgrade}
        actions[event.button.id or ""]()
