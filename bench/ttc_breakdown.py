"""Where a graph run's time beyond the critical-path bound went, from `bench.time_to_cluster --save` files.

    python -m bench.ttc_breakdown RUNS.json [MORE.json ...]

One column per cluster of each file (the graph run; the slow-worker variants left out), one row per stretch of
the control plane's chain, each the time it took beyond what the simulated tools
slept in it: the preflight and the preparation steps (nothing slept), each
step's own overhead, the gaps between steps, and from the nodes being Ready
(by the lab's rule: the plugin applied, the images a node lacks, `cni-start`) to the end of `verify`.
The rows add up to graph − bound when the bound's longest path is the control
plane's chain (as it is for every cluster in docs/benchmarks.md); what is left
over is time a worker's part added beyond it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/ttc_breakdown.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.time_to_cluster import critical_path, step_weights


def stretches(result: dict, scale: float) -> tuple[dict[str, float], float, float, str]:
    """({stretch: seconds beyond the sleeps}, run time, bound, label) of one cluster's graph run."""
    from kwizard.cni.catalogue import get_plugin
    from kwizard.profile.store import parse
    from tests.lab.sim.common import DURATIONS

    run = result["graph"]
    events = run["events"]
    t0 = events[0]["at"]
    cp = events[0]["hosts"][0]
    parts = {(e["step_id"], e["host"]): e for e in events if e["event"] == "HostFinished"}
    step_end = {e["step_id"]: e["at"] - t0 for e in events if e["event"] == "StepFinished"}
    slept = step_weights(run)

    def end(step: str) -> float:
        return parts[(step, cp)]["at"] - t0

    def start(step: str) -> float:
        return end(step) - parts[(step, cp)]["duration"]

    def beyond(step: str) -> float:
        return parts[(step, cp)]["remote_duration"] - slept.get((step, cp), 0.0)

    finished = next(e for e in events if e["event"] == "RunFinished")["duration"]
    joined = max((e["at"] - t0 for (s, _h), e in parts.items() if s == "join"), default=0.0)
    pull, start_up = DURATIONS["image-pull"] * scale, DURATIONS["cni-start"] * scale
    # the plugin's DaemonSet images, pulled by the control plane's kubelet after the apply
    plugin_pulls = len(get_plugin(parse(run["profile"]).cluster.cni.value).node_images)
    ready = max(end("cni-apply") + plugin_pulls * pull, joined) + start_up
    plugin_steps = ("kubeconfig", "cni-fetch", "cni-apply")
    rows = {
        "preflight (connect, facts, checks: kwizard-side)": step_end["preflight"],
        "hosts-file, kernel, swap, firewall (nothing slept)": start("packages") - step_end["preflight"],
        "packages, beyond what its tools slept": beyond("packages"),
        "packages → images (installed versions read back)": start("images") - end("packages"),
        "images, beyond the pulls' sleeps": beyond("images"),
        "init, beyond its sleep (and images → init)": beyond("init") + start("init") - end("images"),
        "kubeconfig, cni-fetch, cni-apply, beyond sleeps (and the gaps)":
            end("cni-apply") - end("init") - sum(slept.get((s, cp), 0.0) for s in plugin_steps),
        "nodes Ready → verify done (polling, CoreDNS, the node list)":
            finished - ready - slept.get(("verify", cp), 0.0),
    }
    return rows, finished, critical_path(run, scale), result["label"]


def main(argv: list[str] | None = None) -> int:
    files = sys.argv[1:] if argv is None else argv
    if not files:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    columns = []
    for name in files:
        saved = json.loads(Path(name).read_text())
        columns += [stretches(r, saved["scale"]) for r in saved["results"]
                    if "slower" not in r["label"] and r["graph"].get("finished")]
    print("| beyond the sleeps, on the control plane's chain | " + " | ".join(c[3] for c in columns) + " |")
    print("| :--- |" + " ---: |" * len(columns))
    for key in columns[0][0]:
        print(f"| {key} | " + " | ".join(f"{c[0][key]:.2f} s" for c in columns) + " |")
    print("| **sum** | " + " | ".join(f"**{sum(c[0].values()):.2f} s**" for c in columns) + " |")
    print("| graph − bound | " + " | ".join(f"{c[1] - c[2]:.2f} s" for c in columns) + " |")
    print("| graph / bound | " + " | ".join(f"{c[1]:.2f} / {c[2]:.2f} = {c[1] / c[2]:.2f}" for c in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
