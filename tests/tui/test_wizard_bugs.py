"""The bugs of "the wizard as a person lives it": each one walked by keys, as it was found."""

from __future__ import annotations

from pathlib import Path

import yaml
from textual.widgets import DataTable, Input, Static

from kwizard.plan.setup import build_setup_plan
from kwizard.profile.model import Host, Profile, Role, SSHSettings
from kwizard.profile.store import save
from kwizard.run.events import HostSkipped, RunFinished, StepFinished, StepStarted
from kwizard.run.rundir import RunDir
from kwizard.run.runner import Runner
from kwizard.plan.steps import Plan, Step
from kwizard.plan.context import RemoteScript
from kwizard.screens.app import KwizardApp
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.dialogs.save_profile import SaveProfileModal
from kwizard.screens.dialogs.ssh_form import SSHSettingsModal
from kwizard.screens.run.done import DoneScreen, FinishSummary
from kwizard.screens.run.screen import RunScreen
from kwizard.screens.run.state import SKIPPED_BY_YOU
from kwizard.screens.steps.hosts import HostsScreen
from kwizard.screens.steps.review import ReviewScreen
from kwizard.screens.steps.welcome import WelcomeScreen
from kwizard.screens.widgets.log_pane import ALL_HOSTS, LogArea

from ..test_runner import FakeSession
from .drive import add_host, error_of, replace_text, settle, type_text
from .fakes import FakeFleet
from .run_fakes import HOLD, RUN_DIR, SEED_PROFILE, ScreenHarness, ScriptedLauncher, failing_join, run_started, seed_profile, step_done, up_to_images
from .test_done_screen import FakeCluster
from .test_run_screen import wait_run


def notes(app) -> str:
    return "\n".join(f"{n.title}: {n.message}" for n in app._notifications)


def table_lines(screen, rows: int) -> list[str]:
    table = screen.query_one("#hosts", DataTable)
    return ["".join(segment.text for segment in table.render_line(y)) for y in range(rows + 1)]


# --- 1. Esc on the welcome screen quits, it does not crash ---


