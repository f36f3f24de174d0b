"""The client side of the service: `RemoteEngine` mirrors a real service over its socket, says
when the service stops and catches up when it is back; `open_engine` picks service or
embedded."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from core.attach import open_engine
from core.emulators.seed import SeedSummary
from core.engine import Engine
from core.errors import HhsyncError
from core.events import ArticleChanged, Event, ServiceAttached, ServiceLost
from core.models import Status
from core.remote import ControlClient, RemoteEngine, find_service
from core.service import ControlService
from tests.conftest import make_settings


def rows(engine: Engine | RemoteEngine) -> dict[int, object]:
    return {record.hudu_id: record for record in engine.records()}


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="hr-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def remote(short_dir: Path) -> AsyncIterator[RemoteEngine]:
    engine = RemoteEngine(ControlClient(short_dir / "s.sock"))
    yield engine
    await engine.close()


def serve(engine: Engine, socket: Path) -> ControlService:
    return ControlService(engine, socket, secrets=engine.settings.secrets())


async def test_a_remote_engine_mirrors_the_service_and_runs_its_commands(
    engine: Engine, seeded: SeedSummary, short_dir: Path, remote: RemoteEngine
) -> None:
    async with serve(engine, short_dir / "s.sock"):
        await remote.attach()
        events: list[Event] = []
        remote.subscribe(events.append)
        following = asyncio.create_task(remote.run_scheduler())

        summary = await remote.sync_now(full=True, command_id="t-1")
        await until(lambda: rows(remote) == rows(engine) and not remote.running)
        target = seeded.published_ids[0]
        unlinked = await remote.unlink(target)
        many = seeded.published_ids[1:4]
        unlinked_many = await remote.unlink_many(many)
        relinked = await remote.resync_many([target, *many])
        with pytest.raises(HhsyncError, match="not in the mapping"):
            await remote.unlink(999_999)
        await remote.pause()
        remote.stop()
        following.cancel()

    assert summary.created == len(seeded.published_ids)
    assert any(isinstance(e, ArticleChanged) for e in events)
    assert unlinked.unlinked and unlinked.status is Status.SKIPPED
    assert [(r.hudu_id, r.unlinked) for r in unlinked_many] == [(i, True) for i in many]
    assert [(r.hudu_id, r.status) for r in relinked] == [
        (i, Status.SYNCED) for i in [target, *many]
    ]
    assert remote.paused and engine.paused
    assert remote.halo_article_url(7) == engine.halo_article_url(7)
    assert remote.last_pass == engine.last_pass
    assert remote.halo_notice == engine.halo_notice == ""


async def test_a_stopped_service_is_reported_and_followed_again_when_back(
    engine: Engine, seeded: SeedSummary, short_dir: Path, remote: RemoteEngine
) -> None:
    socket = short_dir / "s.sock"
    events: list[Event] = []
    remote.subscribe(events.append)
    async with serve(engine, socket):
        await remote.attach()
        following = asyncio.create_task(remote.run_scheduler())
        await engine.sync_now()
        await until(lambda: rows(remote) == rows(engine))

    await until(lambda: any(isinstance(e, ServiceLost) for e in events))
    target = seeded.published_ids[1]
    await engine.unlink(target)  # changed while no service ran
    attached_before = sum(isinstance(e, ServiceAttached) for e in events)
    async with serve(engine, socket):
        await until(lambda: sum(isinstance(e, ServiceAttached) for e in events) > attached_before)
        record = remote.record(target)
        remote.stop()
        following.cancel()

    assert record is not None and record.unlinked
    assert rows(remote) == rows(engine)


async def test_open_engine_attaches_to_a_service_and_embeds_without_one(
    engine: Engine, seeded: SeedSummary, short_dir: Path, tmp_path: Path
) -> None:
    socket = short_dir / "s.sock"
    settings = make_settings(tmp_path / "other.json", hhsync_socket=socket)
    async with serve(engine, socket):
        assert await find_service(socket) is not None
        async with open_engine(settings) as attached:
            assert isinstance(attached, RemoteEngine)
            summary = await attached.sync_now()
    assert summary.created == len(seeded.published_ids)
    assert await find_service(socket) is None
    async with open_engine(settings) as embedded:
        assert isinstance(embedded, Engine)
