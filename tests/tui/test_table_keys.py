"""The keys k9s, lazygit and htop users expect, as the user sees them: sort by a column, marks
and one question for many rows, undo of an unlink, copy over SSH, the position in the border,
half pages, the Log tab's search and level, tab labels with their number keys."""

from __future__ import annotations

import pytest
from textual.widgets import Label, Static

from core.models import Status
from tests.tui.fakes import FakeEngine, make_record
from tests.tui.pilot import (
    SIZE,
    app_for,
    ids,
    labels,
    log_text,
    plain,
    position_shown,
    press_one_by_one,
    run_command,
    select,
    toasts,
)
from tui.bindings import palette_entries
from tui.screens.confirm import ConfirmScreen
from tui.screens.copy import CopyScreen
from tui.screens.help import HelpScreen
from tui.sorting import SortOrder, key_maker


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


def many_synced(count: int) -> FakeEngine:
    return FakeEngine([make_record(i) for i in range(1, count + 1)])


def header(app: object, status: Status = Status.SYNCED) -> list[str]:
    table = app.dashboard.table(status)  # type: ignore[attr-defined]
    return [column.label.plain for column in table.ordered_columns]


async def test_sort_by_column_both_ways_keeps_the_cursor_on_its_article(
    engine: FakeEngine,
) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        assert "Scope ▲" in header(app)
        select(synced, 7)

        await press_one_by_one(pilot, "less_than_sign", "less_than_sign")  # Scope → Title → Hudu
        assert "Hudu ▲" in header(app) and "Scope" in header(app)
        assert ids(synced) == sorted(ids(synced))
        assert synced.cursor_id == 7

        await pilot.press("I")
        assert "Hudu ▼" in header(app)
        assert ids(synced) == sorted(ids(synced), reverse=True)
        assert synced.cursor_id == 7
        row = synced.cursor_coordinate.row
        assert synced.scroll_y <= row < synced.scroll_y + synced.size.height

        await press_one_by_one(pilot, "greater_than_sign")  # Title, still descending
        titles = [synced.get_cell(str(i), "title").plain.casefold() for i in ids(synced)]
        assert titles == sorted(titles, reverse=True)


