"""The layer contracts: what may import what, checked on the source and on a real import.

- the engine (kwizard/) never imports Textual: headless runs and scripts must not need it;
- only kwizard/ssh speaks asyncssh;
- the face (screens/) reaches the engine through `kwizard.service` and the pure
  modules (the profile, the plugin catalogue, the findings and checks, the
  facts' data types, the events), never the runner, the run directory, the
  plan builders or the SSH layer.

`test_a_new_textual_import_under_the_engine_is_caught` shows the first rule
failing on a module that breaks it, so the check cannot pass vacuously.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "kwizard"
FACE = ROOT / "screens"

# What the face may import from the engine (module prefixes).
FACE_MAY_IMPORT = (
    "kwizard.service",
    "kwizard.profile",
    "kwizard.cni.catalogue",
    "kwizard.checks",
    "kwizard.facts.model",
    "kwizard.facts.hostnet",
    "kwizard.run.events",
    "kwizard.screens",
)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports (absolute names), with its line: top level and inside functions."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from kwizard import x` imports the module kwizard.x
            if node.module in ("kwizard", "kwizard.screens"):
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def violations(folder: Path, rule) -> list[str]:
    """Each import under `folder` that `rule(path relative to folder, module)` refuses, with the reason."""
    out = []
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder)
        for line, module in imported_modules(path):
            why = rule(relative, module)
            if why:
                out.append(f"{folder.name}/{relative.as_posix()}:{line} imports {module}: {why}")
    return out


def _is(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def engine_rule(relative: Path, module: str) -> str | None:
    if _is(module, "textual") or _is(module, "rich"):
        return "the engine never imports the terminal UI"
    if _is(module, "kwizard.screens") and not (relative.as_posix() == "cli/main.py" and module == "kwizard.screens.app"):
        return "the engine never imports the face (only `kwizard tui` opens it, from cli/main.py)"
    if _is(module, "asyncssh") and relative.parts[0] != "ssh":
        return "only kwizard/ssh speaks asyncssh"
    return None


def face_rule(relative: Path, module: str) -> str | None:
    if _is(module, "asyncssh"):
        return "only kwizard/ssh speaks asyncssh"
    if _is(module, "kwizard") and module != "kwizard" and not any(_is(module, p) for p in FACE_MAY_IMPORT):
        return "the face reaches the engine through kwizard.service and the pure modules"
    if module.startswith("textual.") and any(part.startswith("_") for part in module.split(".")):
        return "no private Textual module"
    return None


def test_the_engine_imports_neither_textual_nor_the_face_and_only_ssh_imports_asyncssh():
    assert violations(ENGINE, engine_rule) == []


def test_the_face_reaches_the_engine_through_the_service_and_the_pure_modules():
    assert violations(FACE, face_rule) == []


def test_a_new_textual_or_asyncssh_import_under_the_engine_is_caught(tmp_path):
    engine = tmp_path / "kwizard"
    (engine / "plan").mkdir(parents=True)
    (engine / "ssh").mkdir()
    (engine / "plan" / "oops.py").write_text("import textual\n\ndef f():\n    from asyncssh import connect\n")
    (engine / "ssh" / "fine.py").write_text("import asyncssh\n")
    assert violations(engine, engine_rule) == [
        "kwizard/plan/oops.py:1 imports textual: the engine never imports the terminal UI",
        "kwizard/plan/oops.py:4 imports asyncssh: only kwizard/ssh speaks asyncssh",
    ]


def test_a_face_import_of_the_runner_or_a_private_textual_module_is_caught(tmp_path):
    face = tmp_path / "screens"
    face.mkdir()
    (face / "oops.py").write_text(
        "from kwizard.run.runner import Runner\nfrom kwizard.service import check\nfrom textual.widgets._header import HeaderTitle\n"
    )
    assert violations(face, face_rule) == [
        "screens/oops.py:1 imports kwizard.run.runner: the face reaches the engine through kwizard.service and the pure modules",
        "screens/oops.py:3 imports textual.widgets._header: no private Textual module",
    ]


ENGINE_MODULES = sorted(
    ".".join(("kwizard", *p.relative_to(ENGINE).with_suffix("").parts)).removesuffix(".__init__")
    for p in ENGINE.rglob("*.py")
    if p.name != "__main__.py"
)

# Make `import textual` fail, then import every engine module for real.
BLOCK_TEXTUAL = """
import importlib, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "textual" or name.startswith("textual."):
            raise ImportError("textual is blocked in this test")
sys.meta_path.insert(0, Block())
for name in sys.argv[1:]:
    importlib.import_module(name)
print("imported", len(sys.argv) - 1)
"""


def test_every_engine_module_imports_with_textual_blocked():
    assert "kwizard.profile.model" in ENGINE_MODULES and "kwizard.cli.main" in ENGINE_MODULES
    result = subprocess.run([sys.executable, "-c", BLOCK_TEXTUAL, *ENGINE_MODULES], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"imported {len(ENGINE_MODULES)}" in result.stdout


@pytest.mark.parametrize(
    "module",
    ["kwizard.checks.host", "kwizard.checks.cidr", "kwizard.profile.store", "kwizard.plan.setup", "kwizard.facts.model"],
)
def test_pure_modules_do_not_load_asyncssh(module):
    code = f"import sys, {module}; print('asyncssh' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stdout + result.stderr


def test_version_and_validate_do_not_load_textual():
    code = "import sys; from kwizard.cli.main import main\ntry:\n main(['--version'])\nexcept SystemExit: pass\nprint('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().endswith("False"), result.stdout + result.stderr


def test_the_face_and_the_service_load_asyncssh_only_when_a_fleet_opens():
    code = "import sys, kwizard.screens.app, kwizard.service; print('asyncssh' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stdout + result.stderr
