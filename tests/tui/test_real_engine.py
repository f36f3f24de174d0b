"""The dashboard on the real engine and the in-process Hudu and Halo emulators."""

from __future__ import annotations

from textual.clock import MockClock
from textual.widgets import Static

from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState
from core.emulators.seed import SeedSummary
from core.engine import Engine
from core.models import Status
from tests.conftest import halo_copies
from tests.tui.pilot import SIZE, commands_done, ids, labels, plain, select
from tui.app import HhsyncApp, make_app
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen


def app_on(engine: Engine, *, autostart: bool = False) -> HhsyncApp:
    return make_app(engine, clock=MockClock(), autostart=autostart)


async def test_the_first_pass_fills_the_tables_live(engine: Engine, seeded: SeedSummary) -> None:
    app = app_on(engine, autostart=True)
    async with app.run_test(size=SIZE) as pilot:
        while engine.last_pass is None:
            await pilot.pause(0.05)
        app.drain()
        await pilot.pause()
        counts = engine.counts()
        assert counts["synced"] > 0
        assert sum(counts.values()) == len(engine.records())
        for key, status in enumerate(("synced", "pending", "skipped", "failed"), 1):
            assert labels(app)[status] == f"{key} {status.capitalize()} {counts[status]:,}"
            assert app.dashboard.table(status).row_count == counts[status]
        assert "created" in app.query_one("#pass-summary", Static).content  # type: ignore[operator]


async def test_r_resyncs_and_halo_receives_the_update(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    app = app_on(engine)
    async with app.run_test(size=SIZE) as pilot:
        target = app.dashboard.table(Status.SYNCED).cursor_id
        assert target is not None
        halo.log.clear()
        await pilot.press("r")
        await commands_done(app)
        posts = halo.log.matching("POST", "/api/KBArticle")
        assert posts and all(p.status == 200 for p in posts)
        assert len(halo_copies(halo, target)) == 1


async def test_u_then_y_unlinks_and_the_halo_copy_stays(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    app = app_on(engine)
    async with app.run_test(size=SIZE) as pilot:
        target = app.dashboard.table(Status.SYNCED).cursor_id
        assert target is not None
        halo.log.clear()
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await commands_done(app)
        app.drain()
        await pilot.pause()
        assert target in ids(app.dashboard.table(Status.SKIPPED))
        assert target not in ids(app.dashboard.table(Status.SYNCED))
        skipped = app.dashboard.table(Status.SKIPPED)
        assert skipped.get_cell(str(target), "reason").plain == "unlinked"
        assert halo.log.writes() == []
        assert len(halo_copies(halo, target)) == 1


async def test_an_article_halo_rejects_shows_its_hint(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    bad = seeded.published_ids[5]
    halo.reject_article_names = {hudu.articles[bad].name: 400}
    await engine.sync_now()
    app = app_on(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        failed = app.dashboard.table(Status.FAILED)
        assert bad in ids(failed)
        select(failed, bad)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        text = plain(app.screen.query_one("#detail-body", Static).content)
        assert "400" in text and "FAQ" in text
