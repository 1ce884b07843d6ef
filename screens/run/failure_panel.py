"""The panel under a failed step: which step, which hosts, why, the last lines, and what to do.

The buttons only say what the user chose (`Button.Pressed` with the ids
retry / skip / abort); the run screen acts on them.
"""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from kwizard.screens.run.state import StepFailure
from kwizard.service import preflight_issues


def describe_failure(failure: StepFailure) -> str:
    """Console markup for the panel's text (every engine string escaped)."""
    where = ", ".join(failure.hosts) if failure.hosts else "kwizard itself"
    number = f"{failure.number}. " if failure.number else ""
    parts = [f"[b red]✗ {number}{escape(failure.title)}[/] failed on [b]{escape(where)}[/]"]
    for host, error in failure.errors.items():
        parts.append(f"[b]{escape(host)}[/]: {escape(error.removeprefix(host + ': '))}")
    for finding in failure.findings:
        fix = f"\n    fix: {escape(finding.fix)}" if finding.fix else ""
        parts.append(f"[red]error[/] {escape(finding.host or 'all hosts')}: {escape(finding.message)}{fix}")
    names = _kubeadm_preflight_names(failure)
    if names:
        parts.append(f"kubeadm preflight: [b]{escape(', '.join(names))}[/]")
    if failure.diagnosis:
        parts.append(f"[b $warning]Likely cause:[/] {escape(failure.diagnosis)}")
    for host, tail in failure.tails.items():
        error = failure.errors.get(host)
        shown = [line for line in tail if line != error]  # kwizard's note of the error, said above already
        if shown:
            parts.append(f"[dim]Last lines from {escape(host)}:[/]")
            parts.extend(f"  [dim]{escape(line)}[/]" for line in shown)
    return "\n".join(parts)


def _kubeadm_preflight_names(failure: StepFailure) -> list[str]:
    """kubeadm's own names for its preflight errors ([ERROR Port-6443]), as the user would search them."""
    text = "\n".join(line for tail in failure.tails.values() for line in tail)
    return [f"[{issue.level.value.upper()} {issue.name}]" for issue in preflight_issues(text)]


class FailurePanel(Vertical):
    DEFAULT_CSS = """
    FailurePanel {
        height: auto;
        max-height: 50%;
        border-top: heavy $error;
        background: $error 8%;
        display: none;
    }
    FailurePanel.-shown { display: block; }
    FailurePanel VerticalScroll { height: auto; max-height: 9; padding: 0 1; }
    FailurePanel .buttons { height: auto; align-horizontal: right; padding: 0 1; }
    FailurePanel .buttons Button { margin-left: 1; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="failure-text")
        with Horizontal(classes="buttons"):
            yield Button("Retry step", id="retry", variant="primary", compact=True, tooltip="r: run the failed step again")
            yield Button("Skip step…", id="skip", variant="warning", compact=True, tooltip="s: mark it done and go on (asks first)")
            yield Button("Abort", id="abort", variant="error", compact=True, tooltip="a: stop here; resume later from the welcome screen")

    def show(self, failure: StepFailure) -> None:
        self.query_one("#failure-text", Static).update(describe_failure(failure))
        self.query_one("#skip", Button).display = failure.step_id not in ("run", "preflight", "connect")
        self.add_class("-shown")
        self.query_one("#retry", Button).focus()

    def hide(self) -> None:
        self.remove_class("-shown")
