"""SVG snapshots with fixed data, a fixed time and no clock (regenerate with
`pytest tests/tui/test_snapshots.py --snapshot-update`, then look at every changed picture).

Every tab at 120×40, 80×24 and 60×15, and the screens over them once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from textual.clock import MockClock
from textual.pilot import Pilot

from core.events import EngineLogged
from tests.tui.fakes import FIXED, FakeEngine
from tui.app import HhsyncApp, make_app

TABS = {"synced": "1", "pending": "2", "skipped": "3", "failed": "4", "log": "5"}
SHOTS = [
    *((tab, (120, 40)) for tab in TABS),
    *((tab, size) for tab in ("synced", "failed") for size in ((80, 24), (60, 15))),
]
"""Every tab at 120×40; the narrow sizes for the Synced tab (the others lay their columns out
the same way, `test_narrow`) and the Failed tab, whose Fix panel takes rows from the table."""


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """Times are drawn in UTC, whatever the machine's zone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


def fixed_app() -> tuple[HhsyncApp, FakeEngine]:
    engine = FakeEngine()
    app = make_app(engine, clock=MockClock(), now=lambda: FIXED, autostart=False)
    return app, engine


@pytest.mark.parametrize(
    ("tab", "size"), SHOTS, ids=[f"{size[0]}x{size[1]}-{tab}" for tab, size in SHOTS]
)
def test_tab(snap_compare: Any, tab: str, size: tuple[int, int]) -> None:
    app, engine = fixed_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        engine.emit(EngineLogged("WARNING", "Halo: rate limit, waiting 12s", FIXED))
        app.drain()
        await pilot.press(TABS[tab])
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=size)


def test_detail_of_a_failed_article(snap_compare: Any) -> None:
    app, _ = fixed_app()
    assert snap_compare(app, press=["4", "enter"], terminal_size=(120, 40))


def test_help(snap_compare: Any) -> None:
    app, _ = fixed_app()
    assert snap_compare(app, press=["question_mark"], terminal_size=(120, 40))


def test_unlink_confirmation(snap_compare: Any) -> None:
    app, _ = fixed_app()
    assert snap_compare(app, press=["u"], terminal_size=(80, 24))


def test_filter(snap_compare: Any) -> None:
    app, _ = fixed_app()
    assert snap_compare(app, press=["slash", *"vpn", "wait:300", "enter"], terminal_size=(120, 40))


def test_pass_in_progress(snap_compare: Any) -> None:
    app, engine = fixed_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        engine.start_pass(full=True)
        engine.progress(120, 400, failed=2)
        app.drain()
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=(120, 40))
