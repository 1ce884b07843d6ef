"""The run screen's step list: one line per step, its state and its time.

The list draws itself from a `RunProgress` and a clock; while a step runs a
timer redraws it so the spinner turns and the elapsed time counts. The
spinner frame is a function of the clock, so a frozen clock (tests) draws a
still picture.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from rich.markup import escape
from rich.text import Text
from textual.widget import Widget

from kwizard.screens.run.state import CANCELLED, DONE, FAILED, PENDING, RUNNING, SKIPPED, SKIPPED_BY_YOU, RunProgress, format_duration

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ICONS = {PENDING: "·", DONE: "✓", SKIPPED: "↷", FAILED: "✗", CANCELLED: "■"}
STYLES = {PENDING: "dim", RUNNING: "bold", DONE: "green", SKIPPED: "cyan", FAILED: "bold red", CANCELLED: "yellow"}
TIME_WIDTH = 7  # "12m05s" plus a space


class StepList(Widget):
    DEFAULT_CSS = """
    StepList {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, progress: RunProgress, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.progress = progress
        self.clock = clock

    def on_mount(self) -> None:
        self.set_interval(0.2, self._tick)

    def _tick(self) -> None:
        if self.progress.running:
            self.refresh()

    def row_top(self, step_id: str) -> int | None:
        """The line (within this list) where step `step_id`'s row starts: rows wrap, so not its number."""
        top = 0
        for row, text in zip(self.progress.steps, self._rows(self.size.width)):
            if row.id == step_id:
                return top
            top += _line_count(text)
        return None

    def get_content_height(self, container, viewport, width: int) -> int:
        # Measured at the width being laid out, not the current one: a scrollbar appearing narrows
        # the list, more titles wrap, and a height from the old width would leave the list a row
        # short or long depending on when the layout ran.
        if not self.progress.steps:
            return 1
        return sum(_line_count(text) for text in self._rows(width))

    def render(self) -> Text:
        if not self.progress.steps:
            return Text("Connecting…", style="dim")
        return Text("\n").join(self._rows(self.size.width))

    def _rows(self, width: int) -> list[Text]:
        """One text per step (its title and, while it runs, its hosts), wrapped to `width`."""
        width = max(width, 20)
        now = self.clock()
        rows = []
        for row in self.progress.steps:
            line = self._row(row.number, row.title, row.status, row.elapsed(now), row.skip_reason, now, width)
            hosts = row.hosts_line() if row.status == RUNNING else ""
            for part in textwrap.wrap(hosts, max(width - 5, 8)):
                line.append("\n     " + part, style="dim")
            rows.append(line)
        return rows

    def _row(self, number: int, title: str, status: str, elapsed: float | None, why: str, now: float, width: int) -> Text:
        """A step's line, its title wrapped under itself when the list is narrow (never cut: a cut
        title hides what the step does)."""
        icon = SPINNER[int(now * 10) % len(SPINNER)] if status == RUNNING else ICONS[status]
        shown_time = format_duration(elapsed) if status in (RUNNING, DONE, FAILED, CANCELLED) else ""
        if status == SKIPPED:
            shown_time = "by you" if why == SKIPPED_BY_YOU else "earlier" if "earlier" in why else "skip"
        lead = f"{icon} {number:2} "
        room = max(width - TIME_WIDTH - len(lead), 8)
        parts = textwrap.wrap(title, room) or [""]
        row = Text(lead + parts[0].ljust(room), style=STYLES[status])
        row.append(shown_time.rjust(TIME_WIDTH), style="dim" if status != FAILED else "red")
        for part in parts[1:]:
            row.append("\n" + " " * len(lead) + part, style=STYLES[status])
        return row


def _line_count(text: Text) -> int:
    return text.plain.count("\n") + 1


def run_status_line(progress: RunProgress, now: float) -> str:
    """One line over the step list: where the run is, how long it has been going."""
    done = sum(row.status in (DONE, SKIPPED) for row in progress.steps)
    total = len(progress.steps)
    elapsed = format_duration(progress.elapsed(now))
    words = {
        "starting": "Starting",
        "running": "Running",
        "succeeded": "[green]Finished[/]",
        "failed": "[red]Failed[/]",
        "cancelled": "[yellow]Cancelled[/]",
    }
    state = words.get(progress.status, progress.status)
    line = f"{state} · {done}/{total} steps · {elapsed}" if total else state
    running = [row for row in progress.steps if row.status == RUNNING]
    current = max(running, key=lambda row: row.started_at or 0.0) if running else None  # the newest of them
    if current is not None and current.describe:  # what it does now, and how long it may wait
        line += f"\n[not bold dim]now {current.number}: {escape(current.describe)}[/]"
    return line
