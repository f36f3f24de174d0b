"""Issue 13, defect 9: on a narrow or short terminal the columns give way by priority, and the
footer's Help and Quit, the header's state, an empty tab's note and the failed rows still show."""

from __future__ import annotations

from core.models import Status
from tests.tui.fakes import FakeEngine, make_record, sample_records
from tests.tui.pilot import app_for, press_one_by_one, rendered_lines
from tui.widgets.header import SyncHeader
from tui.widgets.key_footer import KeyFooter


async def test_columns_give_way_by_priority_and_come_back() -> None:
    engine = FakeEngine()
    app = app_for(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        synced.move_cursor(row=5)
        chosen = synced.cursor_id
        assert list(synced.shown_keys) == ["id", "title", "scope", "halo", "when", "note"]
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert list(synced.shown_keys) == ["id", "title", "scope", "halo", "when"]  # Files first
        assert synced.columns["title"].width >= 35  # type: ignore[index]
        assert synced.cursor_id == chosen
        await pilot.resize_terminal(60, 15)
        await pilot.pause()
        assert list(synced.shown_keys) == ["id", "title", "scope"]  # then Halo, then Synced
        engine.change(1, title="Renamed while narrow", halo_id=9001)
        app.drain()
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert list(synced.shown_keys) == ["id", "title", "scope", "halo", "when", "note"]
        assert synced.get_cell("1", "title").plain == "Renamed while narrow"
        assert synced.get_cell("1", "halo").plain == "9001"  # changed while its column was hidden
        assert synced.cursor_id == chosen


async def test_at_60_by_15_help_quit_the_state_and_every_failed_row_show() -> None:
    records = [*sample_records(), make_record(42, Status.FAILED, error="Halo 400", hint="Fix it")]
    app = app_for(FakeEngine(records))
    async with app.run_test(size=(60, 15)) as pilot:
        await press_one_by_one(pilot, "4")
        await pilot.pause()
        footer = app.dashboard.query_one(KeyFooter)
        [line] = rendered_lines(footer)
        assert line.rstrip().endswith("? Help q Quit"), line
        assert footer.region.right == 60 and footer.region.y == 14
        assert line.startswith("⏎ Detail s Sync")  # the keys that fit whole, then the pinned
        header = " ".join(rendered_lines(app.dashboard.query_one(SyncHeader)))
        assert "○ last 14:02 · next 14:07" in header, header
        failed = app.dashboard.table(Status.FAILED)
        rows_shown = failed.scrollable_content_region.height - failed.header_height
        assert failed.row_count == 3 and rows_shown >= 3
        note = " ".join(rendered_lines(app.dashboard.failure_note))
        assert "Fix" in note


async def test_at_60_columns_an_empty_tab_says_all_of_its_note() -> None:
    app = app_for(FakeEngine([make_record(1)]))
    async with app.run_test(size=(60, 15)) as pilot:
        app.dashboard.pass_status.add_class("-running")
        await press_one_by_one(pilot, "2", "1")
        await press_one_by_one(pilot, "slash", *"no such words here", "enter")
        await pilot.pause(0.3)
        note = app.dashboard.empty_notes[Status.SYNCED]
        text = " ".join(line.strip() for line in rendered_lines(note))
        assert text.endswith("esc clears the filter"), text
        assert "Nothing here matches “no such words here”" in text
