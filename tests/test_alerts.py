"""The service's alerts in-process: a real engine on the emulators, an injected clock, and a
webhook receiver on 127.0.0.1. What the receiver gets after each pass is what an admin's
Teams or Slack channel would show."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.alert_body import AlertKind
from core.alerts import AlertMemory
from core.build import build_engine
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState, create_hudu_app
from core.emulators.seed import SeedSummary
from core.emulators.server import DEMO_API_KEY, DEMO_CLIENT_SECRET
from core.engine import Engine
from core.errors import HhsyncError
from core.events import EngineLogged, Event
from core.models import Status
from core.service.alerts import ServiceAlerts
from core.text import without_controls
from core.webhook import Webhook
from tests.conftest import make_settings, no_wait, unused_url
from tests.webhook_receiver import SECRET_PATH, SECRET_TOKEN, WebhookReceiver

MINUTE = timedelta(minutes=1)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


class Sleeps:
    """The waits between webhook attempts, taken at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await no_wait(seconds)


class Service:
    """One engine (a service's), its alerts, and everything it logged."""

    def __init__(self, engine: Engine, alerts: ServiceAlerts) -> None:
        self.engine = engine
        self.alerts = alerts
        self.logged: list[str] = []
        engine.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, EngineLogged):
            self.logged.append(event.message)

    async def sync(self) -> None:
        """A full pass (the clock is hours ahead of Hudu's, so no incremental read), then the
        alerts it called for, posted."""
        with contextlib.suppress(HhsyncError):  # the service logs it and carries on
            await self.engine.sync_now(full=True)
        assert await self.alerts.settled(30)


Start = Callable[..., Any]


@pytest.fixture
def start(
    tmp_path: Path, hudu: HuduState, halo: HaloState, seeded: SeedSummary, webhook: WebhookReceiver
) -> Start:
    """`async with start() as service:` — an engine with alerts to `webhook`, on one mapping
    file (so a second `start` is a restart)."""

    @asynccontextmanager
    async def started(
        clock: Clock, *, url: str | None = None, sleeps: Sleeps | None = None, alerts: bool = True
    ) -> AsyncIterator[Service]:
        url = url or webhook.url
        engine = build_engine(
            make_settings(tmp_path / "hhsync.json", hhsync_alert_url=url),
            hudu_transport=httpx.ASGITransport(app=create_hudu_app(hudu)),
            halo_transport=httpx.ASGITransport(app=create_halo_app(halo)),
            clock=clock,
            sleep=no_wait,
        )
        await engine.open()
        sleep = sleeps or Sleeps()
        service_alerts = ServiceAlerts(
            engine, url, host="kb-sync-01", webhook=Webhook(url, sleep=sleep)
        )
        try:
            if alerts:
                await service_alerts.start()
            yield Service(engine, service_alerts)
        finally:
            if alerts:
                await service_alerts.stop()
            await engine.close()

    return started


def reject(hudu: HuduState, halo: HaloState, hudu_id: int) -> str:
    """Halo refuses the article from now on (a 500 naming it); its title."""
    title = hudu.articles[hudu_id].name
    halo.reject_article_names[without_controls(title)] = 500
    hudu.update_article(hudu_id, content="<p>changed, so it is sent again</p>")
    return title


def accept(hudu: HuduState, halo: HaloState, hudu_id: int) -> None:
    halo.reject_article_names.pop(without_controls(hudu.articles[hudu_id].name), None)
    hudu.update_article(hudu_id, content="<p>changed again</p>")


