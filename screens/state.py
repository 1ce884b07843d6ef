"""The App's state, in one typed object the screens receive.

The App makes one `WizardState` and hands it to every screen that needs more
than its own draft copy: the Hosts step records its connection test here, the
Review step where it saved the profile, the sudo password modal the password
(memory only). Nothing else of the wizard lives on the App.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kwizard.profile.model import Profile
from kwizard.screens.connections import HostCheck


@dataclass
class WizardState:
    draft: Profile  # the one profile draft (screens.draft): stored by the App's wizard loop only
    draft_path: Path | None = None  # where the draft was loaded from or last saved to
    # Given in screens.dialogs.sudo_password's modal; memory only, for this session: every
    # Fleet the wizard opens (Test connections, runs, the done screen) takes it from here.
    sudo_password: str | None = field(default=None, repr=False)
    checks: dict[str, HostCheck] = field(default_factory=dict)  # the last "Test connections", by host name
    facts: dict[str, Any] = field(default_factory=dict)  # the engine's raw facts from that test (preflight, plan)
    resetting: bool = False  # opened from "Reset a cluster": the review shows the reset plan
    saved: Profile | None = None  # the draft as last loaded or saved (None: never saved)

    def unsaved(self, draft: Profile) -> bool:
        """`draft` holds answers that no file has: a new cluster with hosts, or edits since the last save."""
        if self.saved is None:
            return bool(draft.hosts)
        return draft.model_dump(mode="json") != self.saved.model_dump(mode="json")

    def forget_checks(self) -> None:
        """A new or another profile: the last test says nothing about its hosts."""
        self.checks, self.facts = {}, {}

    def tested(self, checks: dict[str, HostCheck], facts: dict[str, Any]) -> None:
        self.checks, self.facts = dict(checks), dict(facts)
