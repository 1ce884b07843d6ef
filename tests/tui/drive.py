"""Keyboard helpers for Pilot tests: what a person types, nothing more."""

from __future__ import annotations

import asyncio
import html
import re

from textual.pilot import Pilot
from textual.widgets import Input, Static


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*text)
    await pilot.pause()


async def replace_text(pilot: Pilot, text: str) -> None:
    """Clear the focused input (select_on_focus does not apply when it already had focus) and type."""
    await pilot.press("end", "ctrl+u")
    await type_text(pilot, text)


def error_of(pilot: Pilot, field: str) -> str:
    return str(pilot.app.screen.query_one(f"#{field}-error", Static).render())


def value_of(pilot: Pilot, field: str) -> str:
    return pilot.app.screen.query_one(f"#{field}", Input).value


async def add_host(pilot: Pilot, name: str, address: str) -> None:
    """a, name, tab, address, enter: the form's role defaults to control plane for the first host."""
    await pilot.press("a")
    await pilot.pause()
    await type_text(pilot, name)
    await pilot.press("tab")
    await type_text(pilot, address)
    await pilot.press("enter")
    await pilot.pause()


async def settle(pilot: Pilot) -> None:
    """Wait for the screens' workers (Test connections, saving); the wizard loop itself never ends."""
    await pilot.pause()
    busy = [w for w in pilot.app.workers if w.group != "wizard" and not w.is_finished]
    await asyncio.gather(*(w.wait() for w in busy), return_exceptions=True)
    await pilot.pause()


def screen_text(app) -> str:
    """Every piece of text the terminal shows now (from the app's own screenshot, as a user sees it)."""
    svg = app.export_screenshot()
    return html.unescape("".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))).replace("\xa0", " ")
