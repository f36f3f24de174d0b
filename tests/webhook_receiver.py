"""A webhook receiver on 127.0.0.1 for the alert tests: it keeps every JSON body posted to its
secret path, answers with the status a test sets, and can hold its answer until released."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET_TOKEN = "0123456789abcdefT0KEN"
SECRET_PATH = f"/webhookb2/T0SECRET/IncomingWebhook/{SECRET_TOKEN}"
"""Like a Teams or Slack webhook: the path is the key, so no output may show it."""


class WebhookReceiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.requests = 0
        self.status = 200
        self.released = threading.Event()
        self.released.set()
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{SECRET_PATH}"

    def kinds(self) -> list[str]:
        with self._changed:
            return [str(body.get("kind")) for body in self.bodies]

    def wait_for(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """Until `count` alerts arrived (at least); the bodies."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.bodies) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.bodies)} alert(s) arrived, not {count}"
                self._changed.wait(left)
            return list(self.bodies)

    def wait_for_requests(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.requests < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{self.requests} request(s) arrived, not {count}"
                self._changed.wait(left)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with receiver._changed:
                    receiver.requests += 1
                    receiver._changed.notify_all()
                receiver.released.wait(30)
                status = receiver.status
                if self.path == SECRET_PATH and 200 <= status < 300:
                    with receiver._changed:
                        receiver.bodies.append(json.loads(raw))
                        receiver._changed.notify_all()
                elif self.path != SECRET_PATH:
                    status = 404
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
