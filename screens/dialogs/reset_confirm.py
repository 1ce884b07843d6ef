"""Before a reset: name the hosts, choose the extra clean-ups, and type the control plane's name.

Tearing a cluster down cannot be undone, so "yes" is not enough: the user
types the control plane's host name (as GitHub asks for a repository's name
before deleting it). Dismisses with the `ResetOptions` to run, or None.
"""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from kwizard.profile.model import Profile
from kwizard.service import ResetOptions


class ResetConfirmModal(ModalScreen[ResetOptions | None]):
    DEFAULT_CSS = """
    ResetConfirmModal #reset-confirm { border: thick $error; }
    ResetConfirmModal Checkbox { border: none; padding: 0; height: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Keep the cluster")]

    def __init__(self, profile: Profile) -> None:
        super().__init__()
        self.profile = profile
        self.expected = profile.control_plane.name

    def compose(self) -> ComposeResult:
        hosts = "\n".join(
            f"  • [b]{escape(h.name)}[/] {escape(h.address)} ({'control plane' if h is self.profile.control_plane else 'worker'})"
            for h in self.profile.hosts
        )
        with Vertical(id="reset-confirm", classes="dialog"):
            yield Static(f"Reset the cluster of {escape(self.profile.name)}", classes="dialog-title")
            yield Static(
                f"kubeadm reset runs on every host below: the workers are drained and removed, then the "
                f"control plane. The cluster and its workloads are gone afterwards.\n{hosts}"
            )
            yield Checkbox("Flush iptables rules (iptables -F, -t nat, -t mangle, -X)", id="flush-iptables", compact=True)
            yield Checkbox("Clear IPVS tables (ipvsadm --clear)", id="clear-ipvs", compact=True)
            yield Checkbox("Remove the CNI configuration (/etc/cni/net.d)", id="remove-cni", compact=True)
            yield Static(f"Type [b]{escape(self.expected)}[/] (the control plane's name) to confirm:")
            yield Input(placeholder=self.expected, id="reset-name", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Keep the cluster", id="keep")
                yield Button("Reset", id="reset", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#reset-name", Input).focus()

    @on(Input.Changed, "#reset-name")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#reset", Button).disabled = event.value.strip() != self.expected

    @on(Input.Submitted, "#reset-name")
    def _submitted(self) -> None:
        if not self.query_one("#reset", Button).disabled:
            self._confirm()

    @on(Button.Pressed, "#reset")
    def _confirm(self) -> None:
        self.dismiss(
            ResetOptions(
                flush_iptables=self.query_one("#flush-iptables", Checkbox).value,
                clear_ipvs=self.query_one("#clear-ipvs", Checkbox).value,
                remove_cni_config=self.query_one("#remove-cni", Checkbox).value,
            )
        )

    @on(Button.Pressed, "#keep")
    def action_cancel(self) -> None:
        self.dismiss(None)
