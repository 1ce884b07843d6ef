"""Screenshots of the run screen (mid-run, a failure) and the done screen, at 80×24 and 120×40.

Every run here is scripted (tests/tui/run_fakes.py) with a clock that moves
only when the script says, so the pictures are the same on every machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kwizard.run.events import HostLine
from kwizard.screens.run.done import DoneScreen, FinishSummary
from kwizard.screens.run.screen import RunScreen

from .run_fakes import (
    HOLD,
    RUN_DIR,
    ScreenHarness,
    ScriptedLauncher,
    failing_join,
    fixed_join,
    fixed_nodes,
    seed_profile,
    up_to_images,
)

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


class StillCluster:
    async def new_join_command(self):
        return fixed_join()

    async def nodes(self):
        return fixed_nodes()


def run_app(script) -> ScreenHarness:
    profile = seed_profile()
    launcher = ScriptedLauncher(profile, [script])
    return ScreenHarness(RunScreen(launcher, clock=launcher.clock))


async def settle_run(pilot) -> None:
    """Every scripted event played and shown, whatever the machine's load."""
    screen = pilot.app.first
    await screen.launcher.played.wait()
    if screen.launcher.scripts[0][-1] != HOLD:
        await pilot.app.workers.wait_for_complete([w for w in screen.workers if w.group == "run"])
    screen.query_one("LogArea").flush()
    await pilot.pause()
    # Each Log measures its new lines' width in a thread worker; the scrollbars wait for it.
    measuring = [w for w in pilot.app.workers if w.group != "run"]
    if measuring:  # an empty list means "every worker" to wait_for_complete, the held run too
        await pilot.app.workers.wait_for_complete(measuring)
    await pilot.pause()
    await pilot.pause()
    # The step column scrolls to the running step after its layout; once everything is laid out,
    # once more, so the picture does not depend on how loaded the machine was.
    screen.show_running_step()
    await pilot.pause()
    await pilot.pause()


async def settle_failed_run(pilot) -> None:
    """As settle_run, then the failure panel shown: it appears after the run's last event, which
    under a loaded machine can be some frames later (the picture was once taken before it)."""
    await settle_run(pilot)
    screen = pilot.app.first
    for _ in range(100):
        panels = screen.query("FailurePanel")
        if panels and all(panel.display and panel.region.height > 0 for panel in panels):
            break
        await pilot.pause(0.05)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_run_screen_mid_run(snap_compare, size):
    profile = seed_profile()
    assert snap_compare(run_app(up_to_images(profile) + [HOLD]), terminal_size=size, run_before=settle_run)


@pytest.mark.parametrize("size", SIZES)
def test_run_screen_failure_panel(snap_compare, size):
    profile = seed_profile()
    assert snap_compare(run_app(failing_join(profile)), terminal_size=size, run_before=settle_failed_run)


@pytest.mark.parametrize("size", SIZES)
def test_done_screen(snap_compare, size):
    summary = FinishSummary(
        seed_profile(),
        fixed_join(),
        Path("config/kwizard/kubeconfigs/seed-flannel.conf"),
        tuple(fixed_nodes()),
        Path(RUN_DIR),
        Path("saved/seed-flannel.yaml"),
    )
    app = ScreenHarness(DoneScreen(summary, StillCluster(), copies_dir=Path("copied")))
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_run_screen_wrapped_log(snap_compare, size):
    """`w`: long lines (a curl URL, a join command) wrap to the pane instead of running off it."""
    profile = seed_profile()
    cp = profile.hosts[0].name
    long_lines = [
        HostLine("images", cp, "curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.33/deb/Release.key | "
                 "gpg --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg"),
        HostLine("images", cp, "[config/images] Pulled registry.k8s.io/coredns/coredns:v1.12.0 "
                 "(sha256:" + "4f" * 32 + ")"),
    ]

    async def wrapped(pilot):
        await settle_run(pilot)
        await pilot.press("w")
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(run_app(up_to_images(profile) + long_lines + [HOLD]), terminal_size=size, run_before=wrapped)
