"""The History tab: the engine's passes, newest first, read again after each pass."""

from __future__ import annotations

from textual.pilot import Pilot

from core.history import PassRecord
from tests.tui.fakes import FakeEngine
from tests.tui.pilot import SIZE, app_for, plain
from tui.app import HhsyncApp
from tui.widgets.history_view import HistoryView

EARLIER = PassRecord(
    started_at="2026-06-30T13:00:00+00:00",
    finished_at="2026-06-30T13:01:05+00:00",
    cause="scheduled",
    full=True,
    created=1917,
    restored=2,
    failed=3,
    halo_requests=45,
    hudu_requests=12,
    waits=2,
    waited_seconds=31.0,
)
HOSTILE = PassRecord(
    started_at="2026-06-30T14:00:00+00:00",
    finished_at="2026-06-30T14:00:09+00:00",
    error="Halo said \x1b]52;c;ZXZpbA==\x07 no",
)


async def history_read(app: HhsyncApp, pilot: Pilot[int]) -> None:
    await pilot.pause()
    readers = [w for w in app.workers if w.group == "history"]
    if readers:  # an empty list would mean every worker, the scheduler's too
        await app.workers.wait_for_complete(readers)
    await pilot.pause()


def rows(engine_app_table: object) -> list[list[str]]:
    assert isinstance(engine_app_table, HistoryView)
    return [
        [plain(cell).strip() for cell in engine_app_table.get_row_at(index)]
        for index in range(engine_app_table.row_count)
    ]


async def test_the_history_tab_lists_the_passes_newest_first_and_follows_new_ones() -> None:
    engine = FakeEngine()
    engine.passes = [HOSTILE, EARLIER]
    app = app_for(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        await history_read(app, pilot)
        view = app.dashboard.history_view
        assert app.focused is view
        shown = rows(view)
        assert len(shown) == 2
        assert "stopped: Halo said ␛]52;c;ZXZpbA==␇ no" in shown[0]
        assert "\x1b" not in "".join(shown[0])
        earlier = shown[1]
        assert earlier[1:4] == ["1m 05s", "scheduled", "full"]
        assert earlier[4] == "1,917" and earlier[7:11] == ["2", "3", "45", "12"]
        assert earlier[11] == "2 (31s)"

        engine.passes = [PassRecord("2026-06-30T15:00:00+00:00", "2026-06-30T15:00:01+00:00")]
        engine.passes += [HOSTILE, EARLIER]
        engine.start_pass()
        engine.finish_pass(updated=1)
        await history_read(app, pilot)
        assert len(rows(view)) == 3
