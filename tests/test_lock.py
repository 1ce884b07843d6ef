"""The run lock: a second run of the same cluster is refused with who holds it; a dead holder's lock is taken over.

The cluster lock's scripts run here in bash against a temporary folder (the
same text kwizard sends to the control plane, with the lock path moved);
tests/test_fault_matrix_lab.py shows it on lab hosts over SSH.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from kwizard.run import lock as lockmod
from kwizard.run.lock import ClusterLock, Holder, LocalLock, LockHeld, is_stale


class LocalBash:
    """A HostSession whose scripts run in a local bash (no sudo): enough to exercise the lock scripts."""

    host = "cp"

    async def capture(self, script, timeout=None):
        proc = await asyncio.create_subprocess_exec(
            "bash", "-c", script.script, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        out, err = await proc.communicate()
        return proc.returncode, out.decode(), err.decode()


@pytest.fixture
def lock_dir(tmp_path, monkeypatch):
    folder = tmp_path / "var-lib-kwizard" / "lock.d"
    monkeypatch.setattr(lockmod, "LOCK_DIR", str(folder))
    monkeypatch.setattr(lockmod, "HOLDER_FILE", f"{folder}/holder.json")
    return folder


def test_the_first_run_takes_the_cluster_lock_and_a_second_is_refused_naming_the_first(lock_dir):
    first = ClusterLock(LocalBash(), Holder.me("setup of lab"), "cp", "lab.yaml")
    asyncio.run(first.acquire())
    holder = json.loads((lock_dir / "holder.json").read_text())
    assert holder["pid"] == os.getpid() and holder["run"] == "setup of lab"

    second = ClusterLock(LocalBash(), Holder.me("reset of lab"), "cp", "lab.yaml")
    with pytest.raises(LockHeld) as refused:
        asyncio.run(second.acquire())
    message = str(refused.value)
    assert f"pid {os.getpid()}" in message and "setup of lab" in message and "since" in message
    assert "kwizard unlock lab.yaml" in message


def test_release_frees_the_lock_only_for_its_holder(lock_dir):
    mine = ClusterLock(LocalBash(), Holder.me("setup of lab"), "cp", "lab.yaml")
    asyncio.run(mine.acquire())
    someone_else = ClusterLock(LocalBash(), Holder.me("setup of lab"), "cp", "lab.yaml")
    asyncio.run(someone_else.release())  # not theirs: nothing happens
    assert lock_dir.exists()
    asyncio.run(mine.release())
    assert not lock_dir.exists()


def test_a_lock_left_by_a_dead_process_on_this_machine_is_taken_over(lock_dir):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = Holder(os.environ.get("USER", "root"), os.uname().nodename, int(dead.stdout), "setup of lab", time.time(), "deadbeef")
    lock_dir.mkdir(parents=True)
    (lock_dir / "holder.json").write_text(gone.to_json() + "\n")
    mine = ClusterLock(LocalBash(), Holder.me("setup of lab"), "cp", "lab.yaml")
    asyncio.run(mine.acquire())
    assert mine.took_over == gone
    assert json.loads((lock_dir / "holder.json").read_text())["token"] == mine.holder.token


def test_a_live_holder_elsewhere_is_stale_only_after_its_heartbeat_stops():
    elsewhere = Holder("ann", "other-workstation", 1, "setup of lab", time.time(), "t")
    assert not is_stale(elsewhere, age_s=30)
    assert is_stale(elsewhere, age_s=lockmod.STALE_AFTER_S + 1)
    here_alive = Holder("me", "this-machine", os.getpid(), "setup", time.time(), "t")
    assert not is_stale(here_alive, age_s=10 * lockmod.STALE_AFTER_S, machine="this-machine")


def test_the_local_lock_refuses_a_second_process_and_is_freed_when_the_holder_dies(tmp_path):
    path = tmp_path / "locks" / "10.0.0.1.lock"
    holder_code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from kwizard.run.lock import Holder, LocalLock
        LocalLock(Path({str(path)!r}), Holder.me("setup of lab")).acquire()
        print("held", flush=True)
        time.sleep(60)
    """)
    other = subprocess.Popen([sys.executable, "-c", holder_code], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld) as refused:
            LocalLock(path, Holder.me("reset of lab")).acquire()
        assert f"pid {other.pid}" in str(refused.value)
    finally:
        other.kill()
        other.wait()
    mine = LocalLock(path, Holder.me("reset of lab"))
    mine.acquire()  # the kernel dropped the dead holder's flock
    mine.release()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
