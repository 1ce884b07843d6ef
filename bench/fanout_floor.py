"""Where kwizard's fan-out run on ONE host spends its time, and the floor under it.

    python -m bench.fanout_floor [--repeats 7]

On a one-host lab: the median wall time (whole processes, the fan-out's
environment) of `python -c pass`, of each import kwizard's facts path makes on
its own, of the whole `bench.facts_once` run and of parallel-ssh on the same
script; then the top import times (`python -X importtime`) and a cProfile of
one `bench.facts_once` run. The floor of any Python tool built on asyncssh is
the interpreter plus `import asyncssh` plus the connection and the script.
"""

from __future__ import annotations

import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/fanout_floor.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.fanout import pssh_binary, prepare, run_pssh

IMPORTS = [
    ("interpreter alone (python -c pass)", "pass"),
    ("import asyncio", "import asyncio"),
    ("import asyncssh, as asyncssh itself does it", "import asyncssh"),
    ("import asyncssh through kwizard.ssh.loading", "import kwizard.ssh.loading"),
    ("import pydantic", "import pydantic"),
    ("import kwizard.profile.store (yaml, pydantic, the profile model)", "import kwizard.profile.store"),
    ("every import of facts_once", "import kwizard.facts.gather, kwizard.facts.model, kwizard.profile.store, "
                                   "kwizard.ssh.fleet"),
]


def _median_wall(argv: list[str], env: dict, repeats: int) -> float:
    walls = []
    for _ in range(repeats):
        wall, result = common.timed_run(argv, env=env, cwd=common.REPO)
        if result.returncode != 0:
            raise common.BenchError(f"{' '.join(argv)}: {common.tail(result.stderr)}")
        walls.append(wall)
    return statistics.median(walls)


def main(argv: list[str] | None = None) -> int:
    ap = common.parser("fanout_floor", __doc__.split("\n")[0], repeats=7)
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    why = common.lab_unavailable()
    if why:
        print(f"skipped: {why}", file=sys.stderr)
        return 2
    from tests.lab import start_lab

    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="kwizard-bench-floor-") as tmp, start_lab(1) as lab:
        root = Path(tmp)
        env = common.isolated_env(root)
        target = prepare(lab, 1, root)
        once = [py, "-m", "bench.facts_once", str(target.profile)]
        subprocess.run(once, env=env, capture_output=True, cwd=common.REPO)  # untimed: bytecode, caches
        rows = [(label, _median_wall([py, "-c", code], env, args.repeats)) for label, code in IMPORTS]
        rows.append(("bench.facts_once, whole", _median_wall(once, env, args.repeats)))
        answer = subprocess.run(once, env=env, capture_output=True, text=True, cwd=common.REPO)
        rows.append(("  of which inside gather_facts (one run)",
                     json.loads(answer.stdout.strip().splitlines()[-1])["gather_seconds"]))
        if pssh_binary():
            rows.append(("parallel-ssh, whole", statistics.median(run_pssh(target, env) for _ in range(args.repeats))))
        print(common.table(["what (N=1)", "median wall"], [[label, common.seconds(s)] for label, s in rows]))
        imports = subprocess.run([py, "-X", "importtime", *once[1:]], env=env, capture_output=True, text=True,
                                 cwd=common.REPO)
        entries = []
        for line in imports.stderr.splitlines():
            fields = line.removeprefix("import time:").split("|")
            if len(fields) == 3 and fields[0].strip().isdigit():
                entries.append((int(fields[0]), int(fields[1]), fields[2].strip()))
        print("\nlargest import self times (python -X importtime), microseconds:\n")
        print(common.table(["module", "self", "with what it imports"],
                           [[m, f"{s:,}", f"{c:,}"] for s, c, m in sorted(entries, reverse=True)[:15]]))
        profile = root / "facts_once.prof"
        started = time.perf_counter()
        subprocess.run([py, "-m", "cProfile", "-o", str(profile), *once[1:]], env=env, capture_output=True,
                       cwd=common.REPO)
        print(f"\ncProfile of one run ({time.perf_counter() - started:.2f} s under the profiler):\n")
        stats = pstats.Stats(str(profile))
        stats.sort_stats("cumulative").print_stats(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
