"""Log flood: how many lines per second the run screen takes into a host's pane while staying responsive.

    python -m bench.log_flood [--rates 1000,10000,50000,100000] [--seconds 3] [--lines 200000] [--write]

The real run screen (`kwizard.screens.run.screen.RunScreen`) runs in a real terminal
(a tmux pane, 120×40), fed by a scripted launcher in place of the engine:
it calls the screen's listener with `HostLine` events for one host — the
engine's own event objects, one call per line, as a run does — at a fixed
offered rate for a few seconds, then once more with `--lines` lines as fast
as the loop lets it (1,000 lines, then a yield). Each line lands in the
host's pane and, prefixed, in the all-hosts pane.

Measured inside that process:
- absorbed rate: lines / (time feeding + time until no pane has lines waiting
  for the widget), checked by the host pane's last line being the last sent;
- responsiveness: the event loop's lag, from a 10 ms timer on the same loop
  (how late it wakes); a key press waits at least that long. "Responsive"
  means the worst lag stayed under 100 ms;
- memory: peak resident set (VmHWM) during the `--lines` flood, next to the
  resident set just before it.

Each measurement is a fresh process. Without tmux it runs headless
(Textual's headless driver: no terminal output), and says so.
"""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/log_flood.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

NAME = "log_flood"
HOST = "kw-node-1"
HOSTS = ("kw-cp-1", HOST, "kw-node-2")
RESPONSIVE_LAG = 0.100
TICK = 0.010
CHUNK = 1000
CHILD_TIMEOUT = 120.0


def line_text(i: int) -> str:
    """A package manager's kind of line (about 70 characters)."""
    return f"Unpacking libexample{i % 997}-dev:amd64 (2.{i % 40}.{i}-1ubuntu3) over (2.{i % 40}.{i}-1ubuntu2) ..."


# --- the child: the run screen in one process, measuring itself ---


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class _GcPauses(list):
    """The length of every garbage collection while it is installed (gc.callbacks)."""

    def callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.append(time.perf_counter() - self.started)


def _watch_gc() -> _GcPauses:
    pauses = _GcPauses()
    gc.callbacks.append(pauses.callback)
    return pauses


def _reset_peak_rss() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM starts again from the current RSS
    except OSError:
        pass


class FloodLauncher:
    """A RunLauncher that, instead of the engine, sends the listener a flood of HostLine events."""

    plan_name = "setup"
    hosts = HOSTS

    def __init__(self, rate: int, seconds: float, lines: int, on_done) -> None:
        self.rate, self.seconds, self.lines = rate, seconds, lines
        self.on_done = on_done
        self.screen = None

    def cancel(self) -> None:
        pass

    def skip(self, run_dir: Path, step_id: str) -> None:
        pass

    async def run(self, listener, run_dir):
        from kwizard.run.events import HostFinished, HostLine, RunFinished, RunStarted, StepFinished, StepStarted
        from kwizard.run.runner import RunResult

        folder = Path(tempfile.gettempdir())
        listener(RunStarted(run_id="flood", run_dir=str(folder), plan="setup",
                            steps=(("packages", "Install packages"),), hosts=HOSTS))
        listener(StepStarted(step_id="packages", title="Install packages", hosts=(HOST,)))
        await asyncio.sleep(0.5)  # the screen settles (first layout, first paint) before the clock starts
        lags: list[float] = []
        probing = True

        async def probe() -> None:
            while probing:
                before = time.perf_counter()
                await asyncio.sleep(TICK)
                lags.append(max(0.0, time.perf_counter() - before - TICK))

        probe_task = asyncio.ensure_future(probe())
        gc_pauses = _watch_gc()
        rss_before = _rss_kb("VmRSS")
        _reset_peak_rss()
        start = time.perf_counter()
        sent = 0
        total = self.lines if self.rate == 0 else int(self.rate * self.seconds)
        while sent < total:
            due = total if self.rate == 0 else min(total, int(self.rate * (time.perf_counter() - start)))
            end = min(due, sent + CHUNK) if self.rate == 0 else due
            for i in range(sent, end):
                listener(HostLine(step_id="packages", host=HOST, line=line_text(i)))
            sent = end
            await asyncio.sleep(0 if self.rate == 0 else TICK / 2)
        fed = time.perf_counter() - start
        while any(getattr(log, "pending", None) for log in self._logs()):
            await asyncio.sleep(TICK / 2)
        absorbed = time.perf_counter() - start
        probing = False
        await probe_task
        gc.callbacks.remove(gc_pauses.callback)
        last = self._last_line()
        self.result = {
            "rate": self.rate, "lines": sent, "fed_seconds": fed, "absorbed_seconds": absorbed,
            "lag_p50": statistics.median(lags) if lags else 0.0,
            "lag_p99": sorted(lags)[int(0.99 * (len(lags) - 1))] if lags else 0.0,
            "lag_max": max(lags, default=0.0), "gc_max": max(gc_pauses, default=0.0), "rss_before_kb": rss_before, "rss_peak_kb": _rss_kb("VmHWM"),
            "last_line_ok": last == line_text(sent - 1),
        }
        listener(HostFinished(step_id="packages", host=HOST, ok=True, exit_status=0, duration=absorbed,
                              remote_duration=absorbed))
        listener(StepFinished(step_id="packages", status="done", duration=absorbed))
        listener(RunFinished(status="succeeded", duration=absorbed, run_dir=str(folder)))
        self.on_done(self.result)
        return RunResult("succeeded", None, (), absorbed, folder)

    def _logs(self):
        from kwizard.screens.widgets.log_pane import LogArea

        return list(self.screen.query_one(LogArea).query("HostLog"))

    def _last_line(self) -> str | None:
        from kwizard.screens.widgets.log_pane import LogArea

        lines = self.screen.query_one(LogArea).log_for(HOST).lines
        return lines[-1] if lines else None


