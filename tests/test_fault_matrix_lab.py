"""The fault matrix, on the lab through the CLI: what happens to a cluster when things go wrong around a run.

- secrets never appear in any process's arguments on any host, during a whole run;
- a connection cut after the remote command finished, or a control plane that
  reboots right after `kubeadm init`: the run fails, `--resume` finishes, and
  nothing is done twice that must not be (the cluster is initialised once);
- two runs of one cluster at once: one wins, the other refuses naming the first
  (same workstation, or two workstations), and `kubeadm init` runs once;
- SIGINT, SIGTERM, SIGHUP at a step: exit 130, the run marked interrupted,
  the run directory and the resume command printed; `--resume` finishes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.lab.profile import SUDO_PASSWORD_ENV
from tests.lab.scenario import HostOptions, Scenario, named
from tests.test_apply_lab import User, _lab_ca_hash, _ready_nodes

pytestmark = pytest.mark.lab

LONG_SUDO_PASSWORD = "lab-sudo-password-long"


class CmdlineWatcher:
    """Reads every process's argv on this machine (the lab hosts' processes included) until stopped."""

    def __init__(self, interval: float = 0.01):
        self.seen: set[str] = set()
        self.samples = 0
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> CmdlineWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)

    def _watch(self) -> None:
        while not self._stop.is_set():
            for entry in os.scandir("/proc"):
                if entry.name.isdigit():
                    try:
                        with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                            self.seen.add(handle.read().replace(b"\0", b" ").decode(errors="replace"))
                    except OSError:
                        pass
            self.samples += 1
            self._stop.wait(self._interval)


@pytest.fixture
def user(tmp_path) -> User:
    return User(tmp_path)


def _profile(lab, tmp_path, name="cluster.yaml", **profile_args) -> str:
    return str(lab.write_profile(tmp_path / name, **profile_args))


def _tokens(lab) -> list[str]:
    cluster = lab.cluster_state().get("cluster") or {}
    return [t["token"] for t in cluster.get("tokens", [])]


def test_no_secret_is_ever_in_a_process_argument_on_any_host_during_a_whole_run(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=3, scenario=Scenario("sudo-password-long", default=HostOptions(sudo_password=LONG_SUDO_PASSWORD)))
    profile = _profile(lab, tmp_path)  # names SUDO_PASSWORD_ENV, since the hosts' sudo wants a password
    user.env[SUDO_PASSWORD_ENV] = LONG_SUDO_PASSWORD
    with CmdlineWatcher() as watcher:
        result = user.kwizard("apply", "--yes", profile)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert watcher.samples > 50, "the watcher looked often enough to see the steps' processes"
    assert any("kubeadm join" in line for line in watcher.seen), "the watcher saw the join run"
    tokens = _tokens(lab)
    assert tokens, "the run made join tokens"
    for secret in [*(t.split(".")[1] for t in tokens), LONG_SUDO_PASSWORD]:
        leaking = [line for line in watcher.seen if secret in line]
        assert leaking == [], f"a secret was in a process's arguments: {leaking[:1]}"


def test_a_cut_after_init_finished_is_resumed_without_a_second_init(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=2, scenario=named("cut-after-init"))
    profile = _profile(lab, tmp_path)
    first = user.kwizard("apply", "--yes", profile)
    assert first.returncode == 1
    assert "it may have finished on the host, or been stopped there" in first.stderr + first.stdout
    ca_after_init = _lab_ca_hash(lab)  # the init did complete on the host
    lab.clear_fault(0, "cut_after")
    resumed = user.kwizard("apply", "--yes", "--resume", profile)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert "<== init: already done on every host" in resumed.stdout
    assert _lab_ca_hash(lab) == ca_after_init, "the cluster was initialised once"
    assert _ready_nodes(lab) == {h.name for h in lab.hosts}


def test_a_control_plane_that_reboots_after_init_is_resumed(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=2, scenario=named("reboot-after-init"))
    profile = _profile(lab, tmp_path, disable_swap=True)
    first = user.kwizard("apply", "--yes", profile)
    assert first.returncode == 1, first.stdout[-2000:]
    ca_after_init = _lab_ca_hash(lab)
    lab.clear_fault(0, "reboot_after")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        resumed = user.kwizard("apply", "--yes", "--resume", profile)
        if "no SSH answer" not in resumed.stderr and "cannot connect" not in resumed.stderr:
            break
        time.sleep(1)  # still booting
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-2000:]
    assert _lab_ca_hash(lab) == ca_after_init, "the cluster was initialised once"
    assert _ready_nodes(lab) == {h.name for h in lab.hosts}
    swaps = lab.exec(0, "tail -n +2 /proc/swaps | wc -l").stdout.strip()
    assert swaps == "0", "swap stays off after the reboot (fstab commented)"


# --- one run at a time, and signals ---------------------------------------------------------------


def _start(user: User, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kwizard", *args], env=user.env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for_step(user: User, step: str, timeout: float = 60) -> Path:
    """The run directory, once its events show `step` started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run_dir in user.run_dirs():
            events = (run_dir / "events.jsonl").read_text() if (run_dir / "events.jsonl").exists() else ""
            if f'"step_id": "{step}"' in events:
                return run_dir
        time.sleep(0.2)
    raise AssertionError(f"no run reached {step}")


def _events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


@pytest.fixture
def hung_run(lab_factory, tmp_path, user):
    """A lab whose control plane hangs in `kubeadm config images pull`, and an apply stuck there."""
    lab = lab_factory(hosts=2, scenario=named("hang-pull"))
    profile = _profile(lab, tmp_path)
    running = _start(user, "apply", "--yes", profile)
    run_dir = _wait_for_step(user, "images")
    yield lab, profile, running, run_dir
    if running.poll() is None:
        running.kill()
        running.wait()


