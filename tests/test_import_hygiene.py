"""The engine never imports Textual: headless runs and scripts must not need it."""

import pkgutil
import subprocess
import sys

import kwizard

ENGINE_MODULES = sorted(
    f"kwizard.{m.name}" for m in pkgutil.iter_modules(kwizard.__path__) if m.name not in {"screens", "__main__"}
)

# Make `import textual` fail, then import every engine module.
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


def test_engine_modules_import_without_textual():
    assert "kwizard.model" in ENGINE_MODULES and "kwizard.cli" in ENGINE_MODULES
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_TEXTUAL, *ENGINE_MODULES], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert f"imported {len(ENGINE_MODULES)}" in result.stdout


def test_version_and_validate_do_not_load_textual():
    code = "import sys; from kwizard.cli import main\ntry:\n main(['--version'])\nexcept SystemExit: pass\nprint('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().endswith("False"), result.stdout + result.stderr
