"""Issue 13, defect 10: no colour when asked, a cursor row that shows without colour, and a
progress bar that keeps its width as its label grows."""

from __future__ import annotations

import pytest
from rich.color import Color

from core.events import RateLimitWaited
from core.models import Status
from tests.tui.fakes import FakeEngine
from tests.tui.pilot import app_for, rendered_segments

DEFAULT = Color.parse("default")


async def test_under_no_color_no_colour_is_drawn_and_the_cursor_row_is_reversed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(FakeEngine())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.no_color
        for widget in (app.dashboard.header_bar, app.dashboard.table(Status.SYNCED)):
            for line in rendered_segments(widget):
                for segment in line:
                    style = segment.style
                    if style is not None:
                        assert style.color in (None, DEFAULT), (widget, segment)
                        assert style.bgcolor in (None, DEFAULT), (widget, segment)
        table = app.dashboard.table(Status.SYNCED)
        row = table.cursor_coordinate.row + table.header_height - int(table.scroll_y)
        cursor = rendered_segments(table)[row]
        assert all(s.style is not None and s.style.reverse for s in cursor if s.text.strip())
        other = rendered_segments(table)[row + 1]
        assert not any(s.style is not None and s.style.reverse for s in other if s.text.strip())


async def test_with_colour_the_cursor_row_is_not_reversed() -> None:
    app = app_for(FakeEngine())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.dashboard.table(Status.SYNCED)
        cursor = rendered_segments(table)[table.header_height]
        assert not any(s.style is not None and s.style.reverse for s in cursor)


@pytest.mark.parametrize("width", [120, 60])
async def test_the_progress_bar_keeps_its_width_as_its_label_grows(width: int) -> None:
    engine = FakeEngine()
    app = app_for(engine)
    async with app.run_test(size=(width, 24)) as pilot:
        bar = app.dashboard.pass_status.query_one("#pass-bar")
        engine.start_pass(full=True)
        engine.progress(1, 20_000)
        app.drain()
        await pilot.pause()
        before = bar.size.width
        engine.progress(12_345, 20_000, failed=1_234)
        engine.emit(RateLimitWaited("Halo", 42, "rate limit"))
        app.drain()
        await pilot.pause()
        assert before > 0 and bar.size.width == before
