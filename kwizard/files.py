"""Writing files that may hold credentials: private from the first byte, all or nothing."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

PRIVATE_DIR_MODE = 0o700


class NotARegularFile(ValueError):
    """The target exists and is a device, FIFO, socket or folder: kwizard writes over plain files only."""


def make_private_dirs(path: Path) -> Path:
    """Create `path` and its missing parents 0700, whatever the umask; folders that exist are left as they are.

    (`Path.mkdir(mode=..., parents=True)` gives the parents the umask's mode,
    which is 0777 under umask 0.)
    """
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, PRIVATE_DIR_MODE)
            os.chmod(folder, PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask; chmod is not
    return path


def refuse_non_regular(path: Path) -> None:
    """Raise NotARegularFile when `path` exists and is not a plain file (or a link to one)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a device, FIFO or socket)"
        raise NotARegularFile(f"{path} is {kind}; kwizard writes only over regular files: choose another path")


def write_private_atomically(path: Path, content: bytes | str) -> Path:
    """Temp file in the same folder (mkstemp: O_EXCL, 0600; fchmod against odd umasks), fsync, rename.

    A target that exists and is not a regular file (a device such as
    /dev/full, a FIFO, a folder) is refused with NotARegularFile: renaming
    over it would replace the device node with a plain file. A failure at any point leaves the old file, if any, exactly as it was and
    no temp file behind.
    """
    refuse_non_regular(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX: fsync the directory)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
