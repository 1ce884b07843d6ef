"""The run's output: one log per host and one for all hosts, bounded, batched, searchable.

A package install can print tens of thousands of lines. The engine calls
`LogArea.add_line` once per line; the line only goes into a bounded buffer
there, and a short timer writes each buffer into its `Log` in one call, so
50,000 lines are a few dozen widget updates, not 50,000. Buffers and logs
both keep at most `MAX_LINES` lines (the run folder keeps every line).

A `Log` follows the tail only while it is scrolled to the end, so scrolling
up stops the following and `end` starts it again.
"""

from __future__ import annotations

import re
from collections import deque

from rich.highlighter import Highlighter
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Log, Static, TabbedContent, TabPane

from kwizard.screens.widgets.wrapped_log import WrappedLog

MAX_LINES = 10_000  # per pane, on screen and in the buffer
FLUSH_SECONDS = 0.1
ALL_HOSTS = "all"

_MARKERS = {"stderr": "!", "kwizard": "*"}
_HOST_PREFIX = re.compile(r"^\[[^\]]+\][!*]?")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


def pane_id(host: str) -> str:
    return "log-" + _UNSAFE_ID.sub("_", host)


class LogHighlighter(Highlighter):
    """Host prefixes, stderr and kwizard's own notes, step headers, and the search term."""

    def __init__(self, prefixed: bool) -> None:
        self.prefixed = prefixed  # the all-hosts pane: each line starts with [host]
        self.term = ""

    def highlight(self, text: Text) -> None:
        plain = text.plain
        if plain.startswith("──"):
            text.stylize("bold")
        prefix = _HOST_PREFIX.match(plain) if self.prefixed else None
        if prefix:
            text.stylize("cyan", 0, prefix.end())
            marker = plain[prefix.end() - 1]
            rest_style = {"!": "red", "*": "italic"}.get(marker)
            if rest_style:
                text.stylize(rest_style, prefix.end())
        elif plain.startswith("! "):
            text.stylize("red")
        elif plain.startswith("* "):
            text.stylize("italic")
        if self.term:
            text.highlight_words([self.term], "black on yellow", case_sensitive=False)


