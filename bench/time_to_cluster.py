"""Time to a cluster: `kwizard apply` of 1 control plane + N workers, against the critical path and v1's lock-step.

    python -m bench.time_to_cluster [--sizes 2,9] [--scale 0.1] [--no-slow | --slow-sizes 2] [--write] [--images DIR]

For each N: a fresh lab with realistic durations (tests/lab/README.md's table,
times --scale) on bare Debian 12 hosts (swap on, no Kubernetes
packages: the plan turns swap off and installs them), one
`kwizard apply` with the graph schedule (the default) and one with
`--schedule lockstep` (v1's order: every step on all hosts before the next,
the control plane Ready before any join); then the same with the last
worker twice as slow (`time_scale` fault). Each host logs what its simulated
tools slept (`durations.log`); the critical-path lower bound is the longest
path through the setup plan's needs (kwizard.plan.setup_needs) with each
(step, host) weighing what that host slept in that step, each node Ready by
the lab's rule (its missing images pulled, then `cni-start`, after the plugin
is applied and the node exists). kwizard's own time (SSH round trips,
scripts that take no simulated time) is what separates a run from its bound.
"""

from __future__ import annotations

import datetime
import json
import shutil
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/time_to_cluster.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

NAME = "time_to_cluster"
SLOW = 2.0
DISTRO = "debian-12"


def one_apply(root: Path, workers: int, scale: float, schedule: str, slow: bool, keep_svg: Path | None) -> dict:
    from tests.lab import start_lab
    from dataclasses import replace

    from tests.lab.scenario import named

    # bare Debian 12 hosts: swap on, no container runtime, no Kubernetes packages (the plan installs them)
    scenario = replace(named(DISTRO), durations="realistic", time_scale=scale)
    with start_lab(1 + workers, scenario) as lab:
        if slow:
            lab.set_fault(lab.hosts[-1], "time_scale", SLOW)
        profile_path = lab.write_profile(root / "cluster.yaml", cni="flannel", pod_cidr="10.244.0.0/16",
                                         install_packages=True, disable_swap=True, wait_ready_seconds=600)
        env = common.isolated_env(root)
        argv = [*common.kwizard_command(), "apply", "--yes", "--output", "jsonl", "--schedule", schedule,
                str(profile_path)]
        wall, result = common.timed_run(argv, env=env, timeout=1800)
        names = [h["name"] for h in _profile_hosts(profile_path)]
        slept = {name: _durations(h.ctl / "durations.log") for name, h in zip(names, lab.hosts)}
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    finished = next((e for e in events if e["event"] == "RunFinished"), None)
    if keep_svg is not None and finished:
        shutil.copyfile(Path(finished["run_dir"]) / "timeline.svg", keep_svg)
    return {"wall": wall, "exit": result.returncode, "events": events, "finished": finished, "slept": slept,
            "profile": profile_path.read_text(), "stderr": common.tail(result.stderr, 3)}


def _profile_hosts(path: Path) -> list[dict]:
    import yaml

    return yaml.safe_load(path.read_text())["hosts"]


