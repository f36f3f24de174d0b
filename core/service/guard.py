"""The protocol check every request passes, and the last net under every endpoint.

A request naming another protocol version (`X-Hhsync-Protocol`) is answered `426` with one
line; a request without the header is served (curl). Every answer carries the service's
version of the protocol. An unexpected exception becomes a `500` JSON error and a log line,
never a traceback on the socket.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.service.replies import error_reply, line_reply
from core.wire import PROTOCOL_VERSION

PROTOCOL_HEADER = "X-Hhsync-Protocol"
_HEADER_KEY = PROTOCOL_HEADER.lower().encode()
_HEADER_VALUE = str(PROTOCOL_VERSION).encode()

log = logging.getLogger("hhsync.service")


class ProtocolGuard:
    def __init__(self, app: ASGIApp, *, pid: int) -> None:
        self.app = app
        self.pid = pid

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_marked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [*message.get("headers", ()), (_HEADER_KEY, _HEADER_VALUE)]
                message = {**message, "headers": headers}
            await send(message)

        asked = _asked_version(scope)
        if asked is not None and asked != _HEADER_VALUE:
            shown = asked.decode() if asked.isdigit() and len(asked) <= 6 else repr(asked[:20])
            message = (
                f"hhsync protocol {shown} is not {PROTOCOL_VERSION}: use the hhsync of the same "
                f"version as the service (pid {self.pid})"
            )
            await line_reply(426, message)(scope, receive, send_marked)
            return
        try:
            await self.app(scope, receive, send_marked)
        except Exception:
            log.exception("the service failed to answer %s %s", scope["method"], scope["path"])
            if not started:
                answer = error_reply(
                    500, "other", "the service failed to answer (its log says why)"
                )
                await answer(scope, receive, send_marked)


def _asked_version(scope: Scope) -> bytes | None:
    for key, value in scope["headers"]:
        if key == _HEADER_KEY:
            return bytes(value).strip()
    return None
