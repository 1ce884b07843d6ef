"""The app's Header, safe against a title update that lands while its screen is being removed.

Textual's Header watches the app's and the screen's titles; the first update
is scheduled when it mounts. If the screen is dismissed before that update
runs (a quick key press on a screen that just opened), the update finds no
title widget and Textual raises NoMatches, taking the whole app down. This
Header does the same updates and ignores a title that has nowhere to go.

Only public Textual names: the title widget is found by its type name
("HeaderTitle", a Static), not imported from Textual's private module.
"""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.events import Mount
from textual.widget import Widget
from textual.widgets import Header as TextualHeader
from textual.widgets import Static

TITLE_SELECTOR = "HeaderTitle"  # the Static that Textual's Header composes for the title


class Header(TextualHeader):
    def _on_mount(self, event: Mount) -> None:
        # Textual calls every class's _on_mount along the MRO; prevent_default stops it before
        # Header's own (the one without the guard). Widget's, which it would also skip, is called here.
        event.prevent_default()
        Widget._on_mount(self, event)

        async def set_title() -> None:
            try:
                self.query_one(TITLE_SELECTOR, Static).update(self.format_title())
            except (NoScreen, NoMatches):
                pass  # the screen is going away: nothing left to show the title in

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
