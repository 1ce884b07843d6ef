"""Pictures of the day-two screens at 80x24 and 120x40: the status, its upgrade and removal
questions, a control plane with no cluster, and the Welcome list with an example and a bad path.

The cluster answers from memory (day2_fakes), files have fixed times, paths are relative.
"""

from __future__ import annotations

import os

import pytest

from kwizard.screens.app import KwizardApp
from kwizard.screens.day2.status import ClusterStatusScreen
from kwizard.screens.dialogs.confirm import ConfirmModal

from .day2_fakes import FakeCluster, healthy_glance, no_cluster
from .drive import type_text
from .test_day2_screens import folders, saved_lab
from .test_snapshots import FIXED_MTIME, SIZES, saved_profile, three_hosts


async def _until(pilot, predicate) -> None:
    for _ in range(200):
        if predicate():
            break
        await pilot.pause(0.02)
    await pilot.pause()


def _status_of(tmp_path, *glances) -> KwizardApp:
    saved_lab(tmp_path)
    return KwizardApp(folders=folders(), cluster=FakeCluster(list(glances)))


async def _open_status(pilot) -> None:
    await pilot.press("s")
    await _until(pilot, lambda: isinstance(pilot.app.screen, ClusterStatusScreen) and pilot.app.screen.glance is not None)


@pytest.mark.parametrize("size", SIZES)
def test_cluster_status(snap_compare, tmp_path, size):
    app = _status_of(tmp_path, healthy_glance(three_hosts(), not_ready=("kubenode-2",)))
    assert snap_compare(app, terminal_size=size, run_before=_open_status)


@pytest.mark.parametrize("size", SIZES)
def test_cluster_status_without_a_cluster(snap_compare, tmp_path, size):
    app = _status_of(tmp_path, no_cluster())
    assert snap_compare(app, terminal_size=size, run_before=_open_status)


@pytest.mark.parametrize("size", SIZES)
def test_upgrade_question(snap_compare, tmp_path, size):
    async def ask(pilot) -> None:
        await _open_status(pilot)
        await pilot.press("u")
        await _until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal))

    app = _status_of(tmp_path, healthy_glance(three_hosts()))
    assert snap_compare(app, terminal_size=size, run_before=ask)


@pytest.mark.parametrize("size", SIZES)
def test_remove_node_question(snap_compare, tmp_path, size):
    async def ask(pilot) -> None:
        await _open_status(pilot)
        await pilot.press("down", "x")
        await _until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal))

    app = _status_of(tmp_path, healthy_glance(three_hosts()))
    assert snap_compare(app, terminal_size=size, run_before=ask)


@pytest.mark.parametrize("size", SIZES)
def test_welcome_with_an_example_and_a_bad_path(snap_compare, tmp_path, size):
    async def type_a_bad_path(pilot) -> None:
        await pilot.press("p")
        for _ in range(100):  # under load the focus moves a few frames later; a key before it is lost
            if type(pilot.app.focused).__name__ == "Input":
                break
            await pilot.pause(0.02)
        await type_text(pilot, "~/clusters/lab.yaml")
        await pilot.press("enter")
        await pilot.pause()
        pilot.app.screen.query_one("#profiles").focus()  # the highlighted row: the example and its note
        await pilot.pause()

    saved_lab(tmp_path)
    example = saved_profile(tmp_path, three_hosts("weave-encrypted", "weave", "10.32.0.0/12"), folder="profiles")
    os.utime(example, (FIXED_MTIME + 60, FIXED_MTIME + 60))  # newest: the highlighted row
    app = KwizardApp(folders=folders())
    assert snap_compare(app, terminal_size=size, run_before=type_a_bad_path)
