"""Work the screen around the tables does only when it shows something new: the footer makes
each set of keys once (moving the cursor, typing in the filter or a tick refresh the app's
bindings each time, and `/` and esc switch between the table's keys and the filter bar's: remaking
its widgets cost ~30 ms), and a tab whose label keeps its width is relabelled without a layout
pass of the whole screen."""

from __future__ import annotations

from typing import Any

from textual.widgets._footer import FooterKey

from core.models import Status
from tests.tui.fakes import FakeEngine, make_record
from tests.tui.pilot import SIZE, app_for
from tests.tui.test_keystroke_work import layouts_asked
from tui.textual_private import KeyFooter


async def test_the_footer_makes_each_set_of_keys_once() -> None:
    """Moving the cursor, switching tabs with the same keys, opening and closing the filter bar
    again and again: the footer makes its widgets for the table's keys and the filter bar's
    once each, then shows the row it made."""
    records = [make_record(i, Status.SYNCED) for i in range(1, 40)]
    records += [make_record(i, Status.FAILED) for i in range(40, 45)]
    app = app_for(FakeEngine(records))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        made: list[int] = []
        key_widgets = footer._key_widgets

        def counted() -> Any:
            made.append(1)
            return key_widgets()

        footer._key_widgets = counted  # type: ignore[method-assign]
        table = app.dashboard.table(Status.SYNCED)
        for _ in range(5):
            await pilot.press("j")
        await pilot.pause()
        assert table.cursor_coordinate.row == 5
        assert made == []  # the cursor moved, the keys stayed
        await pilot.press("4")  # another tab, the same keys
        await pilot.pause()
        assert made == []
        await pilot.press("slash")  # the filter's keys: esc clears it
        await pilot.pause()
        assert made == [1]
        assert _footer_keys(footer) == ["escape", "f1"]
        await pilot.press("escape")  # the table's keys again: the row made at the start
        await pilot.pause()
        assert made == [1]
        assert "slash" in _footer_keys(footer)
        for _ in range(3):
            await pilot.press("slash")
            await pilot.pause()
            assert _footer_keys(footer) == ["escape", "f1"]
            await pilot.press("escape")
            await pilot.pause()
            assert "slash" in _footer_keys(footer)
        assert made == [1]
        assert [row.display for row in footer.children].count(True) == 1  # one row shown


def _footer_keys(footer: KeyFooter) -> list[str]:
    """The keys of the row shown (the rows made before are kept, hidden)."""
    shown = footer.shown_set
    return [key.key for key in shown.query(FooterKey)] if shown is not None else []


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
