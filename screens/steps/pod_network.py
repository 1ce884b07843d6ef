"""Pod network: pod and service CIDRs checked as you type against the hosts' own networks,
the advertise address, the Kubernetes version and the plugin's options, and the cluster toggles.

A CIDR the profile would refuse (kwizard.profile.model's ClusterSpec: not a CIDR, host bits,
IPv6) is said under its field in the model's own words, and Next waits until it is fixed; the
clash checks against the hosts' networks only run on values the profile takes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.markup import escape
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static, Switch

from kwizard.screens.connections import in_wizard_words
from kwizard.cni.catalogue import get_plugin
from kwizard.checks.findings import Finding, Level
from kwizard.facts.hostnet import HostNetwork
from kwizard.profile.model import ClusterSpec, Profile
from kwizard.checks.cidr import check_pod_cidr, check_service_cidr, suggest_pod_cidr
from kwizard.checks.advertise import choose_advertise_address
from kwizard.screens.steps.cluster_options import ClusterOptions
from kwizard.screens.draft import field_errors, updated
from kwizard.screens.wizard import StepScreen, button_row

if TYPE_CHECKING:
    from kwizard.screens.state import WizardState

AUTO = "auto"
CIDR_FIELDS = ("pod_cidr", "service_cidr")
TOGGLES = {
    # ClusterSpec field: what it does, in one line
    "schedule_on_control_plane": "Run workloads on the control plane too (always on for a one-host cluster)",
    "manage_etc_hosts": "Write every node's name into each host's /etc/hosts (a managed block)",
    "open_firewall_ports": "Open the Kubernetes and plugin ports where firewalld runs",
    "install_packages": "Install containerd and kubeadm/kubelet/kubectl from pkgs.k8s.io",
    "disable_swap": "Turn swap off now and at boot (kubelet will not start with swap on)",
}
LEVEL_MARKS = {Level.ERROR: "[red]✗[/]", Level.WARNING: "[yellow]![/]", Level.INFO: "[dim]i[/]"}


def render_findings(findings: list[Finding]) -> str:
    """Findings beside the inputs: where (host, interface), what clashes, and the fix."""
    lines = []
    for index, finding in enumerate(findings):
        where = " · ".join(p for p in (finding.host, finding.interface) if p)
        head = f"{LEVEL_MARKS[finding.level]} [b]{where}[/]: " if where else f"{LEVEL_MARKS[finding.level]} "
        lines.append(head + escape(in_wizard_words(finding.message)))
        following = findings[index + 1].fix if index + 1 < len(findings) else None
        if finding.fix and finding.fix != following:  # one fix under a run of findings that share it
            lines.append(f"   [i]fix: {escape(in_wizard_words(finding.fix))}[/]")
    return "\n".join(lines)


# Pod CIDR errors that the suggested range (free on every host, sized for the nodes) fixes.
SUGGESTION_FIXES = ("overlaps", "pod_cidr.too_small", "pod_cidr.too_large", "pod_cidr.calico_block_size")


def fixed_by_suggestion(finding: Finding) -> bool:
    return finding.is_error and any(code in finding.code for code in SUGGESTION_FIXES)


class PodNetworkScreen(StepScreen):
    STEP = "network"
    BINDINGS = [
        Binding("ctrl+g", "use_suggested", "Use suggested", tooltip="Replace the pod CIDR with one that clashes with nothing"),
    ]

    def __init__(self, state: WizardState) -> None:
        super().__init__(state)
        self.suggestion: str | None = None

    @property
    def networks(self) -> list[HostNetwork]:
        return [c.network for c in self.state.checks.values() if c.network is not None]

    def compose_body(self) -> ComposeResult:
        cluster = self.draft.cluster
        with VerticalScroll(id="network-body"):
            with Horizontal(id="cidrs"):
                with Vertical(id="cidr-inputs"):
                    yield Label("Pod CIDR")
                    yield Input(cluster.pod_cidr, id="pod_cidr", placeholder="e.g. 10.244.0.0/16", compact=True)
                    yield Static("", id="pod_cidr-error", classes="field-error")
                    yield Label("Service CIDR")
                    yield Input(cluster.service_cidr, id="service_cidr", placeholder="e.g. 10.96.0.0/12", compact=True)
                    yield Static("", id="service_cidr-error", classes="field-error")
                    yield Button("Use suggested", id="use-suggested", compact=True, tooltip="ctrl+g: take the suggested pod CIDR")
                yield Static("", id="findings")
            yield Label("Advertise address (the API server's address on the control plane)")
            yield Select(self._advertise_options(), value=self._advertise_value(), allow_blank=False, id="advertise", compact=True)
            yield Static("", id="advertise-note", classes="note")
            yield ClusterOptions(cluster, id="cluster-options")
            for field, line in TOGGLES.items():
                with Horizontal(classes="toggle"):
                    yield Switch(self._toggle_value(field), id=field)
                    yield Static(line)
        yield button_row(Button("Next", id="next", variant="primary", tooltip="ctrl+n: review the plan"))

    def on_mount(self) -> None:
        super().on_mount()
        self._check()
        self._advertise_note()
        self.query_one("#pod_cidr", Input).focus()

    # --- CIDRs ---

    def refused_cidrs(self) -> dict[str, str]:
        """{field: the profile model's own message} for each CIDR as typed that a profile would refuse."""
        refused: dict[str, str] = {}
        for name in CIDR_FIELDS:
            refused.update(field_errors(ClusterSpec, {name: self._value(name)}))
        return refused

    @on(Input.Changed)
    def _check(self) -> None:
        pod, service = self._value("pod_cidr"), self._value("service_cidr")
        refused = self.refused_cidrs()
        for name in CIDR_FIELDS:
            message = refused.get(name, "")
            error = self.query_one(f"#{name}-error", Static)
            error.update(escape(message))
            error.display = bool(message)
        nodes, plugin = len(self.draft.hosts), self.draft.cluster.cni.value
        if refused:
            # The clash checks compare networks the profile takes: until then, only the refusal counts.
            pod_findings, service_findings = [], []
            self.suggestion = None
            text = "[red]✗[/] not checked for clashes: fix the CIDR the profile refuses (said under it) first"
        else:
            pod_findings = check_pod_cidr(pod, service, self.networks, nodes, plugin)
            service_findings = check_service_cidr(service, self.networks)
            wrong = any(fixed_by_suggestion(f) for f in pod_findings)
            self.suggestion = self._suggest(service) if wrong else None
            if self.suggestion == pod:
                self.suggestion = None
            shown = [f for f in pod_findings + service_findings if f.level is not Level.INFO]
            if self.networks:
                text = render_findings(shown) or "[green]✓[/] no clashes found"
            else:  # "no clashes" would claim a check that was not made
                text = render_findings(shown) or "[green]✓[/] the pod and service ranges do not overlap each other"
                text += "\n[dim]Not checked against the hosts' networks: test connections on the Hosts step first.[/]"
            if self.suggestion:
                text += f"\n\nSuggested pod CIDR: [b]{self.suggestion}[/] (ctrl+g to use it)"
        self.query_one("#findings", Static).update(text)
        self.query_one("#use-suggested", Button).display = self.suggestion is not None
        for name, errors in (("pod_cidr", pod_findings), ("service_cidr", service_findings)):
            invalid = name in refused or any(f.is_error for f in errors)
            self.query_one(f"#{name}", Input).set_class(invalid, "-invalid")
        self.refresh_bindings()

    def _suggest(self, service: str) -> str | None:
        prefer = get_plugin(self.draft.cluster.cni.value).default_pod_cidr
        try:
            return suggest_pod_cidr(self.networks, service, len(self.draft.hosts), prefer=prefer)
        except ValueError:
            return None

    def _value(self, name: str) -> str:
        return self.query_one(f"#{name}", Input).value.strip()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "use_suggested":
            return self.suggestion is not None
        return super().check_action(action, parameters)

    @on(Button.Pressed, "#use-suggested")
    def action_use_suggested(self) -> None:
        if self.suggestion:
            taken = self.suggestion
            self.query_one("#pod_cidr", Input).value = taken
            self.notify(f"Pod CIDR set to {taken}.", timeout=3)

    # --- advertise address ---

    def _advertise_choice(self):
        cp = next((h for h in self.draft.hosts if h.role.value == "control-plane"), None)
        check = self.state.checks.get(cp.name) if cp else None
        return choose_advertise_address(check.network) if check and check.network else None

    def _advertise_options(self) -> list[tuple[str, str]]:
        choice = self._advertise_choice()
        options = [("auto: what kubeadm picks (the default route's address)", AUTO)]
        if choice is not None and choice.address:
            options = [(f"auto: {choice.address} ({choice.interface}), the default route's", AUTO)]
            for candidate in ((choice.address, choice.interface), *((c.address, c.interface) for c in choice.candidates)):
                mark = " (recommended)" if candidate[0] == choice.recommended else ""
                options.append((f"{candidate[0]} on {candidate[1]}{mark}", candidate[0]))
        current = self.draft.cluster.advertise_address
        if current not in [value for _, value in options]:
            options.append((f"{current} (from the profile)", current))
        return options

    def _advertise_value(self) -> str:
        return self.draft.cluster.advertise_address

    @on(Select.Changed, "#advertise")
    def _advertise_note(self) -> None:
        choice = self._advertise_choice()
        note = self.query_one("#advertise-note", Static)
        if choice is None:
            note.update("Test connections on the Hosts step to choose from the control plane's addresses.")
            return
        warnings = render_findings(list(choice.findings))
        chosen = self.query_one("#advertise", Select).value
        if chosen == AUTO and choice.recommended and choice.recommended != choice.address:
            warnings += f"\nChoose {choice.recommended} above: auto would advertise the VPN address."
        note.update(warnings or "The control plane's address other nodes reach it by.")

    # --- toggles and leaving ---

    def _toggle_value(self, field: str) -> bool:
        if field == "schedule_on_control_plane":
            return self.draft.untaint_control_plane if self.draft.hosts else True
        return bool(getattr(self.draft.cluster, field))

    def collect(self) -> Profile:
        cluster = self.draft.cluster
        changes: dict[str, object] = {}
        refused = self.refused_cidrs()
        for name in CIDR_FIELDS:
            if name not in refused:
                changes[name] = self._value(name)  # a refused one is not kept (Next waits for it; Back keeps the last good value)
        changes["advertise_address"] = self.query_one("#advertise", Select).value
        changes.update(self.query_one(ClusterOptions).changes())
        for field in TOGGLES:
            changes[field] = self.query_one(f"#{field}", Switch).value
        if changes["schedule_on_control_plane"] == self._toggle_value("schedule_on_control_plane"):
            # Unchanged: keep what the profile said, including "the default for this many hosts" (None).
            changes["schedule_on_control_plane"] = cluster.schedule_on_control_plane
        return updated(self.draft, cluster=cluster.model_copy(update=changes))

    def problems_before_next(self, draft: Profile) -> list[str]:
        refused = self.refused_cidrs()
        options = self.query_one(ClusterOptions).problems()
        if refused:
            return list(refused.values()) + options
        pod, service = self._value("pod_cidr"), self._value("service_cidr")
        nodes, plugin = len(draft.hosts), draft.cluster.cni.value
        findings = check_pod_cidr(pod, service, self.networks, nodes, plugin) + check_service_cidr(service, self.networks)
        problems = [f.message for f in findings if f.is_error] + options
        # Anything else of this step the profile would refuse (the whole cluster section, as it would be saved).
        cluster = draft.cluster.model_dump(mode="json") | {name: self._value(name) for name in CIDR_FIELDS}
        for name, message in field_errors(ClusterSpec, cluster).items():
            if message not in problems:
                problems.append(f"{name}: {message}" if name and not message.startswith(("cluster.", name)) else message)
        return problems

    @on(Button.Pressed, "#next")
    def _next(self) -> None:
        self.action_leave("next")

    def palette_commands(self) -> Iterable[SystemCommand]:
        if self.suggestion:
            yield SystemCommand("Use suggested pod CIDR", f"Set the pod CIDR to {self.suggestion}", self.action_use_suggested)