class HostLog(Log):
    """One pane's log: lines wait in a bounded buffer until the next flush."""

    def __init__(self, *, prefixed: bool = False, id: str | None = None) -> None:
        super().__init__(max_lines=MAX_LINES, highlight=True, id=id)
        self.highlighter = LogHighlighter(prefixed)
        self.pending: deque[str] = deque(maxlen=MAX_LINES)
        self.received = 0  # every line ever given to this pane, kept or not
        # Whether new lines scroll into view. Only a shown pane can tell (a hidden
        # one has no size), so a pane in a background tab keeps what it last knew.
        self.following = True
        self.twin: WrappedLog | None = None  # the same lines wrapped, shown instead while wrapping is on

    def add(self, line: str) -> None:
        self.pending.append(line)
        self.received += 1

    def flush(self) -> None:
        if not self.pending:
            return
        if self.size:
            self.following = self.is_vertical_scroll_end
        lines = list(self.pending)
        self.pending.clear()
        self.write_lines(lines, scroll_end=False)
        if self.twin is not None and self.twin.shown:
            self.twin.write_lines(lines)
        self._keep_tail_in_view()

    def follow(self) -> None:
        self.following = True
        self._keep_tail_in_view()

    def _keep_tail_in_view(self) -> None:
        if self.following and self.size:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def on_show(self) -> None:
        self._keep_tail_in_view()

    def on_resize(self) -> None:
        self._keep_tail_in_view()

    def set_search(self, term: str) -> None:
        self.highlighter.term = term
        self.refresh()

    def find(self, term: str, before: int, backwards: bool = True) -> int | None:
        """The line number of the nearest line holding `term` before (or after) line `before`; wraps."""
        lines = self.lines
        if not term or not lines:
            return None
        needle = term.lower()
        count = len(lines)
        step = -1 if backwards else 1
        for offset in range(1, count + 1):
            index = (before + step * offset) % count
            if needle in lines[index].lower():
                return index
        return None

    def show_line(self, index: int) -> None:
        """Scroll so line `index` sits in the middle (this stops the tail following until `end` or f)."""
        self.following = False
        self.scroll_to(y=max(0, index - self.size.height // 2), animate=False)


class LogArea(Vertical):
    """Tabs: all hosts first, then one per host; a search bar under them (`/`)."""

    DEFAULT_CSS = """
    LogArea { height: 1fr; }
    LogArea TabbedContent { height: 1fr; }
    LogArea TabPane { padding: 0; }
    LogArea HostLog { height: 1fr; }
    LogArea #log-search { height: auto; display: none; }
    LogArea #log-search.-open { display: block; }
    LogArea #log-search Input { width: 1fr; }
    LogArea #search-count { width: auto; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("slash,ctrl+f", "search", "Search", tooltip="Search the shown log (enter: older match, down: newer)"),
    ]

    def __init__(self, hosts: tuple[str, ...], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.hosts = hosts
        self._match: int | None = None
        self._logs: dict[str, HostLog] = {}  # a query per line would cost more than the line itself

    def compose(self) -> ComposeResult:
        with TabbedContent(id="log-tabs"):
            with TabPane("All hosts", id=pane_id(ALL_HOSTS)):
                yield from self._pane(ALL_HOSTS, prefixed=True)
            for host in self.hosts:
                with TabPane(host, id=pane_id(host)):
                    yield from self._pane(host, prefixed=False)
        with Horizontal(id="log-search"):
            yield Input(placeholder="search the log: enter for older matches, ↓ newer, esc to close",
                        id="search-input", compact=True)
            yield Static("", id="search-count")

    @staticmethod
    def _pane(host: str, prefixed: bool) -> ComposeResult:
        log = HostLog(prefixed=prefixed, id=f"{pane_id(host)}-log")
        log.twin = WrappedLog(log.highlighter, id=f"{pane_id(host)}-wrapped")
        yield log
        yield log.twin

    def on_mount(self) -> None:
        for host in (ALL_HOSTS, *self.hosts):
            self._logs[host] = self.query_one(f"#{pane_id(host)}-log", HostLog)
        self.set_interval(FLUSH_SECONDS, self.flush)

    # --- wrapping ---

    @property
    def wrapped(self) -> bool:
        return any(log.twin is not None and log.twin.shown for log in self._logs.values())

    def action_wrap(self, wrap: bool | None = None) -> None:
        """Show every pane wrapped (or, again, one screen line per log line)."""
        wrap = not self.wrapped if wrap is None else wrap
        self.flush()
        for log in self._logs.values():
            assert log.twin is not None
            if wrap:
                log.twin.show(log.lines)
            else:
                log.twin.hide()
            log.display = not wrap
        shown = self.active_log()
        (shown.twin if wrap and shown.twin is not None else shown).focus()

    # --- lines in ---

    def log_for(self, host: str) -> HostLog:
        return self._logs[host]

    def add_line(self, host: str, line: str, stream: str = "stdout") -> None:
        """One remote line: into its host's pane and, prefixed with the host, into the all-hosts pane."""
        marker = _MARKERS.get(stream, "")
        self._logs[ALL_HOSTS].add(f"[{host}]{marker} {line}")
        own = self._logs.get(host) if host != ALL_HOSTS else None
        if own is not None:
            own.add(f"{marker} {line}" if marker else line)

    def add_header(self, text: str, hosts: tuple[str, ...]) -> None:
        """A step's title across the panes it concerns, so the panes read as a story."""
        header = f"── {text} ──"
        self._logs[ALL_HOSTS].add(header)
        for host in hosts:
            if host in self._logs and host != ALL_HOSTS:
                self._logs[host].add(header)

    def flush(self) -> None:
        for log in self._logs.values():
            log.flush()

    # --- search ---

    def active_log(self) -> HostLog:
        tabs = self.query_one(TabbedContent)
        return self.query_one(f"#{tabs.active}-log", HostLog)

    def show_host(self, host: str) -> None:
        self.query_one(TabbedContent).active = pane_id(host)

    def action_search(self) -> None:
        if self.wrapped:  # a match is found by line number, in the unwrapped log
            self.action_wrap(False)
        self.query_one("#log-search").add_class("-open")
        self.query_one("#search-input", Input).focus()

    @on(Input.Changed, "#search-input")
    def _term_changed(self, event: Input.Changed) -> None:
        self._match = None
        for log in self.query(HostLog):
            log.set_search(event.value)
        self._count(event.value)

    @on(Input.Submitted, "#search-input")
    def _older(self) -> None:
        self._jump(backwards=True)

    def _jump(self, backwards: bool) -> None:
        term = self.query_one("#search-input", Input).value
        log = self.active_log()
        start = self._match if self._match is not None else (log.line_count if backwards else -1)
        found = log.find(term, start, backwards)
        if found is None:
            self.query_one("#search-count", Static).update("no match")
            return
        self._match = found
        log.show_line(found)
        self._count(term, found)

    def _count(self, term: str, at: int | None = None) -> None:
        if not term:
            self.query_one("#search-count", Static).update("")
            return
        hits = sum(term.lower() in line.lower() for line in self.active_log().lines)
        where = f"line {at + 1} · " if at is not None else ""
        self.query_one("#search-count", Static).update(f"{where}{hits} lines match")

    def on_key(self, event) -> None:
        search = self.query_one("#search-input", Input)
        if not search.has_focus:
            return
        if event.key in ("down", "up"):
            self._jump(backwards=event.key == "up")
            event.stop()
        elif event.key == "escape":
            self.query_one("#log-search").remove_class("-open")
            self.active_log().focus()
            event.stop()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self._match = None
        term = self.query_one("#search-input", Input).value
        self._count(term)
