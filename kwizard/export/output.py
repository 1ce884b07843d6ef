"""Writing an export: a private folder, refused when it holds anything unless forced, files 0600 (runbooks 0700)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from kwizard.files import make_private_dirs, write_private_atomically

EXECUTABLE_SUFFIX = ".sh"


class OutputRefused(ValueError):
    """The output folder cannot be used; the message says why and what to do."""


def check_output_dir(folder: Path, force: bool) -> None:
    """Before anything is contacted: DIR must be a folder that is empty or missing, or --force given."""
    if folder.exists() and not folder.is_dir():
        raise OutputRefused(f"--output-dir: {folder} is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise OutputRefused(f"--output-dir: {folder} is not empty; choose an empty folder or add --force to write over its files")


def write_files(folder: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write each relative path under `folder`: folders 0700, files 0600, runbooks (*.sh) 0700."""
    written = []
    make_private_dirs(folder)
    for relative, content in files.items():
        path = folder / relative
        make_private_dirs(path.parent)
        write_private_atomically(path, content)
        if relative.endswith(EXECUTABLE_SUFFIX):
            os.chmod(path, 0o700)
        written.append(path)
    return written
