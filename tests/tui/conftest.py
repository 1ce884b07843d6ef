"""TUI tests: the user's own config, clock and cursor blink kept out of every test."""

from __future__ import annotations

import time

import pytest
from textual.widgets import Input


@pytest.fixture(autouse=True)
def isolated_user(tmp_path, monkeypatch):
    """No test reads or writes the real ~/.config/kwizard, and ./profiles is the test's own."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TZ", "UTC")  # the welcome list shows modification times
    time.tzset()
    monkeypatch.chdir(tmp_path)
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch):
    """A blinking cursor makes screenshots differ by the millisecond."""
    monkeypatch.setattr(Input, "cursor_blink", False)
