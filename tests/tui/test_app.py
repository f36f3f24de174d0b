"""Pilot tests: the dashboard driven by keys against a fake engine."""

from __future__ import annotations

import pytest
from textual.clock import MockClock
from textual.widgets import Static, TabbedContent

from core.errors import HaloError, HhsyncError
from core.events import ArticleRemoved, EngineLogged, PassCause, RateLimitWaited, WritesFailed
from core.models import Status
from tests.tui.fakes import FakeEngine, make_record, sample_records
from tests.tui.pilot import (
    SIZE,
    app_for,
    burst,
    commands_done,
    count_cells_made,
    filtered_tabs,
    focused,
    header_state,
    ids,
    labels,
    log_text,
    plain,
    position_shown,
    press_one_by_one,
    run_command,
    screen_workers_done,
    select,
    toasts,
)
from tui.app import HhsyncApp, make_app
from tui.bindings import palette_entries
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.screens.help import HelpScreen
from tui.settings import TuiSettings
from tui.widgets.header import render_header
from tui.widgets.pass_status import PassStatus


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


async def test_tabs_show_live_counts(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        assert labels(app) == {
            "synced": "1 Synced 12",
            "pending": "2 Pending 4",
            "skipped": "3 Skipped 3",
            "failed": "4 Failed 2",
        }
        engine.add(make_record(50, Status.PENDING))
        engine.change(40, status=Status.SYNCED, error="", hint="")
        app.drain()
        await pilot.pause()
        assert labels(app)["pending"] == "2 Pending 5"
        assert labels(app)["failed"] == "4 Failed 1"
        assert labels(app)["synced"] == "1 Synced 13"


async def test_rows_move_between_tables(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        pending, synced = app.dashboard.table(Status.PENDING), app.dashboard.table(Status.SYNCED)
        assert 21 in ids(pending)
        engine.change(21, status=Status.PENDING, reason="in flight")
        engine.change(21, status=Status.SYNCED, halo_id=777, last_synced_at="2026-06-30T13:00:00")
        app.drain()
        await pilot.pause()
        assert 21 not in ids(pending)
        assert 21 in ids(synced)
        assert synced.get_cell("21", "halo").plain == "777"
        assert synced.get_cell("21", "when").plain == "62m"  # the fixed time now is 14:02


async def test_only_the_changed_row_makes_its_cells_again(
    engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        await pilot.pause()
        made = count_cells_made(monkeypatch)
        engine.change(3, last_synced_at="2026-07-02T08:00:00")
        app.drain()
        await pilot.pause()
        assert made == [3]
        assert synced.get_cell("3", "when").plain == "in 41h"


async def test_removed_article_leaves_its_table(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        engine.emit(ArticleRemoved(30))
        app.drain()
        await pilot.pause()
        assert 30 not in ids(app.dashboard.table(Status.SKIPPED))
        assert labels(app)["skipped"] == "3 Skipped 2"


async def test_many_rows_leaving_at_once_keep_order_and_cursor(engine: FakeEngine) -> None:
    records = [make_record(i) for i in range(1, 301)]
    engine = FakeEngine(records)
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
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
        assert app.dashboard.table(Status.FAILED).row_count == 150 - (
            1 if chosen and chosen % 2 else 0
        )


async def test_at_the_top_the_cursor_stays_on_the_first_row(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        engine.add(make_record(600, title="AAA arrives first", scope="Acme Corp"))
        app.drain()
        await pilot.pause()
        assert synced.cursor_coordinate.row == 0
        assert synced.cursor_id == 600


async def test_a_selected_row_keeps_its_place_on_screen(engine: FakeEngine) -> None:
    engine = FakeEngine([make_record(i) for i in range(1, 201)])
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
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
        assert header_state(app).running
        engine.finish_pass(created=20, updated=4, failed=1)
        app.drain()
        await pilot.pause()
        assert not status.running
        assert "20 created" in status.summary_text


async def test_r_resyncs_the_selected_row(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        second = ids(app.dashboard.table(Status.PENDING))[1]  # before the tick moves it out
        await press_one_by_one(pilot, "2", "down", "r")
        await commands_done(app)
        assert ("resync", second) in engine.calls


async def test_a_resync_leaves_the_last_pass_summary_in_place(engine: FakeEngine) -> None:
    """A resync is not a pass: the progress its one batch reports must not open the pass bar
    (which no `PassFinished` would ever close)."""
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        status = app.query_one(PassStatus)
        await pilot.press("r")
        await commands_done(app)
        app.drain()
        await pilot.pause()
        assert not status.running
        assert "Last full pass" in str(status.query_one("#pass-summary", Static).content)


async def test_u_then_y_unlinks_and_the_row_moves_to_skipped(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
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
        skipped = app.dashboard.table(Status.SKIPPED)
        assert skipped.get_cell(str(target), "reason").plain == "unlinked"


@pytest.mark.parametrize("key", ["n", "escape"])
async def test_u_then_n_or_escape_cancels(engine: FakeEngine, key: str) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await press_one_by_one(pilot, "u", key)
        await commands_done(app)
        assert not isinstance(app.screen, ConfirmScreen)
        assert not [c for c in engine.calls if c[0] == "unlink"]


async def test_slash_filters_as_you_type_and_escape_clears(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        await press_one_by_one(pilot, "slash", *"vpn")
        await pilot.pause(0.3)
        assert ids(synced) and all(
            "VPN" in synced.get_cell(str(i), "title").plain for i in ids(synced)
        )
        assert labels(app)["synced"] == "1 Synced 12"  # as wide as before: no layout pass
        assert filtered_tabs(app) == {"synced"}  # its count underlined
        assert position_shown(app) == f"1 of {synced.row_count} matching"
        await pilot.press("enter")
        assert app.focused is synced
        await pilot.press("escape")
        await pilot.pause()
        assert synced.row_count == 12
        assert labels(app)["synced"] == "1 Synced 12" and not filtered_tabs(app)
        assert position_shown(app) == "1 of 12"


async def test_filter_applies_to_rows_that_arrive_later(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await press_one_by_one(pilot, "slash", *"acme", "enter")
        await pilot.pause(0.3)
        synced = app.dashboard.table(Status.SYNCED)
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
        synced = app.dashboard.table(Status.SYNCED)
        target = synced.cursor_id
        await pilot.press("enter")
        await pilot.pause()  # the row's selection reaches the app as a message
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
        await press_one_by_one(pilot, "4", "enter")
        assert isinstance(app.screen, DetailScreen)
        text = plain(app.screen.query_one("#detail-body", Static).content)
        assert "Allow Articles to be added to FAQ Lists" in text
        assert "400" in text
        assert "Attempts" in text


async def test_detail_follows_live_changes_and_r_acts_on_it(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await press_one_by_one(pilot, "4", "enter")
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
        await press_one_by_one(pilot, "q", "y")
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
        messages = [message for _, message in toasts(app)]
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
        assert any("kaboom" in message for _, message in toasts(app))


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


async def test_incremental_sync_while_running_does_not_queue_another(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        engine.running = True
        await pilot.press("s")
        await commands_done(app)
        assert not [c for c in engine.calls if c[0] == "sync_now"]


async def test_p_pauses_and_resumes(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await run_command(app, pilot, "p")
        assert engine.paused
        assert header_state(app).paused
        await run_command(app, pilot, "p")
        assert not engine.paused
        assert [c[0] for c in engine.calls if c[0] in ("pause", "resume")] == ["pause", "resume"]


async def test_tab_keys(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        tabs = app.query_one(TabbedContent)
        for key, tab in [("2", "pending"), ("3", "skipped"), ("4", "failed"), ("1", "synced")]:
            await pilot.press(key)
            await pilot.pause()  # the table takes the focus when the tab's activation arrives
            assert tabs.active == tab
            assert app.focused is app.dashboard.table(tab)
        await pilot.press("right_square_bracket")
        assert tabs.active == "pending"
        await press_one_by_one(pilot, "left_square_bracket", "left_square_bracket")
        assert tabs.active == "history"
        assert app.focused is app.dashboard.history_view
        await pilot.press("left_square_bracket")
        assert tabs.active == "log"
        await pilot.press("h")
        assert tabs.active == "history"
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
        names = [name for name, _, _ in palette_entries(app)]
        assert {"Sync", "Full sync", "Retry failed", "Resync", "Unlink", "Filter"} <= set(names)
        await press_one_by_one(pilot, "ctrl+p", *"retry")
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
        assert header_state(app).rate_wait.startswith("Halo rate limit")
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
        assert any("HALO_CLIENT_SECRET" in message for _, message in toasts(app))
        assert header_state(app).stopped


async def test_works_at_80_by_24(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        synced = app.dashboard.table(Status.SYNCED)
        total = sum(c.get_render_width(synced) for c in synced.columns.values())
        assert total <= synced.scrollable_content_region.width
        assert synced.size.height >= 12
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)


async def test_keys_typed_right_after_slash_go_into_the_filter(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        burst(app, ("slash", "/"), ("v", "v"), ("p", "p"), ("n", "n"))
        await pilot.pause(0.3)
        assert app.dashboard.filter_input.value == "vpn"
        assert not engine.paused
        assert ("pause",) not in engine.calls


async def test_a_tab_key_and_slash_in_one_burst_filter_the_new_tab() -> None:
    """`2/vpn` arriving at once (a fast typist over SSH): the Pending tab shows, filtered by
    "vpn"; no key is lost or run as a command (`p` would pause)."""
    engine = FakeEngine(sample_records())
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        burst(app, ("2", "2"), ("slash", "/"), ("v", "v"), ("p", "p"), ("n", "n"))
        await pilot.pause(0.3)
        dashboard = app.dashboard
        assert dashboard.active_tab == "pending"
        assert focused(app) is dashboard.filter_input and dashboard.filter_input.value == "vpn"
        await pilot.press("enter")  # the search now, not on the debounce timer
        assert dashboard.table(Status.PENDING).filter_text == "vpn"
        assert not engine.paused
        await pilot.press("slash")
        burst(app, ("2", "2"), ("right_square_bracket", "]"))  # typed into the filter: text
        await pilot.pause(0.3)
        assert dashboard.filter_input.value.endswith("2]") and dashboard.active_tab == "pending"


async def test_escape_closes_an_empty_filter_bar(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        await pilot.press("slash")
        assert app.focused is app.dashboard.filter_input
        await pilot.press("escape")
        assert not app.dashboard.filter_open
        assert focused(app) is synced
        await run_command(app, pilot, "p")
        assert engine.paused


async def test_slash_is_text_inside_the_filter_and_the_palette(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await press_one_by_one(pilot, "slash", "a", "slash", "b")
        assert app.dashboard.filter_input.value == "a/b"
        await press_one_by_one(pilot, "escape", "ctrl+p", "slash")
        await pilot.pause()
        assert not app.dashboard.filter_open
        await screen_workers_done(app, pilot)  # the palette's search, which raises if cut off
        await pilot.press("escape")


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
        assert max(len(line.text.rstrip()) for line in app.dashboard.event_log.lines) <= 80
        # an unchanged failed row arriving again is not logged twice
        engine.change(1, last_attempt_at="2026-06-30T14:05:00")
        app.drain()
        await pilot.pause()
        assert log_text(app).count(f"“{title}” #1") == 1


async def test_failed_tab_shows_the_fix_of_the_highlighted_row(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        failed = app.dashboard.table(Status.FAILED)
        note = app.dashboard.failure_note
        assert note.display
        first = failed.cursor_id
        assert first is not None
        hint = engine.record(first).hint  # type: ignore[union-attr]
        assert failed.get_cell(str(first), "fix").plain == hint
        assert hint in " ".join(plain(note.content, 78).split())
        await pilot.press("down")
        second = failed.cursor_id
        assert note.record is not None and note.record.hudu_id == second != first
        engine.change(second, status=Status.SYNCED, error="", hint="")
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
        failed = app.dashboard.table(Status.FAILED)
        assert ids(failed)[0] == 1  # "Acme Corp" sorts before the two failures already there
        assert failed.cursor_coordinate.row == 0 and failed.cursor_id == 1
        note = app.dashboard.failure_note
        assert note.record is not None and note.record.hudu_id == 1
        assert "Fix one" in plain(note.content, 78)


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
        select(app.dashboard.table(Status.SYNCED), 1)
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
        names = [name for name, _, _ in palette_entries(app)]
        assert names.count("Quit") == 1 and "Help" in names and "Detail" in names
        await press_one_by_one(pilot, "ctrl+p", *"detail")
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
        synced = app.dashboard.table(Status.SYNCED)
        widths = {c.key.value: c.width for c in synced.columns.values()}
        assert widths["note"] == 8
        assert widths["title"] > 40
        assert synced.get_cell("9", "note").plain == "1 unsent"


async def test_header_shows_last_and_next_pass(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = plain(render_header(header_state(app)), 80)
        assert "Halo acme.halopsa.com" in text
        assert "○ last 14:02 · next 14:07" in text
        await run_command(app, pilot, "p")
        text = plain(render_header(header_state(app)), 80)
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
        assert len(app.dashboard.event_log.lines) <= 50


async def test_a_tick_after_quitting_does_nothing(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        engine.change(40, status=Status.SYNCED, error="", hint="")
    app.drain()  # the interval can fire once more while the screens are being removed
    assert app.pending_events
