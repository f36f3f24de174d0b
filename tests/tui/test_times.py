"""Issue 13, defect 8: ages in the tables (as k9s's AGE), full ISO with the zone in the detail."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from textual.clock import MockClock
from textual.widgets import Static

from core.models import Status
from tests.tui.fakes import FIXED, FakeEngine, make_record, sample_records
from tests.tui.pilot import plain, press_one_by_one, rendered_lines, select
from tui.app import make_app
from tui.screens.detail import DetailScreen
from tui.times import age, full_time, span


@pytest.fixture
def london() -> Iterator[None]:
    """The local zone is Europe/London (BST in summer) for the test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "Europe/London")
        time.tzset()
        yield
    time.tzset()


SPANS = [(0, "0s"), (45, "45s"), (119, "119s"), (180, "3m"), (5 * 3600, "5h"), (47 * 3600, "47h")]
SPANS += [(3 * 86_400, "3d"), (364 * 86_400, "364d"), (400 * 86_400, "1y"), (800 * 86_400, "2y")]


@pytest.mark.parametrize(("seconds", "text"), SPANS)
def test_spans_read_like_k9s_ages(seconds: int, text: str) -> None:
    assert span(seconds) == text


def test_an_age_is_counted_in_one_zone_whatever_the_stored_form(london: None) -> None:
    now = datetime(2026, 6, 30, 15, 2, 11, tzinfo=UTC)  # 16:02:11 in London
    assert age("2026-06-30T16:01:30", now) == "41s"  # stored without a zone: local time
    assert age("2026-06-30T15:01:30+00:00", now) == "41s"
    assert age("2025-05-01T09:00:00+00:00", now) == "1y"
    assert age("2026-06-30T15:30:00+00:00", now) == "in 27m"
    assert age("", now) == age("not a time", now) == ""


def test_the_detail_time_is_iso_with_its_zone(london: None) -> None:
    assert full_time("2026-06-30T14:01:30+00:00") == "2026-06-30T15:01:30+01:00 BST"
    assert full_time("2026-01-12T09:52:00+00:00") == "2026-01-12T09:52:00+00:00 GMT"
    assert full_time("") == "—"


async def test_tables_show_ages_that_grow_and_the_detail_shows_iso(london: None) -> None:
    clock = {"now": FIXED}
    records = [
        *sample_records(),
        make_record(50, Status.PENDING, hudu_updated_at="2025-03-01T10:00:00"),
    ]
    engine = FakeEngine(records)
    app = make_app(engine, clock=MockClock(), now=lambda: clock["now"], autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        synced = app.dashboard.table(Status.SYNCED)
        pending = app.dashboard.table(Status.PENDING)
        assert synced.get_cell("1", "when").plain == "41s"  # synced 14:01:30, now 14:02:11
        assert pending.get_cell("20", "when").plain == "28h"
        assert pending.get_cell("50", "when").plain == "1y"
        clock["now"] = FIXED + timedelta(minutes=5)
        app.dashboard.refresh_ages()
        await pilot.pause()
        assert synced.get_cell("1", "when").plain == "5m"
        row = synced.get_row_index("1") + synced.header_height
        assert rendered_lines(synced)[row].rstrip().endswith("5m")  # painted again
        select(synced, 1)
        await press_one_by_one(pilot, "enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        text = plain(app.screen.query_one("#detail-body", Static).content)
        assert "2026-06-30T14:01:30+01:00 BST" in text
        assert "06-30 14:01" not in text
