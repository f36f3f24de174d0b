"""`ServiceClient`: the base both API clients (`HuduClient`, `HaloClient`) build on.

It owns the client's `ApiSession` and limiter, closes them, forwards the wait hook, and turns
answers into records without letting an unexpected shape escape as a `KeyError`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from core.http import ApiSession, ServiceSpec
from core.ratelimit import Clock, Sleep, SlidingWindowLimiter, WaitHook

T = TypeVar("T")


class ServiceClient:
    """What both API clients share: the session, closing, the wait hook and safe parsing."""

    session: ApiSession
    limiter: SlidingWindowLimiter

    def _connect(
        self,
        spec: ServiceSpec,
        api_url: str,
        secret: str,
        *,
        transport: httpx.AsyncBaseTransport | None,
        limiter: SlidingWindowLimiter | None,
        timeout: float,
        clock: Clock,
        wall_clock: Clock,
        sleep: Sleep,
        rng: random.Random | None,
        on_wait: WaitHook | None,
    ) -> None:
        """Build the limiter and the session; `secret` is masked in every error message."""
        self.limiter = limiter or SlidingWindowLimiter(
            spec.max_requests, spec.window_seconds, clock=clock, sleep=sleep, on_wait=on_wait
        )
        self.session = ApiSession(
            spec,
            base_url=api_url,
            limiter=self.limiter,
            transport=transport,
            timeout=timeout,
            sleep=sleep,
            wall_clock=wall_clock,
            rng=rng,
            on_wait=on_wait,
        )
        self.session.add_secret(secret)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.session.aclose()

    @property
    def on_wait(self) -> WaitHook | None:
        """Told (seconds, reason) before a throttle or 429 wait, e.g. to emit RateLimitWaited."""
        return self.session.on_wait

    @on_wait.setter
    def on_wait(self, hook: WaitHook | None) -> None:
        self.session.on_wait = hook
        self.limiter.on_wait = hook

    def _records(
        self, response: httpx.Response, key: str | None = None, *, single: bool = False
    ) -> list[dict[str, Any]]:
        """The records of an answer, each an object with an int id: `{key: [...]}` or an array,
        and with `single` one object too; MalformedResponseError otherwise."""
        body = self.session.json(response)
        if isinstance(body, dict) and key is not None and isinstance(body.get(key), list):
            body = body[key]
        elif isinstance(body, dict):
            body = [body] if single else None
        if not isinstance(body, list) or not all(
            isinstance(r, dict) and isinstance(r.get("id"), int) for r in body
        ):
            raise self.session.malformed(response, f"expected {key or 'records'} with ids")
        return body

    def _parse(self, response: httpx.Response, parse: Callable[[Any], T], raw: Any) -> T:
        """`parse(raw)`, with a record of an unexpected shape reported as malformed."""
        try:
            return parse(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise self.session.malformed(response, f"unexpected shape: {exc!r}") from None
