"""YAML for Ansible: scripts as `!unsafe` literal blocks, so Jinja never reads them and they stay byte for byte.

`!unsafe` is Ansible's tag for "never template this"; a script's `{#`,
`${...}` and `{{` reach the host as written. `load` reads the tag back as a
plain string (for tests and tools that compare exported scripts with the plan).
"""

from __future__ import annotations

from typing import Any

import yaml


class Unsafe(str):
    """Text Ansible must not template."""


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, as yamllint (and so ansible-lint) wants."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # every task spelled out: no &id001 / *id001 for a reader to chase


def _unsafe(dumper: yaml.SafeDumper, value: Unsafe) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("!unsafe", str(value), style=style)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(Unsafe, _unsafe)
_Dumper.add_representer(str, _str)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, explicit_start=True, width=4096, allow_unicode=True)


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))


def load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader with one extra tag