async def test_each_tab_keeps_its_own_order(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await press_one_by_one(pilot, "less_than_sign", "I", "4")
        assert "Scope ▲" in header(app, Status.FAILED)
        await pilot.press("1")
        assert "Title ▼" in header(app)


async def test_the_line_under_the_table_says_where_the_cursor_is_and_how_many_are_marked() -> None:
    app = app_for(many_synced(1915))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert position_shown(app) == "1 of 1,915"
        await press_one_by_one(pilot, "j", "j", "space")
        await pilot.pause()
        assert position_shown(app) == "4 of 1,915 · 1 marked"
        await pilot.press("G")
        await pilot.pause()
        assert position_shown(app) == "1,915 of 1,915 · 1 marked"
        await pilot.press("2")  # another table: its own position
        await pilot.pause()
        assert position_shown(app) == "0 of 0"


async def test_ctrl_d_and_ctrl_u_move_half_a_screen() -> None:
    app = app_for(many_synced(300))
    async with app.run_test(size=(80, 24)) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        half = (synced.scrollable_content_region.height - synced.header_height) // 2
        await pilot.press("ctrl+d")
        assert synced.cursor_coordinate.row == half
        await press_one_by_one(pilot, "ctrl+d", "ctrl+u")
        assert synced.cursor_coordinate.row == half
        row = synced.cursor_coordinate.row
        assert synced.scroll_y <= row < synced.scroll_y + synced.size.height


async def test_tab_labels_carry_their_number_keys(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE):
        assert labels(app) == {
            "synced": "1 Synced 12",
            "pending": "2 Pending 4",
            "skipped": "3 Skipped 3",
            "failed": "4 Failed 2",
        }
        assert app.dashboard.tabbed.get_tab("log").label_text == "5 Log"


async def test_space_marks_rows_and_r_resyncs_them_as_one_command_after_one_question(
    engine: FakeEngine,
) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        first = ids(synced)[:3]
        await press_one_by_one(pilot, "g", "space", "space", "space")
        assert synced.marked == set(first)
        assert all(synced.get_cell(str(i), "title").plain.startswith("● ") for i in first)
        assert not synced.get_cell(str(ids(synced)[3]), "title").plain.startswith("● ")

        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        question = app.screen.query_one("#confirm-question", Label).content
        detail = str(app.screen.query_one("#confirm-detail", Label).content)
        assert question == "Resync 3 articles marked?"
        for hudu_id in first:
            record = engine.record(hudu_id)
            assert record is not None
            assert f"#{hudu_id} “{record.title}” ({record.scope})" in detail
        await run_command(app, pilot, "y")

        assert [c for c in engine.calls if c[0].startswith("resync")] == [
            ("resync_many", tuple(first))
        ]
        assert synced.marked == set()
        assert not any(synced.get_cell(str(i), "title").plain.startswith("● ") for i in first)
        assert ("Resynced", "3 articles synced") in toasts(app)
        await pilot.press("5")
        logged = log_text(app)
        for hudu_id in first:  # the engine records each article of the command
            record = engine.record(hudu_id)
            assert record is not None
            assert f"#{hudu_id} ({record.scope}) from the dashboard" in logged


async def test_a_long_list_is_cut_with_and_n_more() -> None:
    engine = many_synced(500)
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_one_by_one(pilot, "M", "r")
        assert isinstance(app.screen, ConfirmScreen)
        detail = str(app.screen.query_one("#confirm-detail", Label).content)
        assert "and 492 more" in detail
        assert len(detail.splitlines()) < 16
        await run_command(app, pilot, "y")
        (call,) = [c for c in engine.calls if c[0].startswith("resync")]
        assert call[0] == "resync_many" and len(call[1]) == 500


async def test_mark_all_follows_the_filter_and_again_clears(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        await press_one_by_one(pilot, "slash", *"vpn", "enter")
        matched = set(ids(synced))
        assert 0 < len(matched) < 12
        await pilot.press("M")
        assert synced.marked == matched
        await pilot.press("M")
        assert synced.marked == set()


async def test_u_on_marked_rows_unlinks_those_it_can_and_z_links_them_again(
    engine: FakeEngine,
) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        skipped = app.dashboard.table(Status.SKIPPED)
        synced = app.dashboard.table(Status.SYNCED)
        await press_one_by_one(pilot, "g", "space", "space", "3", "space", "1", "u")
        assert isinstance(app.screen, ConfirmScreen)  # only the Synced tab's marks
        chosen = [i for i in ids(synced) if i in synced.marked]
        assert len(chosen) == 2 and len(skipped.marked) == 1
        await run_command(app, pilot, "y")
        assert ("unlink_many", tuple(chosen)) in engine.calls
        assert all(str(i) in skipped.rows for i in chosen)
        assert any(title == "Unlinked" and "z undoes" in text for title, text in toasts(app))

        await run_command(app, pilot, "z")
        assert ("resync_many", tuple(chosen)) in engine.calls
        assert all(str(i) in synced.rows for i in chosen)
        assert ("Unlink undone", "2 articles relinked") in toasts(app)
        await run_command(app, pilot, "z")
        assert toasts(app)[-1][1].startswith("Nothing to undo")


async def test_z_undoes_a_single_unlink_too(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        select(synced, 5)
        await run_command(app, pilot, "u", "y")
        assert engine.record(5).unlinked  # type: ignore[union-attr]
        await run_command(app, pilot, "z")
        assert ("resync_many", (5,)) in engine.calls
        assert not engine.record(5).unlinked  # type: ignore[union-attr]


async def test_u_on_marks_none_can_unlink_says_so(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await press_one_by_one(pilot, "2", "M", "u")
        assert not isinstance(app.screen, ConfirmScreen)
        assert "None of the 4 articles marked can be unlinked" in toasts(app)[-1][1]
        assert not [c for c in engine.calls if c[0].startswith("unlink")]


async def test_y_copies_a_link_or_id_to_the_clipboard_and_says_what(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        select(synced, 4)
        await pilot.press("y")
        assert isinstance(app.screen, CopyScreen)
        menu = plain(app.screen.query_one("#copy-menu", Static).content)
        assert "Hudu link" in menu and "https://acme.huducloud.com/kba/article-4" in menu
        await pilot.press("h")
        assert not isinstance(app.screen, CopyScreen)
        assert app.clipboard == "https://acme.halopsa.com/kb?id=5004"
        assert toasts(app)[-1] == ("Copied the Halo link of #4", app.clipboard)

        await press_one_by_one(pilot, "y", "i")
        assert app.clipboard == "4"
        await press_one_by_one(pilot, "enter", "y", "u")  # from the detail pane too
        assert app.clipboard == "https://acme.huducloud.com/kba/article-4"


async def test_y_refuses_a_link_that_would_run_a_command_once_pasted() -> None:
    hostile = make_record(3, hudu_url="https://x.test/a\nrm -rf ~\n")
    engine = FakeEngine([hostile, make_record(4, Status.PENDING)])
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await press_one_by_one(pilot, "y", "u")
        assert app.clipboard == ""
        assert "not copied" in toasts(app)[-1][1]
        await press_one_by_one(pilot, "2", "y", "h")
        assert app.clipboard == ""
        assert toasts(app)[-1][1] == "#4 has no Halo copy yet"


async def test_log_search_and_level_filter(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        log = app.dashboard.event_log
        log.write_entry("INFO", "Pass started")
        log.write_entry("WARNING", "“VPN setup” #3 (Acme) failed")
        log.write_entry("ERROR", "Pass stopped: Halo answered 401")
        await press_one_by_one(pilot, "5", "slash", *"vpn", "enter")
        assert log_text(app).count("\n") == 0 and "VPN setup" in log_text(app)
        assert "1 of 3 entries" in str(log.border_subtitle)
        await press_one_by_one(pilot, "slash", "escape")
        assert "Pass started" in log_text(app)

        await pilot.press("e")
        assert "Pass started" not in log_text(app) and "VPN setup" in log_text(app)
        await pilot.press("e")
        assert "VPN setup" not in log_text(app) and "Pass stopped" in log_text(app)
        assert "errors only" in str(log.border_subtitle)
        await pilot.press("e")
        assert "Pass started" in log_text(app)


async def test_the_new_keys_are_in_help_and_the_palette(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        names = {name for name, _, _ in palette_entries(app)}
        expected = {"Mark", "Mark all", "Undo unlink", "Copy", "Sort by the next column"}
        assert expected | {"Reverse the order", "Half page down"} <= names
        await pilot.press("5")
        log_names = {name for name, _, _ in palette_entries(app)}
        assert {"Search the log", "Log level shown"} <= log_names
        assert "Mark" not in log_names
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = plain(app.screen.query_one("#help-table", Static).content)
        for heading in ("Marked rows", "Sort (each tab its own)", "Log tab"):
            assert heading in text
        for key in ("space", "z", "y", "I", "^d", "e"):
            assert key in text


async def test_u_on_marks_leaves_out_those_it_cannot_unlink_and_says_so() -> None:
    changed = make_record(20, Status.PENDING, halo_id=5020, reason="edited in Hudu")
    new = make_record(21, Status.PENDING, reason="new in Hudu")
    engine = FakeEngine([changed, new])
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await press_one_by_one(pilot, "2", "M", "u")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.query_one("#confirm-question", Label).content == (
            "Unlink 1 article marked?"
        )
        detail = str(app.screen.query_one("#confirm-detail", Label).content)
        assert "#20 “" in detail and "#21 “" not in detail
        assert "1 article marked left out: no Halo copy" in detail
        await run_command(app, pilot, "y")
        assert ("unlink_many", (20,)) in engine.calls


def test_times_sort_by_the_moment_not_by_how_they_are_written() -> None:
    order = SortOrder("when", descending=False)
    stamps = {
        1: "2025-12-31T23:30:00+00:00",
        2: "2026-01-01T00:10:00+01:00",  # 23:10 UTC, before 1
        3: "2026-01-01T00:05:00+00:00",
        4: "",
    }
    records = [make_record(i, last_synced_at=stamp) for i, stamp in stamps.items()]
    keyed = sorted(records, key=key_maker(order, Status.SYNCED))
    assert [r.hudu_id for r in keyed] == [4, 2, 1, 3]


async def test_a_click_on_a_header_sorts_by_it_and_a_second_reverses(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        x = synced.ordered_columns[0].get_render_width(synced) // 2  # the Hudu column
        await pilot.click(synced, offset=(x, 0))
        assert "Hudu ▲" in header(app)
        assert ids(synced) == sorted(ids(synced))
        await pilot.click(synced, offset=(x, 0))
        assert "Hudu ▼" in header(app)
        assert ids(synced) == sorted(ids(synced), reverse=True)


async def test_a_row_the_filter_hides_loses_its_mark(engine: FakeEngine) -> None:
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        await press_one_by_one(pilot, "M", "slash", *"vpn", "enter")
        shown = set(ids(synced))
        assert synced.marked == shown and len(shown) < 12
        await pilot.pause()
        assert position_shown(app).endswith(f"· {len(shown)} marked")
