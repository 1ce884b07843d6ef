"""What a check found: the one shape every check in kwizard reports in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One problem (or note) a check found, said so a person can act on it.

    `host` is None for fleet-wide findings; `interface` names the network
    interface when the finding is about one.
    """

    level: Level
    code: str
    message: str
    fix: str = ""
    host: str | None = None
    interface: str | None = None

    @property
    def is_error(self) -> bool:
        return self.level is Level.ERROR

    def __str__(self) -> str:
        return format_finding(self, one_line=True)


def finding_place(finding: Finding) -> str:
    """Where it was found: "kubemaster (tun0)", "kubemaster", or "all hosts"."""
    where = finding.host or "all hosts"
    return f"{where} ({finding.interface})" if finding.interface else where


def format_finding(finding: Finding, *, one_line: bool = False) -> str:
    """A finding as text, the one way every face writes it.

    The block form (`kwizard check`, the headless run) puts the fix on a line
    of its own; `one_line` (logs, `str(finding)`) keeps it on the same line.
    """
    if one_line:
        text = f"{finding.level.value}: {finding_place(finding)}: {finding.message}"
        return f"{text} — fix: {finding.fix}" if finding.fix else text
    text = f"{finding.level.value.upper():7} {finding_place(finding)}: {finding.message}"
    return f"{text}\n        fix: {finding.fix}" if finding.fix else text


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.is_error for f in findings)


def host_finding(level: Level, code: str, facts, message: str, fix: str = "") -> Finding:
    """A finding about the host those facts came from (`facts.host`)."""
    return Finding(level, code, message, fix, facts.host)