def child(rate: int, seconds: float, lines: int, result_path: Path, headless: bool) -> int:
    from textual.app import App

    from kwizard.screens.run.screen import RunScreen

    class FloodApp(App[None]):
        def on_mount(self) -> None:
            launcher.screen = RunScreen(launcher, finish=lambda result: None)
            self.push_screen(launcher.screen)

    def done(result: dict) -> None:
        result_path.write_text(json.dumps(result))
        app.set_timer(0.2, app.exit)

    launcher = FloodLauncher(rate, seconds, lines, done)
    app = FloodApp()
    app.run(headless=headless, size=(120, 40) if headless else None)
    return 0 if result_path.exists() else 1


# --- the parent: one child per measurement, in tmux ---


def measure_one(rate: int, seconds: float, lines: int, root: Path, tmux: list[str] | None) -> dict:
    result_path = root / f"result-{rate}-{time.monotonic_ns()}.json"
    argv = [sys.executable, "-m", "bench.log_flood", "--child", f"{rate},{seconds},{lines}", str(result_path)]
    env = common.isolated_env(root / "env", TERM="xterm-256color")
    if tmux is None:
        run = subprocess.run([*argv, "--headless"], env=env, cwd=common.REPO, capture_output=True, text=True,
                             timeout=CHILD_TIMEOUT, stdin=subprocess.DEVNULL)
        failure = common.tail(run.stderr)
    else:
        pane = common.tmux_window(tmux, argv, env)
        deadline = time.monotonic() + CHILD_TIMEOUT
        while not result_path.exists() and time.monotonic() < deadline:
            alive = subprocess.run([*tmux, "list-panes", "-a", "-F", "#{pane_id}"], capture_output=True, text=True)
            if pane not in alive.stdout.split():
                break
            time.sleep(0.1)
        screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", pane], capture_output=True, text=True).stdout
        subprocess.run([*tmux, "kill-pane", "-t", pane], capture_output=True)
        failure = screen
    if not result_path.exists():
        raise common.BenchError(f"the flood at rate {rate or 'max'} gave no result:\n{failure}")
    result = json.loads(result_path.read_text())
    if not result["last_line_ok"]:
        raise common.BenchError(f"the flood at rate {rate or 'max'}: the pane's last line is not the last line sent")
    return result


def tui_unavailable() -> str | None:
    try:
        import kwizard.screens.widgets.log_pane  # noqa: F401
        import kwizard.screens.run.screen  # noqa: F401
    except ImportError as error:
        return f"the run screen does not import yet ({error})"
    return None