def test_a_signal_during_the_join_stops_it_and_resume_joins(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=2, scenario=Scenario("hang-join").with_host(1, hang="kubeadm join"))
    profile = _profile(lab, tmp_path)
    running = _start(user, "apply", "--yes", profile)
    try:
        run_dir = _wait_for_step(user, "join", timeout=120)
        deadline = time.monotonic() + 120
        while not lab.exec(1, "pgrep -f '[k]ubeadm join' || true").stdout.strip():  # the worker is in its join
            assert time.monotonic() < deadline, "the join never started"
            time.sleep(0.3)
        running.send_signal(signal.SIGTERM)
        out, err = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            running.kill()
    assert running.returncode == 130, out[-2000:] + err[-2000:]
    assert json.loads((run_dir / "state.json").read_text())["status"] == "cancelled"
    assert "<== join cancelled" in out
    lab.clear_fault(1, "hang")
    resumed = user.kwizard("apply", "--resume", "--yes", profile)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert "<== init: already done on every host" in resumed.stdout
    assert _ready_nodes(lab) == {h.name for h in lab.hosts}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_mid_run_stops_it_resumably_and_says_how_to_resume(hung_run, user, signum):
    lab, profile, running, run_dir = hung_run
    time.sleep(0.5)
    running.send_signal(signum)
    out, err = running.communicate(timeout=60)
    assert running.returncode == 130, out[-2000:] + err[-2000:]
    assert f"logs in {run_dir}" in err
    assert f"continue with: kwizard apply --resume --yes {profile}" in err
    state = json.loads((run_dir / "state.json").read_text())
    assert state["status"] == "cancelled"
    last = _events(run_dir)[-1]
    assert last["event"] == "RunFinished" and last["status"] == "cancelled"
    assert "<== images cancelled" in out, out[-1500:]
    assert "<== images done" not in out
    deadline = time.monotonic() + 10  # the wrapper's watchdog: TERM, then KILL after 3 s
    while lab.exec(0, "pgrep -f '[c]onfig images pull' || true").stdout.strip() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert lab.exec(0, "pgrep -f '[c]onfig images pull' || true").stdout.strip() == "", "the remote command was stopped"

    lab.clear_fault(0, "hang")
    try:
        resumed = user.kwizard("apply", "--resume", "--yes", profile, timeout=120)
    except subprocess.TimeoutExpired as stuck:
        raise AssertionError(f"resume hung: {stuck.stdout[-3000:]!r}") from None
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert _ready_nodes(lab) == {h.name for h in lab.hosts}


def test_a_second_apply_on_the_same_workstation_is_refused_naming_the_first(hung_run, user):
    lab, profile, running, _ = hung_run
    second = user.kwizard("apply", "--yes", profile)
    assert second.returncode == 3
    assert f"pid {running.pid}" in second.stderr and "setup of" in second.stderr
    assert user.run_dirs() and len(user.run_dirs()) == 1, "the refused run wrote no run directory"


def test_a_run_from_another_workstation_is_refused_by_the_control_planes_lock(hung_run, tmp_path):
    lab, profile, running, _ = hung_run
    (tmp_path / "other-workstation").mkdir()
    other = User(tmp_path / "other-workstation")
    refused = other.kwizard("reset", "--yes", profile)
    assert refused.returncode == 1, refused.stdout[-2000:] + refused.stderr[-2000:]  # reset's first step failed
    assert "is locked by" in refused.stdout + refused.stderr
    assert f"pid {running.pid}" in refused.stdout + refused.stderr
    assert lab.cluster_state().get("cluster") is None, "nothing was torn down or set up by the refused run"


def test_two_applies_started_together_init_once(lab_factory, tmp_path):
    lab = lab_factory(hosts=2)
    profile = _profile(lab, tmp_path)
    (tmp_path / "ann").mkdir()
    (tmp_path / "bob").mkdir()
    ann, bob = User(tmp_path / "ann"), User(tmp_path / "bob")
    runs = [_start(ann, "apply", "--yes", profile), _start(bob, "apply", "--yes", profile)]
    results = [(r.wait(timeout=300), *r.communicate()) for r in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 3], [(code, err[-800:]) for code, _, err in results]
    loser = next(out + err for code, out, err in results if code == 3)
    assert "is locked by" in loser
    assert _ready_nodes(lab) == {h.name for h in lab.hosts}
    assert len(lab.cluster_state()["cluster"]["tokens"]) >= 1


def test_a_lock_left_by_a_killed_run_is_taken_over_and_said(hung_run, user):
    lab, profile, running, _ = hung_run
    running.kill()  # SIGKILL: no clean-up at all
    running.wait()
    lab.clear_fault(0, "hang")
    result = user.kwizard("apply", "--yes", profile)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "took over a stale lock left by" in result.stdout
    assert lab.exec(0, "test -e /var/lib/kwizard/lock.d && echo held || echo free").stdout.strip() == "free"


def test_unlock_shows_the_holder_and_clears_the_lock(hung_run, user):
    lab, profile, running, _ = hung_run
    running.kill()
    running.wait()
    shown = user.kwizard("unlock", "--yes", profile)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"is locked by" in shown.stdout and f"pid {running.pid}" in shown.stdout
    assert "lock cleared" in shown.stdout
    assert lab.exec(0, "test -e /var/lib/kwizard/lock.d && echo held || echo free").stdout.strip() == "free"
    again = user.kwizard("unlock", "--yes", profile)
    assert again.returncode == 0 and "is not locked" in again.stdout
