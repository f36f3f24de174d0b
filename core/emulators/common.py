"""What both emulators share: the request log and the latency / 5xx fault switches."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int
    at: float

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS


@dataclass
class RequestLog:
    """Every request an emulator answered, in order (tests count them)."""

    entries: list[RecordedRequest] = field(default_factory=list)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return len(self.matching(method, path))

    def matching(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.entries
            if (method is None or r.method == method) and (path is None or r.path.startswith(path))
        ]

    def writes(self, path: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.matching(path=path) if r.is_write]

    def clear(self) -> None:
        self.entries.clear()


@dataclass
class FaultSwitches:
    """Switches every emulator has; `error_rate` is the share answered with `error_status`."""

    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    fail_next: int = 0  # answer the next N requests with `error_status`, then recover
    rng: random.Random = field(default_factory=lambda: random.Random(1234))

    def should_fail(self) -> bool:
        if self.fail_next > 0:
            self.fail_next -= 1
            return True
        return self.error_rate > 0 and self.rng.random() < self.error_rate


class FaultMiddleware:
    """ASGI middleware: records each request, adds latency, injects 5xx answers."""

    def __init__(
        self,
        app: ASGIApp,
        log: RequestLog,
        switches: FaultSwitches,
        *,
        prefix: str = "",
        error_body: Callable[[int], tuple[bytes, str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.log = log
        self.switches = switches
        self.prefix = prefix
        self.error_body = error_body or _default_error_body
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        method = scope["method"]
        recorded = False

        def record(status: int) -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                self.log.entries.append(RecordedRequest(method, path, query, status, self.clock()))

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record(message["status"])
            await send(message)

        if self.switches.latency > 0:
            await asyncio.sleep(self.switches.latency)
        try:
            if self.switches.should_fail():
                status = self.switches.error_status
                body, content_type = self.error_body(status)
                await recording_send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [(b"content-type", content_type.encode())],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            await self.app(scope, receive, recording_send)
        finally:
            record(0)


def _default_error_body(status: int) -> tuple[bytes, str]:
    return json.dumps(
        {"status": status, "error": "Service Unavailable"}
    ).encode(), "application/json"
