"""Network plugin: Flannel, Calico or Weave Net, with guidance that follows the choice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Markdown, RadioButton, RadioSet, Static

from kwizard.cni.catalogue import CATALOGUE, CNIPlugin, get_plugin
from kwizard.profile.model import CNI, Profile
from kwizard.screens.connections import in_wizard_words
from kwizard.screens.steps.cluster_options import fitting_options
from kwizard.screens.draft import updated
from kwizard.screens.wizard import StepScreen, button_row

if TYPE_CHECKING:
    from kwizard.screens.state import WizardState

# The one line for someone who does not know what a CNI plugin is.
RECOMMENDATION = "Not sure? Pick Flannel: the simplest, fine for a first cluster. Need NetworkPolicy? Calico."


def guidance_markdown(plugin: CNIPlugin) -> str:
    """The catalogue's guidance plus the facts a user compares: ports, pod CIDR, encryption, MTU, status."""
    ports = ", ".join(p.label for p in plugin.ports_for())
    lines = [
        f"## {plugin.name} {plugin.version}",
        "",
        plugin.guidance,
        "",
        f"**Default pod CIDR:** `{plugin.default_pod_cidr}`  ",
        f"**Ports (default backend {plugin.default_backend}):** {ports}  ",
        f"**NetworkPolicy:** {'yes' if plugin.network_policy else 'no'}  ",
        f"**Encryption:** {plugin.encryption}  ",
        f"**MTU:** {plugin.mtu}  ",
        f"**Status:** {plugin.maintenance_note}",
    ]
    return "\n".join(lines)


def choice_label(plugin: CNIPlugin, chosen: bool) -> str:
    """The radio button's words: the chosen one says so, not only by its colour."""
    label = plugin.name + (" (archived)" if plugin.is_archived else "")
    return f"{label}  ◀ chosen" if chosen else label


def switched_pod_cidr(current: str, old: CNI, new: CNI) -> str:
    """Follow the plugin's default pod CIDR unless the user chose their own."""
    return get_plugin(new.value).default_pod_cidr if current == get_plugin(old.value).default_pod_cidr else current


class PluginScreen(StepScreen):
    STEP = "plugin"

    def __init__(self, state: WizardState) -> None:
        super().__init__(state)
        self.choice: CNI = self.draft.cluster.cni

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="plugin-body"):
            with Vertical(id="plugin-choice"):
                with RadioSet(id="plugins"):
                    for plugin in CATALOGUE.values():
                        yield RadioButton(choice_label(plugin, plugin.id == self.choice.value),
                                          value=plugin.id == self.choice.value, id=plugin.id)
                yield Static("", id="plugin-summary")
                yield Static(RECOMMENDATION, id="recommendation")
            with VerticalScroll(id="guidance-scroll"):
                yield Markdown(id="guidance")
        yield button_row(Button("Next", id="next", variant="primary", tooltip="ctrl+n: the pod network"))

    def on_mount(self) -> None:
        super().on_mount()
        self._show(self.choice)
        plugins = self.query_one("#plugins", RadioSet)
        # RadioSet highlights its first button; move the highlight to the chosen one.
        for _ in range(list(CATALOGUE).index(self.choice.value)):
            plugins.action_next_button()
        plugins.focus()

    def _show(self, choice: CNI) -> None:
        plugin = get_plugin(choice.value)
        self.query_one("#guidance", Markdown).update(in_wizard_words(guidance_markdown(plugin)))
        self.query_one("#guidance-scroll").scroll_home(animate=False)
        # One line on the chosen plugin; the advice on choosing is said once, under it (an archived
        # plugin's own warning takes its place).
        summary = f"{plugin.summary}\n\n{plugin.recommendation}" if plugin.is_archived else plugin.summary
        self.query_one("#plugin-summary", Static).update(summary)
        self.query_one("#plugin-summary").set_class(plugin.is_archived, "-archived")
        self.query_one("#recommendation").display = not plugin.is_archived
        for button in self.query(RadioButton):
            button.label = choice_label(get_plugin(str(button.id)), button.id == choice.value)

    @on(RadioSet.Changed, "#plugins")
    def _changed(self, event: RadioSet.Changed) -> None:
        self.choice = CNI(event.pressed.id)
        self._show(self.choice)

    def collect(self) -> Profile:
        cluster = self.draft.cluster
        if self.choice is cluster.cni:
            return self.draft
        pod_cidr = switched_pod_cidr(cluster.pod_cidr, cluster.cni, self.choice)
        options, dropped = fitting_options(cluster.cni_options, self.choice)
        if dropped:
            name = get_plugin(self.choice.value).name
            self.notify(f"{name} does not take: {', '.join(dropped)}. Removed.", title="Plugin options", timeout=6)
        changes = {"cni": self.choice, "pod_cidr": pod_cidr, "cni_options": options}
        return updated(self.draft, cluster=cluster.model_copy(update=changes))

    @on(Button.Pressed, "#next")
    def _next(self) -> None:
        self.action_leave("next")
