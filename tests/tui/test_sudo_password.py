"""The sudo password given at run time: a masked input, kept on the App for the session only,
handed to every Fleet the wizard opens, never written anywhere."""

from __future__ import annotations

from textual.widgets import Input, Static

from kwizard.screens.app import KwizardApp
from kwizard.screens.steps.hosts import HostsScreen
from kwizard.screens.run.launch import fleet_factory_for
from kwizard.screens.dialogs.ssh_form import SSHSettingsModal
from kwizard.screens.dialogs.sudo_password import SudoPasswordModal

from .drive import settle, type_text
from .fakes import FakeFleet, profile_folder
from .test_snapshots import saved_profile, three_hosts

PASSWORD = "s3cret-sudo-pw"


def app_with(tmp_path, fleet: FakeFleet) -> KwizardApp:
    return KwizardApp(str(saved_profile(tmp_path, three_hosts())), folders=profile_folder(tmp_path), gather=fleet)


async def give_password(pilot, key: str = "p") -> None:
    await pilot.press(key)
    await pilot.pause()
    modal = pilot.app.screen
    assert isinstance(modal, SudoPasswordModal)
    assert modal.query_one("#sudo-password", Input).password  # masked
    await type_text(pilot, PASSWORD)
    await pilot.press("enter")
    await pilot.pause()


async def test_a_sudo_refusal_hints_at_the_password_and_giving_it_fixes_the_test(tmp_path):
    fleet = FakeFleet(sudo_password=PASSWORD)
    app = app_with(tmp_path, fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        assert all(c.sudo_refused for c in app.state.checks.values())
        assert any("press p to give the sudo password" in str(n.message) for n in app._notifications)
        assert "p[/]: give the sudo password" in app.screen._sudo_hint(app.state.checks["kubemaster"])
        await give_password(pilot)
        assert isinstance(app.screen, HostsScreen)
        assert app.state.sudo_password == PASSWORD
        assert PASSWORD not in app.state.draft.model_dump_json()  # not in the draft, so never in a profile
        await pilot.press("t")
        await settle(pilot)
        assert fleet.passwords_given == [None, PASSWORD]
        assert not any(c.sudo_refused for c in app.state.checks.values())
        assert "works" in str(app.screen.query_one("#host-details", Static).render())


async def test_the_ssh_defaults_form_offers_the_password_too_while_sudo_is_on(tmp_path):
    app = app_with(tmp_path, FakeFleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, SSHSettingsModal)
        button = form.query_one("#sudo-password-button")
        assert button.display
        button.press()
        await pilot.pause()
        assert isinstance(app.screen, SudoPasswordModal)
        await type_text(pilot, PASSWORD)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form and app.state.sudo_password == PASSWORD
        form.query_one("#sudo").toggle()  # sudo off: nothing to give
        await pilot.pause()
        assert not button.display


async def test_escape_keeps_the_password_and_forget_drops_it(tmp_path):
    app = app_with(tmp_path, FakeFleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await give_password(pilot)
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.state.sudo_password == PASSWORD
        await pilot.press("p")
        await pilot.pause()
        app.screen.query_one("#forget").press()
        await pilot.pause()
        assert app.state.sudo_password is None


async def test_runs_open_their_fleet_with_the_sessions_password(tmp_path):
    app = app_with(tmp_path, FakeFleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await give_password(pilot)
        fleet = fleet_factory_for(app, app.state)(three_hosts())
        assert fleet.secrets == (PASSWORD,)  # and so the runner masks it everywhere


async def test_a_run_asks_first_when_the_last_test_found_sudo_wanting_a_password(tmp_path):
    app = app_with(tmp_path, FakeFleet(sudo_password=PASSWORD))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        asking = app.run_worker(app._ask_sudo_password_if_needed())  # what Run does before the run screen
        await pilot.pause()
        assert isinstance(app.screen, SudoPasswordModal)
        await type_text(pilot, PASSWORD)
        await pilot.press("enter")
        await asking.wait()
        assert app.state.sudo_password == PASSWORD
        asking = app.run_worker(app._ask_sudo_password_if_needed())  # known now: not asked again
        await asking.wait()
        assert isinstance(app.screen, HostsScreen)
