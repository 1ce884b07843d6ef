"""The done screen's copy and new-token actions, and the reset confirmation."""

from __future__ import annotations

import stat
from pathlib import Path

from textual.widgets import Button, Checkbox

from kwizard.kube.joincmd import JoinCommand
from kwizard.plan.reset import ResetOptions
from kwizard.screens.run.done import DoneScreen, FinishSummary
from kwizard.screens.dialogs.reset_confirm import ResetConfirmModal

from .drive import type_text
from .run_fakes import CA_HASH, RUN_DIR, ScreenHarness, fixed_join, fixed_nodes, seed_profile

FRESH = JoinCommand("192.168.122.11:6443", "zyxwvu.fedcba9876543210", (CA_HASH,))


class FakeCluster:
    def __init__(self) -> None:
        self.asked = 0

    async def new_join_command(self):
        self.asked += 1
        return FRESH

    async def nodes(self):
        return fixed_nodes(ready=False)


def done_app(tmp_path, profile_path=None):
    summary = FinishSummary(seed_profile(), fixed_join(), tmp_path / "seed.conf", tuple(fixed_nodes()),
                            Path(RUN_DIR), profile_path)
    cluster = FakeCluster()
    screen = DoneScreen(summary, cluster, copies_dir=tmp_path / "copied")
    return ScreenHarness(screen), screen, cluster


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_copy_puts_the_full_command_on_the_clipboard_and_in_a_private_file(tmp_path):
    app, screen, _ = done_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == fixed_join().command()
        path = screen.copied["join"]
        assert path.read_text() == fixed_join().command() + "\n"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert str(path) in text(screen, "#join-note").replace("\n", "")


async def test_each_setup_line_is_copyable(tmp_path):
    app, screen, _ = done_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        screen.query_one("#copy-cp-setup", Button).press()
        await pilot.pause()
        assert app.clipboard.splitlines()[0] == "mkdir -p $HOME/.kube"
        screen.query_one("#copy-export", Button).press()
        await pilot.pause()
        assert app.clipboard == f"export KUBECONFIG={tmp_path / 'seed.conf'}"
        screen.query_one("#copy-kubeconfig-path", Button).press()
        await pilot.pause()
        assert app.clipboard == str(tmp_path / "seed.conf")


async def test_new_token_replaces_the_command_and_nodes_refresh(tmp_path):
    app, screen, cluster = done_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert cluster.asked == 1
        assert FRESH.command() in text(screen, "#join-command").replace("\n", " ")
        await pilot.press("c")
        assert app.clipboard == FRESH.command()
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "0 of 3 nodes Ready" in text(screen, "#nodes")


async def test_replay_says_where_the_profile_is_or_that_it_is_not_saved(tmp_path):
    app, screen, _ = done_app(tmp_path, profile_path=Path("saved/seed.yaml"))
    async with app.run_test(size=(100, 40)):
        assert "kwizard apply --yes saved/seed.yaml" in text(screen, "#replay")
    app, screen, _ = done_app(tmp_path)
    async with app.run_test(size=(100, 40)):
        assert "not saved" in text(screen, "#replay")


async def test_finish_and_back_to_the_log(tmp_path):
    app, screen, _ = done_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("l")
        await pilot.pause()
    assert app.outcomes == ["log"]


async def test_reset_needs_the_control_plane_name_typed():
    app = ScreenHarness(ResetConfirmModal(seed_profile()))
    async with app.run_test(size=(80, 24)) as pilot:
        reset = app.screen.query_one("#reset", Button)
        await pilot.press("enter")
        assert app.outcomes == [] and reset.disabled
        await type_text(pilot, "kubenode-1")
        assert reset.disabled
        await pilot.press(*["backspace"] * 10)
        await type_text(pilot, "kubemaster-1")
        assert not reset.disabled
        app.screen.query_one("#flush-iptables", Checkbox).value = True
        await pilot.press("enter")
        await pilot.pause()
    assert app.outcomes == [ResetOptions(flush_iptables=True)]


async def test_reset_can_be_called_off():
    app = ScreenHarness(ResetConfirmModal(seed_profile()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape")
        await pilot.pause()
    assert app.outcomes == [None]
