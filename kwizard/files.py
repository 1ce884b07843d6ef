"""Writing files that may hold credentials: private from the first byte, all or nothing."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_private_atomically(path: Path, content: bytes | str) -> Path:
    """Temp file in the same folder (mkstemp: O_EXCL, 0600; fchmod against odd umasks), fsync, rename.

    A failure at any point leaves the old file, if any, exactly as it was and
    no temp file behind.
    """
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
