"""A wizard worker that raises: the App's one `on_worker_state_changed` error path shows the
message and keeps the app alive, and the wizard goes on from where it was."""

from __future__ import annotations

from kwizard.screens.app import KwizardApp
from kwizard.screens.steps.hosts import HostsScreen
from kwizard.screens.steps.plugin import PluginScreen

from .fakes import FakeFleet, profile_folder
from .test_snapshots import saved_profile, three_hosts

BOOM = "the plugin step could not be built"


async def test_a_raising_wizard_worker_shows_the_message_and_the_app_stays_up(tmp_path, monkeypatch):
    app = KwizardApp(str(saved_profile(tmp_path, three_hosts())), folders=profile_folder(tmp_path), gather=FakeFleet())
    real = app._step_screen
    raised: list[str] = []

    def breaks_once(step: str):
        if step == "plugin" and not raised:
            raised.append(step)
            raise RuntimeError(BOOM)
        return real(step)

    monkeypatch.setattr(app, "_step_screen", breaks_once)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)
        await pilot.press("ctrl+n")  # Next: the wizard loop's worker raises building the next screen
        for _ in range(20):
            await pilot.pause(0.05)
        assert raised == ["plugin"]
        assert app.is_running and app.return_code is None, "the app is still running"
        assert any(BOOM in str(n.message) for n in app._notifications)
        toasts = [str(t.render()) for t in app.screen.query("Toast")]
        assert any(BOOM in text for text in toasts), f"the message is on the screen: {toasts}"
        assert isinstance(app.screen, PluginScreen), "the wizard went on from the step it was on"
        assert app.state.draft.name == "home-lab", "the draft is kept"
        await pilot.press("ctrl+n")  # and it still works
        await pilot.pause()
        assert app.screen.STEP == "network"
