"""Add or edit one host: a modal form that says what is wrong with each field as you type."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from kwizard.profile.model import Host, Role
from kwizard.screens.draft import field_errors
from kwizard.screens.widgets.footer import KwizardFooter

FIELDS = ("name", "address", "port", "user")
ROLE_CHOICES = [("worker", Role.WORKER), ("control plane", Role.CONTROL_PLANE)]


def fleet_field_errors(data: dict[str, Any], others: list[Host]) -> dict[str, str]:
    """The rules across hosts, said on the field that breaks them."""
    errors = {}
    name, address = str(data.get("name", "")).lower(), str(data.get("address", "")).strip().lower()
    if name and any(h.name == name for h in others):
        errors["name"] = f"another host is already called {name}; each node needs its own name"
    match = next((h for h in others if h.address == address), None)
    if address and match:
        errors["address"] = f"{match.name} already has address {address}; each host needs its own"
    control_plane = next((h for h in others if h.role is Role.CONTROL_PLANE), None)
    if data.get("role") is Role.CONTROL_PLANE and control_plane:
        errors["role"] = (
            f"{control_plane.name} is already the control plane; kwizard sets up exactly one, "
            "so make this host a worker (or make this the control plane after changing that one)"
        )
    return errors


class HostFormModal(ModalScreen[Host | None]):
    """Dismisses with the validated Host, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the form without changing the host"),
        Binding("ctrl+s", "save", "Save host", tooltip="Keep this host (only when every field is valid)"),
    ]

    def __init__(self, host: Host | None, others: list[Host]) -> None:
        super().__init__()
        self.host = host
        self.others = others
        self.touched: set[str] = set()  # fields the user has typed in: only those complain while typing

    def compose(self) -> ComposeResult:
        yield KwizardFooter()  # this dialog's own keys, where every screen shows them
        host = self.host
        with Vertical(id="host-form", classes="dialog"):
            yield Static("Edit host" if host else "Add a host", classes="dialog-title")
            yield from self._field("name", "Name", host.name if host else "", "node name, e.g. kubemaster-1")
            yield from self._field("address", "Address", host.address if host else "", "IP or DNS name SSH connects to")
            yield Label("Role")
            default_role = Role.CONTROL_PLANE if not self._has_control_plane() else Role.WORKER
            yield Select(ROLE_CHOICES, value=host.role if host else default_role, allow_blank=False, id="role", compact=True)
            yield Static("", id="role-error", classes="field-error")
            with Horizontal(classes="field-pair"):
                with Vertical():
                    yield from self._field("port", "SSH port", str(host.port or "") if host else "", "default", "integer")
                with Vertical():
                    yield from self._field("user", "SSH user", (host.user or "") if host else "", "default")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save host", id="save", variant="primary")

    def _field(self, name: str, label: str, value: str, placeholder: str, kind: str = "text") -> ComposeResult:
        yield Label(label)
        yield Input(value, placeholder=placeholder, id=name, type=kind, compact=True)  # type: ignore[arg-type]
        yield Static("", id=f"{name}-error", classes="field-error")

    def _has_control_plane(self) -> bool:
        return any(h.role is Role.CONTROL_PLANE for h in self.others)

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    # --- validation as you type ---

    def form_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in FIELDS:
            value = self.query_one(f"#{name}", Input).value.strip()
            if value:
                data[name] = value
        data["role"] = self.query_one("#role", Select).value
        if self.host is not None and self.host.labels:
            data["labels"] = dict(self.host.labels)  # not editable here; kept as they were
        return data

    def errors(self) -> dict[str, str]:
        data = self.form_data()
        errors = fleet_field_errors(data, self.others)
        for field, message in field_errors(Host, data).items():
            errors.setdefault(field, message)
        return errors

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if event.input.id:
            self.touched.add(event.input.id)
        self._show_errors(self.touched | {"role"})

    @on(Select.Changed, "#role")
    def _role_changed(self) -> None:
        self._show_errors(self.touched | {"role"})

    def _show_errors(self, fields: set[str]) -> dict[str, str]:
        errors = self.errors()
        for field in (*FIELDS, "role"):
            message = errors.get(field, "") if field in fields else ""
            self.query_one(f"#{field}-error", Static).update(message)
            if field in FIELDS:
                self.query_one(f"#{field}", Input).set_class(bool(message), "-invalid")
        return errors

    # --- leaving ---

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        errors = self._show_errors({*FIELDS, "role"})
        if errors:
            first = next(f for f in (*FIELDS, "role") if f in errors)
            self.query_one(f"#{first}").focus()
            return
        self.dismiss(Host.model_validate(self.form_data()))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
