"""A pane's lines wrapped to its width, for reading a long line whole (a join command, a curl URL).

The run's own `Log` never wraps: it stays fast under a flood of lines and can
be searched by line number. When the user asks to wrap (`w`), each pane shows
this twin instead, filled with the pane's last `BACKLOG` lines and fed every
new line while it is shown; unwrapping shows the `Log` again, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.highlighter import Highlighter
from rich.text import Text
from textual.widgets import RichLog

BACKLOG = 2_000  # lines re-drawn wrapped when wrapping starts; the unwrapped log keeps every line
PER_FLUSH = 500  # more new lines than this in one flush: the oldest of them are said, not drawn


class WrappedLog(RichLog):
    DEFAULT_CSS = """
    WrappedLog { height: 1fr; display: none; }
    WrappedLog.-shown { display: block; }
    """

    def __init__(self, highlighter: Highlighter, *, id: str | None = None) -> None:
        super().__init__(wrap=True, markup=False, highlight=False, max_lines=BACKLOG, min_width=20, id=id)
        self.line_highlighter = highlighter

    def show(self, lines: Iterable[str]) -> None:
        """Start over with `lines` (the pane's newest ones) and become the shown one."""
        self.clear()
        self.add_class("-shown")
        self.write_lines(list(lines)[-BACKLOG:])
        # Written before it had a size, the lines are laid out on the next refresh: follow the tail then.
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def hide(self) -> None:
        self.remove_class("-shown")
        self.clear()

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    def write_lines(self, lines: list[str]) -> None:
        if len(lines) > PER_FLUSH:
            left_out = len(lines) - PER_FLUSH
            self.write(Text(f"… {left_out} more lines (press w to see every line unwrapped)", style="dim"))
            lines = lines[-PER_FLUSH:]
        for line in lines:
            text = Text(line)
            self.line_highlighter.highlight(text)
            self.write(text)
