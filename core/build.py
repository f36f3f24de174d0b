"""`build_engine`: the one way to build an engine, shared by the CLI, the service, the
dashboard, the demo and the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import httpx

from core.config import CustomerAccess, Settings
from core.engine import Engine
from core.events import Event, RateLimitWaited
from core.halo import HaloClient
from core.halo_facts import CUSTOMER_SCOPE
from core.hudu import HuduClient
from core.records import now_utc
from core.store import MappingStore


def build_engine(
    settings: Settings,
    db_path: Path | None = None,
    *,
    hudu_transport: httpx.AsyncBaseTransport | None = None,
    halo_transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] = now_utc,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Engine:
    """The one way to build an engine (CLI, service, dashboard, demo, tests); `sleep` is every
    wait: the clients' retries and rate limits, and the engine's settling."""
    announce: list[Callable[[Event], None]] = []

    def on_wait(service: str) -> Callable[[float, str], None]:
        def report(seconds: float, reason: str) -> None:
            if announce and seconds > 0:
                announce[0](RateLimitWaited(service, seconds, reason))

        return report

    hudu = HuduClient(
        settings.hudu_base_url,
        settings.hudu_api_key.get_secret_value(),
        transport=hudu_transport,
        on_wait=on_wait("Hudu"),
        sleep=sleep,
    )
    halo = HaloClient(
        settings.halo_base_url,
        settings.halo_auth_url,
        settings.halo_client_id,
        settings.halo_client_secret.get_secret_value(),
        tenant=settings.halo_tenant,
        scope=settings.halo_scope,
        optional_scopes=(
            () if settings.hhsync_customer_access is CustomerAccess.OFF else (CUSTOMER_SCOPE,)
        ),
        transport=halo_transport,
        on_wait=on_wait("Halo"),
        sleep=sleep,
    )
    store = MappingStore(db_path or settings.hhsync_db)
    engine = Engine(settings, store=store, hudu=hudu, halo=halo, clock=clock, sleep=sleep)
    announce.append(engine.announcer.emit)
    return engine
