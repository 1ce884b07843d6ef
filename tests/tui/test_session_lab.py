"""The must-show session against real SSH hosts: the lab's seed-lan scenario puts every host on
192.168.122.0/24 (interface ens4), which Calico's default pod CIDR 192.168.0.0/16 covers."""

from __future__ import annotations

import functools

import pytest

from kwizard.cli import main as cli
from kwizard.profile.store import load
from kwizard.screens.app import KwizardApp
from kwizard.screens.connections import gather_host_checks
from kwizard.screens.draft import validated
from tests.lab.scenario import named

from .fakes import profile_folder
from .replay import assert_same_answers_on_every_screen
from .session import (
    add_hosts_fixing_a_typo,
    pick_calico,
    run_connection_test,
    save_profile,
    see_clash_and_take_suggestion,
    set_ssh_defaults,
)

pytestmark = pytest.mark.lab

# ~/.ssh/config is the user's: the lab session reads none.
lab_gatherer = functools.partial(gather_host_checks, ssh_config=[])


async def test_new_cluster_session_against_the_lab(lab_factory, tmp_path):
    lab = lab_factory(hosts=3, scenario=named("seed-lan"))
    hosts = [(h.name, h.address) for h in lab.hosts]
    first = lab.hosts[0]
    app = KwizardApp(folders=profile_folder(tmp_path), gather=lab_gatherer)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await add_hosts_fixing_a_typo(pilot, hosts)
        await set_ssh_defaults(pilot, first.user, first.port, str(lab.client_key), str(lab.known_hosts))
        statuses = await run_connection_test(pilot)
        assert all(not s.startswith("✗") for s in statuses), statuses
        await pick_calico(pilot)
        await see_clash_and_take_suggestion(pilot, hosts[0][0], "ens4", "192.168.122.0/24")
        path = await save_profile(pilot, "lab-session")
        draft = validated(app.screen.draft)

    saved = load(path)
    assert saved == draft
    assert saved.cluster.cni.value == "calico"
    assert cli.main(["validate", str(path)]) == 0
    await assert_same_answers_on_every_screen(path, saved)


async def test_a_host_down_says_why_and_the_others_answer(lab_factory, tmp_path):
    lab = lab_factory(hosts=3, scenario=named("ssh-down"))
    profile = lab.profile()
    saved = lab.write_profile(tmp_path / "down.yaml")
    app = KwizardApp(str(saved), folders=profile_folder(tmp_path), gather=lab_gatherer)
    async with app.run_test(size=(120, 40)) as pilot:
        statuses = await run_connection_test(pilot)
    down = profile.hosts[1].name
    by_host = dict(zip([h.name for h in profile.hosts], statuses))
    assert by_host[down] in ("✗ refused", "✗ timeout", "✗ unreachable"), by_host
    assert all(not s.startswith("✗") for name, s in by_host.items() if name != down), by_host
    assert set(app.state.checks) == set(by_host)
    assert app.state.checks[down].problem  # the reason and the fix, shown under the table
