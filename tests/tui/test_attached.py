"""The dashboard attached to a service (`hhsync run`) through a fake remote engine: the header
names the service, `q` leaves at once, and while the service is gone the dashboard says so,
refuses the keys that need it and shows the rows as current once it is back. And embedded:
quitting says that automatic syncing stops."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from textual.clock import MockClock
from textual.widgets import Static

from core.events import PassFinished
from core.models import Status
from tests.tui.fakes import SERVICE, FakeEngine, FakeRemoteEngine, make_record
from tests.tui.pilot import (
    SIZE,
    app_for,
    commands_done,
    header_state,
    ids,
    log_text,
    rendered_lines,
    run_command,
    select,
    toasts,
)
from tui import notices
from tui.app import HhsyncApp, make_app
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.widgets.header import SyncHeader


def attached_app(engine: FakeRemoteEngine) -> HhsyncApp:
    return make_app(engine, clock=MockClock(), service=SERVICE)


def header_text(app: HhsyncApp) -> str:
    return rendered_lines(app.query_one(SyncHeader))[0]


def lose_the_service(app: HhsyncApp, engine: FakeRemoteEngine) -> None:
    engine.lose_service()
    app.drain()


async def test_the_header_and_the_log_name_the_service() -> None:
    app = attached_app(FakeRemoteEngine())
    async with app.run_test(size=SIZE) as pilot:
        assert header_state(app).service_pid == 4242
        assert "⇄ service pid 4242" in header_text(app)
        await pilot.press("l")
        assert "Attached to the hhsync service (pid 4242, version 1.4.0)" in log_text(app)


async def test_the_header_says_when_crash_recovery_is_degraded() -> None:
    """What the probe found on the tenant reaches the header, attached or not (issue 9)."""
    engine = FakeRemoteEngine()
    engine.halo_notice = "crash recovery degraded: this Halo finds no article by its tag"
    app = attached_app(engine)
    async with app.run_test(size=SIZE):
        assert "⚠ crash recovery degraded" in header_text(app)
        assert "finds no article" not in header_text(app)  # the headline only


async def test_q_leaves_at_once_even_mid_pass_and_the_service_keeps_syncing() -> None:
    engine = FakeRemoteEngine()
    app = attached_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        engine.start_pass()
        app.drain()
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
    assert app.return_code == 0
    assert ("stop",) in engine.calls  # the dashboard stops following; the service goes on
    assert app.farewell == "Left the dashboard; the hhsync service (pid 4242) keeps syncing."


async def test_embedded_quit_says_automatic_syncing_stops_with_the_dashboard() -> None:
    engine = FakeEngine()
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        engine.start_pass()
        app.drain()
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        lines = rendered_lines(app.screen.query_one("#confirm-detail", Static))
        detail = " ".join(line.strip() for line in lines)
        assert "Automatic syncing stops with the dashboard" in detail
        assert "`hhsync run`" in detail
        await pilot.press("y")
    assert app.farewell == notices.SYNCING_STOPPED
    assert "hhsync run" in app.farewell


async def test_a_service_that_stops_is_shown_and_its_keys_are_refused() -> None:
    engine = FakeRemoteEngine()
    app = attached_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        engine.start_pass()
        engine.progress(3, 10)
        app.drain()
        lose_the_service(app, engine)
        await pilot.pause()
        assert app.is_running
        assert "service stopped — reconnecting…" in header_text(app)
        assert "⇄" not in header_text(app) and "syncing" not in header_text(app)
        assert not app.dashboard.pass_status.running  # the bar of the lost pass is closed
        assert notices.PASS_INTERRUPTED in app.dashboard.pass_status.summary_text
        assert toasts(app)[-1][0] == "The service stopped answering"
        select(app.dashboard.table(Status.SYNCED), 3)
        before = list(engine.calls)
        for key in ("s", "S", "r", "u", "R", "p"):
            await run_command(app, pilot, key)
            assert toasts(app)[-1] == ("", notices.SERVICE_NOT_ANSWERING.message), key
            assert not isinstance(app.screen, ConfirmScreen)
        assert engine.calls == before
        await run_command(app, pilot, "enter")  # what needs no service still works
        assert isinstance(app.screen, DetailScreen)
        await run_command(app, pilot, "escape", "l")
        assert "The service stopped answering (the service closed the event stream)" in (
            log_text(app)
        )


async def test_when_the_service_is_back_the_rows_are_current_and_keys_work_again() -> None:
    engine = FakeRemoteEngine()
    app = attached_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        lose_the_service(app, engine)
        moment = datetime(2026, 6, 30, 15, 45, 0)
        engine.last_pass = PassFinished(False, moment, moment, 0, 1, 0, 0, 0)  # passed meanwhile
        engine.service_back(5151, make_record(20, Status.SYNCED), make_record(60, Status.FAILED))
        app.drain()
        await pilot.pause()
        assert "⇄ service pid 5151" in header_text(app)
        assert app.dashboard.pass_status.summary_text.startswith("Last pass 15:45:00")
        back = notices.service_back(5151)
        assert toasts(app)[-1] == (back.title, back.message)
        assert 20 in ids(app.dashboard.table(Status.SYNCED))
        assert 20 not in ids(app.dashboard.table(Status.PENDING))
        assert 60 in ids(app.dashboard.table(Status.FAILED))
        select(app.dashboard.table(Status.SYNCED), 3)
        await run_command(app, pilot, "r")
        assert ("resync", 3) in engine.calls


async def test_a_command_caught_by_the_service_stopping_fails_with_a_notice() -> None:
    engine = FakeRemoteEngine()
    app = attached_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        engine.gate = gate = asyncio.Event()
        select(app.dashboard.table(Status.SYNCED), 3)
        await pilot.press("r")
        engine.lose_service()
        gate.set()
        await commands_done(app)
        app.drain()
        await pilot.pause()
        assert app.is_running
        failed = [(t, m) for t, m in toasts(app) if t.startswith("Resync of “")]
        assert failed and failed[0][0].endswith("” failed")
        assert "no hhsync service answers" in failed[0][1]


@pytest.mark.parametrize("size", [(80, 24), (60, 15)])
async def test_the_lost_service_fits_a_small_terminal(size: tuple[int, int]) -> None:
    engine = FakeRemoteEngine()
    app = attached_app(engine)
    async with app.run_test(size=size) as pilot:
        lose_the_service(app, engine)
        await pilot.pause()
        assert header_text(app).rstrip().endswith("⚠ service stopped — reconnecting…")
