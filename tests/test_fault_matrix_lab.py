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
