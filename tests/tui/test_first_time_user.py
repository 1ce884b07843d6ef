"""A first-time user, by keys only, at 80×24 and 120×40: the whole wizard, back from every step,
quitting at every step. Hosts are fakes (no lab). No exception, and nothing entered is lost."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, RadioSet, Static

from kwizard.profile.store import load
from kwizard.screens.app import KwizardApp
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.dialogs.help import HelpModal
from kwizard.screens.steps.hosts import HostsScreen
from kwizard.screens.steps.plugin import PluginScreen
from kwizard.screens.steps.pod_network import PodNetworkScreen
from kwizard.screens.steps.review import ReviewScreen
from kwizard.screens.steps.welcome import WelcomeScreen

from .drive import add_host, replace_text, settle, value_of
from .fakes import FakeFleet, profile_folder
from .session import CALICO_DEFAULT, pick_calico, save_profile, set_ssh_defaults

SIZES = [(80, 24), (120, 40)]
HOSTS = [("cp-1", "10.0.0.10"), ("node-1", "10.0.0.11")]
POD_CIDR = "10.48.0.0/16"
STEPS = ("welcome", "hosts", "plugin", "network", "review")


def new_app(tmp_path) -> KwizardApp:
    return KwizardApp(folders=profile_folder(tmp_path), gather=FakeFleet())


def host_rows(app) -> list[tuple[str, str, str]]:
    table = app.screen.query_one("#hosts", DataTable)
    return [tuple(str(c) for c in table.get_row_at(i)[:3]) for i in range(table.row_count)]


async def ask_help(pilot) -> None:
    """? (F1 in a text field) opens the help for the screen under it; esc closes it, the screen as it was."""
    below = pilot.app.screen
    typing = isinstance(pilot.app.focused, Input)  # ? is a character there: F1 is the key that always works
    await pilot.press("f1" if typing else "question_mark")
    await pilot.pause()
    assert isinstance(pilot.app.screen, HelpModal)
    assert str(pilot.app.screen.query_one("#help-keys", Static).render()).strip()
    await pilot.press("escape")
    await pilot.pause()
    assert pilot.app.screen is below


async def go(pilot, key: str, screen_type) -> None:
    await pilot.press(key)
    await pilot.pause()
    assert isinstance(pilot.app.screen, screen_type), pilot.app.screen


def assert_hosts_kept(app, key_path: str) -> None:
    assert host_rows(app) == [(n, a, "2222") for n, a in HOSTS]
    assert app.screen.ssh.user == "ubuntu" and app.screen.ssh.identity_file == key_path


async def walk_to(pilot, tmp_path, last: str) -> str:
    """From the welcome screen up to step `last`, entering everything on the way; returns the key path."""
    key = tmp_path / "id_ed25519"
    key.write_text("a private key\n")
    if last == "welcome":
        return str(key)
    await go(pilot, "n", HostsScreen)
    await set_ssh_defaults(pilot, "ubuntu", 2222, str(key), str(tmp_path / "known_hosts"))
    for name, address in HOSTS:
        await add_host(pilot, name, address)
    await pilot.press("t")
    await settle(pilot)
    assert_hosts_kept(pilot.app, str(key))
    if last == "hosts":
        return str(key)
    await pick_calico(pilot)
    if last == "plugin":
        return str(key)
    await go(pilot, "ctrl+n", PodNetworkScreen)
    await replace_text(pilot, POD_CIDR)
    if last == "network":
        return str(key)
    await go(pilot, "ctrl+n", ReviewScreen)
    return str(key)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_whole_wizard_forwards_and_back(tmp_path, size):
    app = new_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await ask_help(pilot)
        # Into Hosts and straight back: nothing entered yet, nothing asked.
        await go(pilot, "n", HostsScreen)
        await go(pilot, "escape", WelcomeScreen)

        key = await walk_to(pilot, tmp_path, "review")
        await ask_help(pilot)

        # Back from every step: each shows what was entered there.
        await go(pilot, "escape", PodNetworkScreen)
        assert value_of(pilot, "pod_cidr") == POD_CIDR
        await ask_help(pilot)
        await go(pilot, "escape", PluginScreen)
        assert app.screen.query_one("#plugins", RadioSet).pressed_button.id == "calico"
        await ask_help(pilot)
        await go(pilot, "escape", HostsScreen)
        assert_hosts_kept(app, key)
        await ask_help(pilot)
        # Back to the welcome screen would drop the new cluster: asked, and "no" keeps it.
        await go(pilot, "escape", ConfirmModal)
        await go(pilot, "n", HostsScreen)
        assert_hosts_kept(app, key)

        # And forwards again: everything still there.
        await go(pilot, "ctrl+n", PluginScreen)
        assert app.screen.query_one("#plugins", RadioSet).pressed_button.id == "calico"
        await go(pilot, "ctrl+n", PodNetworkScreen)
        assert value_of(pilot, "pod_cidr") == POD_CIDR
        await go(pilot, "ctrl+n", ReviewScreen)
        assert POD_CIDR in str(app.screen.query_one("#review-summary", Static).render())
        await pilot.press("escape")  # save_profile starts from the step before the review
        await pilot.pause()
        path = await save_profile(pilot, "first-cluster")
        await pilot.press("ctrl+q")  # saved: nothing to lose, no question
        await pilot.pause()
    assert app.return_value == 0  # run_test re-raises any exception the app hit
    saved = load(path)
    assert [(h.name, h.address) for h in saved.hosts] == HOSTS
    assert saved.ssh.user == "ubuntu" and saved.ssh.port == 2222 and saved.ssh.identity_file == key
    assert saved.cluster.cni.value == "calico" and saved.cluster.pod_cidr == POD_CIDR != CALICO_DEFAULT


# Quitting is checked at every step at the cramped size, where a modal has the least room; the
# forward-and-back walk above covers both sizes.
@pytest.mark.parametrize("size", [(80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("step", STEPS)
async def test_quitting_at_any_step_asks_when_answers_would_be_lost(tmp_path, size, step):
    app = new_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await walk_to(pilot, tmp_path, step)
        await pilot.press("ctrl+q")
        await pilot.pause()
        if step != "welcome":
            assert isinstance(app.screen, ConfirmModal), "unsaved answers: quitting asks first"
            assert "will be lost" in str(app.screen.query_one("Static").render())
            await pilot.press("n")  # stay: nothing lost
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmModal)
            await pilot.press("ctrl+q")
            await pilot.pause()
            await pilot.press("y")
            await pilot.pause()
    assert app.return_value == 0  # run_test re-raises any exception the app hit


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_quitting_inside_the_ssh_defaults_with_edits_asks(tmp_path, size):
    app = new_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await go(pilot, "n", HostsScreen)
        await pilot.press("s")
        await pilot.pause()
        await replace_text(pilot, "ubuntu")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "SSH defaults" in str(app.screen.query_one("Static").render())
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.query_one("#user").value == "ubuntu"


async def test_a_removed_host_comes_back_with_z(tmp_path):
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await go(pilot, "n", HostsScreen)
        for name, address in HOSTS:
            await add_host(pilot, name, address)
        await pilot.press("d")
        await pilot.pause()
        assert [r[0] for r in host_rows(app)] == ["cp-1"]
        await pilot.press("z")
        await pilot.pause()
        assert [r[0] for r in host_rows(app)] == ["cp-1", "node-1"]
