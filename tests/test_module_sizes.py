"""Modules stay small enough to read: one job each (the emulators and the seed excepted)."""

from __future__ import annotations

from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "core"
LONGEST = 450
ENGINE_LONGEST = 350
EXCEPTED = {"emulators"}


def test_no_core_module_is_over_450_lines() -> None:
    lengths = {
        str(path.relative_to(CORE)): len(path.read_text(encoding="utf-8").splitlines())
        for path in CORE.rglob("*.py")
        if not EXCEPTED & set(path.relative_to(CORE).parts)
    }
    assert {name: n for name, n in lengths.items() if n > LONGEST} == {}


def test_the_engine_keeps_to_its_job() -> None:
    """Life cycle, scheduler, commands, the order of a pass: the work lives in its helpers."""
    lines = (CORE / "engine.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= ENGINE_LONGEST