async def test_a_failure_alerts_once_for_teams_slack_and_plain_json(
    start: Start, hudu: HuduState, halo: HaloState, seeded: SeedSummary, webhook: WebhookReceiver
) -> None:
    bad = seeded.published_ids[0]
    title = reject(hudu, halo, bad)
    clock = Clock()
    async with start(clock) as service:
        await service.sync()
        (body,) = webhook.bodies
        failed = [r.hudu_id for r in service.engine.records() if r.status is Status.FAILED]
        assert failed == [bad]

        clock.advance(5 * MINUTE)
        await service.sync()  # still failing: told already
        clock.advance(2 * 60 * MINUTE)
        await service.sync()  # and after the hour too
        assert webhook.kinds() == ["articles_failed"]

    headline = "hhsync on kb-sync-01: 1 article(s) newly failed to sync to Halo"
    assert body["kind"] == "articles_failed" and body["summary"] == headline
    assert body["text"].startswith(headline + "\n") and title in body["text"]
    (article,) = body["articles"]
    assert article["hudu_id"] == bad and article["title"] == title
    assert "500" in article["error"] or "error occurred" in article["error"]
    assert body["counts"]["failed"] == 1 and body["counts"]["synced"] > 0
    assert body["host"] == "kb-sync-01" and body["time"] == "2026-12-01T09:00:00+00:00"
    (attachment,) = body["attachments"]  # what a Teams workflow posts: an Adaptive Card
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert all(block["type"] == "TextBlock" for block in card["body"])
    assert attachment["fallback"]  # Slack's required field of an attachment


async def test_at_most_one_alert_of_a_kind_an_hour(
    start: Start, hudu: HuduState, halo: HaloState, seeded: SeedSummary, webhook: WebhookReceiver
) -> None:
    first, second, third = seeded.published_ids[:3]
    clock = Clock()
    async with start(clock) as service:
        reject(hudu, halo, first)
        await service.sync()
        assert webhook.kinds() == ["articles_failed"]

        clock.advance(10 * MINUTE)
        reject(hudu, halo, second)
        await service.sync()
        assert webhook.kinds() == ["articles_failed"]  # within the hour: waits

        clock.advance(20 * MINUTE)
        reject(hudu, halo, third)
        await service.sync()
        clock.advance(10 * MINUTE)
        accept(hudu, halo, third)  # synced again before the hour: never told
        await service.sync()
        assert webhook.kinds() == ["articles_failed"]

        clock.advance(21 * MINUTE)  # 61 minutes after the first alert
        await service.sync()
        assert webhook.kinds() == ["articles_failed", "articles_failed"]
        assert [a["hudu_id"] for a in webhook.bodies[1]["articles"]] == [second]
        assert webhook.bodies[1]["time"] == "2026-12-01T10:01:00+00:00"


@pytest.mark.parametrize("outage", ["credentials", "halo down"])
async def test_a_pass_that_cannot_run_alerts_once_then_its_recovery_once(
    start: Start, halo: HaloState, webhook: WebhookReceiver, outage: str
) -> None:
    clock = Clock()
    async with start(clock) as service:
        await service.sync()
        assert webhook.kinds() == []

        if outage == "credentials":
            halo.client_secret = "rotated-in-halo"
            halo.tokens.clear()
        else:
            halo.switches.error_rate, halo.switches.error_status = 1.0, 503
        for _ in range(3):
            clock.advance(50 * MINUTE)  # past the hour too: one outage, one alert
            await service.sync()
        assert webhook.kinds() == ["pass_failed"]
        assert service.engine.last_pass is not None and service.engine.last_pass.error

        halo.client_secret = DEMO_CLIENT_SECRET
        halo.switches.error_rate = 0.0
        clock.advance(5 * MINUTE)
        await service.sync()
        clock.advance(5 * MINUTE)
        await service.sync()
        assert webhook.kinds() == ["pass_failed", "recovered"]

    failed, recovered = webhook.bodies
    assert failed["summary"] == "hhsync on kb-sync-01: a sync pass could not run"
    assert failed["error"] and failed["error"] in failed["text"]
    assert recovered["summary"] == "hhsync on kb-sync-01: sync passes run again"
    for secret in (DEMO_CLIENT_SECRET, DEMO_API_KEY, "rotated-in-halo"):
        assert secret not in str(webhook.bodies)


