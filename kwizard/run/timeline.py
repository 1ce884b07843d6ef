"""A picture of a run, from its events alone: per host, when each step waited and worked.

`bars(events)` is the data (one Bar per host and step), `text_timeline(events)`
the compact text `kwizard apply` ends with (and any face may show), and
`svg_timeline(events)` the timeline.svg every run directory gets: one row per
host, one bar per step, waiting drawn apart (hatched, pale) from working.
Plain SVG text, no dependency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from kwizard.run.events import WAITING_PREFIX, Event, HostFinished, HostLine, HostSkipped, RunFinished, RunStarted


@dataclass(frozen=True)
class Bar:
    host: str
    step_id: str
    start: float  # seconds since the run started
    end: float
    waited_from: float | None = None  # when the host began waiting for this step, if it did
    status: str = "done"  # done | failed | skipped


def bars(events: Iterable[Event]) -> tuple[list[str], list[Bar], float]:
    """(hosts in order, bars, the run's length) from a run's events."""
    hosts: list[str] = []
    out: list[Bar] = []
    origin: float | None = None
    length = 0.0
    waiting: dict[tuple[str, str], float] = {}
    for event in events:
        if isinstance(event, RunStarted):
            origin = event.at if origin is None else origin
            hosts = list(event.hosts)
            continue
        if origin is None:
            continue
        now = event.at - origin
        length = max(length, now)
        if isinstance(event, HostLine) and event.stream == "kwizard" and event.line.startswith(WAITING_PREFIX):
            waiting.setdefault((event.host, event.step_id), now)
        elif isinstance(event, HostFinished):
            start = max(0.0, now - event.duration)
            status = "done" if event.ok else "failed"
            out.append(Bar(event.host, event.step_id, start, now, waiting.pop((event.host, event.step_id), None), status))
        elif isinstance(event, HostSkipped):
            out.append(Bar(event.host, event.step_id, now, now, waiting.pop((event.host, event.step_id), None), "skipped"))
        elif isinstance(event, RunFinished):
            length = max(length, event.duration)
    for bar in out:
        if bar.host not in hosts:
            hosts.append(bar.host)
    return hosts, out, length


def text_timeline(events: Iterable[Event], *, min_seconds: float = 0.05) -> list[str]:
    """Per host: `host  step start-end` for every step it worked on (waits as `(waited Ns)`)."""
    hosts, all_bars, length = bars(events)
    lines = [f"timeline ({_s(length)} in all; seconds from the start):"]
    width = max((len(h) for h in hosts), default=0)
    for host in hosts:
        parts = []
        for bar in sorted((b for b in all_bars if b.host == host), key=lambda b: b.start):
            if bar.status == "skipped" or bar.end - bar.start < min_seconds and bar.waited_from is None:
                continue
            waited = f" (waited {_s(bar.start - bar.waited_from)})" if bar.waited_from is not None else ""
            mark = "!" if bar.status == "failed" else ""
            parts.append(f"{bar.step_id}{mark} {_s(bar.start)}-{_s(bar.end)}{waited}")
        lines.append(f"  {host.ljust(width)}  " + (", ".join(parts) or "nothing to do"))
    return lines


def _s(seconds: float) -> str:
    return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"


_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
            "#bab0ac", "#86bcb6", "#d37295", "#a0cbe8", "#ffbe7d", "#8cd17d", "#b6992d")


def svg_timeline(events: Iterable[Event], *, title: str = "") -> str:
    """timeline.svg: one row per host, one bar per step; waiting hatched and pale, failures outlined red."""
    events = list(events)
    hosts, all_bars, length = bars(events)
    steps: list[str] = []
    for event in events:
        if isinstance(event, RunStarted):
            steps = [s for s, _t in event.steps]
            title = title or f"kwizard {event.plan}: {event.run_id}"
    for bar in all_bars:
        if bar.step_id not in steps:
            steps.append(bar.step_id)
    colour = {s: _COLOURS[i % len(_COLOURS)] for i, s in enumerate(steps)}
    left, row, top, plot = 110, 22, 40, 760
    scale = plot / max(length, 1e-9)
    legend_rows = (len(steps) + 5) // 6
    height = top + row * len(hosts) + 40 + 18 * legend_rows
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + plot + 20}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        '<defs><pattern id="wait" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#eeeeee"/><line x1="0" y1="0" x2="0" y2="6" stroke="#bbbbbb" stroke-width="2"/>'
        "</pattern></defs>",
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="18" font-size="13">{escape(title)} ({_s(length)})</text>',
    ]
    for i, host in enumerate(hosts):
        y = top + i * row
        out.append(f'<text x="10" y="{y + 14}">{escape(host)}</text>')
        out.append(f'<line x1="{left}" y1="{y + row - 2}" x2="{left + plot}" y2="{y + row - 2}" stroke="#f0f0f0"/>')
        for bar in (b for b in all_bars if b.host == host):
            if bar.waited_from is not None and bar.start > bar.waited_from:
                x, w = left + bar.waited_from * scale, (bar.start - bar.waited_from) * scale
                out.append(f'<rect x="{x:.1f}" y="{y + 6}" width="{w:.1f}" height="{row - 14}" fill="url(#wait)">'
                           f"<title>{escape(host)} waiting for {escape(bar.step_id)}: {_s(bar.start - bar.waited_from)}"
                           "</title></rect>")
            if bar.status == "skipped":
                continue
            x, w = left + bar.start * scale, max(1.0, (bar.end - bar.start) * scale)
            stroke = ' stroke="#d00000" stroke-width="2"' if bar.status == "failed" else ""
            out.append(f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" fill="{colour[bar.step_id]}"'
                       f'{stroke}><title>{escape(host)} {escape(bar.step_id)}: {_s(bar.start)}-{_s(bar.end)}</title></rect>')
    axis = top + row * len(hosts) + 4
    tick = _tick(length)
    t = 0.0
    while t <= length + 1e-9:
        x = left + t * scale
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{axis}" stroke="#dddddd"/>')
        out.append(f'<text x="{x:.1f}" y="{axis + 12}" text-anchor="middle" fill="#666">{_s(t)}</text>')
        t += tick
    for i, step in enumerate(steps):
        x, y = 10 + (i % 6) * 140, axis + 30 + (i // 6) * 18
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour[step]}"/>'
                   f'<text x="{x + 14}" y="{y}">{escape(step)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _tick(length: float) -> float:
    for tick in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if length / tick <= 12:
            return float(tick)
    return 1200.0