def _durations(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except OSError:
        return []


def step_weights(run: dict) -> dict[tuple[str, str], float]:
    """(step, host) -> seconds that host's simulated tools slept during its part of that step."""
    spans = [(e["step_id"], e["host"], e["at"] - e["duration"], e["at"]) for e in run["events"]
             if e["event"] == "HostFinished"]
    weights: dict[tuple[str, str], float] = {}
    for host, entries in run["slept"].items():
        for entry in entries:
            middle = entry["at"] + entry["seconds"] / 2
            for step_id, h, start, end in spans:
                if h == host and start <= middle <= end:
                    weights[(step_id, host)] = weights.get((step_id, host), 0.0) + entry["seconds"]
                    break
    return weights


def remote_weights(run: dict) -> dict[tuple[str, str], float]:
    """(step, host) -> all the time kwizard waited on that host in that step (HostFinished.remote_duration)."""
    return {(e["step_id"], e["host"]): e["remote_duration"] for e in run["events"] if e["event"] == "HostFinished"}


def critical_path(run: dict, scale: float, weights: dict[tuple[str, str], float] | None = None) -> float:
    """The longest path through the graph plan's needs, each (step, host) weighing what it slept."""
    from kwizard.cni.catalogue import get_plugin
    from kwizard.plan.setup import build_setup_plan
    from kwizard.profile.store import parse
    from tests.lab.sim.common import DURATIONS  # the lab's own table

    profile = parse(run["profile"])
    plan = build_setup_plan(profile)
    weights = step_weights(run) if weights is None else weights
    end: dict[tuple[str, str], float] = {}
    step_end: dict[str, float] = {}
    pull, cni_start = DURATIONS["image-pull"] * scale, DURATIONS["cni-start"] * scale
    plugin_images = len(get_plugin(profile.cluster.cni.value).node_images)

    def node_ready(host: str) -> float:
        """The lab's rule (tests/lab/README.md): Ready `cni-start` after the plugin is applied and the
        node exists, once its kubelet has pulled what the node lacks (the control plane: the plugin's
        images; a worker that ran node-images: nothing)."""
        cp = host == profile.control_plane.name
        exists = end.get(("init" if cp else "join", host), 0.0)
        if cp:
            lacks = plugin_images  # kube-proxy and pause came with `kubeadm config images pull`
        else:
            lacks = 0 if ("node-images", host) in end else 2 + plugin_images
        return max(step_end.get("cni-apply", 0.0), exists) + lacks * pull + cni_start

    for step in plan.steps:
        for host in step.hosts:
            start = 0.0
            for need in step.needs or ():
                if need.on == "same" and (need.step, host) in end:
                    start = max(start, end[(need.step, host)])
                elif need.on == "all" and need.step in step_end:
                    start = max(start, step_end[need.step])
            if step.id in ("verify", "ready") and "cni-apply" in step_end:
                waited_for = [h.name for h in profile.hosts] if step.id == "verify" else [profile.control_plane.name]
                start = max(start, *(node_ready(h) for h in waited_for))
            end[(step.id, host)] = start + weights.get((step.id, host), 0.0)
        step_end[step.id] = max((end[(step.id, h)] for h in step.hosts), default=0.0)
    return max(step_end.values())


def _ok(run: dict) -> bool:
    return run["exit"] == 0 and bool(run["finished"]) and run["finished"]["status"] == "succeeded"


def _run_time(run: dict) -> float | None:
    return run["finished"]["duration"] if _ok(run) else None


def render(results: list[dict], command: str, scale: float, raw: str | None = None, load: float | None = None,
           day: str | None = None) -> str:
    rows, notes = [], []
    for r in results:
        graph, lock = r["graph"], r["lockstep"]
        bound = critical_path(graph, scale) if _ok(graph) else None
        remote = critical_path(graph, scale, remote_weights(graph)) if _ok(graph) else None
        g, l_ = _run_time(graph), _run_time(lock)
        saved = (l_ - g) / (l_ - bound) if None not in (g, l_, bound) and l_ > bound else None
        rows.append([r["label"], common.seconds(bound), common.seconds(remote), common.seconds(g),
                     common.ratio(g, bound), common.ratio(g, remote),
                     common.seconds(l_), common.ratio(l_, bound), common.ratio(g, l_),
                     f"{saved * 100:.0f} %" if saved is not None else "–"])
        for name in ("graph", "lockstep"):
            if not _ok(r[name]):
                fin = r[name]["finished"]
                notes.append(f"{r['label']} {name}: FAILED (exit {r[name]['exit']}) "
                             f"{fin and fin.get('failed_step')} {r[name]['stderr']}")
        if r.get("extra") is not None:
            change = f"{common.seconds(abs(r['extra']))} {'longer' if r['extra'] >= 0 else 'shorter'}"
            notes.append(f"{r['label']}: graph run {change} than with every worker alike (run-to-run noise included); "
                         f"the slow worker's own extra time (what it slept beyond the others) "
                         f"{common.seconds(r['own_extra'])}, of which {common.seconds(r['own_extra_join'])} in its join")
    body = common.table(["cluster", "critical-path bound", "path of remote time", "graph (default)", "graph / bound",
                         "graph / remote path",
                         "lock-step (v1 order)", "lock-step / bound", "graph / lock-step",
                         "of what the bound saves over lock-step, saved"], rows)
    notes.insert(0, f"realistic durations × {scale} (tests/lab/README.md's table); times are the run itself "
                 "(RunFinished.duration: preflight to the last step), one run each")
    notes.append("bound: the longest path through the setup plan's needs with each (step, host) weighing what that "
                 "host's simulated tools slept in it (durations.log), each node Ready by the lab's rule (the images "
                 "it lacks pulled, then cni-start, after the plugin is applied and the node exists); it leaves out "
                 "every SSH round trip, kwizard's own work and the simulated tools' own work besides their "
                 "sleeps (kubeadm init's certificates, the package database); it also counts readiness from the end "
                 "of the plugin and join steps, while the lab's nodes count it from the manifest's apply and the "
                 "node's registration, a little earlier, so a run can come in just under it (graph / bound below "
                 "1.0, more than 100 % saved)")
    notes.append("path of remote time: the same longest path with each (step, host) weighing all the time kwizard "
                 "waited on that host in it (HostFinished.remote_duration: the tools' work, SSH round trips); "
                 "graph / remote path is what the schedule itself (and kwizard-side work) adds")
    if raw is not None:
        notes.append(f"raw results: {raw}")
    return common.section(NAME, command, body, notes, load=load, day=day)


def _own(run: dict, host: str, step: str | None = None) -> float:
    return sum(w for (s, h), w in step_weights(run).items() if h == host and (step is None or s == step))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    common.stop_cleanly_on_sigterm()
    ap = common.parser(NAME, __doc__.split("\n")[0], sizes="2,9", repeats=1)
    ap.add_argument("--scale", type=float, default=0.1, help="the lab's time scale (default 0.1)")
    ap.add_argument("--no-slow", action="store_true", help="leave out the slow-worker variant")
    ap.add_argument("--slow-sizes", type=common.int_list, default=None,
                    help="run the slow-worker variant only at these sizes (default: every size)")
    ap.add_argument("--images", type=Path, help="copy the graph and lock-step timeline.svg of the second size here")
    ap.add_argument("--save", type=Path, help="also keep every run's events and durations in this JSON file")
    ap.add_argument("--render", type=Path, help="only render the table from a --save file")
    args = ap.parse_args(argv)
    if args.render:
        saved = json.loads(args.render.read_text())
        common.emit(NAME, render(saved["results"], saved["command"], saved["scale"], load=saved.get("load"),
                                 day=saved.get("day")), args.write)
        return 0
    why = common.lab_unavailable()
    if why:
        print(f"time-to-cluster benchmark skipped: {why}", file=sys.stderr)
        return 2
    results = []
    for i, n in enumerate(args.sizes):
        with_slow = not args.no_slow and (args.slow_sizes is None or n in args.slow_sizes)
        for slow in (False, True) if with_slow else (False,):
            row = {"label": f"1 + {n}" + (f", last worker ×{SLOW:g} slower" if slow else "")}
            for schedule in ("graph", "lockstep"):
                svg = None
                if args.images and not slow and i == min(1, len(args.sizes) - 1):
                    args.images.mkdir(parents=True, exist_ok=True)
                    svg = args.images / f"timeline-{schedule}.svg"
                with tempfile.TemporaryDirectory(prefix="kwizard-bench-ttc-") as tmp:
                    row[schedule] = one_apply(Path(tmp), n, args.scale, schedule, slow, svg)
                run = row[schedule]
                print(f"  {row['label']} {schedule}: exit {run['exit']}, run {_run_time(run)}", file=sys.stderr)
            if slow and _ok(row["graph"]) and _ok(results[-1]["graph"]):
                base, slow_run = results[-1]["graph"], row["graph"]
                last = _profile_hosts_text(slow_run["profile"])[-1]
                row["extra"] = _run_time(slow_run) - _run_time(base)
                row["own_extra"] = _own(slow_run, last) - _own(base, last)
                row["own_extra_join"] = _own(slow_run, last, "join") - _own(base, last, "join")
            results.append(row)
            if args.save:
                args.save.write_text(json.dumps({"results": results, "command": common.reproduce(NAME, argv),
                                                 "scale": args.scale, "load": common.load_at_start(),
                                                 "day": datetime.date.today().isoformat()}))
    common.emit(NAME, render(results, common.reproduce(NAME, argv), args.scale), args.write)
    return 0


def _profile_hosts_text(text: str) -> list[str]:
    import yaml

    return [h["name"] for h in yaml.safe_load(text)["hosts"]]


if __name__ == "__main__":
    sys.exit(main())
