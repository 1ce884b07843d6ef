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
        where = self.host or "all hosts"
        if self.interface:
            where = f"{where} ({self.interface})"
        text = f"{self.level.value}: {where}: {self.message}"
        return f"{text} — fix: {self.fix}" if self.fix else text


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.is_error for f in findings)
