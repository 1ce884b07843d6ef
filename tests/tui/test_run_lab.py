"""The run and done screens against the lab: real sshd hosts, the simulated kubeadm world.

From the review screen (the seed's cluster: 1 control plane + 2 workers,
Flannel) to the done screen; and a connection cut during join, retried.
"""

from __future__ import annotations

import hashlib
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kwizard.profile.store import load
from kwizard.plan.reset import ResetOptions
from kwizard.screens.app import KwizardApp
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.run.done import DoneScreen
from kwizard.screens.widgets.log_pane import LogArea
from kwizard.screens.steps.review import ReviewScreen
from kwizard.screens.steps.welcome import WelcomeScreen
from kwizard.screens.run.screen import RunScreen, reset_run_screen

from .fakes import profile_folder
from .run_fakes import ScreenHarness

pytestmark = pytest.mark.lab

JOIN_RE = re.compile(r"kubeadm join (\S+) --token ([a-z0-9]{6})\.([a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})")


def lab_ca_hash(lab) -> str:
    pem = lab.exec(lab.hosts[0], "cat /etc/kubernetes/pki/ca.crt").stdout.encode()
    spki = x509.load_pem_x509_certificate(pem).public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


async def wait_for(pilot, predicate, seconds: float = 180.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out; screen is {type(pilot.app.screen).__name__}"
        await pilot.pause(0.1)


async def review_then_run(pilot) -> RunScreen:
    """Open the profile, go to Review, and press the Review screen's Run key, as a user does."""
    app: KwizardApp = pilot.app
    await pilot.pause()
    app.screen.action_leave("review")
    await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen), 10)
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), 10)
    return app.screen


def all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


async def test_seed_cluster_from_review_to_done_with_the_real_join_command(lab3, tmp_path):
    profile_path = lab3.write_profile(tmp_path / "cluster.yaml")
    app = KwizardApp(str(profile_path), folders=profile_folder(tmp_path))
    cp, worker1, worker2 = (h.name for h in lab3.hosts)
    async with app.run_test(size=(120, 40)) as pilot:
        run = await review_then_run(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen) or run.progress.status == "failed")
        assert isinstance(app.screen, DoneScreen), run.progress.failure
        done: DoneScreen = app.screen
        await wait_for(pilot, lambda: done.is_mounted and "kubeadm join" in str(done.query_one("#join-command").render()), 10)

        shown = str(done.query_one("#join-command").render()).replace("\n", " ")
        assert JOIN_RE.search(shown), shown
        (endpoint, token_id, secret, ca_hash), = JOIN_RE.findall(shown)
        assert endpoint == f"{lab3.hosts[0].address}:6443"
        assert ca_hash == lab_ca_hash(lab3), "the join command pins the lab's real CA"

        await pilot.press("c")
        await pilot.pause()
        full = f"kubeadm join {endpoint} --token {token_id}.{secret} --discovery-token-ca-cert-hash {ca_hash}"
        assert app.clipboard == full
        copied = done.copied["join"]
        assert copied.read_text().strip() == full
        assert stat.S_IMODE(copied.stat().st_mode) == 0o600

        logs = run.query_one(LogArea)
        logs.flush()
        cp_lines = "\n".join(logs.log_for(cp).lines)
        worker_lines = "\n".join(logs.log_for(worker1).lines)
        assert "initialized successfully" in cp_lines
        assert "initialized successfully" not in worker_lines, "a worker's pane holds that worker's lines only"
        assert "This node has joined the cluster" in worker_lines
        assert "This node has joined the cluster" in "\n".join(logs.log_for(worker2).lines)
        assert any(line.startswith(f"[{worker2}]") for line in logs.log_for("all").lines)
        assert secret not in "\n".join(logs.log_for("all").lines), "the panes show masked lines"

        run_dir = run.run_dir
        assert run_dir is not None and run_dir.is_dir()
        assert secret.encode() not in all_bytes(run_dir), "the token appears nowhere in the run folder"
        assert str(run_dir) in str(done.query_one("#replay").render())
        assert str(profile_path) in str(done.query_one("#replay").render())
        assert "3 of 3 nodes Ready" in str(done.query_one("#nodes").render())

        await pilot.press("escape")  # finished: back to the welcome screen, for the next cluster
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen), 10)


async def test_a_connection_cut_during_join_names_host_and_step_and_retry_finishes(lab3, tmp_path):
    worker = lab3.hosts[2]
    lab3.set_fault(worker, "cut_during", "kubeadm join")
    profile_path = lab3.write_profile(tmp_path / "cluster.yaml")
    app = KwizardApp(str(profile_path), folders=profile_folder(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        run = await review_then_run(pilot)
        await wait_for(pilot, lambda: run.progress.status in ("failed", "succeeded") and not run.is_running)
        failure = run.progress.failure
        assert failure is not None and failure.step_id == "join" and failure.hosts == (worker.name,)
        panel = str(run.query_one("#failure-text").render())
        assert "Join the workers" in panel and worker.name in panel
        first_dir = run.run_dir

        lab3.clear_fault(worker, "cut_during")
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen) or (run.progress.status == "failed" and not run.is_running))
        assert isinstance(app.screen, DoneScreen), run.progress.failure
        assert run.run_dir == first_dir, "the retry continued the failed run"
        skipped = [row.id for row in run.progress.steps if row.status == "skipped"]
        assert "init" in skipped, "steps finished before the failure are not redone"
        await pilot.press("escape")  # finish, as the user would
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen), 10)


