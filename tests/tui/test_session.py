"""A whole new-cluster session by keys against hosts that answer from memory (the lab version is in
test_session_lab.py); then the saved profile re-opened with --profile shows the same answers."""

from __future__ import annotations

from kwizard.cli import main as cli
from kwizard.profile.store import load
from kwizard.screens.app import KwizardApp
from kwizard.screens.draft import validated

from .fakes import FakeFleet, profile_folder
from .replay import assert_same_answers_on_every_screen
from .session import add_hosts_fixing_a_typo, pick_calico, save_profile, see_clash_and_take_suggestion, run_connection_test

HOSTS = [("kubemaster", "10.0.0.10"), ("kubenode-1", "10.0.0.11"), ("kubenode-2", "10.0.0.12")]


async def test_new_cluster_session_by_keys(tmp_path):
    app = KwizardApp(folders=profile_folder(tmp_path), gather=FakeFleet(lan="192.168.122.0/24"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await add_hosts_fixing_a_typo(pilot, HOSTS)
        statuses = await run_connection_test(pilot)
        assert statuses == ["✓ Ubuntu 24.04.2 LTS"] * 3
        await pick_calico(pilot)
        suggested = await see_clash_and_take_suggestion(pilot, "kubemaster", "ens4", "192.168.122.0/24")
        path = await save_profile(pilot, "fake-lab")
        draft = validated(app.screen.draft)  # the review screen holds the answers until it is left

    saved = load(path)
    assert saved == draft
    assert saved.cluster.cni.value == "calico" and saved.cluster.pod_cidr == suggested
    assert [(h.name, h.address, h.role.value) for h in saved.hosts] == [
        ("kubemaster", "10.0.0.10", "control-plane"),
        ("kubenode-1", "10.0.0.11", "worker"),
        ("kubenode-2", "10.0.0.12", "worker"),
    ]
    assert cli.main(["validate", str(path)]) == 0
    await assert_same_answers_on_every_screen(path, saved)
