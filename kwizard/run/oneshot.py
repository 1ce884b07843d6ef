"""A run context for a single action outside a plan (e.g. `kwizard join-command`).

It is a full RunContext: sessions come from the Fleet, there are no facts,
and what the action leaves is in `outcome`. Nothing is logged, so there is
nothing to mask and `add_secret` has no one to tell; the action's caller
decides what to show (the join command is printed on purpose).
"""

from __future__ import annotations

from typing import Protocol

from kwizard.checks.findings import Finding
from kwizard.facts.model import HostFacts
from kwizard.plan.context import HostSession
from kwizard.run.outcome import RunOutcome


class SessionOpener(Protocol):
    async def session(self, host: str) -> HostSession: ...


class OneShotContext:
    dry_run = False

    def __init__(self, fleet: SessionOpener):
        self._fleet = fleet
        self.facts: dict[str, HostFacts] = {}
        self.outcome = RunOutcome()

    async def session(self, host: str) -> HostSession:
        return await self._fleet.session(host)

    def report(self, finding: Finding) -> None:
        return None

    def add_secret(self, text: str) -> None:
        return None  # no lines, events or files to mask: a one-shot action writes none

    def note(self, host: str, line: str) -> None:
        return None
