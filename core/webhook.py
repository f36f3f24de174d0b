"""Posting one JSON body to the alert webhook: a timeout, a few attempts, and an outcome in words
that never holds the URL (its path is the webhook's key)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from core.text import displayable

TIMEOUT_SECONDS = 10.0
RETRY_WAITS = (5.0, 30.0)
"""Seconds before the second and the third attempt."""
RETRIED_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    detail: str
    """What happened, e.g. "HTTP 202" or "no answer within 10 s (3 attempts)"."""


def webhook_host(url: str) -> str:
    """The host of the webhook URL: what output may name (the path is the secret)."""
    try:
        return httpx.URL(url).host or "?"
    except httpx.InvalidURL:
        return "?"


class Webhook:
    """The alert webhook. `post` never raises: every failure is a `Delivery` saying why."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        retry_waits: Sequence[float] = RETRY_WAITS,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self.host = webhook_host(url)
        self.timeout = timeout
        self.retry_waits = tuple(retry_waits)
        self._sleep = sleep
        self._client = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "hhsync"},
        )

    async def post(
        self, body: dict[str, Any], *, retrying: Callable[[Delivery, float], None] | None = None
    ) -> Delivery:
        """POST `body`, again after each of `retry_waits` while the failure may pass;
        `retrying` hears each failed attempt before its wait."""
        attempts = len(self.retry_waits) + 1
        for attempt in range(attempts):
            delivery, again = await self._attempt(body)
            if delivery.ok or not again or attempt == attempts - 1:
                break
            wait = self.retry_waits[attempt]
            if retrying is not None:
                retrying(delivery, wait)
            await self._sleep(wait)
        if delivery.ok or attempt == 0:
            return delivery
        return Delivery(False, f"{delivery.detail} ({attempt + 1} attempts)")

    async def _attempt(self, body: dict[str, Any]) -> tuple[Delivery, bool]:
        """One POST: the outcome, and whether another attempt may do better."""
        try:
            response = await self._client.post(self._url, json=body)
        except httpx.TimeoutException:
            return Delivery(False, f"no answer within {self.timeout:g} s"), True
        except httpx.TransportError as exc:
            return Delivery(False, f"cannot reach it ({type(exc).__name__})"), True
        except httpx.HTTPError as exc:  # an unusable URL: no attempt will do better
            return Delivery(False, f"cannot send to it ({type(exc).__name__})"), False
        status = response.status_code
        if response.is_success:
            return Delivery(True, f"HTTP {status}"), False
        said = displayable(self._masked(response.text[:200])[:120]).strip()
        detail = f"HTTP {status}" + (f": {said}" if said else "")
        return Delivery(False, detail), status in RETRIED_STATUSES

    def _masked(self, text: str) -> str:
        """`text` (an answer, which may echo the request) without the URL or its path."""
        url = httpx.URL(self._url)
        for secret in (self._url, url.raw_path.decode("ascii", "replace"), url.path):
            if len(secret) > 1:
                text = text.replace(secret, "***")
        return text

    async def aclose(self) -> None:
        await self._client.aclose()
