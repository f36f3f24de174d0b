"""The import rules between layers, as import-linter contracts in pyproject.toml
([tool.importlinter]): core never imports Textual or tui; tui never imports httpx or TinyDB;
engine code never imports the emulators; the emulators import nothing else of hhsync.

`.ci/run` runs `lint-imports` too; this test makes `python -m pytest` catch a broken rule.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = (
    "import sys\n"
    "from importlinter.cli import lint_imports_command\n"
    "sys.exit(lint_imports_command())\n"
)


def test_import_contracts_are_kept() -> None:
    result = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    broken = output[output.find("Broken contracts") :] if "Broken contracts" in output else output
    assert result.returncode == 0, f"lint-imports failed:\n{broken}"
    assert "0 broken" in output, output
