"""Work the screen around the tables does only when it shows something new: the footer repaints
its one line when its keys change (moving the cursor, typing in the filter or a tick refresh the
app's bindings each time, and `/` and esc switch between the table's keys and the filter's: the
stock footer's widgets cost ~30 ms to make and a layout pass to show), and a tab whose label
keeps its width is relabelled without a layout pass of the whole screen."""

from __future__ import annotations

from textual.geometry import Offset

from core.models import Status
from tests.tui.fakes import FakeEngine, make_record
from tests.tui.pilot import SIZE, app_for, commands_done, rendered_lines
from tests.tui.test_keystroke_work import layouts_asked
from tui.widgets.key_footer import KeyFooter


async def test_the_footer_switches_its_keys_with_no_widget_made_and_no_layout_pass() -> None:
    """Moving the cursor, switching tabs with the same keys, opening and closing the filter
    again and again: the footer repaints its one line, and only when its keys change."""
    records = [make_record(i, Status.SYNCED) for i in range(1, 40)]
    records += [make_record(i, Status.FAILED) for i in range(40, 45)]
    app = app_for(FakeEngine(records))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        table_keys = footer.keys_shown
        assert "slash" in table_keys and table_keys[-2:] == ["question_mark", "q"]
        asked = layouts_asked(footer)
        for _ in range(5):
            await pilot.press("j")
        await pilot.press("4")  # another tab, the same keys
        await pilot.pause()
        assert asked == []  # the cursor moved, the tab changed: the keys stayed
        for _ in range(3):
            await pilot.press("slash")
            await pilot.pause()
            assert footer.keys_shown == ["escape", "f1"]
            assert rendered_lines(footer)[0].startswith("esc Clear filter")
            await pilot.press("escape")
            await pilot.pause()
            assert footer.keys_shown == table_keys
        assert asked and not any(asked)
        assert not footer.children


async def test_a_key_in_the_footer_is_pressed_by_a_click_and_says_what_it_does() -> None:
    engine = FakeEngine([make_record(i, Status.SYNCED) for i in range(1, 10)])
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        line = rendered_lines(footer)[0]
        sync_at = Offset(line.index("s Sync"), 0)
        await pilot.hover(KeyFooter, offset=sync_at)
        await pilot.pause()
        assert footer.tooltip == "Run an incremental pass now"
        assert footer.hovered == "s"
        await pilot.click(KeyFooter, offset=sync_at)
        await commands_done(app)
        assert ("sync_now", False) in engine.calls


async def test_a_count_as_wide_as_before_relabels_its_tab_without_a_layout_pass() -> None:
    engine = FakeEngine([make_record(i, Status.SYNCED) for i in range(1, 40)])
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tab = app.dashboard.tabbed.get_tab("synced")
        layouts = layouts_asked(tab)
        engine.change(5, status=Status.FAILED)  # Synced 39 -> Synced 38
        app.drain()
        await pilot.pause()
        assert tab.label_text.endswith("Synced 38")
        assert layouts and not any(layouts)
        assert "Synced 38" in str(tab.render())
        for hudu_id in range(6, 36):  # Synced 38 -> Synced 8: narrower, laid out again
            engine.change(hudu_id, status=Status.FAILED)
        app.drain()
        await pilot.pause()
        assert tab.label_text.endswith("Synced 8")
        assert layouts.count(True) == 1  # one pass: it sizes the tab to what it expects
