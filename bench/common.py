"""What every benchmark shares: timing, medians, Markdown tables, the machine, and docs/benchmarks.md.

Each benchmark prints one Markdown section (the command that made it, the
machine, its table) and, with `--write`, puts that section into
docs/benchmarks.md between its own markers, leaving the rest of the page as
it is. Times are wall-clock (`time.perf_counter`) around whole processes
unless a column says otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_LOAD_AT_START = os.getloadavg()[0]  # other work on the machine skews wall times: each section says how busy it was
DOCS = REPO / "docs" / "benchmarks.md"


class BenchError(RuntimeError):
    """A run did not do what it was timed for (a host did not answer, a command failed): no number is given."""


# --- command line ---


def parser(name: str, description: str, *, sizes: str | None = None, repeats: int = 5) -> argparse.ArgumentParser:
    """The knobs every benchmark takes: --repeats, --write, and --sizes where the size varies."""
    ap = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=description)
    if sizes is not None:
        ap.add_argument("--sizes", default=sizes, type=int_list, help=f"comma-separated sizes (default {sizes})")
    ap.add_argument("--repeats", type=int, default=repeats, help=f"runs per measurement; the median is reported (default {repeats})")
    ap.add_argument("--write", action="store_true", help=f"also put the section into {DOCS.relative_to(REPO)}")
    return ap


def stop_cleanly_on_sigterm() -> None:
    """A `kill PID` ends the benchmark through its `with` blocks, so the lab it started is taken down."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("give at least one size, each 1 or more")
    return values


def reproduce(name: str, argv: Sequence[str]) -> str:
    """The command that made a section, as a person types it from the repository root (a file
    given to --save by its name only: the page never holds a path of the machine it was made on)."""
    shown = []
    for arg in argv:
        if shown and shown[-1] == "--save":
            arg = Path(arg).name
        elif arg.startswith("--save="):
            arg = "--save=" + Path(arg.removeprefix("--save=")).name
        shown.append(arg)
    return " ".join(["python -m", f"bench.{name}", *(shlex.quote(a) for a in shown)])


def load_at_start() -> float:
    return _LOAD_AT_START


# --- numbers ---


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def seconds(value: float | None) -> str:
    """Wall times: 3 significant figures, in s (or ms below a second)."""
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def ms(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 1000:.{digits}f} ms"


def ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def timed_run(cmd: Sequence[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    """Run a process to its end; (wall seconds from spawn to exit, the result)."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    if "input" not in kwargs:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
    start = _now()
    result = subprocess.run(list(cmd), **kwargs)
    return _now() - start, result


def _now() -> float:
    return time.perf_counter()


def tail(text: str, lines: int = 8) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:])


# --- output ---


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """A Markdown table; `align` is one letter per column (l or r), right-aligned by default after the first."""
    align = align or "l" + "r" * (len(headers) - 1)
    rule = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """One line: CPUs, memory, kernel, Python — what a reader needs to compare numbers."""
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    model = ""
    try:
        model = next(
            (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
             if line.startswith("model name")),
            "",
        )
    except OSError:
        pass
    cpu = f"{os.cpu_count()} CPUs" + (f" ({model})" if model else "")
    return (f"{cpu}, {mem_kb / 1024 / 1024:.1f} GiB memory, Linux {platform.release()}, "
            f"Python {platform.python_version()}")


def section(name: str, command: str, body: str, notes: Sequence[str] = (), *, load: float | None = None,
            day: str | None = None) -> str:
    """The generated part of a benchmark's section in docs/benchmarks.md (`load` and `day` of the
    measuring run when the table is rendered later from its saved results)."""
    today = day or datetime.date.today().isoformat()
    load = f"1-minute load average {_LOAD_AT_START if load is None else load:.2f} just before it started"
    parts = [f"<!-- bench:{name}:start (generated by `{command}`; edit outside these markers) -->",
             f"Measured {today} on {machine()}; {load}. Made by:", "", "```sh", command, "```", "", body]
    if notes:
        parts += [""] + [f"- {note}" for note in notes]
    parts.append(f"<!-- bench:{name}:end -->")
    return "\n".join(parts)


def emit(name: str, text: str, write: bool, doc: Path = DOCS) -> None:
    print(text)
    if write:
        write_section(name, text, doc)
        print(f"\n(written to {doc.relative_to(REPO) if doc.is_relative_to(REPO) else doc})", file=sys.stderr)


def write_section(name: str, text: str, doc: Path = DOCS) -> None:
    """Replace this benchmark's marked block in the page (or add it at the end), atomically."""
    pattern = re.compile(rf"<!-- bench:{re.escape(name)}:start.*?<!-- bench:{re.escape(name)}:end -->", re.DOTALL)
    page = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if pattern.search(page):
        page = pattern.sub(lambda _match: text, page, count=1)
    else:
        page = page.rstrip("\n") + "\n\n" + text + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=doc.parent, delete=False, prefix=".benchmarks.") as handle:
        handle.write(page)
    os.replace(handle.name, doc)


# --- environment ---


def isolated_env(root: Path, **extra: str) -> dict[str, str]:
    """A user with nothing of their own: fresh HOME and XDG folders, no ssh-agent.

    Every tool is timed in the same kind of environment, so no one's agent
    keys, ssh config or saved profiles speed one of them up or slow it down.
    """
    # PYTHONDONTWRITEBYTECODE left out too: installed tools have their bytecode (apt and pip compile it
    # at install), and a kwizard from a clone gets its own at its first run (the untimed one), as a
    # user's does; with it set, every timed kwizard run would compile its own modules again.
    dropped = ("SSH_AUTH_SOCK", "SSH_AGENT_PID", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(root / "config"), XDG_STATE_HOME=str(root / "state"),
               XDG_CACHE_HOME=str(root / "cache"))
    env.update(extra)
    return env


def lab_unavailable() -> str | None:
    """Why the namespace lab cannot run here, or None."""
    from tests.lab import lab_unavailable_reason

    return lab_unavailable_reason()


def kwizard_command() -> list[str]:
    """The `kwizard` console script next to this Python (what a user runs), else `python -m kwizard`."""
    script = Path(sys.executable).parent / "kwizard"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kwizard"]


@contextmanager
def tmux_server(width: int = 120, height: int = 40) -> Iterator[list[str]]:
    """A private tmux server (its own socket, no user config) with an idle first window; yields the tmux command.

    The server and its session exist before any clock starts, so a timed
    `new-window` pays only for the pane. Killed on the way out.
    """
    tmux = ["tmux", "-L", f"kwizard-bench-{os.getpid()}-{time.monotonic_ns()}", "-f", "/dev/null"]
    subprocess.run([*tmux, "new-session", "-d", "-x", str(width), "-y", str(height), "-s", "bench", "sleep 600"],
                   check=True)
    try:
        yield tmux
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def tmux_window(tmux: list[str], argv: Sequence[str], env: dict[str, str], cwd: Path = REPO) -> str:
    """Start `argv` in a new window of that server, with the HOME/XDG/TERM of `env`; returns the pane id."""
    keep = ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "TERM")
    words = ["env", *(f"{k}={env[k]}" for k in keep if k in env), *argv]
    command = " ".join(shlex.quote(word) for word in words)
    return subprocess.run([*tmux, "new-window", "-d", "-P", "-F", "#{pane_id}", "-c", str(cwd), command],
                          check=True, capture_output=True, text=True).stdout.strip()
