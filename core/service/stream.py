"""`GET /v1/events`: one JSON line per event, the held ones first, then live, until the client
leaves, falls too far behind, or the service stops."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from core.service.eventlog import EventLog, Follower

# The ASGI scope extension through which the socket server lets the app close a connection at
# once (a client stuck not reading cannot be ended any other way).
ABORT_EXTENSION = "hhsync.abort"
MEDIA_TYPE = "application/x-ndjson"


class EventStreamResponse(Response):
    def __init__(self, log: EventLog, follower: Follower) -> None:
        super().__init__(status_code=200)
        self.log = log
        self.follower = follower
        self.raw_headers = [
            (b"content-type", MEDIA_TYPE.encode()),
            (b"cache-control", b"no-store"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        follower = self.follower
        left = asyncio.ensure_future(_until_disconnect(receive, follower))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            while (chunk := self.log.next_chunk(follower)) is not None:
                if not chunk:
                    await self.log.wait(follower)
                    continue
                # A long backlog cannot hold the engine up: once the socket's buffers are
                # full, the next send waits for the client to read.
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the client went away during a write
        finally:
            left.cancel()
            self.log.unfollow(follower)


async def _until_disconnect(receive: Receive, follower: Follower) -> None:
    with contextlib.suppress(OSError):
        while (await receive())["type"] != "http.disconnect":
            pass
    follower.leave()