async def test_reset_runs_on_the_same_run_screen_and_closes(lab3, tmp_path):
    profile_path = lab3.write_profile(tmp_path / "cluster.yaml")
    app = ScreenHarness(reset_run_screen(load(profile_path), ResetOptions(remove_cni_config=True), profile_path))
    async with app.run_test(size=(100, 30)) as pilot:
        run: RunScreen = app.first
        await wait_for(pilot, lambda: run.progress.status in ("failed", "succeeded", "cancelled") and not run.is_running)
        assert run.progress.status == "succeeded", run.progress.failure
        assert [row.id for row in run.progress.steps][0] == "connect"
        assert "reset run finished" in str(run.query_one("#run-finished-text").render())
        await pilot.press("escape")
        await pilot.pause()
    assert app.outcomes[0].plan == "reset" and app.outcomes[0].status == "succeeded"


def _highlight(app: KwizardApp, name: str) -> None:
    welcome: WelcomeScreen = app.screen
    table = welcome.query_one("#profiles")
    table.move_cursor(row=next(i for i, s in enumerate(welcome.summaries) if s.name == name))


async def test_an_aborted_run_resumes_from_the_welcome_screen(lab3, tmp_path):
    worker = lab3.hosts[1]
    lab3.set_fault(worker, "cut_during", "kubeadm join")
    profile_path = lab3.write_profile(tmp_path / "saved" / "cluster.yaml")  # listed on the welcome screen
    app = KwizardApp(str(profile_path), folders=profile_folder(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        run = await review_then_run(pilot)
        await wait_for(pilot, lambda: run.progress.status == "failed" and not run.is_running)
        await pilot.press("a")  # abort: the run stays resumable
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen), 10)
        _highlight(app, load(profile_path).name)
        await pilot.pause()
        assert "resume its unfinished setup run (stopped at join)" in str(app.screen.query_one("#profile-note").render())

        lab3.clear_fault(worker, "cut_during")
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), 10)
        await pilot.press("y")  # resume asks first
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), 10)
        resumed: RunScreen = app.screen
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen) or (resumed.progress.status == "failed" and not resumed.is_running))
        assert isinstance(app.screen, DoneScreen), resumed.progress.failure
        assert resumed.run_dir == run.run_dir, "the resume continued the aborted run"
        assert "init" in [row.id for row in resumed.progress.steps if row.status == "skipped"]


async def test_reset_from_the_welcome_screen_asks_for_the_control_planes_name(lab3, tmp_path, monkeypatch):
    from kwizard.screens.dialogs.reset_confirm import ResetConfirmModal

    profile_path = lab3.write_profile(tmp_path / "saved" / "cluster.yaml")  # listed on the welcome screen
    setup = subprocess.run([sys.executable, "-m", "kwizard", "apply", "--yes", str(profile_path)],
                           capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert setup.returncode == 0, setup.stdout[-2000:]
    cp = lab3.hosts[0].name
    app = KwizardApp(None, folders=profile_folder(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen), 10)
        _highlight(app, load(profile_path).name)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen), 10)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, ResetConfirmModal), 10)
        await pilot.press(*"wrong", "enter")
        assert isinstance(app.screen, ResetConfirmModal), "a wrong name does not confirm"
        app.screen.query_one("#reset-name").value = ""
        await pilot.press(*cp, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), 10)
        run: RunScreen = app.screen
        await wait_for(pilot, lambda: run.progress.status in ("failed", "succeeded") and not run.is_running)
        assert run.progress.status == "succeeded", run.progress.failure
    assert lab3.cluster_state().get("nodes") in ({}, None), "every node is gone"
    assert lab3.exec(lab3.hosts[0], "test -e /etc/kubernetes/admin.conf").returncode != 0


async def test_cancel_mid_run_stops_the_hosts_command_and_the_run_resumes_to_done(lab3, tmp_path):
    """Cancel reaches the service's RunHandle: the hung kubeadm init is killed, the run is kept, and
    resuming it from the welcome screen finishes without redoing what was done."""
    from kwizard.screens.dialogs.confirm import ConfirmModal

    cp = lab3.hosts[0]
    lab3.set_fault(cp, "hang", "kubeadm ini")  # matches `kubeadm init`, not the pgrep below
    profile_path = lab3.write_profile(tmp_path / "saved" / "cluster.yaml")  # listed on the welcome screen
    app = KwizardApp(str(profile_path), folders=profile_folder(tmp_path))
    hung = "pgrep -f 'kubeadm ini[t]'"
    async with app.run_test(size=(120, 40)) as pilot:
        run = await review_then_run(pilot)
        await wait_for(pilot, lambda: lab3.exec(cp, hung).returncode == 0, 120)
        assert run.is_running and run.progress.step("init").status == "running"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), 10)
        await pilot.click("#yes")
        await wait_for(pilot, lambda: not run.is_running, 60)
        assert run.progress.status == "cancelled"
        await wait_for(pilot, lambda: lab3.exec(cp, hung).returncode == 1, 30)  # the remote command was stopped
        first_dir = run.run_dir

        lab3.clear_fault(cp, "hang")
        await pilot.press("escape")  # leave the cancelled run: a saved profile goes back to the welcome screen
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen), 10)
        _highlight(app, load(profile_path).name)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), 10)
        await pilot.press("y")  # resume asks first
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), 10)
        resumed: RunScreen = app.screen
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen) or (resumed.progress.status == "failed" and not resumed.is_running))
        assert isinstance(app.screen, DoneScreen), resumed.progress.failure
        assert resumed.run_dir == first_dir, "the resume continued the cancelled run"
        assert "kernel" in [row.id for row in resumed.progress.steps if row.status == "skipped"]
