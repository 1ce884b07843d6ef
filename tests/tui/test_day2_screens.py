"""Day two in the wizard, as a person uses it: a saved profile's cluster status, its upgrade, removing
and adding a worker; and the Welcome screen's examples, file path, Reset placement and resume question.

The cluster answers from memory (day2_fakes.FakeCluster: the engine's own status records, upgrade
offer and plans; no host contacted).
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.command import CommandPalette
from textual.widgets import Button, DataTable, Static, Tree

from kwizard.profile.store import load
from kwizard.run.rundir import RunDir
from kwizard.screens.app import KwizardApp
from kwizard.screens.day2.status import ClusterStatusScreen
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.run.screen import RunScreen
from kwizard.screens.steps.hosts import HostsScreen
from kwizard.screens.steps.review import ReviewScreen
from kwizard.screens.steps.welcome import ProfileFolder, WelcomeScreen

from .day2_fakes import FakeCluster, healthy_glance, no_cluster, unreachable
from .drive import add_host, settle, type_text
from .fakes import FakeFleet
from .test_snapshots import FIXED_MTIME, saved_profile, three_hosts

COMMENT = "# my lab, keep this comment\n"


def folders() -> list[ProfileFolder]:
    return [ProfileFolder(Path("saved"), "saved"), ProfileFolder(Path("profiles"), "./profiles", examples=True)]


def saved_lab(tmp_path: Path) -> Path:
    path = saved_profile(tmp_path, three_hosts())
    path.write_text(COMMENT + path.read_text())
    os.utime(path, (FIXED_MTIME, FIXED_MTIME))
    return path


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def shown(screen) -> str:
    """Every Static and table cell on the screen, as one text."""
    parts = [str(s.render()) for s in screen.query(Static)]
    for table in screen.query(DataTable):
        parts += [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
    for tree in screen.query(Tree):
        nodes = [tree.root]
        while nodes:
            node = nodes.pop()
            parts.append(str(node.label))
            nodes += node.children
    return "\n".join(parts)


def toasts(app) -> str:
    """The notifications on screen (run_test(notifications=True) shows them)."""
    return "\n".join(str(t.render()) for t in app.screen.query("Toast"))


async def wait_for(pilot, predicate, what: str) -> None:
    for _ in range(200):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never saw {what}; the screen is {type(pilot.app.screen).__name__}: {shown(pilot.app.screen)[-600:]}")


async def open_status(pilot) -> ClusterStatusScreen:
    await pilot.press("s")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ClusterStatusScreen), "the status screen")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.glance is not None, "the control plane's answer")
    await pilot.pause()
    return screen


async def test_status_shows_nodes_versions_readiness_plugin_and_certificates(tmp_path):
    saved_lab(tmp_path)
    cluster = FakeCluster([healthy_glance(three_hosts(), not_ready=("kubenode-2",))])
    app = KwizardApp(folders=folders(), cluster=cluster)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_status(pilot)
        text = shown(screen)
        assert "API server v1.33.2 on kubemaster; 2/3 node(s) Ready; network plugin flannel: 3 Running" in text
        assert "kubenode-2 NotReady <none> v1.33.2 10.0.0.12" in text
        assert "kubemaster Ready control-plane v1.33.2 10.0.0.10" in text
        assert "certificates: the first expires 2026-10-28 (apiserver, 300 days)" in text
        assert "CAs: the first expires 2035-11-10 (ca)" in text
        assert "upgrade to 1.34, one minor release up" in text
        assert str(screen.query_one("#upgrade", Button).label) == "Upgrade to 1.34"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen), "the welcome screen again")


async def test_no_cluster_yet_and_an_unreachable_control_plane_are_said_and_offer_nothing(tmp_path):
    saved_lab(tmp_path)
    cluster = FakeCluster([no_cluster(), unreachable(), healthy_glance(three_hosts())])
    app = KwizardApp(folders=folders(), cluster=cluster)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_status(pilot)
        summary = text_of(screen, "#status-summary")
        assert summary.startswith("no cluster on kubemaster: /etc/kubernetes/admin.conf is not there")
        assert "run it to set the cluster up" in summary
        assert all(screen.query_one(f"#{b}", Button).disabled for b in ("upgrade", "remove", "add_worker"))
        await pilot.press("u", "x")  # nothing to upgrade or remove: no question asked
        await pilot.pause()
        assert app.screen is screen and cluster.started == []

        await pilot.press("f5")
        await wait_for(pilot, lambda: "cannot reach" in text_of(screen, "#status-summary"), "the unreachable host")
        assert "Connection refused" in text_of(screen, "#status-summary")
        assert "Check the host is up and answers SSH, then press F5." in text_of(screen, "#status-summary")
        await pilot.press("f5")
        await wait_for(pilot, lambda: "3/3 node(s) Ready" in text_of(screen, "#status-summary"), "the cluster")
        assert not screen.query_one("#upgrade", Button).disabled


async def test_the_offer_follows_the_skew_rules_one_minor_at_a_time(tmp_path):
    saved_lab(tmp_path)
    behind = healthy_glance(three_hosts(), "v1.34.1", worker_version="v1.33.2")  # an upgrade stopped after the control plane
    too_old = healthy_glance(three_hosts(), "v1.34.1", worker_version="v1.32.5")  # workers two minors behind
    cluster = FakeCluster([behind, too_old])
    app = KwizardApp(folders=folders(), cluster=cluster)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_status(pilot)
        assert "finish the upgrade to 1.34 (some nodes still run an older kubelet)" in text_of(screen, "#status-upgrade")
        await pilot.press("f5")
        await wait_for(pilot, lambda: "not possible yet" in text_of(screen, "#status-upgrade"), "the refusal")
        refusal = text_of(screen, "#status-upgrade")
        assert refusal.startswith("Upgrade to 1.34 is not possible yet: kubenode-1: kubelet v1.32.5 is more than "
                                  "one minor behind v1.34; upgrade it to 1.33 first")
        assert screen.query_one("#upgrade", Button).disabled
        await pilot.press("u")
        await pilot.pause()
        assert app.screen is screen and cluster.started == []


async def test_upgrade_asks_what_will_happen_then_runs_on_the_run_screen_and_updates_the_profile(tmp_path):
    path = saved_lab(tmp_path)
    cluster = FakeCluster([healthy_glance(three_hosts()), healthy_glance(three_hosts(), "v1.34.1")], fail_at="w1-drain")
    app = KwizardApp(folders=folders(), cluster=cluster)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_status(pilot)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        question = shown(app.screen)
        assert "Upgrade home-lab from v1.33.2 to 1.34?" in question
        assert "The control plane kubemaster" in question
        assert "each worker (kubenode-1, kubenode-2), one at a time: drained" in question
        assert "kubernetes_version becomes 1.34" in question
        await pilot.press("n")  # not now: nothing starts
        await wait_for(pilot, lambda: app.screen is screen, "the status screen")
        assert cluster.started == []

        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        run = app.screen
        assert cluster.started == [("upgrade", "1.34")]
        await wait_for(pilot, lambda: run.progress.status == "failed", "the failure")
        await pilot.pause()
        assert "Drain kubenode-1" in text_of(run, "#failure-text")
        await pilot.press("r")  # retry: the same run folder, the same launcher
        await wait_for(pilot, lambda: run.progress.status == "succeeded", "the retried run to finish")
        assert "The upgrade run finished" in shown(run)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ClusterStatusScreen) and app.screen.glance is not None,
                       "the status, asked again")
        assert "API server v1.34.1" in text_of(app.screen, "#status-summary")
    assert load(path).cluster.kubernetes_version == "1.34" and path.read_text().startswith(COMMENT)


async def test_removing_a_worker_names_it_then_drops_it_from_the_profile_comments_kept(tmp_path):
    path = saved_lab(tmp_path)
    cluster = FakeCluster([healthy_glance(three_hosts())])
    app = KwizardApp(folders=folders(), cluster=cluster)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await open_status(pilot)
        await pilot.press("x")  # the control plane is highlighted first: refused, with where to go instead
        await pilot.pause()
        assert app.screen is screen and cluster.started == []
        assert "kubemaster is the control plane" in toasts(app)
        await pilot.press("down", "down", "x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        question = shown(app.screen)
        assert "Remove kubenode-2 from the cluster?" in question
        assert "drains kubenode-2" in question and "kubeadm reset -f" in question and "saved/home-lab.yaml" in question
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        run = app.screen
        await wait_for(pilot, lambda: run.progress.status == "succeeded", "the removal to finish")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ClusterStatusScreen), "the status again")
        assert [h.name for h in app.state.draft.hosts] == ["kubemaster", "kubenode-1"]
    assert cluster.started == [("remove-node", "kubenode-2")]
    text = path.read_text()
    assert "kubenode-2" not in text and "kubenode-1" in text and text.startswith(COMMENT)


async def test_add_worker_opens_the_hosts_step_and_the_review_joins_the_new_host(tmp_path):
    path = saved_lab(tmp_path)
    key = tmp_path / "home" / ".ssh" / "id_ed25519"
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text("a private key\n")
    cluster = FakeCluster([healthy_glance(three_hosts())])
    app = KwizardApp(folders=folders(), cluster=cluster, gather=FakeFleet())
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await open_status(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, HostsScreen), "the Hosts step")
        assert "only the new worker is prepared and joined" in toasts(app)
        await add_host(pilot, "kubenode-3", "10.0.0.13")
        await pilot.press("t")
        await settle(pilot)
        app.screen.action_leave("review")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen), "the review")
        await pilot.pause()
        review = shown(app.screen)
        assert "home-lab: 4 host(s)" in review and "kubenode-3" in review
    assert "kubenode-3" not in path.read_text()  # nothing saved behind the user's back


# --- the Welcome screen (issue 15) ---


async def test_examples_are_tagged_and_offer_no_status_reset_or_resume(tmp_path):
    saved_lab(tmp_path)
    saved_profile(tmp_path, three_hosts("seed-example"), folder="profiles")
    os.utime(tmp_path / "profiles" / "seed-example.yaml", (FIXED_MTIME + 60, FIXED_MTIME + 60))  # newest: listed first
    app = KwizardApp(folders=folders(), cluster=FakeCluster([healthy_glance(three_hosts())]))
    async with app.run_test(size=(80, 24)) as pilot:
        welcome = app.screen
        table = welcome.query_one("#profiles", DataTable)
        assert str(table.get_row_at(0)[0]) == "seed-example example"
        assert str(table.get_row_at(1)[0]) == "home-lab"
        note = text_of(welcome, "#profile-note")
        assert "is an example (someone else's addresses)" in note and "Status, resume and reset are off" in note
        assert welcome.query_one("#reset", Button).disabled and welcome.query_one("#status", Button).disabled
        await pilot.press("s", "r", "u")
        await pilot.pause()
        assert app.screen is welcome
        await pilot.press("down")  # the user's own profile: everything offered again
        await pilot.pause()
        assert not welcome.query_one("#reset", Button).disabled and not welcome.query_one("#status", Button).disabled
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ClusterStatusScreen), "the status screen")


async def test_reset_sits_apart_from_the_primary_actions_and_the_list_fits_80_columns(tmp_path):
    saved_lab(tmp_path)
    saved_profile(tmp_path, three_hosts("weave-encrypted-lab", "weave", "10.32.0.0/12"), folder="profiles")
    app = KwizardApp(folders=folders())
    async with app.run_test(size=(80, 24)):
        welcome = app.screen
        new, reset, table = (welcome.query_one(s) for s in ("#new", "#reset", "#profiles"))
        assert reset.region.y > table.region.bottom > new.region.y  # the list between them
        assert table.virtual_size.width <= table.scrollable_content_region.width  # no column cut off
        assert welcome.query_one("#open-path").region.y < reset.region.y


async def test_a_profile_anywhere_opens_from_its_path_and_a_bad_one_is_said_beside_the_input(tmp_path):
    elsewhere = saved_profile(tmp_path, three_hosts("far-away"), folder="clusters")
    (tmp_path / "clusters" / "bad.yaml").write_text("name: Bad Name\nhosts: []\n")
    app = KwizardApp(folders=folders())
    async with app.run_test(size=(80, 24)) as pilot:
        welcome = app.screen
        await pilot.press("p")
        await type_text(pilot, "clusters/nothing.yaml")
        await pilot.press("enter")
        await pilot.pause()
        assert "clusters/nothing.yaml" in text_of(welcome, "#open-path-error")
        assert "no such file; check the path" in text_of(welcome, "#open-path-error")
        assert app.screen is welcome
        await pilot.press("ctrl+u")
        await type_text(pilot, "clusters/bad.yaml")
        await pilot.press("enter")
        await pilot.pause()
        assert "clusters/bad.yaml" in text_of(welcome, "#open-path-error") and app.screen is welcome
        await pilot.press("ctrl+u")
        await type_text(pilot, "clusters/far-away.yaml")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostsScreen), "the opened profile")
        assert app.state.draft.name == "far-away" and app.state.draft_path.resolve() == elsewhere.resolve()


async def test_resume_asks_before_it_changes_hosts_and_an_unfinished_upgrade_goes_to_the_status(tmp_path):
    saved_lab(tmp_path)
    stopped = RunDir.create("setup", "home-lab")
    state = stopped.load_state()
    state.status, state.failed_step = "failed", "join"
    stopped.save_state(state)
    cluster = FakeCluster([healthy_glance(three_hosts(), "v1.34.1", worker_version="v1.33.2")])
    app = KwizardApp(folders=folders(), cluster=cluster)
    async with app.run_test(size=(80, 24)) as pilot:
        welcome = app.screen
        assert "u: resume its unfinished setup run (stopped at join)" in text_of(welcome, "#profile-note")
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        assert "Resume home-lab's setup run, stopped at join?" in shown(app.screen)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is welcome, "the welcome screen, nothing started")

        upgrade = RunDir.create("upgrade", "home-lab")
        state = upgrade.load_state()
        state.status, state.failed_step = "failed", "w1-drain"
        upgrade.save_state(state)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        assert "upgrade stopped at w1-drain" in shown(app.screen)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ClusterStatusScreen) and app.screen.glance is not None,
                       "the status screen")
        assert "finish the upgrade to 1.34" in text_of(app.screen, "#status-upgrade")


async def test_the_palette_offers_status_on_welcome_and_the_status_screens_actions(tmp_path):
    saved_lab(tmp_path)
    app = KwizardApp(folders=folders(), cluster=FakeCluster([healthy_glance(three_hosts())]))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await type_text(pilot, "status")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ClusterStatusScreen) and app.screen.glance is not None,
                       "the status screen")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "upgrade")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "the upgrade question")


async def test_a_sudo_password_asked_on_the_status_screen_then_asked_again(tmp_path):
    from kwizard.screens.dialogs.sudo_password import SudoPasswordModal
    from kwizard.service import ClusterGlance

    saved_lab(tmp_path)
    needs_password = ClusterGlance("kubemaster", unreachable=True,
                                   problem="sudo on kubemaster refused: a password is required")
    cluster = FakeCluster([needs_password, healthy_glance(three_hosts())])
    app = KwizardApp(folders=folders(), cluster=cluster)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_status(pilot)
        assert "Press p to give the sudo password" in shown(screen)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, SudoPasswordModal), "the sudo password question")
        await type_text(pilot, "s3cret-pw")
        await pilot.press("enter")
        await wait_for(pilot, lambda: cluster.asked == 2 and "kubenode-1" in shown(screen), "the nodes, asked again")
