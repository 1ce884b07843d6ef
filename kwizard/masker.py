"""The run's secrets, and the one place text is masked before it leaves the runner.

The shapes kubeadm prints (bootstrap tokens, certificate keys) are known to
kwizard.masking; this adds the literals only a run knows: passwords given at
run time and whatever a step registers once it learns it (`add_secret`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from kwizard.events import Event, FindingReported
from kwizard.masking import mask_known_secrets

# Event fields that carry text from the remote side or from errors; ids and host names are not free text.
FREE_TEXT_FIELDS = ("line", "error", "diagnosis", "reason")


class Masker:
    """Hides secrets in text: known shapes (tokens, certificate keys) and literals.

    Literals are what the run was given (passwords) and what steps register
    with `add_secret` (a join token once it is known).
    """

    def __init__(self, secrets: Iterable[str] = ()):
        self._literals: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret:
            self._literals.add(secret)

    def __call__(self, text: str) -> str:
        return mask_known_secrets(text, self._literals)

    def event(self, event: Event) -> Event:
        """The same event with every free-text field masked (ids and host names are not free text)."""
        changes: dict[str, Any] = {}
        for name in FREE_TEXT_FIELDS:
            value = getattr(event, name, None)
            if isinstance(value, str):
                changes[name] = self(value)
        if isinstance(event, FindingReported):
            finding = event.finding
            changes["finding"] = dataclasses.replace(finding, message=self(finding.message), fix=self(finding.fix))
        return dataclasses.replace(event, **changes) if changes else event
