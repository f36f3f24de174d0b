"""The control socket itself: binding it safely, replacing a stale one, refusing other users,
and uvicorn serving the app on it (no TCP listener, no signal handling of its own)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from core.errors import HhsyncError
from core.service.stream import ABORT_EXTENSION
from core.socketpath import SocketPathError, prepare_socket_dir

log = logging.getLogger("hhsync.service")

PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
PROBE_SECONDS = 2.0
MAX_HEADER_BYTES = 16 * 1024
MAX_CONNECTIONS = 100
GRACEFUL_SECONDS = 10


class ServiceRunningError(HhsyncError):
    """A live hhsync service already answers on the socket."""

    def __init__(self, pid: int, path: Path) -> None:
        super().__init__(
            f"another hhsync service is running (pid {pid})",
            hint=f"it answers on {path}; stop it first, or give this one its own HHSYNC_DB",
        )
        self.pid = pid


# ---------------------------------------------------------------- who may connect
def peer_uid(sock: Any) -> int | None:
    """The uid of the process at the other end of a Unix socket; None where the platform
    cannot tell (not Linux: there the 0700 folder alone keeps other users out)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, PEERCRED.size)
    _pid, uid, _gid = PEERCRED.unpack(raw)
    return int(uid)


def peer_allowed(uid: int | None, own_uid: int) -> bool:
    """Only the service's own user may talk to it (root included: no exception)."""
    return uid is None or uid == own_uid


class PeerCheckedProtocol(H11Protocol):
    """uvicorn's h11 protocol that closes a connection from another user before reading a
    byte, and lets the app abort its own connection (`ABORT_EXTENSION` in the scope)."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.app = _with_abort(self.app, self._abort)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        try:
            uid = peer_uid(transport.get_extra_info("socket"))
        except OSError:
            uid = -1  # cannot tell who it is: refuse
        if not peer_allowed(uid, os.getuid()):
            log.warning("refused a connection from uid %s (not the service's user)", uid)
            transport.abort()

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


def _with_abort(app: Any, abort: Callable[[], None]) -> Any:
    async def app_with_abort(scope: Scope, receive: Receive, send: Send) -> None:
        scope["extensions"] = {**(scope.get("extensions") or {}), ABORT_EXTENSION: abort}
        await app(scope, receive, send)

    return app_with_abort


# ---------------------------------------------------------------- the socket file
async def bind_control_socket(path: Path) -> socket.socket:
    """A listening socket at `path` (0600, in a safe folder), replacing a stale one."""
    prepare_socket_dir(path)
    await clear_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        os.chmod(path, 0o600)  # before listen: no one can connect until then
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise SocketPathError(
            f"cannot listen on {path}: {exc.strerror or exc}",
            hint="set HHSYNC_SOCKET to a path in a folder you own",
        ) from None
    return sock


async def clear_stale_socket(path: Path) -> None:
    """Remove a socket file no live process answers on; refuse if an hhsync service answers
    (`ServiceRunningError`) or if the file is not a socket or another program answers."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise SocketPathError(
            f"{path} exists and is not a socket", hint="remove it, or set HHSYNC_SOCKET elsewhere"
        )
    answer = await probe(path)
    if isinstance(answer, int):
        raise ServiceRunningError(answer, path)
    if answer == "other":
        raise SocketPathError(
            f"another program answers on {path}", hint="set HHSYNC_SOCKET elsewhere"
        )
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    log.info("replaced the stale socket %s", path)


async def probe(path: Path, timeout: float | None = None) -> int | str:
    """Who answers on `path`: the pid of an hhsync service, "none" (refused, no answer), or
    "other" (something that is not an hhsync service)."""
    transport = httpx.AsyncHTTPTransport(uds=str(path))
    async with httpx.AsyncClient(transport=transport, timeout=timeout or PROBE_SECONDS) as client:
        try:
            answer = await client.get("http://hhsync/v1/hello")
        except httpx.TransportError:
            return "none"
    try:
        pid = answer.json().get("pid")
    except (ValueError, AttributeError):
        return "other"
    return pid if isinstance(pid, int) and answer.headers.get("x-hhsync-protocol") else "other"


def remove_socket_file(path: Path, inode: int) -> None:
    """Remove the socket file on exit, unless it is no longer the one this service bound."""
    with contextlib.suppress(OSError):
        if path.lstat().st_ino == inode:
            path.unlink()


# ---------------------------------------------------------------- the server
class ControlServer(uvicorn.Server):
    """uvicorn without its signal handling: `hhsync run` owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(app: ASGIApp, *, graceful_seconds: int = GRACEFUL_SECONDS) -> ControlServer:
    config = uvicorn.Config(
        app,
        http=PeerCheckedProtocol,
        ws="none",
        lifespan="off",
        log_config=None,
        log_level="error",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        limit_concurrency=MAX_CONNECTIONS,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_graceful_shutdown=graceful_seconds,
    )
    return ControlServer(config)
