"""An IPv6 pod and service CIDR on the Pod network step (with Calico): the profile refuses them,
so the screen says so under each field in the model's own words, does not claim "no clashes",
and Next stays on the step. `kwizard validate` refuses the same value with the same sentence."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout

from pydantic import ValidationError
from textual.widgets import Static

from kwizard.cli.main import main
from kwizard.profile.model import ClusterSpec, problems_from_error
from kwizard.profile.store import save
from kwizard.screens.app import KwizardApp
from kwizard.screens.steps.plugin import PluginScreen
from kwizard.screens.steps.pod_network import PodNetworkScreen

from .drive import error_of, replace_text, value_of
from .fakes import FakeFleet, profile_folder
from .test_snapshots import saved_profile, three_hosts

POD, SERVICE = "fd00::/48", "fd01::/108"


def model_message(**cluster: str) -> str:
    """What kwizard.profile.model's ClusterSpec says about these values (one field at a time)."""
    try:
        ClusterSpec.model_validate({"cni": "calico", **cluster})
    except ValidationError as exc:
        (_, message), = problems_from_error(exc)
        return message
    raise AssertionError(f"the model took {cluster}")


async def test_ipv6_cidrs_show_the_models_message_and_next_waits(tmp_path):
    app = KwizardApp(str(saved_profile(tmp_path, three_hosts())), folders=profile_folder(tmp_path), gather=FakeFleet())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PluginScreen)
        await pilot.press("down", "enter")  # Calico
        await pilot.pause()
        assert app.screen.query_one("#plugins").pressed_button.id == "calico"
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PodNetworkScreen)
        await replace_text(pilot, POD)  # the pod CIDR input has the focus
        await pilot.press("tab")
        await replace_text(pilot, SERVICE)
        assert (value_of(pilot, "pod_cidr"), value_of(pilot, "service_cidr")) == (POD, SERVICE)

        for field, value in (("pod_cidr", POD), ("service_cidr", SERVICE)):
            expected = model_message(**{field: value})
            assert error_of(pilot, field) == expected, "the model's own words, under the field"
            shown = screen.query_one(f"#{field}-error", Static)
            assert shown.display and shown.region.height > 0, "visible on the screen"
            assert shown.region.y > screen.query_one(f"#{field}").region.y, "under its field"
            assert screen.query_one(f"#{field}").has_class("-invalid")
        assert "no clashes found" not in str(screen.query_one("#findings", Static).render())

        before = app.state.draft.cluster
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen, "Next does not advance"
        assert any(model_message(pod_cidr=POD) in str(n.message) for n in app._notifications)
        assert app.state.draft.cluster == before, "nothing refused reached the draft"

        await replace_text(pilot, "10.96.0.0/12")  # the service CIDR input still has the focus
        await pilot.press("shift+tab")
        await replace_text(pilot, "10.244.0.0/16")
        assert not screen.query_one("#pod_cidr-error", Static).display
        assert "do not overlap each other" in str(screen.query_one("#findings", Static).render())
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is not screen, "fixed: Next goes on"


def test_kwizard_validate_refuses_the_same_pod_cidr_with_the_same_message(tmp_path):
    profile = three_hosts(cni="calico")
    path = tmp_path / "ipv6.yaml"
    save(profile, path)
    path.write_text(path.read_text().replace("10.244.0.0/16", POD))
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(["validate", str(path)])
        except SystemExit as exit:
            code = exit.code
    assert code == 2, out.getvalue() + err.getvalue()
    assert model_message(pod_cidr=POD) in err.getvalue() + out.getvalue()
