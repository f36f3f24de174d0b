"""Pilot tests: the dashboard driven by keys against a fake engine."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console
from textual import events
from textual.clock import MockClock
from textual.widgets import Static, TabbedContent

from core.errors import HaloError, HhsyncError
from core.events import ArticleRemoved, EngineLogged, PassCause, RateLimitWaited, WritesFailed
from core.models import Status
from tests.tui.fakes import FakeEngine, make_record
from tui.app import HhsyncApp, make_app
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.screens.help import HelpScreen
from tui.settings import TuiSettings
from tui.widgets.article_table import ArticleTable
from tui.widgets.header import SyncHeader
from tui.widgets.pass_status import PassStatus

SIZE = (120, 40)


def plain(renderable: Any, width: int = 120) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def labels(app: HhsyncApp) -> dict[str, str]:
    tabs = app.query_one(TabbedContent)
    return {
        tab_id: tabs.get_tab(tab_id).label_text
        for tab_id in ("synced", "pending", "skipped", "failed")
    }


async def commands_done(app: HhsyncApp) -> None:
    """Wait for the engine commands (not the scheduler, which runs until quit)."""
    commands = [w for w in app.workers if w.group == "commands"]
    if commands:  # an empty list would mean "every worker"
        await app.workers.wait_for_complete(commands)


def ids(table: ArticleTable) -> list[int]:
    return [int(row.key.value or 0) for row in table.ordered_rows]


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


def app_for(engine: FakeEngine) -> HhsyncApp:
    return make_app(engine, clock=MockClock())


async def test_tabs_show_live_counts(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        assert labels(app) == {
            "synced": "Synced 12",
            "pending": "Pending 4",
            "skipped": "Skipped 3",
            "failed": "Failed 2",
        }
        engine.add(make_record(50, Status.PENDING))
        engine.change(40, status=Status.SYNCED, error="", hint="")
        app.drain()
        await pilot.pause()
        assert labels(app)["pending"] == "Pending 5"
        assert labels(app)["failed"] == "Failed 1"
        assert labels(app)["synced"] == "Synced 13"


async def test_rows_move_between_tables(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        pending, synced = app.table(Status.PENDING), app.table(Status.SYNCED)
        assert 21 in ids(pending)
        engine.change(21, status=Status.PENDING, reason="in flight")
        engine.change(21, status=Status.SYNCED, halo_id=777, last_synced_at="2026-07-01T10:00:00")
        app.drain()
        await pilot.pause()
        assert 21 not in ids(pending)
        assert 21 in ids(synced)
        assert synced.get_cell("21", "halo").plain == "777"
        assert synced.get_cell("21", "when").plain == "07-01 10:00"
        assert app.events_applied == 2


async def test_only_changed_cells_are_updated(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.table(Status.SYNCED)
        updated: list[tuple[Any, ...]] = []
        original = synced.update_cell

        def spy(row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
            updated.append((row_key, column_key))
            original(row_key, column_key, value, **kwargs)

        synced.update_cell = spy  # type: ignore[method-assign]
        engine.change(3, last_synced_at="2026-07-02T08:00:00")
        app.drain()
        await pilot.pause()
        assert updated == [("3", "when")]


async def test_removed_article_leaves_its_table(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        engine.emit(ArticleRemoved(30))
        app.drain()
        await pilot.pause()
        assert 30 not in ids(app.table(Status.SKIPPED))
        assert labels(app)["skipped"] == "Skipped 2"


async def test_many_rows_leaving_at_once_keep_order_and_cursor(engine: FakeEngine) -> None:
    records = [make_record(i) for i in range(1, 301)]
    engine = FakeEngine(records)
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.table(Status.SYNCED)
        before = ids(synced)
        synced.move_cursor(row=200)
        chosen = synced.cursor_id
        for hudu_id in range(1, 301, 2):
            if hudu_id != chosen:
                engine.change(hudu_id, status=Status.FAILED, error="boom")
        app.drain()
        await pilot.pause()
        after = ids(synced)
        assert after == [i for i in before if i % 2 == 0 or i == chosen]
        assert synced.cursor_id == chosen
        assert app.table(Status.FAILED).row_count == 150 - (1 if chosen and chosen % 2 else 0)


async def test_at_the_top_the_cursor_stays_on_the_first_row(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.table(Status.SYNCED)
        engine.add(make_record(600, title="AAA arrives first", scope="Acme Corp"))
        app.drain()
        await pilot.pause()
        assert synced.cursor_coordinate.row == 0
        assert synced.cursor_id == 600


async def test_a_selected_row_keeps_its_place_on_screen(engine: FakeEngine) -> None:
    engine = FakeEngine([make_record(i) for i in range(1, 201)])
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.table(Status.SYNCED)
        synced.move_cursor(row=100)
        await pilot.pause()
        chosen, offset = synced.cursor_id, synced.cursor_coordinate.row - synced.scroll_y
        for hudu_id in range(1000, 1010):
            engine.add(make_record(hudu_id, title="AAA before everything", scope="Acme Corp"))
        app.drain()
        await pilot.pause()
        assert synced.cursor_id == chosen
        assert synced.cursor_coordinate.row - synced.scroll_y == offset


async def test_progress_bar_follows_the_pass(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        status = app.query_one(PassStatus)
        assert not status.running
        engine.start_pass(full=True)
        engine.progress(25, 200, failed=1)
        app.drain()
        await pilot.pause()
        assert status.running
        assert "25/200" in str(status.query_one("#pass-counts", Static).content)
        assert "1 failed" in str(status.query_one("#pass-counts", Static).content)
        assert app.query_one(SyncHeader)._state.running  # type: ignore[union-attr]
        engine.finish_pass(created=20, updated=4, failed=1)
        app.drain()
        await pilot.pause()
        assert not status.running
        assert "20 created" in status.summary_text


async def test_r_resyncs_the_selected_row(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2", "down", "r")
        await commands_done(app)
        pending = app.table(Status.PENDING)
        assert ("resync", ids(pending)[1]) in engine.calls


async def test_u_then_y_unlinks_and_the_row_moves_to_skipped(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.table(Status.SYNCED)
        target = synced.cursor_id
        assert target is not None
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await commands_done(app)
        app.drain()
        await pilot.pause()
        assert ("unlink", target) in engine.calls
        assert target not in ids(synced)
        skipped = app.table(Status.SKIPPED)
        assert skipped.get_cell(str(target), "reason").plain == "unlinked"


@pytest.mark.parametrize("key", ["n", "escape"])
async def test_u_then_n_or_escape_cancels(engine: FakeEngine, key: str) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("u", key)
        await commands_done(app)
        assert not isinstance(app.screen, ConfirmScreen)
        assert not [c for c in engine.calls if c[0] == "unlink"]


async def test_slash_filters_as_you_type_and_escape_clears(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.table(Status.SYNCED)
        await pilot.press("slash", *"vpn")
        await pilot.pause(0.3)
        assert ids(synced) and all(
            "VPN" in synced.get_cell(str(i), "title").plain for i in ids(synced)
        )
        assert labels(app)["synced"] == f"Synced {synced.row_count}/12"
        await pilot.press("enter")
        assert app.focused is synced
        await pilot.press("escape")
        await pilot.pause()
        assert synced.row_count == 12
        assert labels(app)["synced"] == "Synced 12"


async def test_filter_applies_to_rows_that_arrive_later(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"acme", "enter")
        await pilot.pause(0.3)
        synced = app.table(Status.SYNCED)
        shown = synced.row_count
        engine.add(make_record(601))  # "Acme Corp" (601 % 6 == 1)
        engine.add(make_record(602))  # "Globex"
        app.drain()
        await pilot.pause()
        assert synced.row_count == shown + 1
        assert 601 in ids(synced)


async def test_enter_shows_the_detail(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.table(Status.SYNCED)
        target = synced.cursor_id
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.hudu_id == target
        text = plain(app.screen.query_one("#detail-body", Static).content)
        assert f"#{target}" in text
        assert f"https://acme.halopsa.com/kb?id={5000 + (target or 0)}" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_failed_article_detail_shows_error_status_and_hint(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "enter")
        assert isinstance(app.screen, DetailScreen)
        text = plain(app.screen.query_one("#detail-body", Static).content)
        assert "Allow Articles to be added to FAQ Lists" in text
        assert "400" in text
        assert "Attempts" in text


async def test_detail_follows_live_changes_and_r_acts_on_it(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "enter")
        assert isinstance(app.screen, DetailScreen)
        target = app.screen.hudu_id
        await pilot.press("r")
        await commands_done(app)
        app.drain()
        await pilot.pause()
        assert ("resync", target) in engine.calls
        assert app.screen.record.status == Status.SYNCED


async def test_q_while_a_pass_runs_asks_first(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        engine.running = True
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert app.is_running and ("stop",) not in engine.calls
        await pilot.press("q", "y")
        await pilot.pause()
        assert ("stop",) in engine.calls
    assert app.return_code == 0


async def test_q_when_idle_quits_at_once(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert ("stop",) in engine.calls
    assert app.return_code == 0


async def test_worker_error_is_shown_and_the_app_stays_alive(engine: FakeEngine) -> None:
    engine.fail_with = HaloError("Forbidden", status=403, hint="check the edit:kb scope")
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("r")
        await commands_done(app)
        await pilot.pause()
        assert app.is_running
        messages = [n.message for n in app._notifications]
        assert any("403" in m and "edit:kb" in m for m in messages)
        engine.fail_with = None
        await pilot.press("s")
        await commands_done(app)
        assert ("sync_now", False) in engine.calls


async def test_unexpected_worker_error_is_shown_too(engine: FakeEngine) -> None:
    engine.fail_with = RuntimeError("kaboom")
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("R")
        await commands_done(app)
        await pilot.pause()
        assert app.is_running
        assert any("kaboom" in n.message for n in app._notifications)


async def test_sync_keys_call_the_engine(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await commands_done(app)
        await pilot.press("S")
        await commands_done(app)
        await pilot.press("R")
        await commands_done(app)
        assert ("sync_now", False) in engine.calls
        assert ("sync_now", True) in engine.calls
        assert ("retry_failed",) in engine.calls


async def test_sync_while_running_does_not_queue_another(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        engine.running = True
        await pilot.press("s")
        await commands_done(app)
        assert not [c for c in engine.calls if c[0] == "sync_now"]


async def test_p_pauses_and_resumes(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        app.drain()
        assert engine.paused
        assert app.query_one(SyncHeader)._state.paused  # type: ignore[union-attr]
        await pilot.press("p")
        assert not engine.paused
        assert [c[0] for c in engine.calls if c[0] in ("pause", "resume")] == ["pause", "resume"]


async def test_tab_keys(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        tabs = app.query_one(TabbedContent)
        for key, tab in [("2", "pending"), ("3", "skipped"), ("4", "failed"), ("1", "synced")]:
            await pilot.press(key)
            assert tabs.active == tab
            assert app.focused is app.table(tab)
        await pilot.press("right_square_bracket")
        assert tabs.active == "pending"
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert tabs.active == "log"
        await pilot.press("r")
        assert not [c for c in engine.calls if c[0] == "resync"]


async def test_help_is_built_from_the_bindings(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = plain(app.screen.query_one("#help-table", Static).content)
        for binding in HhsyncApp.BINDINGS:
            assert binding.description in text  # type: ignore[union-attr]
        assert "Detail" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_command_palette_runs_the_same_actions(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        names = [name for name, _, _ in app.palette_commands()]
        assert {"Sync", "Full sync", "Retry failed", "Resync", "Unlink", "Filter"} <= set(names)
        await pilot.press("ctrl+p", *"retry")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await commands_done(app)
        await pilot.pause()
        assert ("retry_failed",) in engine.calls


async def test_logs_and_rate_limit_waits(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        engine.emit(EngineLogged("WARNING", "Halo answered 429"))
        engine.emit(RateLimitWaited("Halo", 30, "rate limit"))
        app.drain()
        await pilot.press("5")
        await pilot.pause()
        state = app.query_one(SyncHeader)._state
        assert state is not None and state.rate_wait.startswith("Halo rate limit")
        log_text = "\n".join(line.text for line in app.query_one("#log-view").lines)  # type: ignore[attr-defined]
        assert "Halo answered 429" in log_text


async def test_scheduler_failure_is_shown_and_the_app_stays(engine: FakeEngine) -> None:
    async def broken() -> None:
        raise HaloError("Unauthorized", status=401, hint="check HALO_CLIENT_SECRET")

    engine.run_scheduler = broken  # type: ignore[method-assign]
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running
        assert any("HALO_CLIENT_SECRET" in n.message for n in app._notifications)
        assert app.query_one(SyncHeader)._state.stopped  # type: ignore[union-attr]


async def test_works_at_80_by_24(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        synced = app.table(Status.SYNCED)
        total = sum(c.get_render_width(synced) for c in synced.columns.values())
        assert total <= synced.scrollable_content_region.width
        assert synced.size.height >= 12
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)


def burst(app: HhsyncApp, *keys: tuple[str, str | None]) -> None:
    """Queue keys all at once, as a paste or a slow SSH link delivers them."""
    driver = app._driver
    assert driver is not None
    for key, char in keys:
        event = events.Key(key, char)
        event.set_sender(app)
        driver.send_message(event)


async def test_keys_typed_right_after_slash_go_into_the_filter(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        burst(app, ("slash", "/"), ("v", "v"), ("p", "p"), ("n", "n"))
        await pilot.pause(0.3)
        assert app.filter_input.value == "vpn"
        assert not engine.paused
        assert ("pause",) not in engine.calls


async def test_escape_closes_an_empty_filter_bar(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.table(Status.SYNCED)
        await pilot.press("slash")
        assert app.focused is app.filter_input
        await pilot.press("escape")
        assert not app.filter_bar.display
        assert app.focused is synced
        await pilot.press("p")
        assert engine.paused


async def test_slash_is_text_inside_the_filter_and_the_palette(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", "a", "slash", "b")
        assert app.filter_input.value == "a/b"
        await pilot.press("escape", "ctrl+p", "slash")
        await pilot.pause()
        assert not app.filter_bar.display


def log_text(app: HhsyncApp) -> str:
    return "\n".join(line.text for line in app.log_view.lines)


async def test_log_names_each_failed_article_with_its_fix_in_order(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        engine.start_pass()
        engine.change(
            1,
            status=Status.FAILED,
            error="The article cannot be added to this FAQ list. Check 'Use this FAQ list for"
            " grouping other FAQ lists' on the group",
            http_status=400,
            hint='In Halo, enable "Allow Articles to be added to FAQ Lists"',
            attempts=2,
        )
        engine.emit(
            WritesFailed((1,), (engine.record(1).title,), "Halo 400 Bad Request", "enable it")  # type: ignore[union-attr]
        )
        engine.finish_pass(failed=1, created=3)
        app.drain()
        await pilot.pause()
        text = log_text(app)
        title = engine.record(1).title  # type: ignore[union-attr]
        order = [
            text.index("Pass started"),
            text.index(f"“{title}” #1"),
            text.index("Pass finished in 0s: 1 failed · 3 created"),
        ]
        assert "Halo 400 Bad Request" not in text  # each article has its own line instead
        assert order == sorted(order)
        flowing = " ".join(text.split())
        assert "HTTP 400" in flowing
        assert 'Fix: In Halo, enable "Allow Articles' in flowing
        assert "grouping other FAQ lists' on the group" in flowing  # wrapped, not cut
        assert max(len(line.text.rstrip()) for line in app.log_view.lines) <= 80
        # an unchanged failed row arriving again is not logged twice
        engine.change(1, last_attempt_at="2026-06-30T14:05:00")
        app.drain()
        await pilot.pause()
        assert log_text(app).count(f"“{title}” #1") == 1


async def test_failed_tab_shows_the_fix_of_the_highlighted_row(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        failed = app.table(Status.FAILED)
        note = app.failure_note
        assert note.display
        first = failed.cursor_id
        assert first is not None
        hint = engine.record(first).hint  # type: ignore[union-attr]
        assert failed.get_cell(str(first), "fix").plain == hint
        assert hint in " ".join(plain(note.content, 78).split())
        await pilot.press("down")
        second = failed.cursor_id
        assert note.record is not None and note.record.hudu_id == second != first
        engine.change(second, status=Status.SYNCED, error="", hint="")  # type: ignore[arg-type]
        engine.change(first, status=Status.SYNCED, error="", hint="")
        app.drain()
        await pilot.pause()
        assert not note.display


async def test_fix_panel_names_the_first_row_when_failures_arrived_on_another_tab(
    engine: FakeEngine,
) -> None:
    """Failures of a pass land in the hidden Failed table unsorted; opening the tab sorts it,
    and the Fix panel must then name the article under the cursor, not the one that was there."""
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        engine.start_pass()
        engine.change(1, status=Status.FAILED, error="Halo 400", http_status=400, hint="Fix one")
        engine.finish_pass(failed=1)
        app.drain()
        await pilot.pause()
        await pilot.press("4")
        await pilot.pause()
        failed = app.table(Status.FAILED)
        assert ids(failed)[0] == 1  # "Acme Corp" sorts before the two failures already there
        assert failed.cursor_coordinate.row == 0 and failed.cursor_id == 1
        note = app.failure_note
        assert note.record is not None and note.record.hudu_id == 1
        assert "Fix one" in plain(note.content, 78)


def toasts(app: HhsyncApp) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications]


async def run_command(app: HhsyncApp, pilot: Any, *keys: str) -> None:
    await pilot.press(*keys)
    await commands_done(app)
    app.drain()
    await pilot.pause()


async def test_retry_says_how_many_were_fixed_and_where_the_fix_is(engine: FakeEngine) -> None:
    engine.still_failing = {41}
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await run_command(app, pilot, "R")
        assert toasts(app)[-1] == (
            "Retry finished",
            "1 of 2 fixed · 1 still failing\nThe Failed tab shows what to change in Halo",
        )
        assert not [t for t in toasts(app) if t[0] == "Pass finished"]
        engine.still_failing = set()
        await run_command(app, pilot, "R")
        assert toasts(app)[-1] == ("Retry finished", "All 1 failed articles are in Halo now")


async def test_a_sync_with_nothing_to_do_says_so(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await run_command(app, pilot, "S")
        assert toasts(app)[-1] == ("Full sync finished", "Nothing to send: Halo is up to date")
        # a scheduled pass with nothing to do stays quiet
        engine.start_pass(cause=PassCause.SCHEDULED)
        engine.finish_pass()
        app.drain()
        await pilot.pause()
        assert len(toasts(app)) == 1


async def test_resync_of_an_article_hudu_no_longer_has(engine: FakeEngine) -> None:
    engine.fail_with = HhsyncError(
        "Hudu has no article 1", hint="it was deleted in Hudu: a full sync (S) removes its copy"
    )
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.table(Status.SYNCED).select_id(1)
        await run_command(app, pilot, "r")
        title, message = toasts(app)[-1]
        record = engine.record(1)
        assert record is not None and title == f"Resync of “{record.title}” failed"
        assert "Hudu has no article 1" in message and "full sync (S)" in message
        assert app.is_running
        await pilot.press("5")
        assert "Hudu has no article 1" in log_text(app)


async def test_help_lists_filter_and_dialog_keys_once(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        text = plain(app.screen.query_one("#help-table", Static).content)
        for heading in ("Sync", "Tabs", "Table", "Filter", "Dialogs", "App"):
            assert heading in text
        assert "Pause / Resume" in text
        assert "Confirm (unlink, quit)" in text
        assert text.count("Clear filter") == 1
        assert "Keep the filter" in text


async def test_palette_has_no_duplicates_and_offers_detail(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        system = [c.title for c in app.get_system_commands(app.screen)]
        assert "Keys" not in system and "Quit" not in system
        names = [name for name, _, _ in app.palette_commands()]
        assert names.count("Quit") == 1 and "Help" in names and "Detail" in names
        await pilot.press("ctrl+p", *"detail")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)


async def test_dialogs_show_their_own_keys_in_a_footer(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("u")
        keys = {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}
        assert {"y", "n"} <= keys
        assert app.screen.query("Footer")


async def test_spare_width_goes_to_title_and_scope_not_the_files_column(
    engine: FakeEngine,
) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        synced = app.table(Status.SYNCED)
        widths = {c.key.value: c.width for c in synced.columns.values()}
        assert widths["note"] == 8
        assert widths["title"] > 40
        assert synced.get_cell("9", "note").plain == "1 unsent"


async def test_header_shows_last_and_next_pass(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = plain(SyncHeader._render_state(app.query_one(SyncHeader)._state), 80)  # type: ignore[arg-type]
        assert "Halo acme.halopsa.com" in text
        assert "○ last 14:02 · next 14:07" in text
        await pilot.press("p")
        app.drain()
        text = plain(SyncHeader._render_state(app.query_one(SyncHeader)._state), 80)  # type: ignore[arg-type]
        assert "paused" in text and "next" not in text


async def test_log_kept_while_its_tab_is_hidden_is_bounded(engine: FakeEngine) -> None:
    app = make_app(engine, clock=MockClock(), settings=TuiSettings(log_max_lines=50))
    async with app.run_test(size=SIZE) as pilot:
        for n in range(200):
            engine.emit(EngineLogged("INFO", f"line {n}"))
        app.drain()
        await pilot.press("5")
        await pilot.pause()
        text = log_text(app)
        assert "line 199" in text and "line 100" not in text
        assert len(app.log_view.lines) <= 50


async def test_a_tick_after_quitting_does_nothing(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        engine.change(40, status=Status.SYNCED, error="", hint="")
    app.drain()  # the interval can fire once more while the screens are being removed
    assert app.pending_events
