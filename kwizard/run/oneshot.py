"""A run context for a single action outside a plan (e.g. `kwizard join-command`)."""

from __future__ import annotations

from typing import Any

from kwizard.checks.findings import Finding
from kwizard.run.masking import Masker
from kwizard.plan.context import HostSession


class OneShotContext:
    def __init__(self, fleet: Any):
        self.values: dict[str, Any] = {}
        self._fleet = fleet
        self.masker = Masker(fleet.secrets)

    async def session(self, host: str) -> HostSession:
        return await self._fleet.session(host)

    def report(self, finding: Finding) -> None:
        return None

    def add_secret(self, text: str) -> None:
        self.masker.add(text)

    def note(self, host: str, line: str) -> None:
        return None
