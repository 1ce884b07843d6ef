"""Profiles on disk: YAML in, a validated Profile out; a Profile in, YAML written atomically.

Every way a file can be wrong comes out as a ProfileError holding one message
per problem (field path, line when YAML knows it), never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs
import yaml
from pydantic import ValidationError

from kwizard.files import write_private_atomically
from kwizard.profile.model import SCHEMA_VERSION, Profile, error_path, problems_from_error

PROFILE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Problem:
    path: str  # field path, e.g. hosts[1].address
    message: str
    line: int | None = None  # 1-based, when the YAML gives one

    def render(self, source: str | None = None) -> str:
        where = source or "profile"
        if self.line:
            where = f"{where}:{self.line}"
        return f"{where}: {self.path}: {self.message}"


class ProfileError(Exception):
    """A profile that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = problems
        self.source = source
        super().__init__("\n".join(p.render(source) for p in problems))


def user_profiles_dir() -> Path:
    """Where the wizard saves profiles by default (XDG config dir)."""
    return Path(platformdirs.user_config_dir("kwizard")) / "profiles"


# --- loading ---


def load(path: str | os.PathLike[str]) -> Profile:
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError([Problem("(file)", "no such file; check the path")], source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError([Problem("(file)", f"cannot read it: {exc}")], source) from None
    return parse(text, source)


def parse(text: str, source: str | None = None) -> Profile:
    """Parse and validate profile YAML text."""
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProfileError([Problem("(yaml)", f"not valid YAML: {reason}", line)], source) from None
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. a date out of range
        raise ProfileError([Problem("(yaml)", f"not a usable YAML document: {exc}")], source) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ProfileError(
            [Problem("(profile)", f"the file is {kind}; a profile is a mapping with name, hosts and cluster", 1)],
            source,
        )
    version = data.get("version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        line = _line_of(document, ("version",))
        message = (
            f"profile schema version {version!r} is not one this kwizard reads (it reads version "
            f"{SCHEMA_VERSION}); use a kwizard that knows it, or rewrite the profile for version {SCHEMA_VERSION}"
        )
        raise ProfileError([Problem("version", message, line)], source)
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(error_path(loc), message, _line_of(document, loc))
            for loc, message in problems_from_error(exc)
        ]
        raise ProfileError(problems, source) from None


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at a field path; the nearest parent's when absent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                # An unknown key is best pointed at by its own line.
                return value if not isinstance(value, yaml.ScalarNode) or value.value != "" else key
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


# --- saving ---


def dump(profile: Profile) -> str:
    data = profile.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)


def save(profile: Profile, path: str | os.PathLike[str]) -> Path:
    """Write atomically (temp file in the same folder, fsync, rename), mode 0600.

    If anything fails, the old file (if any) is left exactly as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_private_atomically(path, dump(profile))


# --- finding saved profiles (the welcome screen's list) ---


@dataclass(frozen=True)
class ProfileSummary:
    path: Path
    name: str
    host_count: int
    cni: str
    modified: datetime
    error: str | None = None  # set when the file does not load


def summarize(path: Path) -> ProfileSummary:
    modified = datetime.fromtimestamp(path.stat().st_mtime)
    try:
        profile = load(path)
    except ProfileError as exc:
        first = exc.problems[0].render() if exc.problems else "unreadable"
        return ProfileSummary(path, path.stem, 0, "?", modified, error=first)
    return ProfileSummary(path, profile.name, len(profile.hosts), profile.cluster.cni.value, modified)


def list_profiles(folders: list[Path]) -> list[ProfileSummary]:
    """Every profile file in the given folders, newest first."""
    found = []
    for folder in folders:
        if folder.is_dir():
            found.extend(p for p in folder.iterdir() if p.suffix in PROFILE_SUFFIXES and p.is_file())
    return sorted((summarize(p) for p in found), key=lambda s: s.modified, reverse=True)
