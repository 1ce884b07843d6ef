"""Welcome, plugin and pod network steps; the command palette, themes and escape."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import Markdown, RadioSet

from kwizard.screens.app import KwizardApp
from kwizard.screens.steps.hosts import HostsScreen
from kwizard.screens.steps.plugin import PluginScreen
from kwizard.screens.steps.pod_network import PodNetworkScreen
from kwizard.screens.steps.review import ResetReviewScreen, ReviewScreen
from kwizard.screens.steps.welcome import WelcomeScreen

from .drive import replace_text, settle, value_of
from .fakes import FakeFleet, profile_folder
from .test_snapshots import saved_profile, three_hosts


async def test_welcome_lists_profiles_and_opens_one(tmp_path):
    saved_profile(tmp_path, three_hosts("home-lab"))
    app = KwizardApp(folders=profile_folder(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)
        assert app.state.draft.name == "home-lab"
        await pilot.press("escape")  # back to the welcome screen
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("r")  # reset: the reset plan for that profile
        await pilot.pause()
        assert isinstance(app.screen, ResetReviewScreen)


async def test_choosing_a_plugin_follows_its_default_pod_cidr_and_guidance(tmp_path):
    app = KwizardApp(str(saved_profile(tmp_path, three_hosts())), folders=profile_folder(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PluginScreen)
        for key, plugin, words in (("down", "calico", "Calico"), ("down", "weave", "no longer maintained")):
            await pilot.press(key, "enter")
            await pilot.pause()
            assert app.screen.query_one("#plugins", RadioSet).pressed_button.id == plugin
            assert words in app.screen.query_one("#guidance", Markdown).source
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PodNetworkScreen)
        assert value_of(pilot, "pod_cidr") == "10.32.0.0/12"  # Weave's default, since flannel's was untouched


async def test_a_chosen_pod_cidr_survives_a_plugin_change(tmp_path):
    app = KwizardApp(str(saved_profile(tmp_path, three_hosts(pod_cidr="10.50.0.0/16"))), folders=profile_folder(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n", "down", "enter", "ctrl+n")
        await pilot.pause()
        assert value_of(pilot, "pod_cidr") == "10.50.0.0/16"


async def test_pod_network_refuses_next_while_the_cidr_is_wrong(tmp_path):
    app = KwizardApp(str(saved_profile(tmp_path, three_hosts())), folders=profile_folder(tmp_path), gather=FakeFleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n", "ctrl+n")
        await pilot.pause()
        await replace_text(pilot, "10.96.0.0/16")  # inside the service CIDR
        assert "overlaps the service CIDR" in str(app.screen.query_one("#findings").render())
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PodNetworkScreen)
        await replace_text(pilot, "10.244.0.0/16")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        assert app.state.draft.cluster.pod_cidr == "10.244.0.0/16"


async def test_vpn_default_route_is_warned_about_and_a_real_address_offered(tmp_path):
    from .fakes import healthy

    async def vpn_fleet(profile, ask, sudo_password=None):
        return {h.name: healthy(h.name, h.address, tun=h.name == "kubemaster") for h in profile.hosts}, {}

    app = KwizardApp(str(saved_profile(tmp_path, three_hosts())), folders=profile_folder(tmp_path), gather=vpn_fleet)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("ctrl+n", "ctrl+n")
        await pilot.pause()
        note = str(app.screen.query_one("#advertise-note").render())
        assert "tun0" in note and "VPN" in note
        options = [str(prompt) for prompt, _ in app.screen.query_one("#advertise")._options]
        assert any("10.0.0.10 on eth0 (recommended)" in o for o in options)


async def test_command_palette_offers_the_screens_and_actions(tmp_path):
    app = KwizardApp(str(saved_profile(tmp_path, three_hosts())), folders=profile_folder(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Go to Network plugin", "Go to Pod network", "Go to Review", "Test connections", "Add host"} <= set(titles)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        for key in "go to review":
            await pilot.press(key if key != " " else "space")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)


async def test_light_and_dark_themes(tmp_path):
    app = KwizardApp(str(saved_profile(tmp_path, three_hosts())), folders=profile_folder(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        dark = app.current_theme.dark
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.current_theme.dark is not dark
        await pilot.press("ctrl+n")  # every screen still composes in the other theme
        await pilot.pause()
        assert isinstance(app.screen, PluginScreen)
