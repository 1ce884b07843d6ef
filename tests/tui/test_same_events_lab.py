"""The TUI and headless mode run a plan through the same service calls, and so see the same events.

Two equivalent lab clusters (1 control plane + 2 workers, Flannel, the same
profile but for the addresses): one set up from the wizard's Review screen
(the run screen records every event the engine hands it), the other with
`kwizard apply --yes --output jsonl` in a process of its own. Both runs must go
through `kwizard.service.start_plan` (the one run path; a spy says so in each
process) and produce the same event sequence.

Compared: every event's type, step id and status (and a host's ok, a finding's
level and code), in order. Ignored: timestamps, durations, run ids and folders,
addresses, and the text of the hosts' lines. Two things are compared as sets
within their step rather than in order, because the hosts of a step run at the
same time and their events interleave differently from run to run: the
per-host events (HostFinished, HostSkipped), and which hosts printed lines on
which stream (the number of lines a polling step prints depends on timing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import kwizard.service as service
from kwizard.run.events import Event
from kwizard.screens.app import KwizardApp
from kwizard.screens.run.done import DoneScreen
from kwizard.screens.run.screen import RunScreen

from .fakes import profile_folder
from .test_run_lab import review_then_run, wait_for

pytestmark = pytest.mark.lab

HOST_EVENTS = {"HostFinished", "HostSkipped"}

# `kwizard apply` as `python -m kwizard` runs it, with a spy on the service's one run path.
CLI_WITH_SPY = """
import sys
import kwizard.service as service
real = service.start_plan
def spy(plan, fleet, request, *rest):
    print(f"SPY start_plan {plan.name}", file=sys.stderr, flush=True)
    return real(plan, fleet, request, *rest)
service.start_plan = spy
from kwizard.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def normalised(events: list[dict[str, Any]], hosts: list[str]) -> dict[str, Any]:
    """The comparable shape of a run's events; hosts by their position.

    Steps overlap now (each host goes as soon as its needs are done), so two
    equal runs may interleave steps differently: the shape is per step — how it
    started and finished, and the multiset of its per-host events and line
    streams — plus the run's own first and last events and its findings.
    """
    host_of = {name: f"host{i}" for i, name in enumerate(hosts)}
    steps: dict[str, dict[str, Any]] = {}
    run: dict[str, Any] = {"findings": Counter()}

    def step(step_id: str) -> dict[str, Any]:
        return steps.setdefault(step_id, {"hosts": Counter(), "lines": set()})

    for event in events:
        kind = event["event"]
        host = host_of.get(event.get("host", ""), event.get("host"))
        if kind == "HostLine":
            if event.get("stream") != "kwizard":  # kwizard's own notes ("waiting for …") depend on timing
                step(event["step_id"])["lines"].add((host, event.get("stream", "")))
        elif kind in HOST_EVENTS:
            step(event["step_id"])["hosts"][(kind, host, event.get("ok"), event.get("exit_status"))] += 1
        elif kind == "StepStarted":
            step(event["step_id"])["started"] = (event["title"], [host_of.get(h, h) for h in event["hosts"]])
        elif kind == "StepFinished":
            step(event["step_id"])["finished"] = (
                event.get("status"), event.get("failed_step"), [host_of.get(h, h) for h in event.get("failed_hosts", [])]
            )
        elif kind == "RunStarted":
            run["started"] = (event["plan"], [tuple(s) for s in event["steps"]], [host_of.get(h, h) for h in event["hosts"]])
        elif kind == "RunFinished":
            run["finished"] = (event.get("status"), event.get("failed_step"))
        elif kind == "FindingReported":
            finding = event["finding"]
            run["findings"][(finding["level"], finding["code"], host_of.get(finding.get("host") or "", finding.get("host")))] += 1
    return {"run": run, "steps": {k: {**v, "hosts": sorted(v["hosts"].items()), "lines": sorted(v["lines"])} for k, v in steps.items()}}


async def test_a_tui_run_and_apply_jsonl_produce_the_same_events(lab_factory, tmp_path, monkeypatch):
    tui_lab, cli_lab = lab_factory(hosts=3), lab_factory(hosts=3)

    # --- the TUI: the wizard's Review screen, Run, up to the done screen ---
    seen: list[Event] = []
    real_event = RunScreen.engine_event

    def recording(self, event: Event) -> None:
        seen.append(event)
        real_event(self, event)

    started: list[str] = []
    real_start = service.start_plan

    def spy(plan, fleet, request, *rest):
        started.append(plan.name)
        return real_start(plan, fleet, request, *rest)

    monkeypatch.setattr(RunScreen, "engine_event", recording)
    monkeypatch.setattr(service, "start_plan", spy)
    tui_profile = tui_lab.write_profile(tmp_path / "tui" / "cluster.yaml")
    app = KwizardApp(str(tui_profile), folders=profile_folder(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        run = await review_then_run(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen) or run.progress.status == "failed")
        assert isinstance(app.screen, DoneScreen), run.progress.failure
    assert started == ["setup"], "the TUI ran its plan through service.start_plan"

    # --- headless: kwizard apply --output jsonl, its own HOME and state folders ---
    cli_profile = cli_lab.write_profile(tmp_path / "cli" / "cluster.yaml")
    env = {**os.environ, "HOME": str(tmp_path / "cli-home"), "XDG_CONFIG_HOME": str(tmp_path / "cli-config"),
           "XDG_STATE_HOME": str(tmp_path / "cli-state")}
    Path(env["HOME"]).mkdir()
    applied = subprocess.run(
        [sys.executable, "-c", CLI_WITH_SPY, "apply", "--yes", "--output", "jsonl", str(cli_profile)],
        env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
    assert applied.stderr.count("SPY start_plan setup") == 1, "the CLI ran its plan through service.start_plan"
    cli_events = [json.loads(line) for line in applied.stdout.splitlines() if line.strip()]

    tui_shape = normalised([e.to_dict() for e in seen], [h.name for h in tui_lab.hosts])
    cli_shape = normalised(cli_events, [h.name for h in cli_lab.hosts])
    assert tui_shape["run"]["finished"] == ("succeeded", None)
    planned = [step_id for step_id, _title in tui_shape["run"]["started"][1]]
    finished = [s for s, shape in tui_shape["steps"].items() if "finished" in shape]
    assert sorted(finished) == sorted(planned), "every step of the plan ran and finished"
    assert "join" in finished and len(finished) > 8, "a real run: many steps"
    assert tui_shape == cli_shape
