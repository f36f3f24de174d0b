"""SVG snapshots with fixed data and no clock (regenerate with `pytest --snapshot-update`)."""

from __future__ import annotations

from typing import Any

from textual.clock import MockClock
from textual.pilot import Pilot

from tests.tui.fakes import FakeEngine
from tui.app import HhsyncApp, make_app


def fixed_app() -> tuple[HhsyncApp, FakeEngine]:
    engine = FakeEngine()
    return make_app(engine, clock=MockClock(), autostart=False), engine


def test_main_view(snap_compare: Any) -> None:
    app, _ = fixed_app()
    assert snap_compare(app, terminal_size=(120, 40))


def test_main_view_80x24(snap_compare: Any) -> None:
    app, _ = fixed_app()
    assert snap_compare(app, terminal_size=(80, 24))


def test_failed_tab_80x24(snap_compare: Any) -> None:
    app, _ = fixed_app()
    assert snap_compare(app, press=["4"], terminal_size=(80, 24))


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
