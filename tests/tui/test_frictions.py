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


async def test_review_shows_the_files_written_and_the_whole_highlighted_line(tmp_path):
    from textual.widgets import Tree

    from kwizard.screens.steps.review import ReviewScreen

    from .drive import screen_text
    from .test_snapshots import app_on, three_hosts

    app = app_on(tmp_path, three_hosts())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        tree = app.screen.query_one("#plan", Tree)
        init = next(node for node in tree.root.children if "kubeadm init" in node.data)
        tree.move_cursor(init)
        await pilot.pause()
        # The description runs past 80 columns in the tree; under it, it shows whole.
        assert init.data.split()[-1] in screen_text(app).split("─")[-1]

        async def down_to(text: str) -> None:
            for _ in range(40):
                await pilot.press("down")
                if text in str(tree.cursor_node.data):
                    return

        await pilot.press("right")  # open the step: the hosts it runs on
        await down_to("on kubemaster")
        await pilot.press("right")  # open the control plane's group: the files, then the commands
        await down_to("write ")
        assert "kubeadm" in tree.cursor_node.data
        await pilot.press("right")  # open the file
        await down_to("podSubnet")
        await pilot.pause()
        assert "podSubnet: 10.244.0.0/16" in screen_text(app), "the kubeadm config's content, as `kwizard plan` shows"


async def test_a_pod_cidr_too_small_for_the_nodes_offers_ctrl_g(tmp_path):
    from .test_snapshots import app_on, three_hosts

    app = app_on(tmp_path, three_hosts())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n", "ctrl+n")
        await pilot.pause()
        await replace_text(pilot, "10.244.0.0/23")  # room for two /24s; the cluster has three nodes
        findings = str(app.screen.query_one("#findings", Static).render())
        assert "room for 2 node(s)" in findings and "ctrl+g" in findings
        await pilot.press("ctrl+g")
        await pilot.pause()
        taken = app.screen.query_one("#pod_cidr").value
        assert taken != "10.244.0.0/23" and taken.endswith("/16")
        assert "room for" not in str(app.screen.query_one("#findings", Static).render())


async def test_the_plugin_step_says_which_is_chosen_in_words_and_its_advice_once(tmp_path):
    from textual.widgets import Markdown, RadioButton

    from kwizard.screens.steps.plugin import PluginScreen

    from .drive import screen_text
    from .test_snapshots import app_on, three_hosts

    app = app_on(tmp_path, three_hosts())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PluginScreen)
        labels = {str(b.id): str(b.label) for b in app.screen.query(RadioButton)}
        assert "chosen" in labels["flannel"] and "chosen" not in labels["calico"]
        text = screen_text(app)
        assert text.count("Not sure? Pick Flannel") == 1 and "Don't know which to pick" not in text, "the advice, said once"
        await pilot.press("down", "enter")  # Calico
        await pilot.pause()
        labels = {str(b.id): str(b.label) for b in app.screen.query(RadioButton)}
        assert "chosen" in labels["calico"] and "chosen" not in labels["flannel"]
        guidance = app.screen.query_one("#guidance", Markdown).source
        assert "cni_options" not in guidance and "“Stop and disable firewalld” on the Pod network step" in guidance


async def test_calico_takes_the_firewalld_consent_on_the_pod_network_step(tmp_path):
    from textual.widgets import Switch, Tree

    from .test_snapshots import app_on, three_hosts

    def plan_text(app) -> str:
        tree = app.screen.query_one("#plan", Tree)
        lines, todo = [], [tree.root]
        while todo:
            node = todo.pop()
            lines.append(str(node.data or ""))
            todo.extend(node.children)
        return "\n".join(lines)

    app = app_on(tmp_path, three_hosts(cni="calico", pod_cidr="192.168.0.0/16"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")
        await pilot.pause()
        assert "disable --now firewalld" not in plan_text(app), "without consent, firewalld stays"
        await pilot.press("escape")  # back to the Pod network step
        await pilot.pause()
        consent = app.screen.query_one("#disable_firewalld", Switch)
        assert consent.value is False
        consent.focus()
        await pilot.pause()
        await pilot.press("space")  # as a person turns a switch on
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert "disable --now firewalld" in plan_text(app), "the Review's plan stops firewalld now"
