"""Hosts step: the table, the add/edit form's messages as you type, SSH defaults, Test connections."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from kwizard.profile.model import Role
from kwizard.screens.app import KwizardApp
from kwizard.screens.dialogs.host_form import HostFormModal
from kwizard.screens.dialogs.host_key import HostKeyModal
from kwizard.screens.steps.hosts import HostsScreen

from .drive import add_host, error_of, replace_text, settle, type_text
from .fakes import FakeFleet, profile_folder


def make_app(tmp_path, fleet=None) -> KwizardApp:
    return KwizardApp(folders=profile_folder(tmp_path), gather=fleet or FakeFleet())


def rows(app) -> list[list[str]]:
    table = app.screen.query_one("#hosts", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_form_says_what_is_wrong_as_you_type(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await add_host(pilot, "cp-1", "10.0.0.10")
        await pilot.press("a")
        await type_text(pilot, "Node")
        assert "lowercase" in error_of(pilot, "name")
        await replace_text(pilot, "cp-1")
        assert "already called cp-1" in error_of(pilot, "name")
        await replace_text(pilot, "node-1")
        assert error_of(pilot, "name") == ""
        await pilot.press("tab")
        await type_text(pilot, "10.0.0.300")
        assert "not a valid IPv4 address" in error_of(pilot, "address")
        await replace_text(pilot, "10.0.0.10")
        assert "cp-1 already has address 10.0.0.10" in error_of(pilot, "address")
        await replace_text(pilot, "10.0.0.11")
        assert error_of(pilot, "address") == ""
        # The role defaults to worker once a control plane exists; a second one is refused where it is chosen.
        form = app.screen
        assert isinstance(form, HostFormModal)
        form.query_one("#role").value = Role.CONTROL_PLANE
        await pilot.pause()
        assert "cp-1 is already the control plane" in error_of(pilot, "role")
        form.query_one("#role").value = Role.WORKER
        await pilot.pause()
        await pilot.press("tab", "tab")  # role, then port
        await type_text(pilot, "70000")
        assert "65535" in error_of(pilot, "port")
        await pilot.press("enter")  # refused while a field is wrong
        assert isinstance(app.screen, HostFormModal)
        await replace_text(pilot, "2222")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)
        assert rows(app) == [
            ["cp-1", "10.0.0.10", "22", "root", "control plane", "not tested"],
            ["node-1", "10.0.0.11", "2222", "root", "worker", "not tested"],
        ]


async def test_edit_and_remove(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await add_host(pilot, "cp-1", "10.0.0.10")
        await add_host(pilot, "node-1", "10.0.0.11")
        await pilot.press("enter")  # edit the highlighted host (node-1, just added)
        await pilot.pause()
        assert isinstance(app.screen, HostFormModal)
        await replace_text(pilot, "node-9")
        await pilot.press("enter")
        await pilot.pause()
        assert [r[0] for r in rows(app)] == ["cp-1", "node-9"]
        await pilot.press("d")
        await pilot.pause()
        assert [r[0] for r in rows(app)] == ["cp-1"]


async def test_ssh_defaults_are_validated_and_kept(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await add_host(pilot, "cp-1", "10.0.0.10")
        await pilot.press("s")
        await pilot.pause()
        await type_text(pilot, "Bad User")
        assert "not a valid user name" in error_of(pilot, "user")
        await replace_text(pilot, "ubuntu")
        await pilot.press("tab", "tab", "tab", "tab")  # port, key, known_hosts, jump host
        await type_text(pilot, "admin@bastion:99999")
        assert "1-65535" in error_of(pilot, "jump_host")
        await replace_text(pilot, "admin@bastion:22")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)
        assert "ubuntu@:22" in str(app.screen.query_one("#ssh-summary", Static).render())
        assert rows(app)[0][3] == "ubuntu"
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.state.draft.ssh.user == "ubuntu" and app.state.draft.ssh.jump_host == "admin@bastion:22"


async def test_unreachable_hosts_say_why_and_the_others_get_facts(tmp_path):
    fleet = FakeFleet(failures={"node-1": "refused", "node-2": "timeout", "node-3": "auth", "node-4": "host key"})
    app = make_app(tmp_path, fleet)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        for index, name in enumerate(["cp-1", "node-1", "node-2", "node-3", "node-4"]):
            await add_host(pilot, name, f"10.0.0.{10 + index}")
        await pilot.press("t")
        await settle(pilot)
        status = {r[0]: r[5] for r in rows(app)}
        assert status == {
            "cp-1": "✓ Ubuntu 24.04.2 LTS",
            "node-1": "✗ refused",
            "node-2": "✗ timeout",
            "node-3": "✗ auth refused",
            "node-4": "✗ HOST KEY CHANGED",
        }
        # The highlighted failing host explains itself, fix included; a changed key is never offered.
        table = app.screen.query_one("#hosts", DataTable)
        table.move_cursor(row=4)
        await pilot.pause()
        details = str(app.screen.query_one("#host-details", Static).render())
        assert "HOST KEY CHANGED" in details and "fix:" in details
        assert not isinstance(app.screen, HostKeyModal)
        table.move_cursor(row=0)
        await pilot.pause()
        assert "kubeadm   v1.33.2" in str(app.screen.query_one("#host-details", Static).render())


async def test_unknown_host_key_is_asked_with_its_fingerprint(tmp_path):
    fleet = FakeFleet(ask_key_for=("node-1",))
    app = make_app(tmp_path, fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await add_host(pilot, "cp-1", "10.0.0.10")
        await add_host(pilot, "node-1", "10.0.0.11")
        await pilot.press("t")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, HostKeyModal)
        shown = str(modal.query_one("#fingerprint", Static).render())
        assert "ssh-ed25519" in shown and "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8" in shown
        await pilot.press("y")
        await settle(pilot)
        assert fleet.answers == {"node-1": True}
        assert [r[5] for r in rows(app)] == ["✓ Ubuntu 24.04.2 LTS", "✓ Ubuntu 24.04.2 LTS"]


async def test_rejecting_a_host_key_leaves_that_host_unreachable(tmp_path):
    fleet = FakeFleet(ask_key_for=("cp-1",))
    app = make_app(tmp_path, fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await add_host(pilot, "cp-1", "10.0.0.10")
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert fleet.answers == {"cp-1": False}
        assert rows(app)[0][5].startswith("✗")


async def test_next_needs_a_control_plane(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)
        await add_host(pilot, "cp-1", "10.0.0.10")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "PluginScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen) and rows(app)[0][0] == "cp-1"
