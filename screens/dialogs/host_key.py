"""The host-key question: a key kwizard has never seen, shown so the user can compare it.

Only an *unknown* key is ever offered (under the accept-new policy). A key
that differs from the recorded one is an error in the host's status, never
a question: that is what a man-in-the-middle looks like.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kwizard.screens.widgets.footer import KwizardFooter


class HostKeyModal(ModalScreen[bool]):
    """Dismisses True to trust the key (it is added to known_hosts), False to refuse."""

    BINDINGS = [
        Binding("y", "decide(True)", "Accept key", tooltip="Trust this key and add it to known_hosts"),
        Binding("n,escape", "decide(False)", "Reject", tooltip="Refuse the key; the host stays unreachable"),
    ]

    def __init__(self, host: str, address: str, key_type: str, fingerprint: str) -> None:
        super().__init__()
        self.host, self.address, self.key_type, self.fingerprint = host, address, key_type, fingerprint

    def compose(self) -> ComposeResult:
        yield KwizardFooter()  # this dialog's own keys, where every screen shows them
        with Vertical(id="host-key", classes="dialog"):
            yield Static(f"Unknown host key: {self.host}", classes="dialog-title")
            yield Static(
                f"kwizard has never connected to [b]{self.host}[/] ({self.address}) before. "
                "Check the fingerprint against the host itself before you trust it:"
            )
            yield Static(f"[b]{self.key_type}[/]\n[b]{self.fingerprint}[/]", id="fingerprint")
            yield Static(
                "On the host: [i]ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub[/] (or the key type above)",
                classes="note",
            )
            with Horizontal(classes="buttons"):
                yield Button("Reject", id="reject", variant="error")
                yield Button("Accept key", id="accept", variant="success")

    def on_mount(self) -> None:
        self.query_one("#reject", Button).focus()  # the safe answer is the default

    def action_decide(self, accept: bool) -> None:
        self.dismiss(accept)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "accept")
