"""One whole new-cluster session by keys, shared by the fake-hosts test and the lab test."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, RadioSet, Static

from kwizard.screens.steps.hosts import HostsScreen
from kwizard.screens.steps.plugin import PluginScreen
from kwizard.screens.steps.pod_network import PodNetworkScreen
from kwizard.screens.steps.review import ReviewScreen
from kwizard.screens.dialogs.save_profile import SaveProfileModal
from kwizard.screens.dialogs.ssh_form import SSHSettingsModal

from .drive import add_host, error_of, replace_text, settle, type_text, value_of

CALICO_DEFAULT = "192.168.0.0/16"


async def set_ssh_defaults(pilot: Pilot, user: str, port: int, key: str, known_hosts: str) -> None:
    await pilot.press("s")
    await pilot.pause()
    assert isinstance(pilot.app.screen, SSHSettingsModal)
    await replace_text(pilot, user)
    await pilot.press("tab")
    await replace_text(pilot, str(port))
    await pilot.press("tab")
    await type_text(pilot, key)
    await pilot.press("tab")
    await type_text(pilot, known_hosts)
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(pilot.app.screen, HostsScreen)


async def add_hosts_fixing_a_typo(pilot: Pilot, hosts: list[tuple[str, str]]) -> None:
    """Add every host; the second one's address is mistyped first and fixed after its message shows."""
    for index, (name, address) in enumerate(hosts):
        if index != 1:
            await add_host(pilot, name, address)
            continue
        await pilot.press("a")
        await type_text(pilot, name)
        await pilot.press("tab")
        typo = address.rsplit(".", 1)[0] + ".3" + address.rsplit(".", 1)[1]  # .11 -> .311
        await type_text(pilot, typo)
        await pilot.press("enter")  # refused: the message is there, the form stays
        assert "not a valid IPv4 address" in error_of(pilot, "address")
        await replace_text(pilot, address)
        assert error_of(pilot, "address") == ""
        await pilot.press("enter")
        await pilot.pause()
    assert isinstance(pilot.app.screen, HostsScreen)


async def run_connection_test(pilot: Pilot) -> list[str]:
    await pilot.press("t")
    await settle(pilot)
    table = pilot.app.screen.query_one("#hosts", DataTable)
    return [str(table.get_row_at(i)[5]) for i in range(table.row_count)]


async def pick_calico(pilot: Pilot) -> None:
    await pilot.press("ctrl+n")
    await pilot.pause()
    assert isinstance(pilot.app.screen, PluginScreen)
    await pilot.press("down", "enter")  # Flannel is first; Calico next
    await pilot.pause()
    assert pilot.app.screen.query_one("#plugins", RadioSet).pressed_button.id == "calico"


async def see_clash_and_take_suggestion(pilot: Pilot, host: str, interface: str, lan: str) -> str:
    await pilot.press("ctrl+n")
    await pilot.pause()
    assert isinstance(pilot.app.screen, PodNetworkScreen)
    assert value_of(pilot, "pod_cidr") == CALICO_DEFAULT
    findings = str(pilot.app.screen.query_one("#findings", Static).render())
    assert f"{host} · {interface}" in findings, findings
    assert lan in findings and CALICO_DEFAULT in findings
    await pilot.press("ctrl+g")
    await pilot.pause()
    suggested = value_of(pilot, "pod_cidr")
    assert suggested != CALICO_DEFAULT
    assert "no clashes found" in str(pilot.app.screen.query_one("#findings", Static).render())
    return suggested


async def save_profile(pilot: Pilot, name: str) -> Path:
    await pilot.press("ctrl+n")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ReviewScreen)
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(pilot.app.screen, SaveProfileModal)
    await replace_text(pilot, name)
    target = pilot.app.screen.target()
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ReviewScreen)
    assert target.path.exists()
    return target.path
