"""The dashboard attached to a real service: the control server of `hhsync run` in this process
on a Unix socket, serving a real engine on the in-process emulators, and the dashboard opening
it as `hhsync-tui` does (`core.attach.open_engine`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.clock import MockClock

from core.attach import open_engine
from core.emulators.halo import HaloState
from core.emulators.seed import SeedSummary
from core.engine import Engine
from core.models import Status
from core.remote import RemoteEngine
from core.service import ControlService
from tests.conftest import halo_copies, make_settings
from tests.test_service import until
from tests.tui.pilot import SIZE, header_state, ids, labels, run_command, toasts
from tui import notices
from tui.app import HhsyncApp, make_app
from tui.cli import attached_service


async def shown(app: HhsyncApp, condition: Callable[[], bool]) -> None:
    """Wait until the dashboard shows `condition` (events are applied on its tick)."""
    await until(condition)
    app.drain()


async def test_the_dashboard_drives_and_follows_a_real_service_across_a_restart(
    engine: Engine, halo: HaloState, seeded: SeedSummary, short_dir: Path
) -> None:
    path = short_dir / "s.sock"
    secrets = engine.settings.secrets()
    service = ControlService(engine, path, secrets=secrets)
    await service.start()
    try:
        settings = make_settings(engine.store.path, hhsync_socket=path)
        async with open_engine(settings, follow=False) as remote:
            assert isinstance(remote, RemoteEngine)
            app = make_app(remote, clock=MockClock(), service=attached_service(remote))
            async with app.run_test(size=SIZE, notifications=True) as pilot:
                assert header_state(app).service_pid == service.context.facts.pid

                # s: the pass runs in the service; its rows reach the dashboard
                await run_command(app, pilot, "s")
                synced = app.dashboard.table(Status.SYNCED)
                counts = engine.counts()
                await shown(app, lambda: synced.row_count == counts["synced"] > 0)
                assert labels(app)["synced"] == f"1 Synced {counts['synced']:,}"
                assert sorted(ids(synced)) == sorted(
                    r.hudu_id for r in engine.records() if r.status == Status.SYNCED
                )

                # r: the service resyncs the article, and Halo receives it once
                target = synced.cursor_id
                assert target is not None
                halo.log.clear()
                await run_command(app, pilot, "r")
                assert len(halo.log.matching("POST", "/api/KBArticle")) == 1
                assert len(halo_copies(halo, target)) == 1

                # the service stops: the dashboard says so and refuses what needs it
                await service.stop()
                await shown(app, lambda: header_state(app).service_lost)
                await pilot.pause()
                assert app.is_running
                await run_command(app, pilot, "s")
                assert toasts(app)[-1][1] == notices.SERVICE_NOT_ANSWERING.message

                # meanwhile the engine unlinks the article: no event reaches the dashboard
                await engine.unlink(target)

                # the service is back: reconnected, and the tables are current again
                service = ControlService(engine, path, secrets=secrets)
                await service.start()
                await shown(app, lambda: not header_state(app).service_lost)
                await until(lambda: target in ids(app.dashboard.table(Status.SKIPPED)))
                assert target not in ids(synced)
                back = notices.service_back(service.context.facts.pid)
                await until(lambda: back.title in [title for title, _ in toasts(app)])
                await run_command(app, pilot, "s")
                await until(lambda: toasts(app)[-1][0] == "Sync finished")
    finally:
        await service.stop()
