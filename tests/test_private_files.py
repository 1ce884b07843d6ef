"""Everything kwizard creates is private whatever the umask, and it never writes over a device or a folder."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kwizard.files import NotARegularFile, make_private_dirs, write_private_atomically
from kwizard.profile.model import Profile
from kwizard.profile.store import save


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_zero():
    old = os.umask(0)
    yield
    os.umask(old)


def test_missing_parent_folders_are_created_0700_under_umask_0(tmp_path, umask_zero):
    deep = tmp_path / "home" / ".config" / "kwizard" / "profiles"
    make_private_dirs(deep)
    for folder in (tmp_path / "home", tmp_path / "home" / ".config", tmp_path / "home" / ".config" / "kwizard", deep):
        assert mode(folder) == 0o700, folder


def test_a_saved_profile_and_its_new_folders_are_private_under_umask_0(tmp_path, umask_zero):
    profile = Profile.model_validate(
        {"name": "lab", "hosts": [{"name": "cp", "address": "10.0.0.1", "role": "control-plane"}], "cluster": {"cni": "flannel"}}
    )
    path = save(profile, tmp_path / "cfg" / "kwizard" / "lab.yaml")
    assert mode(path) == 0o600
    assert mode(tmp_path / "cfg") == 0o700 and mode(tmp_path / "cfg" / "kwizard") == 0o700


def test_existing_folders_are_left_as_they_are(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    make_private_dirs(shared / "mine")
    assert mode(shared) == 0o755 and mode(shared / "mine") == 0o700


@pytest.mark.parametrize("target", ["/dev/null", "/dev/full"])
def test_a_device_is_never_replaced_by_a_file(target):
    before = os.stat(target)
    with pytest.raises(NotARegularFile, match="writes only over regular files"):
        write_private_atomically(Path(target), "x")
    after = os.stat(target)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def test_a_fifo_or_folder_is_never_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFile):
        write_private_atomically(fifo, "x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(NotARegularFile, match="a folder"):
        write_private_atomically(tmp_path, "x")


def test_kubeconfig_refuses_a_device_before_connecting_even_with_force(tmp_path):
    profile = tmp_path / "lo.yaml"
    # 127.0.0.1 port 9 (discard): nothing is contacted, the output path is refused first.
    profile.write_text(
        "name: lo\nhosts:\n  - {name: cp, address: 127.0.0.1, port: 9, role: control-plane}\ncluster: {cni: flannel}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "kwizard", "kubeconfig", "-o", "/dev/full", "--force", str(profile)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "--output-file: /dev/full is not a regular file" in result.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
