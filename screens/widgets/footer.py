"""The footer every screen shows: compact on a narrow terminal, so 80 columns hold every key.

Textual's footer pads each key and its description; at 80×24 that pushes the
last bindings (the sudo password, help) off the edge. Below `ROOMY_WIDTH`
columns the padding goes, which is worth two columns per key.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

ROOMY_WIDTH = 100


class KwizardFooter(Footer):
    def on_mount(self) -> None:
        self.compact = self.app.size.width < ROOMY_WIDTH

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < ROOMY_WIDTH
