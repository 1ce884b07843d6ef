# kwizard lab simulator support -- NOT the real kubectl.
# The slice of kubectl's JSONPath that scripts use: {.a.b}, [N], [*], and
# filters like [?(@.type=="Ready")]; several templates in one string; results
# printed space-separated, maps and lists as JSON (as kubectl does).
from __future__ import annotations

import json
import re

TEMPLATE = re.compile(r"\{([^{}]*)\}")
STEP = re.compile(r"\.([A-Za-z0-9_\-/]+)|\[(\*|-?\d+|\?\(@\.([A-Za-z0-9_.]+)\s*==\s*[\"']([^\"']*)[\"']\))\]")


def _walk(values: list, path: str) -> list:
    for match in STEP.finditer(path):
        key, index, filter_key, filter_value = match.groups()
        out = []
        for value in values:
            if key is not None:
                if isinstance(value, dict) and key in value:
                    out.append(value[key])
            elif index == "*":
                out.extend(value if isinstance(value, list) else value.values() if isinstance(value, dict) else [])
            elif filter_key is not None:
                for item in value if isinstance(value, list) else []:
                    probe = item
                    for part in filter_key.split("."):
                        probe = probe.get(part) if isinstance(probe, dict) else None
                    if str(probe) == filter_value:
                        out.append(item)
            elif isinstance(value, list) and -len(value) <= int(index) < len(value):
                out.append(value[int(index)])
        values = out
    return values


def _text(value) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def render(template: str, obj: dict) -> str:
    template = template.strip("'\"")
    return TEMPLATE.sub(lambda m: " ".join(_text(v) for v in _walk([obj], m.group(1).strip().lstrip("$"))), template)
