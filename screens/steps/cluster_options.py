"""The Kubernetes version and the chosen plugin's own options, checked by the model as you type.

Lives on the Pod network step: the plugin is already chosen there, so only
the options it takes are shown. Which plugin takes which option is the
model's rule (`ClusterSpec._options_fit_the_plugin`); `takes_option` asks the
model instead of repeating that rule here, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static, Switch

from kwizard.cni.catalogue import get_plugin
from kwizard.profile.model import CNI, ClusterSpec, CNIOptions
from kwizard.screens.draft import field_errors

VERSION = "kubernetes_version"
OPTION_FIELDS: dict[str, tuple[str, str, Any]] = {
    # CNIOptions field: (label, placeholder, a valid sample used only to ask the model whether a plugin takes it)
    "interface": ("Node interface", "auto (e.g. eth1)", "eth0"),
    "mtu": ("MTU", "auto (576-9000, e.g. 1450)", 1500),
    "encryption_password_env": ("Encryption password from env var", "none: not encrypted", "WEAVE_PASSWORD"),
}
# CNIOptions yes/no fields: (what the switch says, a valid sample as above)
SWITCH_FIELDS: dict[str, tuple[str, Any]] = {
    "disable_firewalld": ("Stop and disable firewalld on every host (Calico's system requirements ask for it; "
                          "off: kwizard opens Calico's ports in firewalld instead)", True),
}
HINTS = {
    "interface": "Pin it when the default route is a VPN (tun0, wg0, …).",
    "mtu": "Jumbo frames, or a smaller MTU for an encrypted or tunnelled network.",
    # The one field where a user might paste a secret: say plainly what belongs here.
    "encryption_password_env": (
        "The NAME of an environment variable holding the password (e.g. WEAVE_PASSWORD), "
        "never the password itself: profiles hold no secrets."
    ),
}


def takes_option(cni: CNI, field: str) -> bool:
    """Whether `cni` uses option `field`, by the model's own rule."""
    sample = OPTION_FIELDS[field][2] if field in OPTION_FIELDS else SWITCH_FIELDS[field][1]
    return not field_errors(ClusterSpec, {"cni": cni, "cni_options": {field: sample}})


def fitting_options(options: CNIOptions, cni: CNI) -> tuple[CNIOptions, list[str]]:
    """`options` without those `cni` would ignore, and the labels of what was dropped.

    Switching plugin must leave a valid draft: the model refuses an option the
    new plugin would ignore (e.g. Weave's password env var under Flannel).
    """
    dropped = [f for f in OPTION_FIELDS if getattr(options, f) is not None and not takes_option(cni, f)]
    switched_off = [f for f in SWITCH_FIELDS if getattr(options, f) and not takes_option(cni, f)]
    update: dict[str, Any] = {f: None for f in dropped} | {f: False for f in switched_off}
    labels = [OPTION_FIELDS[f][0] for f in dropped] + [SWITCH_FIELDS[f][0].split(" (")[0] for f in switched_off]
    return options.model_copy(update=update), labels


class ClusterOptions(Vertical):
    """The version input and the plugin's option inputs; the screen asks `changes()` and `problems()`."""

    def __init__(self, cluster: ClusterSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cluster = cluster
        self.fields = [f for f in OPTION_FIELDS if takes_option(cluster.cni, f)]
        self.switches = [f for f in SWITCH_FIELDS if takes_option(cluster.cni, f)]

    def compose(self) -> ComposeResult:
        yield Label("Kubernetes version")
        yield Input(self.cluster.kubernetes_version, id=VERSION, placeholder="e.g. 1.33 or 1.33.2", compact=True)
        yield Static("", id=f"{VERSION}-error", classes="field-error")
        plugin = get_plugin(self.cluster.cni.value)
        yield Static(f"{plugin.name} options (empty: the plugin's default)", classes="section-title")
        for field in self.fields:
            label, placeholder, _ = OPTION_FIELDS[field]
            value = getattr(self.cluster.cni_options, field)
            kind = "integer" if field == "mtu" else "text"
            yield Label(label)
            yield Input("" if value is None else str(value), placeholder=placeholder, id=field, type=kind, compact=True)
            yield Static(HINTS[field], classes="note")
            yield Static("", id=f"{field}-error", classes="field-error")
        for field in self.switches:
            with Horizontal(classes="toggle"):
                yield Switch(bool(getattr(self.cluster.cni_options, field)), id=field)
                yield Static(SWITCH_FIELDS[field][0])

    def on_mount(self) -> None:
        self._show_errors()

    # --- what the inputs say ---

    def _value(self, name: str) -> str:
        return self.query_one(f"#{name}", Input).value.strip()

    def _option_data(self) -> dict[str, Any]:
        # Start from the draft's options so those not shown here (manifest_file) are kept.
        data = self.cluster.cni_options.model_dump()
        data.update({f: self._value(f) or None for f in self.fields})
        data.update({f: self.query_one(f"#{f}", Switch).value for f in self.switches})
        return data

    def _errors(self) -> dict[str, str]:
        errors = field_errors(CNIOptions, self._option_data())
        errors.update(field_errors(ClusterSpec, {VERSION: self._value(VERSION)}))
        return errors

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()  # the Pod network screen re-checks its CIDRs on its own inputs' changes, not these
        self._show_errors()

    def _show_errors(self) -> None:
        errors = self._errors()
        for name in (VERSION, *self.fields):
            message = errors.get(name, "")
            error = self.query_one(f"#{name}-error", Static)
            error.update(message)
            error.display = bool(message)  # no blank line under a field that is fine
            self.query_one(f"#{name}", Input).set_class(bool(message), "-invalid")

    # --- for the screen ---

    def changes(self) -> dict[str, Any]:
        """The valid answers as ClusterSpec fields; a wrong one keeps its last good value (like the CIDRs)."""
        errors = self._errors()
        changes: dict[str, Any] = {}
        if VERSION not in errors:
            changes[VERSION] = ClusterSpec(kubernetes_version=self._value(VERSION)).kubernetes_version  # "v1.33" -> "1.33"
        data = self._option_data()
        kept = self.cluster.cni_options.model_dump()
        kept.update({f: data[f] for f in (*self.fields, *self.switches) if f not in errors})
        changes["cni_options"] = CNIOptions.model_validate(kept)
        return changes

    def problems(self) -> list[str]:
        labels = {VERSION: "Kubernetes version", **{f: OPTION_FIELDS[f][0] for f in self.fields}}
        return [f"{labels.get(name, name)}: {message}" for name, message in self._errors().items()]
