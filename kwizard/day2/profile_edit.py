"""Editing a profile a person wrote: a round trip through ruamel.yaml, so their comments, key
order and formatting stay; the result is validated before it replaces the file (atomically, 0600)."""

from __future__ import annotations

import io
from pathlib import Path

from kwizard.files import write_private_atomically


class ProfileEditError(ValueError):
    """The file does not have the shape the edit needs."""


def _yaml():
    from ruamel.yaml import YAML  # noqa: PLC0415

    yaml = YAML()  # round-trip: comments, order, quotes and flow style kept
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _edit(path: Path, change) -> str:
    yaml = _yaml()
    text = Path(path).read_text(encoding="utf-8")
    yaml.indent(**_indent_of(text))
    doc = yaml.load(text)
    change(doc)
    out = io.StringIO()
    yaml.dump(doc, out)
    new = out.getvalue()
    from kwizard.profile.store import ProfileError, parse  # noqa: PLC0415

    try:
        parse(new, str(path))
    except ProfileError as exc:
        raise ProfileEditError("the edited profile would not load: "
                               + "; ".join(p.render(str(path)) for p in exc.problems)) from None
    write_private_atomically(Path(path), new)
    return new


def _indent_of(text: str) -> dict:
    """The person's list style: `- x` flush under its key (offset 0) or indented (offset 2)."""
    lines = text.splitlines()
    for index, line in enumerate(lines[:-1]):
        if line.rstrip().endswith(":") and lines[index + 1].lstrip().startswith("- "):
            key = len(line) - len(line.lstrip())
            dash = len(lines[index + 1]) - len(lines[index + 1].lstrip())
            offset = dash - key
            return {"mapping": 2, "sequence": offset + 2, "offset": offset}
    return {"mapping": 2, "sequence": 4, "offset": 2}


def remove_host(path: Path, name: str) -> str:
    def change(doc) -> None:
        hosts = doc.get("hosts") if hasattr(doc, "get") else None
        if hosts is None:
            raise ProfileEditError("the profile has no hosts list")
        keep = [i for i, h in enumerate(hosts) if h.get("name") == name]
        if not keep:
            raise ProfileEditError(f"no host named {name} in the profile")
        for index in reversed(keep):
            del hosts[index]

    return _edit(path, change)


def add_host(path: Path, host: dict) -> str:
    def change(doc) -> None:
        doc["hosts"].append(host)

    return _edit(path, change)


def set_kubernetes_version(path: Path, version: str) -> str:
    def change(doc) -> None:
        cluster = doc.get("cluster")
        if cluster is None:
            from ruamel.yaml.comments import CommentedMap  # noqa: PLC0415

            cluster = doc["cluster"] = CommentedMap()
        old = cluster.get("kubernetes_version")
        cluster["kubernetes_version"] = type(old)(version) if isinstance(old, str) else version

    return _edit(path, change)
