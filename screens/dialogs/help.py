"""Help (? or F1): what the screen under it is for, and every key it answers to right now."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from kwizard.screens.commands import long_name
from kwizard.screens.widgets.footer import KwizardFooter

SCREEN_HELP = {
    "WelcomeScreen": "Start a new cluster, open a saved profile to edit or run it, reset the cluster a profile set up, "
    "or resume a run that stopped.",
    "HostsScreen": "The machines of the cluster: one control plane, any number of workers. The SSH defaults apply to "
    "every host. Test connections logs in to every host at once and shows what each runs; Next needs every tested "
    "host to have answered.",
    "PluginScreen": "The pod network plugin (CNI) that connects the pods across the nodes.",
    "PodNetworkScreen": "The address ranges of the pods and the services; they must not overlap the hosts' own "
    "networks (ctrl+g picks one that clashes with nothing), and the cluster options.",
    "ReviewScreen": "Every step kwizard would run, and per host its commands; the preflight findings from the last "
    "connection test. Save the answers as a profile, then Run.",
    "ResetReviewScreen": "What tearing the cluster down would run on every host.",
    "RunScreen": "The run, step by step, beside each host's log. A failed step can be retried or skipped; a stopped "
    "run can be resumed later from the welcome screen.",
    "ClusterStatusScreen": "A saved profile's cluster at a glance, asked read-only of the control plane: nodes, "
    "versions, readiness, the network plugin, certificate expiry. Upgrade one minor release, remove a worker or add "
    "one from here; each asks first and runs on the run screen.",
    "DoneScreen": "What the cluster gives you: the join command for more workers, the kubeconfig, the nodes.",
}


def key_label(app, key: str) -> str:
    return ", ".join(app.get_key_display(Binding(k.strip(), "")) for k in key.split(","))


def binding_lines(screen: Screen) -> list[str]:
    """Every enabled binding the screen answers to (its own, the focused widget's, the app's)."""
    lines, seen = [], set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not active.enabled or binding.action in seen or not (binding.description or binding.tooltip):
            continue
        seen.add(binding.action)
        what = binding.tooltip or binding.description
        name = long_name(binding)
        if what.startswith(f"{name}: "):
            what = what[len(name) + 2:]
        lines.append(f"[b]{escape(key_label(screen.app, key)):>10}[/]  {escape(name)}"
                     + (f" [dim]— {escape(what)}[/]" if what != name else ""))
    return lines


class HelpModal(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,f1,q", "close", "Close")]

    def __init__(self, below: Screen) -> None:
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        yield KwizardFooter()
        name = type(self.below).__name__
        with Vertical(id="help", classes="dialog"):
            yield Static(f"Help · {escape(self.below.sub_title or name)}", classes="dialog-title")
            with VerticalScroll():
                yield Static(SCREEN_HELP.get(name, ""), id="help-what")
                yield Static("\n".join(binding_lines(self.below)), id="help-keys")
                yield Static("[dim]ctrl+p: every command · ctrl+q: quit (asks when answers are not saved)[/]")

    def action_close(self) -> None:
        self.dismiss(None)
