"""The Kubernetes version and the plugin's options on the Pod network step: checked as you type,
only those the plugin takes, dropped when the plugin changes, and saved and loaded back unchanged."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from kwizard.profile.model import CNI, CNIOptions, ClusterSpec
from kwizard.profile.store import load
from kwizard.screens.app import KwizardApp
from kwizard.screens.steps.cluster_options import OPTION_FIELDS, fitting_options, takes_option
from kwizard.screens.steps.pod_network import PodNetworkScreen
from kwizard.screens.steps.review import ReviewScreen

from .drive import error_of, replace_text, value_of
from .fakes import FakeFleet, profile_folder
from .session import save_profile
from .test_snapshots import saved_profile, three_hosts

TAKES = {
    CNI.FLANNEL: {"interface"},
    CNI.CALICO: {"interface", "mtu"},
    CNI.WEAVE: {"mtu", "encryption_password_env"},
}


@pytest.mark.parametrize("cni", list(CNI))
def test_the_model_decides_which_plugin_takes_which_option(cni):
    assert {f for f in OPTION_FIELDS if takes_option(cni, f)} == TAKES[cni]


def test_switching_plugin_drops_what_the_new_one_would_ignore():
    weave = CNIOptions(mtu=1400, encryption_password_env="WEAVE_PASSWORD", manifest_file="weave.yaml")
    options, dropped = fitting_options(weave, CNI.FLANNEL)
    assert options == CNIOptions(manifest_file="weave.yaml")
    assert dropped == ["MTU", "Encryption password from env var"]
    ClusterSpec(cni=CNI.FLANNEL, cni_options=options)  # valid for the new plugin


def with_cluster(profile, **changes):
    return profile.model_copy(update={"cluster": ClusterSpec.model_validate({**profile.cluster.model_dump(), **changes})})


async def open_pod_network(pilot) -> PodNetworkScreen:
    await pilot.press("ctrl+n", "ctrl+n")
    await pilot.pause()
    assert isinstance(pilot.app.screen, PodNetworkScreen)
    return pilot.app.screen


async def test_version_and_options_are_checked_as_you_type_and_kept(tmp_path):
    path = saved_profile(tmp_path, three_hosts(cni="calico", pod_cidr="10.48.0.0/16"))
    app = KwizardApp(str(path), folders=profile_folder(tmp_path), gather=FakeFleet())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pod_network(pilot)
        assert {i.id for i in screen.query_one("#cluster-options").query(Input)} == {"kubernetes_version", "interface", "mtu"}
        screen.query_one("#kubernetes_version", Input).focus()
        await replace_text(pilot, "1.15")
        assert "older than 1.30" in error_of(pilot, "kubernetes_version")
        await pilot.press("ctrl+n")  # refused while the version is wrong
        await pilot.pause()
        assert isinstance(app.screen, PodNetworkScreen)
        await replace_text(pilot, "v1.32.4")
        assert error_of(pilot, "kubernetes_version") == ""
        screen.query_one("#mtu", Input).focus()
        await replace_text(pilot, "99")
        assert "576" in error_of(pilot, "mtu")
        await replace_text(pilot, "1400")
        screen.query_one("#interface", Input).focus()
        await replace_text(pilot, "eth1")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        cluster = app.state.draft.cluster
        assert (cluster.kubernetes_version, cluster.cni_options.interface, cluster.cni_options.mtu) == ("1.32.4", "eth1", 1400)


async def test_weave_shows_no_interface_and_says_the_password_is_a_variable_name(tmp_path):
    path = saved_profile(tmp_path, three_hosts(cni="weave", pod_cidr="10.32.0.0/12"))
    app = KwizardApp(str(path), folders=profile_folder(tmp_path), gather=FakeFleet())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pod_network(pilot)
        inputs = {i.id for i in screen.query_one("#cluster-options").query(Input)}
        assert inputs == {"kubernetes_version", "mtu", "encryption_password_env"}
        hint = " ".join(str(s.render()) for s in screen.query("#cluster-options .note"))
        assert "NAME of an environment variable" in hint and "never the password" in hint
        screen.query_one("#encryption_password_env", Input).focus()
        await replace_text(pilot, "hunter 2")  # a password, not a name: refused
        assert "not an environment variable name" in error_of(pilot, "encryption_password_env")


async def test_answers_round_trip_through_a_saved_profile(tmp_path):
    weave = with_cluster(
        three_hosts(cni="weave", pod_cidr="10.32.0.0/12"),
        kubernetes_version="1.31",
        cni_options={"mtu": 1376, "encryption_password_env": "WEAVE_PASSWORD"},
    )
    path = saved_profile(tmp_path, weave)
    app = KwizardApp(str(path), folders=profile_folder(tmp_path), gather=FakeFleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pod_network(pilot)  # `kwizard --profile FILE` shows them
        assert value_of(pilot, "kubernetes_version") == "1.31"
        assert value_of(pilot, "mtu") == "1376"
        assert value_of(pilot, "encryption_password_env") == "WEAVE_PASSWORD"
        app.screen.query_one("#mtu", Input).focus()
        await replace_text(pilot, "1400")  # an answer changed in the wizard, then saved
        saved = await save_profile(pilot, "weave-copy")
    expected = weave.model_copy(update={"name": "weave-copy", "cluster": weave.cluster.model_copy(
        update={"cni_options": CNIOptions(mtu=1400, encryption_password_env="WEAVE_PASSWORD")})})
    assert load(saved) == expected
    app = KwizardApp(str(saved), folders=profile_folder(tmp_path), gather=FakeFleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pod_network(pilot)
        assert (value_of(pilot, "kubernetes_version"), value_of(pilot, "mtu")) == ("1.31", "1400")


async def test_switching_to_flannel_drops_weaves_options_and_the_draft_stays_valid(tmp_path):
    weave = with_cluster(three_hosts(cni="weave", pod_cidr="10.32.0.0/12"), cni_options={"mtu": 1376, "encryption_password_env": "WEAVE_PASSWORD"})
    path = saved_profile(tmp_path, weave)
    app = KwizardApp(str(path), folders=profile_folder(tmp_path), gather=FakeFleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n", "up", "up", "enter", "ctrl+n")  # Weave -> Flannel, on to the pod network
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PodNetworkScreen)
        assert {i.id for i in screen.query_one("#cluster-options").query(Input)} == {"kubernetes_version", "interface"}
        assert app.state.draft.cluster.cni is CNI.FLANNEL
        assert app.state.draft.cluster.cni_options == CNIOptions()
        ClusterSpec.model_validate(app.state.draft.cluster.model_dump())
