"""Profiles on disk: YAML in, a validated Profile out; a Profile in, YAML written atomically.

Every way a file can be wrong comes out as a ProfileError holding one message
per problem (field path, line when YAML knows it), never a traceback.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs
import yaml
from pydantic import ValidationError

from kwizard.files import make_private_dirs, write_private_atomically
from kwizard.profile.messages import error_path, problems_from_error
from kwizard.profile.model import SCHEMA_VERSION, Host, Profile, Role, fleet_problems

PROFILE_SUFFIXES = (".yaml", ".yml")
# Limits that keep a wrong file from hanging kwizard or eating the machine:
# a real profile is a few KiB and lists at most a few hundred hosts.
MAX_PROFILE_BYTES = 1024 * 1024
MAX_HOSTS = 1000
MAX_YAML_VALUES = 200_000  # values after aliases are expanded ("billion laughs" stops here)


@dataclass(frozen=True)
class Problem:
    path: str  # field path, e.g. hosts[1].address
    message: str
    line: int | None = None  # 1-based, when the YAML gives one

    def render(self, source: str | None = None) -> str:
        where = source or "profile"
        if self.line:
            where = f"{where}:{self.line}"
        # A message that already starts with its field (kwizard.profile.cidr's do) does not get it twice.
        field = "" if self.message.startswith(f"{self.path} ") else f"{self.path}: "
        return f"{where}: {field}{self.message}"


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
    """Read and validate a profile file: a regular file of at most MAX_PROFILE_BYTES, UTF-8 YAML."""
    path = Path(path)
    source = str(path)
    return parse(_read_profile_text(path, source), source)


def _read_profile_text(path: Path, source: str) -> str:
    # Opened without blocking and checked with fstat before reading, so a FIFO,
    # a device or a folder is refused at once instead of blocking or streaming forever.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ProfileError([Problem("(file)", "no such file; check the path")], source) from None
    except IsADirectoryError:
        raise ProfileError([Problem("(file)", "this is a folder, not a profile file; name the .yaml file")], source) from None
    except OSError as exc:
        raise ProfileError([Problem("(file)", f"cannot read it: {exc.strerror or exc}")], source) from None
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        os.close(fd)
        raise ProfileError([Problem("(file)", "this is a folder, not a profile file; name the .yaml file")], source)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ProfileError([Problem("(file)", f"not a regular file ({_file_kind(info.st_mode)}); a profile is a .yaml file")], source)
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > MAX_PROFILE_BYTES:
            raise ProfileError([Problem("(file)", _too_large(info.st_size))], source)
        data = handle.read(MAX_PROFILE_BYTES + 1)
    if len(data) > MAX_PROFILE_BYTES:  # grew while being read
        raise ProfileError([Problem("(file)", _too_large(len(data)))], source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProfileError([Problem("(file)", f"not UTF-8 text (byte {exc.start}); save the profile as UTF-8")], source) from None


def _too_large(size: int) -> str:
    return (
        f"the file is {size:,} bytes; a profile is at most {MAX_PROFILE_BYTES:,} bytes "
        "(is this the right file?)"
    )


def _file_kind(mode: int) -> str:
    kinds = {stat.S_ISFIFO: "a FIFO", stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}
    return next((name for test, name in kinds.items() if test(mode)), "not a plain file")


def parse(text: str, source: str | None = None) -> Profile:
    """Parse and validate profile YAML text."""
    if len(text) > MAX_PROFILE_BYTES:
        raise ProfileError([Problem("(file)", _too_large(len(text.encode("utf-8", "replace"))))], source)
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
    expanded = _expanded_size(document, {})
    if expanded > MAX_YAML_VALUES:
        message = (
            f"the YAML expands to more than {MAX_YAML_VALUES:,} values through its aliases (&name / *name); "
            "a profile needs no aliases: write the values out"
        )
        raise ProfileError([Problem("(yaml)", message, 1)], source)
    duplicates = _duplicate_keys(document)
    if duplicates:
        raise ProfileError(duplicates, source)
    hosts = data.get("hosts")
    if isinstance(hosts, list) and len(hosts) > MAX_HOSTS:
        message = f"{len(hosts):,} hosts listed; kwizard sets up at most {MAX_HOSTS:,} hosts from one profile"
        raise ProfileError([Problem("hosts", message, _line_of(document, ("hosts",)))], source)
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
        if not any(p.path == "hosts" for p in problems):
            # The rules across hosts run only once every host is valid; say them now too,
            # so one pass reports every problem of the file.
            line = _line_of(document, ("hosts",))
            problems += [Problem("hosts", message, line) for message in _raw_fleet_problems(data.get("hosts"))]
        raise ProfileError(problems, source) from None


def _raw_fleet_problems(hosts: Any) -> list[str]:
    """fleet_problems on the hosts as written, before (and whether or not) each host validates."""
    if not isinstance(hosts, list):
        return []
    drafts = []
    for entry in hosts:
        if not isinstance(entry, dict):
            continue
        role = Role.CONTROL_PLANE if entry.get("role") == Role.CONTROL_PLANE.value else Role.WORKER
        drafts.append(Host.model_construct(name=str(entry.get("name")), address=str(entry.get("address")), role=role))
    return fleet_problems(drafts)


def _expanded_size(node: yaml.Node | None, sizes: dict[int, int]) -> int:
    """How many values the document holds once every alias is expanded (shared nodes counted each time)."""
    if node is None:
        return 0
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = MAX_YAML_VALUES + 1  # a node that contains itself expands forever
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(item, sizes) for item in node.value)
    else:
        size = 1
    sizes[id(node)] = min(size, MAX_YAML_VALUES + 1)
    return sizes[id(node)]


def _duplicate_keys(node: yaml.Node | None, path: str = "") -> list[Problem]:
    """Keys written twice in one mapping: YAML would silently keep the last, so say it instead."""
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            where = f"{path}.{name}" if path and name is not None else (name or path or "(profile)")
            if name is not None and name in seen:
                message = f"written twice (first on line {seen[name]}); keep one"
                problems.append(Problem(where, message, key.start_mark.line + 1))
            elif name is not None:
                seen[name] = key.start_mark.line + 1
            problems += _duplicate_keys(value, where)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, f"{path}[{index}]")
    return problems


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
    make_private_dirs(path.parent)
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
