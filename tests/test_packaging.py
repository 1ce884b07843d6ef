"""The face installs as kwizard.screens, both editable and from a built wheel."""

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_editable_install_maps_kwizard_screens_to_the_top_level_folder():
    import kwizard.screens

    assert Path(kwizard.screens.__file__).resolve().parent == REPO / "screens"


def test_built_wheel_installs_kwizard_screens_and_no_top_level_screens(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("kwizard-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "kwizard/screens/__init__.py" in names
    assert not any(n.startswith("screens/") for n in names)
    # Every package folder of the tree is in the wheel (a subpackage missing from pyproject's list would not be).
    folders = [p.parent for p in (REPO / "kwizard").rglob("__init__.py")]
    folders += [REPO / "kwizard" / "screens" / p.parent.relative_to(REPO / "screens") for p in (REPO / "screens").rglob("__init__.py")]
    wanted = sorted(f"{f.relative_to(REPO).as_posix()}/__init__.py" for f in folders)
    assert [w for w in wanted if w not in names] == []

    # Install it into a fresh, isolated target and import from there only.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = "import kwizard.screens.run.screen, kwizard.profile.model, kwizard.cli.main; print(kwizard.screens.__file__)"
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); sys.path.append({_deps()!r}); {probe}"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(target))


def _deps() -> str:
    """The running environment's site-packages, for pydantic and friends only."""
    import pydantic

    return str(Path(pydantic.__file__).resolve().parents[1])