async def test_escape_on_welcome_quits_cleanly(tmp_path):
    app = KwizardApp(folders=[], gather=FakeFleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_value == 0


# --- 2. After a retry the done screen still has the local kubeconfig ---

ADMIN_CONF = yaml.safe_dump({
    "apiVersion": "v1", "kind": "Config", "current-context": "kubernetes-admin@kubernetes",
    "clusters": [{"name": "kubernetes", "cluster": {"server": "https://192.168.122.11:6443"}}],
    "contexts": [{"name": "kubernetes-admin@kubernetes", "context": {"cluster": "kubernetes", "user": "kubernetes-admin"}}],
    "users": [{"name": "kubernetes-admin", "user": {"token": "x"}}],
}).encode()


class AdminConfSession(FakeSession):
    async def download(self, path, sudo=True):
        return ADMIN_CONF


async def test_a_retried_run_still_hands_the_done_screen_its_kubeconfig(tmp_path):
    profile = seed_profile()
    kubeconfig = next(s for s in build_setup_plan(profile, lockstep=True).steps if s.id == "kubeconfig")
    cp = profile.control_plane.name
    flaky = {"exit": "exit 1"}
    later = Step("later", "A later step", (cp,), script=lambda ctx, host: RemoteScript(flaky["exit"]))
    plan = Plan(name="setup", steps=[kubeconfig, later], hosts=(cp,))

    def runner(run_dir: RunDir) -> Runner:
        return Runner(plan, {cp: AdminConfSession(cp)}, run_dir=run_dir, listeners=[])

    first = await runner(RunDir.create("setup", profile.name, base=tmp_path / "runs")).run()
    assert first.status == "failed" and first.outcome.kubeconfig_path is not None
    flaky["exit"] = "echo fixed"
    run_dir = RunDir.open(first.run_dir)
    second = await runner(run_dir).run(resume_state=run_dir.load_state())  # what Retry does
    assert second.status == "succeeded"
    assert second.outcome.kubeconfig_path == first.outcome.kubeconfig_path

    summary = FinishSummary.from_result(profile, second, None)
    app = ScreenHarness(DoneScreen(summary, FakeCluster(), copies_dir=tmp_path / "copied"))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        shown = str(app.screen.query_one("#local-kubeconfig", Static).render())
        assert "No local kubeconfig was written" not in shown
        assert str(second.outcome.kubeconfig_path) in shown


# --- 3. A step the user skipped says so; a waiting step says what it waits for ---


def skipped_join_then_done(profile: Profile) -> list:
    script: list = [run_started(profile)]
    for step in build_setup_plan(profile, lockstep=True).steps:
        if step.id in ("join", "verify"):
            continue
        script += step_done(profile, step.id, 0.0, skipped=True)
    join = next(s for s in build_setup_plan(profile, lockstep=True).steps if s.id == "join")
    script.append(StepStarted("join", join.title, join.hosts))
    script += [HostSkipped("join", host, "done in an earlier run") for host in join.hosts]
    script += [StepFinished("join", "skipped", 0.0), RunFinished("failed", 1.0, "verify", (), RUN_DIR)]
    return script


async def test_a_skipped_step_is_not_called_done_in_an_earlier_run():
    profile = seed_profile()
    launcher = ScriptedLauncher(profile, [failing_join(profile), skipped_join_then_done(profile)])
    screen = RunScreen(launcher, clock=launcher.clock)
    app = ScreenHarness(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_run(pilot, screen)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await wait_run(pilot, screen)
        row = screen.progress.step("join")
        assert row is not None and row.skip_reason == SKIPPED_BY_YOU
        assert "by you" in str(screen.query_one("#steps").render())
        screen.query_one(LogArea).flush()
        logged = "\n".join(screen.query_one(LogArea).log_for(ALL_HOSTS).lines)
        assert "skipped: " + SKIPPED_BY_YOU in logged and "[kubenode-1]! skipped: done in an earlier run" not in logged


def waiting_in_verify(profile: Profile) -> list:
    verify = next(s for s in build_setup_plan(profile, lockstep=True).steps if s.id == "verify")
    return up_to_images(profile) + [StepStarted("verify", verify.title, verify.hosts), 30.0, HOLD]


async def test_a_long_wait_says_what_it_waits_for_and_how_long_at_most():
    profile = seed_profile()
    launcher = ScriptedLauncher(profile, [waiting_in_verify(profile)])
    screen = RunScreen(launcher, clock=launcher.clock)
    app = ScreenHarness(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await launcher.played.wait()
        await pilot.pause()
        status = str(screen.query_one("#run-status", Static).render())
        assert "wait up to 10 min" in status and "Ready" in status, status
        launcher.cancel()
        await wait_run(pilot, screen)
        # Stopped: esc closes; the footer no longer offers to cancel the run.
        assert screen.check_action("stop", ()) is False and screen.check_action("close", ()) is True


# --- 4. The hosts table: whole rows, a Port column, no Next past a failed host ---


async def test_the_first_host_row_is_whole_and_has_its_port(tmp_path):
    app = KwizardApp(folders=[], gather=FakeFleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await add_host(pilot, "w1", "10.210.0.11")
        header, row = table_lines(app.screen, 1)
        assert "Port" in header
        assert "10.210.0.11" in row and "22" in row and "control plane" in row and "not tested" in row, row


async def test_next_refuses_a_host_that_failed_its_test(tmp_path):
    fleet = FakeFleet(failures={"w1": "refused"})
    app = KwizardApp(folders=[], gather=fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await add_host(pilot, "cp", "10.210.0.10")
        await add_host(pilot, "w1", "10.210.0.11")
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)
        assert "w1 failed its connection test" in notes(app)
        fleet.failures.clear()
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert not isinstance(app.screen, HostsScreen)


# --- 5. Save as renames the review too ---


def saved_profile(tmp_path: Path) -> Path:
    profile = Profile(
        name="home-lab",
        hosts=[Host(name="cp-1", address="10.0.0.10", role=Role.CONTROL_PLANE), Host(name="node-1", address="10.0.0.11")],
    )
    path = tmp_path / "saved" / "home-lab.yaml"
    path.parent.mkdir(parents=True)
    save(profile, path)
    return path


async def test_save_as_shows_the_new_name_on_the_review(tmp_path):
    from .fakes import profile_folder

    app = KwizardApp(str(saved_profile(tmp_path)), folders=profile_folder(tmp_path), gather=FakeFleet())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SaveProfileModal)
        await replace_text(pilot, "office-lab")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        summary = str(app.screen.query_one("#review-summary", Static).render())
        assert summary.startswith("office-lab:"), summary


# --- 6. Keys: a missing key file is named, the form refuses it, "no key" is said first ---


async def test_a_missing_key_file_is_not_called_unreachable(tmp_path):
    app = KwizardApp(folders=[], gather=FakeFleet(failures={"cp": "key file"}))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        await add_host(pilot, "cp", "10.210.0.10")
        await pilot.press("t")
        await settle(pilot)
        assert app.state.checks["cp"].summary == "✗ key file missing"
        details = str(app.screen.query_one("#host-details", Static).render())
        assert "Private key" in details and "ssh.identity_file" not in details, details


async def test_the_ssh_form_refuses_a_key_path_that_does_not_exist(tmp_path):
    app = KwizardApp(folders=[], gather=FakeFleet())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("tab", "tab")  # port, private key
        await type_text(pilot, "~/.ssh/id_nothere")
        assert "there is no file at" in error_of(pilot, "identity_file")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SSHSettingsModal)
        key = tmp_path / "id_test"
        key.write_text("not really a key\n")
        await replace_text(pilot, str(key))
        assert error_of(pilot, "identity_file") == ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen) and app.screen.ssh.identity_file == str(key)


async def test_no_key_at_all_is_said_before_the_hosts_answer(tmp_path, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    app = KwizardApp(folders=[], gather=FakeFleet(failures={"cp": "auth"}))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        await add_host(pilot, "cp", "10.210.0.10")
        await pilot.press("t")
        await settle(pilot)
        assert "No SSH key" in notes(app)
        assert "No SSH key is set" in str(app.screen.query_one("#host-details", Static).render())


# --- 7. A cancelled run exits 130, like headless ---


def run_screen_on_hold(monkeypatch) -> list[ScriptedLauncher]:
    made: list[ScriptedLauncher] = []

    def fake(profile, profile_path=None, **kwargs):
        launcher = ScriptedLauncher(profile, [up_to_images(profile) + [HOLD]])
        made.append(launcher)
        return RunScreen(launcher, clock=launcher.clock)

    monkeypatch.setattr("kwizard.screens.app.setup_run_screen", fake)
    return made


async def to_the_run(pilot) -> None:
    await pilot.pause()
    await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ReviewScreen)
    await pilot.press("ctrl+r")
    await pilot.pause(0.1)
    assert isinstance(pilot.app.screen, RunScreen)


async def test_quitting_a_running_run_exits_130(tmp_path, monkeypatch):
    launchers = run_screen_on_hold(monkeypatch)
    app = KwizardApp(str(SEED_PROFILE), folders=[], gather=FakeFleet())
    async with app.run_test(size=(100, 30)) as pilot:
        await to_the_run(pilot)
        await launchers[0].played.wait()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await pilot.pause(0.2)
    assert app.return_value == 130


async def test_cancelling_then_quitting_from_welcome_exits_130(tmp_path, monkeypatch):
    launchers = run_screen_on_hold(monkeypatch)
    app = KwizardApp(str(SEED_PROFILE), folders=[], gather=FakeFleet())
    async with app.run_test(size=(100, 30)) as pilot:
        await to_the_run(pilot)
        screen = app.screen
        await launchers[0].played.wait()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")  # cancel the run
        await wait_run(pilot, screen)
        await pilot.press("escape")  # close the run screen
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_value == 130
