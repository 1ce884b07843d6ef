"""The README's pictures: the wizard's own snapshot SVGs, copied where the README shows them.

The snapshot tests (tests/tui/test_snapshots.py, test_run_snapshots.py) render
each screen from the real app with pytest-textual-snapshot; nothing here is
drawn by hand. After `python -m pytest tests/tui --snapshot-update`, run

    python docs/screenshots.py

to refresh docs/images/. `--check` exits 1 when a picture is out of date
(tests/test_docs.py runs it, so a stale picture fails the suite).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "tests" / "tui" / "__snapshots__"
IMAGES = ROOT / "docs" / "images"

# picture in docs/images -> the snapshot it is
PICTURES = {
    "welcome.svg": "test_snapshots/test_welcome[120x40].svg",
    "hosts.svg": "test_snapshots/test_hosts_after_testing_connections[120x40].svg",
    "plugin.svg": "test_snapshots/test_plugin_guidance[calico-120x40].svg",
    "pod-network.svg": "test_snapshots/test_pod_network_with_a_clash[120x40].svg",
    "review.svg": "test_snapshots/test_review[120x40].svg",
    "run.svg": "test_run_snapshots/test_run_screen_mid_run[120x40].svg",
    "failure.svg": "test_run_snapshots/test_run_screen_failure_panel[120x40].svg",
    "done.svg": "test_run_snapshots/test_done_screen[120x40].svg",
}


def stale() -> list[str]:
    """Pictures that differ from (or lack) their snapshot."""
    return [
        name
        for name, snapshot in PICTURES.items()
        if not (IMAGES / name).exists() or (IMAGES / name).read_bytes() != (SNAPSHOTS / snapshot).read_bytes()
    ]


def refresh() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name, snapshot in PICTURES.items():
        (IMAGES / name).write_bytes((SNAPSHOTS / snapshot).read_bytes())


def main(argv: list[str]) -> int:
    if "--check" in argv:
        out_of_date = stale()
        for name in out_of_date:
            print(f"docs/images/{name} is out of date: run python docs/screenshots.py", file=sys.stderr)
        return 1 if out_of_date else 0
    refresh()
    print(f"refreshed {len(PICTURES)} pictures in docs/images")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
