"""Issue 13, defect 4: the note under the Failed table follows the highlighted row while
failures stream in during a pass."""

from __future__ import annotations

from core.models import ArticleRecord, Status
from tests.tui.fakes import FakeEngine, make_record
from tests.tui.pilot import app_for, press_one_by_one, rendered_lines


def failed(hudu_id: int, scope: str) -> ArticleRecord:
    return make_record(
        hudu_id, Status.FAILED, scope=scope, error=f"Halo 400 for {hudu_id}", http_status=400
    )


async def test_the_failure_note_names_the_highlighted_row_as_failures_stream_in() -> None:
    engine = FakeEngine([make_record(1), failed(90, "Zeta Corp")])
    app = app_for(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.dashboard.table(Status.FAILED)
        note = app.dashboard.failure_note
        await press_one_by_one(pilot, "4")
        engine.start_pass(full=True)
        app.drain()
        # Each sorts above every row before it: the highlight (row 0) lands on it.
        for hudu_id, scope in [(91, "Omega Ltd"), (92, "Kappa Inc"), (93, "Alpha Co")]:
            engine.add(failed(hudu_id, scope))
            app.drain()
            await pilot.pause()
            assert table.cursor_coordinate.row == 0
            assert table.cursor_id == hudu_id
            assert note.record is not None and note.record.hudu_id == hudu_id
            assert f"Halo 400 for {hudu_id}" in " ".join(rendered_lines(note))
        # One that sorts below the highlighted row leaves both where they are.
        engine.add(failed(94, "Zulu"))
        app.drain()
        await pilot.pause()
        assert note.record is not None
        assert table.cursor_id == note.record.hudu_id == 93
        # The user moves down: the note follows, and a new row above keeps the cursor's article.
        await press_one_by_one(pilot, "j")
        chosen = table.cursor_id
        engine.add(failed(95, "Aardvark"))
        app.drain()
        await pilot.pause()
        assert table.cursor_id == chosen
        assert note.record is not None and note.record.hudu_id == chosen
