"""The run directory: private from the first byte, state that a resume can trust."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from kwizard.run.events import HostLine, StepStarted
from kwizard.run.rundir import RunDir, RunState, default_runs_dir, latest_resumable, list_runs


@pytest.fixture
def open_umask():
    """A umask that takes nothing away: the modes must come from kwizard, not from luck."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_everything_is_private_even_with_an_open_umask(tmp_path, open_umask):
    base = tmp_path / "state" / "runs"
    run_dir = RunDir.create("setup", "lab", base=base)
    run_dir.record_event(StepStarted(step_id="kernel", title="Kernel", hosts=("a",)))
    run_dir.record_host_line("a", "kernel", "modprobe overlay")
    run_dir.close()

    assert mode_of(base) == 0o700
    assert mode_of(base.parent) == 0o700  # folders kwizard had to make
    for path in [run_dir.path, *run_dir.path.rglob("*")]:
        expected = 0o700 if path.is_dir() else 0o600
        assert mode_of(path) == expected, path


def test_existing_parent_folders_are_left_alone(tmp_path):
    tmp_path.chmod(0o755)
    RunDir.create("setup", "lab", base=tmp_path / "runs")
    assert mode_of(tmp_path) == 0o755


def test_folder_name_has_time_profile_and_plan(tmp_path):
    run_dir = RunDir.create("reset", "home-lab", base=tmp_path)
    stamp, rest = run_dir.run_id.split("-", 1)
    assert rest == "home-lab-reset"
    time.strptime(stamp, "%Y%m%dT%H%M%SZ")


def test_two_runs_in_the_same_second_get_their_own_folders(tmp_path):
    first = RunDir.create("setup", "lab", base=tmp_path)
    second = RunDir.create("setup", "lab", base=tmp_path)
    assert first.path != second.path


def test_default_location_is_the_xdg_state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_runs_dir() == tmp_path / "kwizard" / "runs"
    run_dir = RunDir.create("setup", "lab")
    assert run_dir.path.parent == tmp_path / "kwizard" / "runs"


def test_events_are_json_lines_written_as_they_come(tmp_path):
    run_dir = RunDir.create("setup", "lab", base=tmp_path)
    run_dir.record_event(StepStarted(step_id="kernel", title="Kernel", hosts=("a", "b")))
    # No close(): a reader (or a crash) sees what was recorded so far.
    lines = run_dir.events_path.read_text().splitlines()
    assert json.loads(lines[0])["event"] == "StepStarted"
    run_dir.record_event(HostLine(step_id="kernel", host="a", line="ok"))
    assert len(run_dir.events_path.read_text().splitlines()) == 2
    run_dir.close()


def test_host_log_lines_carry_time_step_and_stream(tmp_path):
    run_dir = RunDir.create("setup", "lab", base=tmp_path)
    run_dir.record_host_line("node-1", "kernel", "loaded overlay")
    run_dir.record_host_line("node-1", "kernel", "warning: swap", stream="stderr")
    run_dir.close()
    first, second = run_dir.host_log_path("node-1").read_text().splitlines()
    time.strptime(first[:8], "%H:%M:%S")
    assert first[8:] == " [kernel] loaded overlay"
    assert second[8:] == " [kernel] [stderr] warning: swap"


def test_host_names_cannot_escape_the_hosts_folder(tmp_path):
    run_dir = RunDir.create("setup", "lab", base=tmp_path)
    path = run_dir.host_log_path("../../etc/passwd")
    assert path.parent == run_dir.path / "hosts"


def test_state_round_trips_and_leaves_no_temp_files(tmp_path):
    run_dir = RunDir.create("setup", "lab", base=tmp_path, profile_path=tmp_path / "lab.yaml")
    state = run_dir.load_state()
    assert (state.plan, state.profile, state.status) == ("setup", "lab", "running")
    assert state.profile_path == str((tmp_path / "lab.yaml").resolve())
    state.mark_step_finished("hosts-file")
    state.mark_host_done("kernel", "a")
    state.failed_step, state.failed_hosts, state.status = "kernel", ["b"], "failed"
    run_dir.save_state(state)

    again = RunDir.open(run_dir.path).load_state()
    assert again.finished_steps == ["hosts-file"]
    assert again.done_on("kernel") == {"a"}
    assert (again.failed_step, again.failed_hosts, again.resumable) == ("kernel", ["b"], True)
    assert sorted(p.name for p in run_dir.path.iterdir()) == ["hosts", "state.json"]


def test_state_from_a_newer_kwizard_ignores_fields_it_does_not_know():
    text = RunState(plan="setup", profile="lab").to_json().replace("{", '{"future_field": 1,', 1)
    assert RunState.from_json(text).plan == "setup"


def test_forgetting_a_step_drops_all_its_markers():
    state = RunState(plan="setup", profile="lab")
    state.mark_step_finished("join-command")
    state.mark_host_done("join-command", "cp")
    state.forget_step("join-command")
    assert not state.is_finished("join-command") and state.done_on("join-command") == set()


def test_open_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a kwizard run folder"):
        RunDir.open(tmp_path)


def _finish(run_dir: RunDir, status: str, started_at: float) -> None:
    state = run_dir.load_state()
    state.status, state.started_at = status, started_at
    run_dir.save_state(state)


def test_latest_resumable_is_the_newest_unfinished_run_of_that_profile(tmp_path):
    old_failure = RunDir.create("setup", "lab", base=tmp_path)
    _finish(old_failure, "failed", 100.0)
    other_profile = RunDir.create("setup", "other", base=tmp_path)
    _finish(other_profile, "failed", 300.0)
    assert latest_resumable("lab", base=tmp_path).path == old_failure.path

    cancelled = RunDir.create("setup", "lab", base=tmp_path)
    _finish(cancelled, "cancelled", 200.0)
    assert latest_resumable("lab", "setup", base=tmp_path).path == cancelled.path
    assert latest_resumable("lab", "reset", base=tmp_path) is None


def test_a_later_success_makes_older_failures_history(tmp_path):
    _finish(RunDir.create("setup", "lab", base=tmp_path), "failed", 100.0)
    _finish(RunDir.create("setup", "lab", base=tmp_path), "succeeded", 200.0)
    assert latest_resumable("lab", base=tmp_path) is None


def test_unreadable_runs_are_skipped_when_listing(tmp_path):
    (tmp_path / "junk").mkdir()
    broken = RunDir.create("setup", "lab", base=tmp_path)
    broken.state_path.write_text("{not json")
    good = RunDir.create("setup", "lab", base=tmp_path)
    assert [run.path for run, _ in list_runs(tmp_path)] == [good.path]
    assert list_runs(tmp_path / "missing") == []
