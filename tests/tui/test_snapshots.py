"""Pictures of every screen at 80x24 and 120x40 (pytest-textual-snapshot).

Everything shown is fixed: hosts answer from memory (fakes.FakeFleet), profile
files get fixed modification times, folders are relative to the test's own
working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kwizard.profile.model import Host, Profile, Role, SSHSettings
from kwizard.profile.store import save
from kwizard.screens.app import KwizardApp
from kwizard.screens.dialogs.host_key import HostKeyModal

from .drive import settle, type_text
from .fakes import FakeFleet, profile_folder

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
FIXED_MTIME = 1767225600  # 2026-01-01 00:00 UTC


def three_hosts(name: str = "home-lab", cni: str = "flannel", pod_cidr: str = "10.244.0.0/16") -> Profile:
    return Profile(
        name=name,
        ssh=SSHSettings(user="ubuntu", identity_file="~/.ssh/id_ed25519"),
        hosts=[
            Host(name="kubemaster", address="10.0.0.10", role=Role.CONTROL_PLANE),
            Host(name="kubenode-1", address="10.0.0.11"),
            Host(name="kubenode-2", address="10.0.0.12"),
        ],
        cluster={"cni": cni, "pod_cidr": pod_cidr},
    )


def saved_profile(tmp_path: Path, profile: Profile, folder: str = "saved") -> Path:
    path = save(profile, tmp_path / folder / f"{profile.name}.yaml")
    os.utime(path, (FIXED_MTIME, FIXED_MTIME))
    return path


def app_on(tmp_path: Path, profile: Profile, fleet: FakeFleet | None = None) -> KwizardApp:
    key = tmp_path / "home" / ".ssh" / "id_ed25519"  # the profile's key exists (HOME is the test's own)
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text("a private key\n")
    path = saved_profile(tmp_path, profile)
    return KwizardApp(str(path), folders=profile_folder(tmp_path), gather=fleet or FakeFleet())


@pytest.mark.parametrize("size", SIZES)
def test_welcome(snap_compare, tmp_path, size):
    saved_profile(tmp_path, three_hosts())
    saved_profile(tmp_path, three_hosts("calico-lab", "calico", "10.48.0.0/16"), folder="profiles")
    broken = tmp_path / "profiles" / "broken.yaml"
    broken.write_text("name: Broken\nhosts: []\n")
    os.utime(broken, (FIXED_MTIME - 3600, FIXED_MTIME - 3600))
    app = KwizardApp(folders=profile_folder(tmp_path))
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_hosts_after_testing_connections(snap_compare, tmp_path, size):
    fleet = FakeFleet(failures={"kubenode-2": "refused"})

    async def run_before(pilot):
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("down", "down")  # the failing host, to show why it failed
        pilot.app.clear_notifications()  # the toast would cover the explanation in the picture

    assert snap_compare(app_on(tmp_path, three_hosts(), fleet), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_host_form_with_messages(snap_compare, tmp_path, size):
    async def run_before(pilot):
        await pilot.press("a")
        await type_text(pilot, "kubenode-1")
        await pilot.press("tab")
        await type_text(pilot, "10.0.0.300")

    assert snap_compare(app_on(tmp_path, three_hosts()), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_ssh_defaults_form(snap_compare, tmp_path, size):
    assert snap_compare(app_on(tmp_path, three_hosts()), terminal_size=size, press=["s"])


@pytest.mark.parametrize("size", SIZES)
def test_host_key_modal(snap_compare, tmp_path, size):
    async def run_before(pilot):
        key = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
        pilot.app.push_screen(HostKeyModal("kubenode-1", "10.0.0.11", "ssh-ed25519", key))
        await pilot.pause()

    assert snap_compare(app_on(tmp_path, three_hosts()), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("cni", ["flannel", "calico", "weave"])
def test_plugin_guidance(snap_compare, tmp_path, size, cni):
    profile = three_hosts(cni=cni, pod_cidr={"flannel": "10.244.0.0/16", "calico": "10.48.0.0/16", "weave": "10.32.0.0/12"}[cni])
    assert snap_compare(app_on(tmp_path, profile), terminal_size=size, press=["ctrl+n"])


@pytest.mark.parametrize("size", SIZES)
def test_pod_network_with_a_clash(snap_compare, tmp_path, size):
    profile = three_hosts(cni="calico", pod_cidr="192.168.0.0/16")

    async def run_before(pilot):
        await pilot.press("t")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.press("ctrl+n", "ctrl+n")

    app = app_on(tmp_path, profile, FakeFleet(lan="192.168.122.0/24"))
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_review(snap_compare, tmp_path, size):
    async def run_before(pilot):
        for step in ("PluginScreen", "PodNetworkScreen", "ReviewScreen"):  # one screen at a time, however loaded
            await pilot.press("ctrl+n")
            for _ in range(200):
                if type(pilot.app.screen).__name__ == step:
                    break
                await pilot.pause(0.02)
        await pilot.pause()
        await pilot.press("down", "enter")  # open the second step to show its commands

    assert snap_compare(app_on(tmp_path, three_hosts()), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_save_profile_modal(snap_compare, tmp_path, size):
    assert snap_compare(app_on(tmp_path, three_hosts()), terminal_size=size, press=["ctrl+n", "ctrl+n", "ctrl+n", "ctrl+s"])
