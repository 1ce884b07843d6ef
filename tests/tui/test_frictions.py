"""The frictions of "the wizard as a person lives it": the words, the palette, the help."""

from __future__ import annotations

from textual.widgets import Static

from kwizard.screens.app import KwizardApp
from kwizard.screens.commands import KwizardCommands
from kwizard.screens.dialogs.help import HelpModal
from kwizard.screens.steps.hosts import HostsScreen
from kwizard.screens.steps.pod_network import PodNetworkScreen

from .drive import add_host, error_of, replace_text, settle
from .fakes import FakeFleet


async def palette_titles(screen) -> list[str]:
    provider = KwizardCommands(screen)
    return [str(hit.display) async for hit in provider.discover()]


async def test_the_palette_offers_what_the_screen_offers_by_key(tmp_path):
    app = KwizardApp(folders=[], gather=FakeFleet())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        titles = await palette_titles(app.screen)
        assert "New cluster (n)" in titles and "Open (o)" in titles
        await pilot.press("n")
        await add_host(pilot, "cp", "10.0.0.10")
        titles = await palette_titles(app.screen)
        assert "Test connections (t)" in titles and "SSH defaults (s)" in titles
        hits = [h async for h in KwizardCommands(app.screen).discover() if str(h.display) == "Test connections (t)"]
        hits[0].command()  # what choosing it in the palette does
        await settle(pilot)
        assert "cp" in app.state.checks


async def test_help_lists_the_screens_keys(tmp_path):
    app = KwizardApp(folders=[], gather=FakeFleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpModal)
        keys = str(app.screen.query_one("#help-keys", Static).render())
        assert "Test connections" in keys and "SSH defaults" in keys and "Back" in keys
        assert "Test connections" in str(app.screen.query_one("#help-what", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)


async def test_numbers_out_of_range_are_said_in_words(tmp_path):
    app = KwizardApp(folders=[], gather=FakeFleet())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("tab")
        await replace_text(pilot, "0")
        assert error_of(pilot, "port") == "too small: the least it can be is 1"


async def test_untested_pod_ranges_do_not_claim_no_clashes(tmp_path):
    app = KwizardApp(folders=[], gather=FakeFleet())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await add_host(pilot, "cp", "10.0.0.10")
        await pilot.press("ctrl+n", "ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PodNetworkScreen)
        findings = str(app.screen.query_one("#findings", Static).render())
        assert "no clashes found" not in findings and "Not checked against the hosts' networks" in findings
