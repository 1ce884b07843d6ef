"""Hosts: the machines of the cluster, their SSH defaults, and "Test connections"."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Static

from kwizard.profile.model import Host, Profile, Role, fleet_problems
from kwizard.screens.connections import HostCheck
from kwizard.screens.draft import updated, validated
from kwizard.screens.dialogs.host_form import HostFormModal
from kwizard.screens.dialogs.host_key import HostKeyModal
from kwizard.screens.dialogs.ssh_form import SSHSettingsModal, describe_ssh, no_key_at_all
from kwizard.screens.dialogs.sudo_password import SudoPasswordModal, known_sudo_password, password_known, remember_sudo_password, sudo_wants_a_password
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.wizard import BACK, StepScreen, button_row

if TYPE_CHECKING:
    from kwizard.screens.connections import Gatherer
    from kwizard.screens.state import WizardState

COLUMNS = (("Name", "name"), ("Address", "address"), ("Port", "port"), ("User", "user"), ("Role", "role"), ("Status", "status"))
TESTING = "… testing"
NOT_TESTED = "not tested"


class HostsScreen(StepScreen):
    STEP = "hosts"
    BINDINGS = [
        Binding("a", "add", "Add", tooltip="Add a host"),
        Binding("e", "edit", "Edit", show=False, tooltip="Edit the highlighted host (or press enter on it)"),
        Binding("d,delete", "remove", "Remove", tooltip="Remove the highlighted host (z undoes it)"),
        Binding("z", "undo_remove", "Undo remove", tooltip="Put the host just removed back"),
        Binding("s", "ssh", "SSH", tooltip="SSH defaults: user, key, known_hosts, jump host and sudo for every host"),
        Binding("t", "test", "Test", tooltip="Test connections: connect to every host at once and gather its facts"),
        Binding("p", "sudo_password", "Sudo pass", tooltip="Sudo password: give the sudo password for this session (kept in memory only)"),
    ]

    class ConnectionsTested(Message):
        """The result of "Test connections", posted by its worker."""

        def __init__(self, checks: dict[str, HostCheck], facts: dict[str, Any]) -> None:
            super().__init__()
            self.checks, self.facts = checks, facts

    def __init__(self, state: WizardState, gather: Gatherer) -> None:
        super().__init__(state)
        self.gather = gather
        self.hosts: list[Host] = list(self.draft.hosts)
        self.ssh = self.draft.ssh
        self._removed: tuple[int, Host, HostCheck | None] | None = None  # the last host removed (z puts it back)

    def compose_body(self) -> ComposeResult:
        with Vertical(id="hosts-body"):
            with Horizontal(id="ssh-line"):
                yield Static(describe_ssh(self.ssh), id="ssh-summary")
                yield Button("SSH defaults", id="ssh", compact=True, tooltip="s: edit the SSH defaults")
            yield DataTable(id="hosts", cursor_type="row", zebra_stripes=True)
            yield Static("", id="fleet-problems", classes="field-error")
            yield Static("", id="host-details")
            yield button_row(
                Button("Add", id="add", tooltip="a: add a host"),
                Button("Test connections", id="test", tooltip="t: gather facts from every host"),
                Button("Next", id="next", variant="primary", tooltip="ctrl+n: choose the network plugin"),
            )

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#hosts", DataTable)
        self._refresh_table()
        table.focus()

    # --- the table ---

    def _status(self, host: Host) -> str:
        check = self.state.checks.get(host.name)
        return check.summary if check else NOT_TESTED

    def _refresh_table(self, keep: str | None = None) -> None:
        table = self.query_one("#hosts", DataTable)
        row = table.cursor_row
        # Columns made afresh each time: every width is then measured from the rows as they are
        # now (a column sized for its label alone cut the first host's row until a second came).
        table.clear(columns=True)
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        for host in self.hosts:
            role = "control plane" if host.role is Role.CONTROL_PLANE else "worker"
            user = host.user or self.ssh.user
            port = str(host.port or self.ssh.port)
            table.add_row(host.name, host.address, port, user, role, self._status(host), key=host.name)
        if keep is not None and keep in [h.name for h in self.hosts]:
            row = [h.name for h in self.hosts].index(keep)
        if self.hosts:
            table.move_cursor(row=max(0, min(row, len(self.hosts) - 1)))
        problems = fleet_problems(self.hosts) if self.hosts else ["no hosts yet: press a to add one"]
        notice = self.query_one("#fleet-problems", Static)
        notice.update("\n".join(problems))
        notice.display = bool(problems)
        self._show_details()

    def _highlighted(self) -> Host | None:
        table = self.query_one("#hosts", DataTable)
        if not self.hosts:
            return None
        return self.hosts[min(max(table.cursor_row, 0), len(self.hosts) - 1)]

    @on(DataTable.RowHighlighted, "#hosts")
    def _show_details(self) -> None:
        host = self._highlighted()
        panel = self.query_one("#host-details", Static)
        check = self.state.checks.get(host.name) if host else None
        if host is None:
            panel.update("")
        elif check is None:
            panel.update(f"[b]{host.name}[/]: not tested yet. Press t to test every host's connection.")
        elif not check.reachable:
            no_key = no_key_at_all(self.ssh)
            panel.update(f"[b]{host.name}[/] [red]{check.summary}[/]\n{escape(check.problem)}" + (f"\n{no_key}" if no_key else ""))
        else:
            panel.update(f"[b]{host.name}[/] {check.summary}\n" + "\n".join(check.details) + self._sudo_hint(check))
        panel.set_class(bool(check and not check.reachable), "-failed")

    def _sudo_hint(self, check: HostCheck) -> str:
        """Under a host whose sudo said no: how to give the password, when none is known yet."""
        if not sudo_wants_a_password(self.ssh, {check.host: check}) or password_known(self.state, self.ssh):
            return ""
        return "\n[b]p[/]: give the sudo password (kept in memory only), then t to test again"

    @on(DataTable.RowSelected, "#hosts")
    def _edit_selected(self) -> None:
        self.action_edit()

    # --- add / edit / remove ---

    @on(Button.Pressed, "#add")
    @work
    async def action_add(self) -> None:
        host = await self.app.push_screen_wait(HostFormModal(None, self.hosts))
        if host is not None:
            self.hosts.append(host)
            self._refresh_table(keep=host.name)

    @work
    async def action_edit(self) -> None:
        current = self._highlighted()
        if current is None:
            return
        others = [h for h in self.hosts if h is not current]
        host = await self.app.push_screen_wait(HostFormModal(current, others))
        if host is not None:
            self.hosts[self.hosts.index(current)] = host
            if (host.name, host.address) != (current.name, current.address):
                self.state.checks.pop(current.name, None)  # a test of the old address says nothing now
            self._refresh_table(keep=host.name)

    def action_remove(self) -> None:
        host = self._highlighted()
        if host is not None:
            index = self.hosts.index(host)
            self.hosts.remove(host)
            self._removed = (index, host, self.state.checks.pop(host.name, None))
            self._refresh_table()
            self.refresh_bindings()
            self.notify(f"Removed {host.name}. Press z to undo.", timeout=8)

    def action_undo_remove(self) -> None:
        if self._removed is None:
            return
        index, host, check = self._removed
        self._removed = None
        if any(h.name == host.name for h in self.hosts):
            self.notify(f"A host named {host.name} is back already.", severity="warning")
            return
        self.hosts.insert(min(index, len(self.hosts)), host)
        if check is not None:
            self.state.checks[host.name] = check
        self._refresh_table(keep=host.name)
        self.refresh_bindings()
        self.notify(f"{host.name} is back.", timeout=3)

    @on(Button.Pressed, "#ssh")
    @work
    async def action_ssh(self) -> None:
        ssh = await self.app.push_screen_wait(SSHSettingsModal(self.ssh, self.state))
        if ssh is not None:
            self.ssh = ssh
            self.query_one("#ssh-summary", Static).update(describe_ssh(ssh))
            self._refresh_table()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo_remove":
            return self._removed is not None
        if action == "sudo_password":
            return self.ssh.sudo  # no sudo, no password to give: the key leaves the footer
        return super().check_action(action, parameters)

    @work
    async def action_sudo_password(self) -> None:
        if not self.ssh.sudo:
            return
        answer = await self.app.push_screen_wait(SudoPasswordModal(self.ssh.user, known=known_sudo_password(self.state) is not None))
        remember_sudo_password(self.app, self.state, answer)
        self._show_details()

    # --- test connections ---

    @on(Button.Pressed, "#test")
    def action_test(self) -> None:
        try:
            profile = validated(self.collect())
        except ValidationError:
            problems = fleet_problems(self.hosts) or ["add at least one host"]
            self.notify("\n".join(problems), title="Fix the hosts first", severity="warning")
            return
        no_key = no_key_at_all(self.ssh)
        if no_key:  # said first: otherwise a host-key question or "auth refused" comes before it
            self.notify(no_key, title="No SSH key", severity="warning", timeout=10)
        table = self.query_one("#hosts", DataTable)
        for host in self.hosts:
            table.update_cell(host.name, "status", TESTING, update_width=True)
        self._test_connections(profile)

    @work(exclusive=True, group="connections")
    async def _test_connections(self, profile: Profile) -> None:
        try:
            checks, facts = await self.gather(profile, self._ask_host_key, sudo_password=self.state.sudo_password)
        except Exception as exc:  # the gatherer itself failed (not one host): say so, keep the screen
            self.notify(f"{type(exc).__name__}: {exc}", title="Test connections failed", severity="error")
            checks, facts = {}, {}
        self.post_message(self.ConnectionsTested(checks, facts))

    async def _ask_host_key(self, host: str, address: str, key_type: str, fingerprint: str) -> bool:
        """The ssh layer's accept-new question, answered by the user in a modal."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.app.push_screen(HostKeyModal(host, address, key_type, fingerprint), callback=answer.set_result)
        return await answer

    @on(ConnectionsTested)
    def _tested(self, message: ConnectionsTested) -> None:
        self.state.tested(message.checks, message.facts)
        self._refresh_table()
        failed = [c for c in message.checks.values() if not c.reachable]
        if failed:
            names = ", ".join(f"{c.host} ({c.summary.lstrip('✗ ')})" for c in failed)
            self.notify(names, title=f"{len(failed)} host(s) failed", severity="error")
        elif message.checks:
            self.notify(f"All {len(message.checks)} hosts answered.", title="Connections OK")
        refused = sudo_wants_a_password(self.ssh, message.checks)
        if refused and not password_known(self.state, self.ssh):
            self.notify(
                f"sudo said no on {', '.join(refused)}: press p to give the sudo password (kept in memory only).",
                title="Sudo needs a password?", severity="warning", timeout=10,
            )

    # --- leaving ---

    def collect(self) -> Profile:
        return updated(self.draft, hosts=list(self.hosts), ssh=self.ssh)

    def action_leave(self, go: str) -> None:
        """Back to the welcome screen asks first when it would drop answers no file has."""
        if go != BACK or not self.state.unsaved(self.collect()):
            super().action_leave(go)
            return
        what = "this new cluster's hosts and settings" if self.state.saved is None else f"your changes to {self.draft.name}"
        question = f"Back to the welcome screen? {what[0].upper() + what[1:]} are not saved and will be lost."
        self.app.push_screen(ConfirmModal(question, yes="Leave them", no="Stay"),
                             lambda yes: super(HostsScreen, self).action_leave(go) if yes else None)

    def problems_before_next(self, draft: Profile) -> list[str]:
        if not self.hosts:
            return ["add at least one host (press a)"]
        failed = [f"{h.name} failed its connection test ({self.state.checks[h.name].summary.lstrip('✗ ')}): "
                  "fix it (e to edit, s for the SSH defaults) and press t to test again, or remove it (d)"
                  for h in self.hosts if h.name in self.state.checks and not self.state.checks[h.name].reachable]
        return fleet_problems(self.hosts) + failed

    @on(Button.Pressed, "#next")
    def _next(self) -> None:
        self.action_leave("next")

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Add host", "Add a host to the cluster", self.action_add)
        yield SystemCommand("Test connections", "Gather facts from every host at once", self.action_test)
        yield SystemCommand("SSH defaults", "Edit the SSH user, key, known_hosts, jump host, sudo", self.action_ssh)
        if self.ssh.sudo:
            yield SystemCommand("Sudo password…", "Give the sudo password for this session (memory only)", self.action_sudo_password)