def render(results: list[dict], command: str, terminal: str) -> str:
    rows = []
    for r in results:
        offered = "as fast as it goes" if r["rate"] == 0 else f"{r['rate']:,} lines/s"
        responsive = "yes" if r["lag_max"] < RESPONSIVE_LAG else "no"
        rows.append([offered, f"{r['lines']:,}", f"{r['lines'] / r['absorbed_seconds']:,.0f}",
                     common.ms(r["lag_p50"]), common.ms(r["lag_p99"]), common.ms(r["lag_max"]),
                     common.ms(r["gc_max"]), responsive])
    body = common.table(["offered", "lines", "absorbed (lines/s)", "loop lag p50", "loop lag p99", "loop lag max",
                         "longest GC pause", "responsive (max lag < 100 ms)"], rows)
    flood = next((r for r in results if r["rate"] == 0), None)
    if flood:
        body += "\n\n" + common.table(
            ["memory", "resident set"],
            [["just before the flood (run screen up, 3 hosts)", f"{flood['rss_before_kb'] / 1024:.0f} MiB"],
             [f"peak while taking {flood['lines']:,} lines", f"{flood['rss_peak_kb'] / 1024:.0f} MiB"],
             ["growth", f"{(flood['rss_peak_kb'] - flood['rss_before_kb']) / 1024:.0f} MiB"]])
    notes = [f"the run screen in {terminal}; one process per row; lines go to one host's pane and the all-hosts pane",
             "absorbed = lines sent ÷ time until every pane's buffer was written into its log widget "
             "(the panes keep their last 10,000 lines; the run folder keeps every line)"]
    return common.section(NAME, command, body, notes)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    common.stop_cleanly_on_sigterm()
    if argv[:1] == ["--child"]:
        rate, seconds, lines = argv[1].split(",")
        return child(int(rate), float(seconds), int(lines), Path(argv[2]), "--headless" in argv)
    ap = common.parser(NAME, __doc__.split("\n")[0], repeats=1)
    ap.add_argument("--rates", type=common.int_list, default="1000,10000,50000,100000",
                    help="offered rates in lines per second, each for --seconds")
    ap.add_argument("--seconds", type=float, default=3.0, help="how long each offered rate lasts (default 3)")
    ap.add_argument("--lines", type=int, default=200_000, help="lines for the as-fast-as-it-goes flood and its memory (default 200000)")
    args = ap.parse_args(argv)
    why = tui_unavailable()
    if why:
        print(f"log-flood benchmark skipped: {why}", file=sys.stderr)
        return 2
    use_tmux = shutil.which("tmux") is not None
    terminal = "a tmux pane of 120×40 (a real terminal)" if use_tmux else "Textual's headless driver (no tmux here)"
    results = []
    with tempfile.TemporaryDirectory(prefix="kwizard-bench-flood-") as tmp:
        try:
            if use_tmux:
                with common.tmux_server() as tmux:
                    results = _measure_all(args, Path(tmp), tmux)
            else:
                results = _measure_all(args, Path(tmp), None)
        except common.BenchError as error:
            print(f"log-flood benchmark failed: {error}", file=sys.stderr)
            return 1
    common.emit(NAME, render(results, common.reproduce(NAME, argv), terminal), args.write)
    return 0


def _measure_all(args, root: Path, tmux: list[str] | None) -> list[dict]:
    """Per offered rate and for the full flood: the median run by absorbed rate (of --repeats)."""
    results = []
    for rate in [*args.rates, 0]:
        runs = [measure_one(rate, args.seconds, args.lines, root, tmux) for _ in range(args.repeats)]
        runs.sort(key=lambda r: r["lines"] / r["absorbed_seconds"])
        chosen = runs[len(runs) // 2]
        print(f"  {rate or 'max'}: {chosen['lines'] / chosen['absorbed_seconds']:,.0f} lines/s, "
              f"max lag {chosen['lag_max'] * 1000:.0f} ms", file=sys.stderr)
        results.append(chosen)
    return results


if __name__ == "__main__":
    sys.exit(main())