async def test_a_restart_neither_repeats_an_alert_nor_forgets_an_outage(
    start: Start, hudu: HuduState, halo: HaloState, seeded: SeedSummary, webhook: WebhookReceiver
) -> None:
    reject(hudu, halo, seeded.published_ids[0])
    clock = Clock()
    async with start(clock) as service:
        await service.sync()
        halo.switches.error_rate = 1.0
        clock.advance(MINUTE)
        await service.sync()
    assert webhook.kinds() == ["articles_failed", "pass_failed"]

    clock.advance(2 * 60 * MINUTE)
    async with start(clock) as service:  # the service restarted, Halo still down
        await service.sync()
        assert webhook.kinds() == ["articles_failed", "pass_failed"]
        halo.switches.error_rate = 0.0
        clock.advance(MINUTE)
        await service.sync()  # the article still fails: told before the restart
    assert webhook.kinds() == ["articles_failed", "pass_failed", "recovered"]


async def test_turning_alerts_on_sends_no_backlog(
    start: Start, hudu: HuduState, halo: HaloState, seeded: SeedSummary, webhook: WebhookReceiver
) -> None:
    reject(hudu, halo, seeded.published_ids[0])
    clock = Clock()
    async with start(clock, alerts=False) as service:
        await service.engine.sync_now(full=True)
    async with start(clock) as service:
        await service.sync()
        assert webhook.kinds() == []
        reject(hudu, halo, seeded.published_ids[1])
        await service.sync()
    assert [a["hudu_id"] for a in webhook.bodies[0]["articles"]] == [seeded.published_ids[1]]


@pytest.mark.parametrize("dead", ["answers 500", "unreachable"])
async def test_a_dead_webhook_is_logged_and_never_stops_syncing(
    start: Start,
    hudu: HuduState,
    halo: HaloState,
    seeded: SeedSummary,
    webhook: WebhookReceiver,
    dead: str,
) -> None:
    reject(hudu, halo, seeded.published_ids[0])
    webhook.status = 500
    url = webhook.url if dead == "answers 500" else unused_url() + SECRET_PATH
    sleeps = Sleeps()
    async with start(Clock(), url=url, sleeps=sleeps) as service:
        await service.sync()
        counts = service.engine.counts()

    assert counts["failed"] == 1 and counts["pending"] == 0
    assert counts["synced"] > 0
    assert sleeps.waits == [5, 30]  # bounded: three attempts
    why = "HTTP 500" if dead == "answers 500" else "cannot reach it (ConnectError)"
    tries = [line for line in service.logged if line.startswith("alert not sent")]
    assert tries == [
        f"alert not sent yet (articles_failed) to the webhook at 127.0.0.1: {why}; "
        "trying again in 5 s",
        f"alert not sent yet (articles_failed) to the webhook at 127.0.0.1: {why}; "
        "trying again in 30 s",
        f"alert not sent (articles_failed) to the webhook at 127.0.0.1: {why} (3 attempts)",
    ]
    assert all(SECRET_PATH not in line and SECRET_TOKEN not in line for line in service.logged)


async def test_a_webhook_that_does_not_answer_holds_no_pass(
    start: Start, hudu: HuduState, halo: HaloState, seeded: SeedSummary, webhook: WebhookReceiver
) -> None:
    first, second = seeded.published_ids[:2]
    webhook.released.clear()  # the receiver holds every answer
    clock = Clock()
    async with start(clock) as service:
        reject(hudu, halo, first)
        await service.engine.sync_now(full=True)
        await asyncio.to_thread(webhook.wait_for_requests, 1)
        clock.advance(2 * 60 * MINUTE)
        reject(hudu, halo, second)
        summary = await service.engine.sync_now(full=True)  # runs while the alert hangs
        assert summary.failed_total == 2 and webhook.bodies == []

        webhook.released.set()
        assert await service.alerts.settled(30)
    assert [[a["hudu_id"] for a in body["articles"]] for body in webhook.bodies] == [
        [first],
        [second],
    ]


@pytest.mark.parametrize(
    "stored",
    [None, "garbage", {"sent": {"articles_failed": "not a time"}, "reported": "x", "outage": 1}],
)
def test_a_missing_or_damaged_memory_sends_no_backlog_and_no_error(stored: object) -> None:
    memory = AlertMemory.from_meta(stored, failing=[4, 5])

    assert memory.reported == {4, 5} and memory.outage is False
    assert not memory.quiet(AlertKind.ARTICLES_FAILED, Clock()())
