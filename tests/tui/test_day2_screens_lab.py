"""The status screen and a node's removal against the lab: real sshd hosts, the simulated cluster.

One two-host cluster set up headless, then what a person does in the wizard: the status of the saved
profile, and removing the worker, which the engine drops from the profile file (comments kept).
"""

from __future__ import annotations

import pytest

from kwizard import service
from kwizard.profile.store import load
from kwizard.screens.app import KwizardApp
from kwizard.screens.day2.status import ClusterStatusScreen
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.run.screen import RunScreen
from kwizard.screens.steps.welcome import WelcomeScreen

from .fakes import profile_folder
from .test_run_lab import wait_for

pytestmark = pytest.mark.lab

COMMENT = "# the lab, written by a person: keep this\n"


async def test_status_then_remove_the_worker_from_the_wizard(lab_factory, tmp_path):
    lab = lab_factory(hosts=2)
    path = lab.write_profile(tmp_path / "saved" / "cluster.yaml")  # listed on the welcome screen
    path.write_text(COMMENT + path.read_text())
    profile = load(path)
    cp, worker = (h.name for h in lab.hosts)
    async with service.open_fleet(profile) as fleet:
        setup = await service.run_setup(service.RunRequest(profile, path), fleet)
    assert setup.ok, setup

    app = KwizardApp(folders=profile_folder(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen), 10)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ClusterStatusScreen) and app.screen.glance is not None, 60)
        status = app.screen
        summary = str(status.query_one("#status-summary").render())
        assert f"on {cp}; 2/2 node(s) Ready; network plugin flannel" in summary, summary
        assert "certificates: the first expires" in str(status.query_one("#status-details").render())
        assert "upgrade to 1.34" in str(status.query_one("#status-upgrade").render())

        await pilot.press("down", "x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), 10)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), 10)
        run = app.screen
        await wait_for(pilot, lambda: run.progress.status in ("succeeded", "failed"), 120)
        assert run.progress.status == "succeeded", run.progress.failure
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ClusterStatusScreen) and app.screen.glance is not None, 60)
        assert "1/1 node(s) Ready" in str(app.screen.query_one("#status-summary").render())
    text = path.read_text()
    assert worker not in text and text.startswith(COMMENT)
