"""pytest fixtures for the lab: `lab_factory` (any size and scenario) and `lab3` (1 control plane + 2 workers).

Every lab a test starts is torn down when the test ends, pass, fail or ^C.
Labs left by a killed earlier run are reaped once per session before the first lab starts.
"""

from __future__ import annotations

import pytest

from .lab import Lab, reap_stale, start_lab
from .requirements import require_lab
from .scenario import Scenario

_reaped = False


def _reap_once() -> None:
    global _reaped
    if not _reaped:
        reap_stale()
        _reaped = True


@pytest.fixture
def lab_factory():
    require_lab()
    _reap_once()
    labs: list[Lab] = []

    def make(hosts: int = 3, scenario: Scenario | None = None) -> Lab:
        lab = start_lab(hosts, scenario)
        labs.append(lab)
        return lab

    try:
        yield make
    finally:
        for lab in labs:
            lab.down()


@pytest.fixture
def lab3(lab_factory) -> Lab:
    return lab_factory(hosts=3)
