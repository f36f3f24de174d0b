"""Attaching the dashboard to a service (python bench/bench_attach.py).

A service process, the control server of `hhsync run` (`ControlService`) over a real engine
whose mapping file holds 10,000 articles, listens on a Unix socket; this process attaches the
dashboard to it as `hhsync-tui` does (`core.attach.open_engine`, then `make_app`). Printed,
each with its bound:

- attach and first paint: from opening the engine (hello, the snapshot of every row) until the
  Synced table holds its rows: under 2 s;
- an event from the service to the dashboard: the service emits log lines and row changes
  stamped with the time they were emitted; the largest time until the dashboard applied one to
  its widgets (its 0.25 s tick included): under 0.5 s.

Exits 1 when a bound is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.clock import MockClock

from core.attach import EnginePort, open_engine
from core.build import build_engine
from core.config import Settings
from core.emulators.server import DEMO_API_KEY, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from core.engine import Engine
from core.events import ArticleChanged, EngineLogged, ServiceAttached
from core.models import ArticleRecord, Status
from core.service import ControlService
from core.store import MappingStore
from tests.tui.fakes import make_record
from tui.app import HhsyncApp
from tui.cli import attached_service
from tui.model import TickBatch

ARTICLES = 10_000
EVENTS = 40
"""Events the service emits once the dashboard follows it: half log lines, half row changes."""
EVENT_GAP = 0.05
FIRST_PAINT_BOUND = 2.0
EVENT_BOUND = 0.5
STAMP = "bench event emitted at "


def settings_for(folder: Path) -> Settings:
    """The service's settings; Hudu and Halo are never called (no pass runs)."""
    return Settings(
        _env_file=None,
        hudu_base_url="http://127.0.0.1:9/hudu",
        hudu_api_key=DEMO_API_KEY,
        halo_base_url="http://127.0.0.1:9/halo",
        halo_client_id=DEMO_CLIENT_ID,
        halo_client_secret=DEMO_CLIENT_SECRET,
        hhsync_db=folder / "hhsync.json",
        hhsync_socket=folder / "s.sock",
    )


def mapped_articles() -> list[ArticleRecord]:
    statuses = [Status.SYNCED] * 14 + [Status.PENDING] * 3 + [Status.SKIPPED] * 2 + [Status.FAILED]
    return [make_record(i, statuses[i % len(statuses)]) for i in range(1, ARTICLES + 1)]


# ---------------------------------------------------------------- the service's process
async def serve(folder: Path) -> None:
    """Serve the mapping file until stdin closes; emit the stamped events once followed."""
    settings = settings_for(folder)
    engine = build_engine(settings)
    await engine.open()
    assert settings.hhsync_socket is not None
    async with ControlService(engine, settings.hhsync_socket) as service:
        print("ready", flush=True)
        emitting = asyncio.create_task(emit_when_followed(engine, service))
        await asyncio.to_thread(sys.stdin.read)
        emitting.cancel()
    await engine.close()


async def emit_when_followed(engine: Engine, service: ControlService) -> None:
    while service.context.events.followers < 1:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)  # the dashboard's first ticks
    synced = [r for r in engine.records() if r.status == Status.SYNCED]
    for n in range(EVENTS // 2):
        engine.announcer.say(logging.INFO, f"{STAMP}{time.time():.6f}")
        await asyncio.sleep(EVENT_GAP)
        stamp = datetime.now(UTC).isoformat()
        engine.announcer.emit(ArticleChanged(replace(synced[n], last_synced_at=stamp)))
        await asyncio.sleep(EVENT_GAP)


# ---------------------------------------------------------------- the dashboard's process
class TimedApp(HhsyncApp):
    """The dashboard, noting how long each stamped event took to reach its widgets."""

    def __init__(self, engine: EnginePort, service: ServiceAttached | None) -> None:
        super().__init__(engine, clock=MockClock(), service=service)
        self.latencies: list[float] = []

    def apply_batch(self, batch: TickBatch) -> None:
        super().apply_batch(batch)
        now = time.time()
        for event in batch.journal:
            if isinstance(event, EngineLogged) and event.message.startswith(STAMP):
                self.latencies.append(now - float(event.message.removeprefix(STAMP)))
        for record in batch.articles.values():
            if record is not None and record.last_synced_at.endswith("+00:00"):
                emitted = datetime.fromisoformat(record.last_synced_at).timestamp()
                self.latencies.append(now - emitted)


async def attach(folder: Path) -> tuple[float, float, float, list[float]]:
    """Seconds to attach, then to attach and paint (and the CPU time this process spent on
    both: on a busy machine the wall time waits for the CPU too); each event's latency."""
    settings = settings_for(folder)
    started, cpu = time.perf_counter(), time.process_time()
    async with open_engine(settings, follow=False) as engine:
        attached = time.perf_counter() - started
        app = TimedApp(engine, attached_service(engine))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            table = app.dashboard.table(Status.SYNCED)
            while table.virtual_size.height < table.row_count or not table.row_count:
                await pilot.pause()
            first_paint = time.perf_counter() - started
            cpu = time.process_time() - cpu
            assert app.state.service is not None, "the dashboard did not attach"
            async with asyncio.timeout(60):
                while len(app.latencies) < EVENTS:
                    await pilot.pause(0.05)
    return attached, first_paint, cpu, app.latencies


def start_service(folder: Path) -> subprocess.Popen[str]:
    with MappingStore(settings_for(folder).hhsync_db) as store:
        store.commit_batch(mapped_articles())
    process = subprocess.Popen(
        [sys.executable, __file__, "--service", str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError("the service did not start")
    return process


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="hb-", dir="/tmp"))  # a short socket path
    service = start_service(folder)
    try:
        attached, first_paint, cpu, latencies = asyncio.run(attach(folder))
    finally:
        service.communicate(timeout=30)  # closing its stdin stops it
        shutil.rmtree(folder, ignore_errors=True)
    worst = max(latencies)
    print(f"articles mapped in the service:        {ARTICLES:,}")
    print(f"attach (hello, snapshot of every row): {attached:.2f} s")
    print(
        f"attach and first paint:                {first_paint:.2f} s"
        f"   (bound {FIRST_PAINT_BOUND} s; CPU time of the dashboard's process {cpu:.2f} s)"
    )
    print(
        f"service event to dashboard widgets:    median {statistics.median(latencies):.2f} s,"
        f" worst {worst:.2f} s over {len(latencies)} events   (bound {EVENT_BOUND} s)"
    )
    broken = [
        name
        for name, value, bound in (
            ("first paint", first_paint, FIRST_PAINT_BOUND),
            ("event latency", worst, EVENT_BOUND),
        )
        if value >= bound
    ]
    if broken:
        print("BOUND BROKEN: " + ", ".join(broken))
        return 1
    print("all bounds met")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.service is not None:
        asyncio.run(serve(options.service))
    else:
        sys.exit(main())
