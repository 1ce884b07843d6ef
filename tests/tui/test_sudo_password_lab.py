"""The sudo password against real sshd hosts whose sudo asks for one (the lab's sudo-password scenario):
given in the wizard's masked input, it makes Test connections and a whole run work, and it is
written nowhere: not the profile, the run folder, or anything under the user's state and config."""

from __future__ import annotations

import functools

import pytest
from textual.widgets import Static

from kwizard.profile.store import save
from kwizard.screens.app import KwizardApp
from kwizard.screens.connections import gather_host_checks
from kwizard.screens.run.done import DoneScreen
from kwizard.screens.dialogs.sudo_password import SudoPasswordModal
from tests.lab.profile import SUDO_PASSWORD_ENV
from tests.lab.scenario import named

from .drive import type_text
from .fakes import profile_folder
from .session import run_connection_test
from .test_run_lab import all_bytes, review_then_run, wait_for

pytestmark = pytest.mark.lab

lab_gatherer = functools.partial(gather_host_checks, ssh_config=[])  # ~/.ssh/config is the user's


async def test_the_sudo_password_given_in_the_wizard_reaches_test_and_run_and_is_stored_nowhere(
    lab_factory, tmp_path, monkeypatch
):
    scenario = named("sudo-password")
    password = scenario.default.sudo_password
    lab = lab_factory(hosts=2, scenario=scenario)
    monkeypatch.delenv(SUDO_PASSWORD_ENV, raising=False)
    profile = lab.profile()
    profile = profile.model_copy(update={"ssh": profile.ssh.model_copy(update={"sudo_password_env": None})})
    path = save(profile, tmp_path / "sudo-lab.yaml")  # no variable: the wizard is the only way in
    app = KwizardApp(str(path), folders=profile_folder(tmp_path), gather=lab_gatherer)
    async with app.run_test(size=(120, 40)) as pilot:
        statuses = await run_connection_test(pilot)
        assert all("no sudo" in s for s in statuses), statuses
        assert all(c.sudo_refused for c in app.state.checks.values())

        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, SudoPasswordModal)
        await type_text(pilot, password)
        await pilot.press("enter")
        await pilot.pause()
        statuses = await run_connection_test(pilot)
        assert not any(c.sudo_refused for c in app.state.checks.values()), statuses
        assert "sudo      works" in str(app.screen.query_one("#host-details", Static).render())

        run = await review_then_run(pilot)  # the run's Fleet gets the same password
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen) or run.progress.status == "failed")
        assert isinstance(app.screen, DoneScreen), run.progress.failure
        run_dir = run.run_dir
        assert run_dir is not None and run_dir.is_dir()
        assert password.encode() not in all_bytes(run_dir)

    assert password.encode() not in path.read_bytes()
    for root in (tmp_path / "state", tmp_path / "config", tmp_path / "home", tmp_path / "saved"):
        if root.exists():
            assert password.encode() not in all_bytes(root), root
