"""The reference docs say what the code does.

- docs/cli.md: one `### kwizard <command>` section per command, each with a
  table whose first column holds the flags; compared with the argparse
  parser both ways. Every `kwizard <command> --flag` written anywhere in
  docs/ must exist too, and the exit code table must match the constants.
- docs/profiles.md: one `## ... (`Model`)` section per pydantic model, each
  with a table of its fields (name, type, default, ...); compared with
  `model_fields` both ways, defaults included.
- every profiles/*.yaml is referenced from docs/, and every
  `profiles/NAME.yaml` the docs name exists.
- docs/architecture.md: every engine module and every event type is listed.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import typing
from enum import Enum
from pathlib import Path

import pytest
from pydantic import BaseModel

from kwizard.cli import commands as cli_commands
from kwizard.run import events
from kwizard.profile import model
from kwizard.cli.main import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
HELP_FLAGS = {"-h", "--help"}


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _outside_code(text: str) -> list[str]:
    """The lines of `text` that are not inside ``` fences."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def _sections(text: str, heading: re.Pattern[str]) -> dict[str, list[str]]:
    """{heading's first group: the lines under it, up to the next heading of any level}."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in _outside_code(text):
        if line.startswith("#"):
            match = heading.match(line)
            if match:
                assert match[1] not in sections, f"two sections for {match[1]!r}"
                current = sections[match[1]] = []
            else:
                current = None
        elif current is not None:
            current.append(line)
    return sections


def _table_cells(lines: list[str]) -> list[list[str]]:
    """The body rows of the markdown tables in `lines`, as lists of cells (header and rule rows dropped)."""
    def cells_of(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split("|")]

    def is_rule(line: str) -> bool:
        return line.startswith("|") and all(set(c) <= set("-: ") and c for c in cells_of(line))

    rows = []
    for index, line in enumerate(lines):
        if not line.startswith("|") or is_rule(line):
            continue
        if index + 1 < len(lines) and is_rule(lines[index + 1]):
            continue  # the header row
        rows.append(cells_of(line))
    return rows


# --- the CLI ---


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _parser_flags(parser: argparse.ArgumentParser) -> set[str]:
    return {opt for action in parser._actions for opt in action.option_strings} - HELP_FLAGS


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """'' for `kwizard` itself, else the command name."""
    top = build_parser()
    return {"": top, **_subcommands(top)}


COMMAND_HEADING = re.compile(r"^### kwizard(?: ([a-z][a-z-]*))?\s*$")


def _documented_commands() -> dict[str, set[str]]:
    """{command ('' = kwizard alone): flags in its section's tables}."""
    documented = {}
    for command, lines in _sections(_doc("cli.md"), COMMAND_HEADING).items():
        flags = set()
        for cells in _table_cells(lines):
            flags |= set(re.findall(r"`(-[-A-Za-z0-9]+)", cells[0]))
        documented[command or ""] = flags - HELP_FLAGS
    return documented


def test_every_command_is_documented_and_every_documented_command_exists():
    assert set(_documented_commands()) == set(_parsers())


@pytest.mark.parametrize("command", sorted(_parsers()))
def test_documented_flags_match_the_parser(command):
    documented = _documented_commands().get(command, set())
    actual = _parser_flags(_parsers()[command])
    name = f"kwizard {command}".strip()
    assert documented - actual == set(), f"docs/cli.md documents flags {name} does not have"
    assert actual - documented == set(), f"{name} has flags docs/cli.md does not document"


