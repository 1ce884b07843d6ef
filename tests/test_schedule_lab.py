"""The graph schedule against the lab: the order kubeadm needs still holds, a worker's failure stays its own.

With realistic durations (a small time scale) so steps take long enough to
overlap: no join before the join command exists, no plugin applied before
init, and a failure on one worker leaves the others' progress in place and
resumable. Every event's time comes from the CLI's JSON Lines.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.lab.scenario import named
from tests.test_apply_lab import User

pytestmark = pytest.mark.lab

SCALE = 0.02
SCENARIO = replace(named("debian-12"), durations="realistic", time_scale=SCALE)  # bare hosts, swap on


@pytest.fixture
def user(tmp_path) -> User:
    return User(tmp_path)


def _apply(user, profile, *flags):
    result = user.kwizard("apply", "--yes", "--output", "jsonl", *flags, str(profile), timeout=600)
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result, events


def _spans(events):
    return {(e["step_id"], e["host"]): (e["at"] - e["duration"], e["at"], e["ok"])
            for e in events if e["event"] == "HostFinished"}


def _finished(events, step_id):
    return next(e for e in events if e["event"] == "StepFinished" and e["step_id"] == step_id)


def test_the_graph_keeps_kubeadms_order_and_overlaps_the_rest(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=3, scenario=SCENARIO)
    profile = lab.write_profile(tmp_path / "cluster.yaml", install_packages=True, disable_swap=True)
    result, events = _apply(user, profile)
    assert result.returncode == 0, result.stderr[-2000:]
    spans = _spans(events)
    cp, w1, w2 = [e for e in events if e["event"] == "RunStarted"][0]["hosts"]
    init_end = spans[("init", cp)][1]
    made = _finished(events, "join-command")["at"]
    for worker in (w1, w2):
        assert spans[("join", worker)][0] >= made >= init_end  # no join before the join command exists
    assert spans[("cni-apply", cp)][0] >= init_end  # no plugin before init
    assert made <= spans[("cni-apply", cp)][1] or made <= _finished(events, "cni-fetch")["at"]
    # the workers joined while the plugin was still coming up: before the nodes were Ready (verify)
    assert spans[("join", w1)][1] <= spans[("verify", cp)][1]
    # a worker's preparation did not wait for the control plane's images and init
    assert spans[("packages", w1)][0] < spans[("images", cp)][1]
    for worker in (w1, w2):  # each worker pulled its images after its packages, before joining,
        assert spans[("packages", worker)][1] <= spans[("node-images", worker)][0]
        assert spans[("node-images", worker)][1] <= spans[("join", worker)][0]
        assert spans[("node-images", worker)][0] < init_end  # while the control plane was still busy
    assert not [e for e in events if e["event"] == "StepFinished" and e["status"] == "failed"]
    run_dir = [e for e in events if e["event"] == "RunFinished"][0]["run_dir"]
    assert "<svg" in (Path(run_dir) / "timeline.svg").read_text()


def test_a_failed_worker_leaves_the_others_progress_intact_and_resumable(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=3, scenario=SCENARIO)
    profile = lab.write_profile(tmp_path / "cluster.yaml", install_packages=True, disable_swap=True)
    bad = lab.hosts[2]
    lab.set_fault(bad, "hang", "apt-get install")
    result, events = _apply(user, profile, "--step-timeout", "packages=10")
    assert result.returncode == 1
    started = [e for e in events if e["event"] == "RunStarted"][0]
    cp, w1, w2 = started["hosts"]
    finished = [e for e in events if e["event"] == "RunFinished"][0]
    assert (finished["failed_step"], finished["failed_hosts"]) == ("packages", [w2])
    timeout = next(e for e in events if e["event"] == "HostFinished" and e["host"] == w2 and not e["ok"])
    assert "--step-timeout packages=SECONDS" in timeout["error"]
    spans = _spans(events)
    assert spans[("join", w1)][2] and ("join", w2) not in spans  # the healthy worker joined, the broken one never tried
    state = json.loads((Path(finished["run_dir"]) / "state.json").read_text())
    assert w1 in state["hosts_done"]["join"] and "init" in state["finished_steps"]

    lab.clear_fault(bad, "hang")
    again, events = _apply(user, profile, "--resume")
    assert again.returncode == 0, again.stderr[-2000:]
    ran = {(e["step_id"], e["host"]) for e in events if e["event"] == "HostFinished"}
    assert ("join", w2) in ran and ("packages", w2) in ran and ("node-images", w2) in ran
    assert ("join", w1) not in ran and ("init", cp) not in ran and ("packages", w1) not in ran
    assert ("node-images", w1) not in ran
