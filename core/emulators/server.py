"""Both emulators behind one loopback server: Hudu under `/hudu`, Halo under `/halo`."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp

from core.emulators.halo import EDIT_KB, READ_KB, HaloState, create_halo_app
from core.emulators.halo_clients import READ_CUSTOMERS
from core.emulators.hudu import HuduState, create_hudu_app

DEMO_API_KEY = "demo-hudu-key"
DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"


def create_emulator_app(hudu: HuduState, halo: HaloState) -> ASGIApp:
    return Starlette(
        routes=[
            Mount("/hudu", app=create_hudu_app(hudu)),
            Mount("/halo", app=create_halo_app(halo)),
        ]
    )


def new_states(base_url: str = "http://127.0.0.1:8000") -> tuple[HuduState, HaloState]:
    """Emulator states with the demo credentials, their URLs on `base_url`; the demo
    application may also read Halo's customers."""
    hudu = HuduState(api_key=DEMO_API_KEY, base_url=f"{base_url}/hudu")
    halo = HaloState(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        base_url=f"{base_url}/halo",
        granted_scopes={READ_KB, EDIT_KB, READ_CUSTOMERS},
    )
    return hudu, halo


def env_lines(base_url: str) -> list[str]:
    """The `.env` lines that point hhsync at emulators served on `base_url`."""
    return [
        f"HUDU_BASE_URL={base_url}/hudu",
        f"HUDU_API_KEY={DEMO_API_KEY}",
        f"HALO_BASE_URL={base_url}/halo",
        f"HALO_CLIENT_ID={DEMO_CLIENT_ID}",
        f"HALO_CLIENT_SECRET={DEMO_CLIENT_SECRET}",
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    server: uvicorn.Server


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, port: int = 0) -> Iterator[RunningServer]:
    """Serve `app` on 127.0.0.1 from a background thread (tests and subprocess targets)."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"emulator server did not start on port {port}")
        time.sleep(0.01)
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def bind_loopback(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:`port` (0: a free one); OSError when the port is taken.

    Connections made once this returns wait in the backlog until the server takes them, so the
    address can be announced before the server starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def run(app: ASGIApp, sock: socket.socket) -> None:
    """Serve `app` on the listening `sock` until SIGINT or SIGTERM, then return."""
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    # uvicorn shuts down gracefully on either signal, then raises it again: SIGTERM is made a
    # KeyboardInterrupt like SIGINT, so both end here instead of killing the process.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