def test_every_flag_used_in_the_docs_exists():
    """`kwizard apply --yes ...` anywhere in docs/: the command and its flags are real."""
    parsers = _parsers()
    invocation = re.compile(r"\bkwizard((?: +[^\s`|;&)]+)+)")
    problems = []
    for path in sorted(DOCS.glob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            for match in invocation.finditer(line):
                words = match[1].split()
                command = words[0] if words[0] in parsers else ""
                if command == "" and not words[0].startswith("-"):
                    continue  # prose: "kwizard sets up ...", "kwizard itself"
                known = _parser_flags(parsers[command]) | HELP_FLAGS
                for word in words:
                    flag = word.split("=", 1)[0]
                    if re.fullmatch(r"--?[A-Za-z][-A-Za-z0-9]*", flag) and flag not in known:
                        problems.append(f"{path.name}: `kwizard {command}` has no {flag}: {line.strip()}")
    assert problems == []


def test_exit_codes_match_the_code():
    from kwizard.cli import exitcodes

    codes = {value for name, value in vars(exitcodes).items() if name.startswith("EXIT_")}
    section = _sections(_doc("cli.md"), re.compile(r"^## (Exit codes)$"))["Exit codes"]
    documented = {int(re.sub(r"\D", "", cells[0])) for cells in _table_cells(section)}
    assert documented == codes


# --- the profile ---


def _models_in(annotation: typing.Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _all_models(root: type[BaseModel] = model.Profile) -> dict[str, type[BaseModel]]:
    """Profile and every model reachable through its fields' annotations."""
    found = {root.__name__: root}
    for field in root.model_fields.values():
        for nested in _models_in(field.annotation):
            if nested.__name__ not in found:
                found.update(_all_models(nested))
    return found


MODEL_HEADING = re.compile(r"^## .*\(`(\w+)`\)\s*$")


def _documented_fields() -> dict[str, dict[str, list[str]]]:
    """{model name: {field name: its table row's cells}}."""
    documented = {}
    for model_name, lines in _sections(_doc("profiles.md"), MODEL_HEADING).items():
        rows = {}
        for cells in _table_cells(lines):
            match = re.fullmatch(r"`([a-z_]+)`", cells[0])
            assert match, f"{model_name}: first column should be one `field`: {cells[0]!r}"
            rows[match[1]] = cells
        documented[model_name] = rows
    return documented


def test_every_model_is_documented_and_every_documented_model_exists():
    assert set(_documented_fields()) == set(_all_models())


@pytest.mark.parametrize("model_name", sorted(_all_models()))
def test_documented_fields_match_the_model(model_name):
    documented = set(_documented_fields().get(model_name, {}))
    actual = set(_all_models()[model_name].model_fields)
    assert documented - actual == set(), f"docs/profiles.md documents {model_name} fields that do not exist"
    assert actual - documented == set(), f"{model_name} has fields docs/profiles.md does not document"


def _rendered_default(value: typing.Any) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@pytest.mark.parametrize("model_name", sorted(_all_models()))
def test_documented_defaults_match_the_model(model_name):
    rows = _documented_fields().get(model_name, {})
    for name, field in _all_models()[model_name].model_fields.items():
        if name not in rows:
            continue  # reported by test_documented_fields_match_the_model
        cell = rows[name][2]
        if field.is_required():
            assert "required" in cell, f"{model_name}.{name} is required; docs say {cell!r}"
        elif field.default_factory is not None:
            continue  # a mapping or list of defaults, described in words
        elif field.default is None:
            assert "unset" in cell, f"{model_name}.{name} defaults to unset; docs say {cell!r}"
        else:
            wanted = f"`{_rendered_default(field.default)}`"
            assert wanted in cell, f"{model_name}.{name} defaults to {wanted}; docs say {cell!r}"


# --- example profiles, the architecture page ---


def _all_docs() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))


def test_every_example_profile_is_referenced_from_the_docs():
    text = _all_docs()
    missing = [p.name for p in sorted((ROOT / "profiles").glob("*.yaml")) if p.name not in text]
    assert missing == []


def test_every_profile_the_docs_name_exists():
    named = set(re.findall(r"profiles/([A-Za-z0-9_.-]+\.ya?ml)", _all_docs()))
    assert named, "the docs name no example profile"
    assert [n for n in sorted(named) if not (ROOT / "profiles" / n).is_file()] == []


def test_every_engine_module_is_in_the_module_map():
    text = _doc("architecture.md")
    modules = sorted(p.relative_to(ROOT / "kwizard").as_posix() for p in (ROOT / "kwizard").rglob("*.py"))
    missing = [m for m in modules if f"`{m}`" not in text and not m.endswith("__init__.py") and m != "__main__.py"]
    assert missing == []


def test_every_event_type_is_documented():
    kinds = {
        obj.__name__
        for obj in vars(events).values()
        if isinstance(obj, type) and issubclass(obj, events.Event) and obj is not events.Event
    }
    section = _sections(_doc("architecture.md"), re.compile(r"^## (Events)$"))["Events"]
    documented = {re.sub(r"[`\s]", "", cells[0]) for cells in _table_cells(section)}
    assert documented == kinds
    for kind in kinds:  # and its fields, by name
        row = next(cells for cells in _table_cells(section) if re.sub(r"[`\s]", "", cells[0]) == kind)
        fields = {f.name for f in dataclasses.fields(getattr(events, kind))} - {"at"}
        assert {f for f in fields if f"`{f}`" not in row[1]} == set(), f"{kind}: fields missing from the table"


def test_docs_name_no_paths_of_one_machine():
    text = _all_docs()
    for marker in ("/root/", "/work/", "/tmp/kwizard-lab", "/home/kube"):
        assert marker not in text, marker


def test_readme_pictures_are_the_current_snapshots_of_the_app():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "docs" / "screenshots.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    readme = (ROOT / "README.md").read_text()
    for name in ("welcome.svg", "run.svg", "done.svg"):
        assert f"docs/images/{name}" in readme
