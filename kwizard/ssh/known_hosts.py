"""The profile's known_hosts file: where it is, how OpenSSH names a host in it, adding a line.

Plain text work only; the matching of keys is asyncssh's (in kwizard.ssh).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from kwizard.files import make_private_dirs
from kwizard.profile.model import Profile


def known_hosts_path(profile: Profile) -> Path:
    return Path(profile.ssh.known_hosts or "~/.ssh/known_hosts").expanduser()


def ensure_file(path: Path) -> None:
    """Create an empty known_hosts (0600, dir 0700) so asyncssh reads *this* file.

    asyncssh falls back to ~/.ssh/known_hosts when given nothing, which would
    make the profile's own file meaningless; a path to an existing file never
    falls back.
    """
    if path.exists():
        return
    make_private_dirs(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)


def host_pattern(address: str, port: int) -> str:
    """How OpenSSH writes a host: plain on port 22, `[addr]:port` otherwise."""
    return address if port == 22 else f"[{address}]:{port}"


def append_entry(path: Path, address: str, port: int, public_key_line: str) -> None:
    """Add `host key-type base64` as OpenSSH does (no comment, plain host form)."""
    ensure_file(path)
    key_type, key_data = public_key_line.split()[:2]
    line = f"{host_pattern(address, port)} {key_type} {key_data}\n"
    if _lacks_final_newline(path):
        line = "\n" + line
    # O_APPEND: one write of one line, so two hosts accepted at once don't interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, line.encode("ascii"))
    finally:
        os.close(fd)


def _lacks_final_newline(path: Path) -> bool:
    with open(path, "rb") as file:
        file.seek(0, os.SEEK_END)
        if file.tell() == 0:
            return False
        file.seek(-1, os.SEEK_END)
        return file.read(1) != b"\n"


def removal_command(path: Path, address: str, port: int) -> str:
    return f"ssh-keygen -R {shlex.quote(host_pattern(address, port))} -f {shlex.quote(str(path))}"
