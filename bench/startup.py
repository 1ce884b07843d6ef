"""Start-up: `kwizard --version` and `kwizard validate`, and the TUI's first painted screen.

    python -m bench.startup [--repeats 20] [--write]

The headless commands are timed from spawn to exit, median of the repeats,
with the `kwizard` console script beside this Python. A second, untimed run
of each under `python -X importtime` says whether Textual was imported.

The TUI is timed in a real terminal: tmux (a pane of 120×40) starts
`kwizard`, and the clock stops when `tmux capture-pane` first shows the
welcome screen's text, polled every 10 ms; so the number is process start to
"a person can read the welcome screen", at ±10 ms. The pane is then closed.
Each repeat starts a fresh process with fresh HOME and XDG folders, in the
repository root (the welcome screen lists ./profiles, as in a clone).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/startup.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

NAME = "startup"
PROFILE = "profiles/seed-flannel.yaml"
WELCOME_TEXT = ("Saved profiles", "kwizard stands up a kubeadm")  # any of these on screen = the welcome is painted
PAINT_TIMEOUT = 30.0
POLL = 0.01


def headless(argv: list[str], repeats: int, env: dict[str, str]) -> tuple[float, bool]:
    """(median wall seconds, whether Textual got imported)."""
    times = []
    for _ in range(repeats):
        wall, result = common.timed_run([*common.kwizard_command(), *argv], env=env, cwd=common.REPO)
        if result.returncode != 0:
            raise common.BenchError(f"kwizard {' '.join(argv)} exited {result.returncode}: {common.tail(result.stderr)}")
        times.append(wall)
    probe = subprocess.run([sys.executable, "-X", "importtime", "-m", "kwizard", *argv], env=env, cwd=common.REPO,
                           capture_output=True, text=True)
    imported = any(line.rsplit("|", 1)[-1].strip().split(".")[0] == "textual" for line in probe.stderr.splitlines())
    return common.median(times), imported


def tui_unavailable() -> str | None:
    try:
        import kwizard.screens.app  # noqa: F401
    except ImportError as error:
        return f"the TUI does not import yet ({error})"
    if shutil.which("tmux") is None:
        return "tmux is not installed (Debian: apt-get install tmux)"
    return None


def first_paint(repeats: int, root: Path) -> float:
    """Median seconds from starting `kwizard` in a tmux pane to the welcome text on that pane."""
    times = []
    with common.tmux_server() as tmux:
        for repeat in range(repeats):
            env = common.isolated_env(root / f"r{repeat}", TERM="xterm-256color")
            start = time.perf_counter()
            pane = common.tmux_window(tmux, common.kwizard_command(), env)
            try:
                times.append(_wait_for_welcome(tmux, pane, start))
            finally:
                subprocess.run([*tmux, "kill-pane", "-t", pane], capture_output=True)
    return common.median(times)


def _wait_for_welcome(tmux: list[str], pane: str, start: float) -> float:
    screen = ""
    while time.perf_counter() - start < PAINT_TIMEOUT:
        screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", pane], capture_output=True, text=True).stdout
        if any(text in screen for text in WELCOME_TEXT):
            return time.perf_counter() - start
        time.sleep(POLL)
    raise common.BenchError(f"the welcome screen did not show within {PAINT_TIMEOUT:g} s; the pane showed:\n{screen}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    common.stop_cleanly_on_sigterm()
    args = common.parser(NAME, __doc__.split("\n")[0], repeats=20).parse_args(argv)
    rows, notes = [], []
    with tempfile.TemporaryDirectory(prefix="kwizard-bench-startup-") as tmp:
        root = Path(tmp)
        env = common.isolated_env(root / "headless")
        try:
            for label, cmd in (("`kwizard --version`", ["--version"]), (f"`kwizard validate {PROFILE}`", ["validate", PROFILE])):
                wall, textual = headless(cmd, args.repeats, env)
                rows.append([label, common.seconds(wall), "yes" if textual else "no"])
            why = tui_unavailable()
            if why:
                rows.append(["`kwizard` (TUI) to the first painted welcome screen", "not measured", "—"])
                notes.append(f"TUI row skipped: {why}")
                print(f"TUI first paint skipped: {why}", file=sys.stderr)
            else:
                rows.append(["`kwizard` (TUI) to the first painted welcome screen",
                             common.seconds(first_paint(args.repeats, root)), "yes (it is the TUI)"])
        except common.BenchError as error:
            print(f"start-up benchmark failed: {error}", file=sys.stderr)
            return 1
    notes.insert(0, f"median of {args.repeats} runs each; headless commands from spawn to exit; the TUI in a tmux "
                    f"pane from spawn until the welcome text is on the pane (polled every {POLL * 1000:.0f} ms)")
    body = common.table(["command", "wall time", "imports Textual"], rows, align="lrl")
    common.emit(NAME, common.section(NAME, common.reproduce(NAME, argv), body, notes), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
