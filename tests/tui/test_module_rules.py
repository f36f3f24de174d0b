"""How the dashboard's modules may depend on each other (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tui

TUI = Path(tui.__file__).parent
PLAIN = [
    "tui.model",
    "tui.state",
    "tui.notices",
    "tui.pass_text",
    "tui.port",
    "tui.columns",
    "tui.untrusted",
]
"""Dashboard logic that must run (and be tested) without Textual."""


def loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def textual_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] == "textual")


def test_plain_modules_do_not_import_textual() -> None:
    if not textual_in(loaded_after_import(", ".join(PLAIN))):  # all at once: one interpreter
        return
    for module in PLAIN:  # which one
        textual = textual_in(loaded_after_import(module))
        assert not textual, f"{module} imports Textual ({textual[:3]}…)"


def test_the_command_palette_does_not_import_the_app() -> None:
    assert "tui.app" not in loaded_after_import("tui.commands")


def test_no_dashboard_module_is_over_450_lines() -> None:
    lengths = {str(p.relative_to(TUI)): len(p.read_text().splitlines()) for p in TUI.rglob("*.py")}
    assert {name: n for name, n in lengths.items() if n > 450} == {}
