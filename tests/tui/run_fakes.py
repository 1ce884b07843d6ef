"""A run without hosts: scripted engine events, a clock that moves only when told.

The run screen takes any `RunLauncher`; `ScriptedLauncher` plays one script
per run (the first run, then each retry), so screenshots of a run are the
same every time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kwizard.run.events import FindingReported, HostFinished, HostLine, HostSkipped, RunFinished, RunStarted, StepFinished, StepStarted
from kwizard.checks.findings import Finding, Level
from kwizard.kube.joincmd import JoinCommand
from kwizard.profile.model import Profile
from kwizard.kube.nodes import NodeStatus
from kwizard.plan.setup import build_setup_plan
from kwizard.profile.store import load
from kwizard.run.outcome import RunOutcome
from kwizard.run.runner import RunResult
from kwizard.screens.run.launch import setup_or_reset_descriptions

SEED_PROFILE = Path(__file__).resolve().parents[2] / "profiles" / "seed-flannel.yaml"
RUN_DIR = "state/kwizard/runs/20250101T120000Z-seed-flannel-setup"  # relative: screenshots must not vary
HOLD = "hold"  # in a script: the run goes on forever (a screenshot mid-run)

TOKEN = "abcdef.0123456789abcdef"
CA_HASH = "sha256:" + "0f" * 32


def seed_profile() -> Profile:
    return load(SEED_PROFILE)


def fixed_join() -> JoinCommand:
    return JoinCommand("192.168.122.11:6443", TOKEN, (CA_HASH,))


def fixed_nodes(ready: bool = True) -> list[NodeStatus]:
    return [
        NodeStatus("kubemaster-1", ready, ("control-plane",), "v1.33.2", "192.168.122.11"),
        NodeStatus("kubenode-1", ready, ("<none>",), "v1.33.2", "192.168.122.21"),
        NodeStatus("kubenode-2", ready, ("<none>",), "v1.33.2", "192.168.122.22"),
    ]


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class ScriptedLauncher:
    """Plays `scripts[n]` on the n-th run: events go to the listener, numbers move the clock."""

    profile: Profile
    scripts: list[list[Any]]
    clock: FakeClock = field(default_factory=FakeClock)
    plan_name: str = "setup"
    profile_path: Path | None = None
    fleet_factory: Any = "unused"  # not None: the screen must not make a real one
    runs: list[Path | None] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    cancelled: bool = False
    outcome: RunOutcome = field(default_factory=RunOutcome)  # what a succeeded run leaves (join command, nodes)

    def __post_init__(self) -> None:
        self.hosts = tuple(h.name for h in self.profile.hosts)
        self.played = asyncio.Event()  # the current script has been played up to its end or HOLD

    def step_descriptions(self) -> dict[str, str]:
        return setup_or_reset_descriptions(self.profile, self.plan_name)

    async def run(self, listener: Callable, run_dir: Path | None) -> RunResult:
        self.runs.append(run_dir)
        script = self.scripts[min(len(self.runs), len(self.scripts)) - 1]
        finished = None
        for item in script:
            if item == HOLD:
                self.played.set()
                while not self.cancelled:
                    await asyncio.sleep(0.01)
                listener(StepFinished(step_id="images", status="cancelled", duration=1.0))
                finished = RunFinished("cancelled", 1.0, run_dir=RUN_DIR)
                listener(finished)
                break
            if isinstance(item, (int, float)):
                self.clock.now += item
                continue
            listener(item)
            if isinstance(item, RunFinished):
                finished = item
            await asyncio.sleep(0)
        assert finished is not None, "a script ends with RunFinished or HOLD"
        self.played.set()
        return RunResult(finished.status, finished.failed_step, finished.failed_hosts, finished.duration,
                         Path(RUN_DIR), self.outcome)

    def cancel(self) -> None:
        self.cancelled = True

    def skip(self, run_dir: Path, step_id: str) -> None:
        self.skipped.append(step_id)


# --- scripts for the seed cluster ---


def _steps(profile: Profile):
    # v1's lock-step order (with "ready" before the joins): these scripts, and the README's run pictures
    return build_setup_plan(profile, lockstep=True).steps


def run_started(profile: Profile) -> RunStarted:
    steps = _steps(profile)
    return RunStarted("20250101T120000Z-seed-flannel-setup", RUN_DIR, "setup",
                      tuple((s.id, s.title) for s in steps), tuple(h.name for h in profile.hosts))


def step_done(profile: Profile, step_id: str, seconds: float, lines: dict[str, list[str]] | None = None,
              skipped: bool = False) -> list[Any]:
    step = next(s for s in _steps(profile) if s.id == step_id)
    out: list[Any] = [StepStarted(step.id, step.title, tuple(step.hosts))]
    for host in step.hosts:
        if skipped:
            out.append(HostSkipped(step.id, host))
            continue
        out += [HostLine(step.id, host, line) for line in (lines or {}).get(host, [])]
    out.append(seconds)
    for host in step.hosts:
        if not skipped:
            out.append(HostFinished(step.id, host, True, 0, seconds, seconds))
    out.append(StepFinished(step.id, "skipped" if skipped else "done", seconds))
    return out


def up_to_images(profile: Profile) -> list[Any]:
    """Preflight to the kernel step done, swap skipped, firewall done, images running (12 s in)."""
    cp, w1, w2 = (h.name for h in profile.hosts)
    script: list[Any] = [run_started(profile)]
    script += step_done(profile, "preflight", 2.4, {cp: ["facts gathered"], w1: ["facts gathered"], w2: ["facts gathered"]})
    script += step_done(profile, "hosts-file", 0.8, {h: [f"/etc/hosts: kwizard block with 3 nodes"] for h in (cp, w1, w2)})
    script += step_done(profile, "kernel", 1.6, {cp: ["overlay", "br_netfilter", "net.ipv4.ip_forward = 1"],
                                                  w1: ["net.ipv4.ip_forward = 1"], w2: ["net.ipv4.ip_forward = 1"]})
    script += step_done(profile, "swap", 0.0, skipped=True)
    script += step_done(profile, "firewall", 0.5, skipped=True)
    images = next(s for s in _steps(profile) if s.id == "images")
    script += [StepStarted(images.id, images.title, tuple(images.hosts)), 12.0]
    script += [HostLine("images", cp, f"[config/images] Pulled registry.k8s.io/{name}")
               for name in ("kube-apiserver:v1.33.2", "kube-controller-manager:v1.33.2", "kube-scheduler:v1.33.2")]
    script.append(FindingReported(Finding(Level.WARNING, "swap", "swap is on; the plan turns it off", host=w1)))
    return script  # ends on an event, after the clock moved: the status line shows the time the picture shows


def failing_join(profile: Profile) -> list[Any]:
    """Everything up to join, then kubenode-2 loses its connection during kubeadm join."""
    cp, w1, w2 = (h.name for h in profile.hosts)
    script = up_to_images(profile)
    script += [HostLine("images", cp, "[config/images] Pulled registry.k8s.io/etcd:3.5.21-0"), 30.0,
               HostFinished("images", cp, True, 0, 42.0, 42.0), StepFinished("images", "done", 42.0)]
    for step_id, seconds in (("init", 61.0), ("kubeconfig", 1.2), ("cni-fetch", 2.0), ("cni-apply", 3.1),
                             ("ready", 24.0), ("join-command", 0.9)):
        script += step_done(profile, step_id, seconds)
    join = next(s for s in _steps(profile) if s.id == "join")
    script.append(StepStarted("join", join.title, tuple(join.hosts)))
    for host in (w1, w2):
        script += [HostLine("join", host, "[preflight] Running pre-flight checks"),
                   HostLine("join", host, "[kubelet-start] Starting the kubelet")]
    script += [4.0, HostFinished("join", w1, True, 0, 4.0, 4.0),
               HostLine("join", w2, f"{w2}: the connection was lost while the command ran (fix: check the host and the network, then retry)", "kwizard"),
               HostFinished("join", w2, False, None, 4.0, 4.0,
                            f"{w2}: the connection was lost while the command ran (fix: check the host and the network, then retry)"),
               StepFinished("join", "failed", 4.0, (w2,)),
               RunFinished("failed", 150.0, "join", (w2,), RUN_DIR)]
    return script


def retry_after_join(profile: Profile) -> list[Any]:
    script: list[Any] = [run_started(profile)]
    for step in _steps(profile):
        if step.id in ("join", "verify", "join-command"):
            script += step_done(profile, step.id, 2.0)
        else:
            script += step_done(profile, step.id, 0.0, skipped=True)
    script.append(RunFinished("succeeded", 8.0, run_dir=RUN_DIR))
    return script


# --- an App around one screen, styled like kwizard ---

import kwizard.screens as _screens  # noqa: E402
from textual.app import App  # noqa: E402
from textual.screen import Screen  # noqa: E402

from kwizard.screens.run.screen import running_screen  # noqa: E402

SCREENS_DIR = Path(_screens.__file__).parent


class ScreenHarness(App):
    """Pushes one screen, records what it dismisses with; quit asks a running run first (as the App will)."""

    CSS_PATH = SCREENS_DIR / "kwizard.tcss"
    TITLE = "kwizard"  # as the real App: these snapshots are the README's pictures

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.animation_level = "none"  # tab underlines slide otherwise: screenshots would catch them mid-way
        self.first = screen
        self.outcomes: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(self.first, callback=self.outcomes.append)

    async def action_quit(self) -> None:
        run = running_screen(self)
        if run is not None:
            run.ask_to_quit()
            return
        self.exit()
