"""The service's alerts: decided when a pass finishes (`core.alerts`), posted by their own task,
so a slow or dead webhook never holds a pass up; each outcome goes to the log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from collections.abc import Callable
from datetime import datetime

from core.alert_body import Alert, masked, webhook_body
from core.alerts import META_KEY, AlertMemory, AlertRules
from core.engine import Engine
from core.errors import HhsyncError
from core.events import Event, PassFinished
from core.models import Status
from core.webhook import Delivery, Sleep, Webhook

QUEUE_LIMIT = 20
"""Alerts waiting to be posted; beyond it the oldest is dropped (the webhook is not keeping up)."""
FLUSH_SECONDS = 3.0
"""At a stop, how long the alerts still queued may take to go out."""


class ServiceAlerts:
    """Alerts for `engine`'s passes, posted to `url`, while used as an async context."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        *,
        clock: Callable[[], datetime] | None = None,
        sleep: Sleep = asyncio.sleep,
        host: str | None = None,
        webhook: Webhook | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock or engine.clock
        self.webhook = webhook or Webhook(url, sleep=sleep)
        self.host = host or socket.gethostname()
        self.rules = AlertRules(AlertMemory(), self.host)
        self._queue: deque[Alert] = deque()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._posting = False
        self._unsubscribe: Callable[[], None] | None = None

    @classmethod
    def configured(cls, engine: Engine) -> ServiceAlerts | None:
        """The alerts `HHSYNC_ALERT_URL` asks for, if it is set."""
        url = engine.settings.hhsync_alert_url
        return None if url is None else cls(engine, url.get_secret_value())

    async def start(self) -> None:
        """Listen to the engine's passes and post what they call for, from now on."""
        failing = (r.hudu_id for r in self.engine.book.rows() if r.status is Status.FAILED)
        self.rules.memory = AlertMemory.from_meta(self.engine.store.meta(META_KEY), failing)
        self._unsubscribe = self.engine.subscribe(self._on_event)
        self._task = asyncio.create_task(self._post_queued())
        self._say(logging.INFO, f"alerts go to the webhook at {self.webhook.host}")

    async def stop(self) -> None:
        """Stop listening; give the alerts still queued `FLUSH_SECONDS` to go out. Never raises."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            await self.settled(FLUSH_SECONDS)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):  # the service's own stop comes next, whatever
            await self.webhook.aclose()

    async def settled(self, timeout: float) -> bool:
        """Wait until every queued alert was posted (at most `timeout` seconds); whether so."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._queue or self._posting:
                    await asyncio.sleep(0.01)
                return True
        return False

    def _on_event(self, event: Event) -> None:
        if not isinstance(event, PassFinished):
            return
        engine = self.engine
        alerts, changed = self.rules.after_pass(
            event, engine.book.rows(), engine.counts(), self.clock()
        )
        if changed:
            try:
                engine.store.set_meta(**{META_KEY: self.rules.memory.as_meta()})
            except HhsyncError as exc:
                self._say(logging.WARNING, f"alerts: could not remember the last sent: {exc}")
        for alert in alerts:
            self.put(alert)

    def put(self, alert: Alert) -> None:
        """Queue `alert` for its task (never waits)."""
        if len(self._queue) >= QUEUE_LIMIT:
            dropped = self._queue.popleft()
            self._say(logging.WARNING, f"alert dropped ({dropped.kind.value}): too many waiting")
        self._queue.append(masked(alert, self.engine.settings.secrets()))
        self._ready.set()

    async def _post_queued(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue:
                alert = self._queue.popleft()
                self._posting = True
                try:
                    delivery = await self.webhook.post(
                        webhook_body(alert), retrying=self._retrying(alert)
                    )
                except Exception as exc:  # a bug here must not end the alerts to come
                    delivery = Delivery(False, f"unexpected {type(exc).__name__}")
                finally:
                    self._posting = False
                if delivery.ok:
                    self._say(logging.INFO, f"alert sent ({alert.kind.value}): {delivery.detail}")
                else:
                    self._say(
                        logging.WARNING,
                        f"alert not sent ({alert.kind.value}) to the webhook at "
                        f"{self.webhook.host}: {delivery.detail}",
                    )

    def _retrying(self, alert: Alert) -> Callable[[Delivery, float], None]:
        def say(delivery: Delivery, wait: float) -> None:
            self._say(
                logging.WARNING,
                f"alert not sent yet ({alert.kind.value}) to the webhook at {self.webhook.host}: "
                f"{delivery.detail}; trying again in {wait:g} s",
            )

        return say

    def _say(self, level: int, message: str) -> None:
        self.engine.announcer.say(level, message)
