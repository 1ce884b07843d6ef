"""`kwizard --profile FILE`: every screen shows the profile's answers."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, RadioSet, Select, Static, Switch

from kwizard.profile.model import Profile, Role
from kwizard.screens.app import KwizardApp
from kwizard.screens.steps.hosts import HostsScreen
from kwizard.screens.steps.plugin import PluginScreen
from kwizard.screens.steps.pod_network import TOGGLES, PodNetworkScreen
from kwizard.screens.steps.review import ReviewScreen

from .fakes import FakeFleet, profile_folder


async def assert_same_answers_on_every_screen(path: Path, profile: Profile) -> None:
    app = KwizardApp(str(path), folders=profile_folder(path.parent), gather=FakeFleet())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HostsScreen)
        table = screen.query_one("#hosts", DataTable)
        shown = [[str(c) for c in table.get_row_at(i)][:5] for i in range(table.row_count)]
        expected = [
            [h.name, h.address, str(h.port or profile.ssh.port), profile.user_for(h), "control plane" if h.role is Role.CONTROL_PLANE else "worker"]
            for h in profile.hosts
        ]
        assert shown == expected
        assert f"{profile.ssh.user}@:{profile.ssh.port}" in str(screen.query_one("#ssh-summary", Static).render())

        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PluginScreen)
        assert app.screen.query_one("#plugins", RadioSet).pressed_button.id == profile.cluster.cni.value

        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PodNetworkScreen)
        assert screen.query_one("#pod_cidr", Input).value == profile.cluster.pod_cidr
        assert screen.query_one("#service_cidr", Input).value == profile.cluster.service_cidr
        assert screen.query_one("#advertise", Select).value == profile.cluster.advertise_address
        for field in TOGGLES:
            expected_toggle = profile.untaint_control_plane if field == "schedule_on_control_plane" else getattr(profile.cluster, field)
            assert screen.query_one(f"#{field}", Switch).value == expected_toggle, field

        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        summary = str(app.screen.query_one("#review-summary", Static).render())
        assert profile.name in summary and profile.cluster.pod_cidr in summary
        # Walking through changed nothing.
        assert app.state.draft == profile
