"""Headless faces of a run: events printed as `[host] line` text or as JSON Lines.

Both are plain listeners on the runner's events, so anything the TUI shows
of a run, a script sees too. Lines arrive already masked by the runner.
"""

from __future__ import annotations

import sys
from typing import TextIO

from kwizard.run.events import Event, FindingReported, HostFinished, HostLine, HostSkipped, Note, RunFinished, RunStarted, StepFinished, StepStarted
from kwizard.checks.findings import format_finding
from kwizard.run.timeline import WAITING_PREFIX
from kwizard.kube import kubeconfig
from kwizard.profile.model import Profile
from kwizard.run.outcome import RunOutcome


class TextPrinter:
    """Human-readable progress: step headers, each remote line prefixed with its host."""

    def __init__(self, out: TextIO = sys.stdout):
        self.out = out
        self._numbers: dict[str, int] = {}
        self._total = 0
        self.events: list[Event] = []  # what the closing timeline is drawn from (lines left out)

    def __call__(self, event: Event) -> None:
        if not isinstance(event, HostLine) or event.line.startswith(WAITING_PREFIX):
            self.events.append(event)
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        if handler is not None:
            handler(event)
            self.out.flush()

    def _print(self, text: str) -> None:
        print(text, file=self.out)

    def _on_Note(self, event: Note) -> None:
        self._print(f"kwizard: {event.message}")

    def _on_RunStarted(self, event: RunStarted) -> None:
        self._numbers = {step_id: i for i, (step_id, _title) in enumerate(event.steps, start=1)}
        self._total = len(event.steps)
        self._print(f"kwizard {event.plan}: {self._total} steps on {', '.join(event.hosts)}")
        self._print(f"run directory: {event.run_dir}")

    def _on_StepStarted(self, event: StepStarted) -> None:
        number = self._numbers.get(event.step_id, 0)
        self._print(f"==> [{number}/{self._total}] {event.title}")

    def _on_HostLine(self, event: HostLine) -> None:
        marker = "!" if event.stream == "stderr" else ("*" if event.stream == "kwizard" else "")
        self._print(f"[{event.host}]{marker} {event.line}")

    def _on_HostSkipped(self, event: HostSkipped) -> None:
        self._print(f"[{event.host}] {event.reason}: skipped")

    def _on_HostFinished(self, event: HostFinished) -> None:
        if not event.ok:
            why = event.error or f"exit status {event.exit_status}"
            self._print(f"[{event.host}] FAILED after {event.duration:.1f}s: {why}")

    def _on_StepFinished(self, event: StepFinished) -> None:
        if event.status == "failed":
            hosts = ", ".join(event.failed_hosts) or "kwizard"
            self._print(f"<== {event.step_id} FAILED on {hosts} ({event.duration:.1f}s)")
            if event.diagnosis:
                self._print(f"    likely cause: {event.diagnosis}")
        elif event.status == "skipped":
            self._print(f"<== {event.step_id}: already done on every host")
        elif event.status == "cancelled":
            self._print(f"<== {event.step_id} cancelled after {event.duration:.1f}s: stopped on every host, not finished")
        else:
            self._print(f"<== {event.step_id} done ({event.duration:.1f}s)")

    def _on_FindingReported(self, event: FindingReported) -> None:
        self._print(format_finding(event.finding))

    def _on_RunFinished(self, event: RunFinished) -> None:
        self._print(f"kwizard: {event.status} in {event.duration:.1f}s")


class JsonPrinter:
    """One JSON object per event per line, for scripts (`jq`, `python -c`)."""

    def __init__(self, out: TextIO = sys.stdout):
        self.out = out

    def __call__(self, event: Event) -> None:
        self.out.write(event.to_json() + "\n")
        self.out.flush()


def print_finish(profile: Profile, outcome: RunOutcome, profile_path: str) -> None:
    """The end of a setup: what to copy to grow and use the cluster."""
    print("\nThe cluster is up.")
    for node in outcome.nodes:
        print(f"  {node.name:24} {node.status:9} {','.join(node.roles):16} {node.version}")
    join = outcome.join_command
    if join is not None:
        print("\nTo join more workers, run this on each as root (the token lives 24 h;")
        print(f"`kwizard join-command {profile_path}` makes a fresh one):\n")
        print(f"  {join.command()}\n")
    else:
        print(f"\nTo join workers later: kwizard join-command {profile_path}\n")
    user = profile.user_for(profile.control_plane)
    print(f"On the control plane ({profile.control_plane.name}) kwizard set up ~/.kube/config for {user};")
    print("for another user there, run:")
    for line in kubeconfig.control_plane_setup_commands():
        print(f"  {line}")
    path = outcome.kubeconfig_path
    if path:
        export, merge = kubeconfig.kubeconfig_instructions(path)
        print(f"\nHere, kwizard saved the admin kubeconfig to {path} (mode 0600). Use it with:")
        print(f"  {export}")
        print("or merge it into your ~/.kube/config (the old one is kept as ~/.kube/config.bak):")
        print(f"  {merge}")
    print("\nThe API (and a dashboard, once installed) through a local proxy: kubectl proxy")
