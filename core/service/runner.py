"""`hhsync run`: the scheduler and the control server of one engine, in one event loop, until
SIGTERM or SIGINT.

Stopping: the engine stops after the batch in flight, new commands are refused (503), every
event stream ends, the commands in flight finish, the server closes, the socket file goes.
A second signal stops at once (the pass in flight is cancelled; the next start settles it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from core.engine import Engine
from core.service.alerts import ServiceAlerts
from core.service.app import create_app
from core.service.context import ServiceContext
from core.service.eventlog import DEFAULT_CAPACITY
from core.service.listener import (
    GRACEFUL_SECONDS,
    ControlServer,
    bind_control_socket,
    make_server,
    remove_socket_file,
)
from core.service.state import ServiceFacts

log = logging.getLogger("hhsync.service")

STREAM_FLUSH_SECONDS = 2.0


class ControlService:
    """The control server of `engine` on the Unix socket `path`, as an async context."""

    def __init__(
        self,
        engine: Engine,
        path: Path,
        *,
        secrets: Iterable[str] = (),
        capacity: int = DEFAULT_CAPACITY,
        follower_limit: int | None = None,
        graceful_seconds: int = GRACEFUL_SECONDS,
    ) -> None:
        self.engine = engine
        self.path = path
        self.context = ServiceContext.watching(
            engine,
            ServiceFacts.now(engine.store.path, path),
            secrets=secrets,
            capacity=capacity,
            follower_limit=follower_limit,
        )
        self.server: ControlServer = make_server(
            create_app(self.context), graceful_seconds=graceful_seconds
        )
        self.serving: asyncio.Task[None] | None = None
        self._inode = 0

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            self.context.close()
            raise

    async def _start(self) -> None:
        sock = await bind_control_socket(self.path)
        self._inode = self.path.lstat().st_ino
        self.serving = asyncio.create_task(self.server.serve(sockets=[sock]))
        while not self.server.started:
            if self.serving.done():
                self.serving.result()  # raises what stopped it
                raise RuntimeError("the control server stopped while starting")
            await asyncio.sleep(0.01)
        self.engine.announcer.say(
            logging.INFO, f"service listening on {self.path} (pid {self.context.facts.pid})"
        )

    def refuse_commands(self) -> None:
        self.context.commands.stopping = True

    async def stop(self) -> None:
        """End the streams, let the commands in flight answer, close the server and socket."""
        self.context.close()
        try:
            await self._let_streams_finish(STREAM_FLUSH_SECONDS)
            if self.serving is not None and not self.serving.done():
                await self.context.commands.wait(self.server.config.timeout_graceful_shutdown or 0)
                self.server.should_exit = True
                await self.serving
        finally:
            if self._inode:
                remove_socket_file(self.path, self._inode)

    async def _let_streams_finish(self, seconds: float) -> None:
        """Give the event streams a moment to send their last events (the end of a pass the
        stop cut short), then drop those still open: a client that does not read must not
        hold the stop up."""
        events = self.context.events
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while events.followers:
                    await asyncio.sleep(0.01)
        events.abort_all()

    async def __aenter__(self) -> ControlService:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class StopSignals:
    """SIGTERM, SIGINT and SIGHUP while the service runs: the first asks it to stop, a second
    one runs the `now` actions (stop at once)."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)  # SIGHUP: the terminal closed

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.now: list[Callable[[], object]] = []
        self._received = 0

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in self.SIGNALS:
            loop.add_signal_handler(signum, self._on_signal)

    def remove(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in self.SIGNALS:
            loop.remove_signal_handler(signum)

    def _on_signal(self) -> None:
        self._received += 1
        self.asked.set()
        if self._received > 1:
            log.warning("second signal: stopping now")
            for action in self.now:
                action()


async def run_service(
    engine: Engine,
    path: Path,
    *,
    secrets: Iterable[str] = (),
    on_ready: Callable[[], None] | None = None,
    **options: int,
) -> None:
    """Serve `engine` on `path` and run its scheduler until SIGTERM or SIGINT. `on_ready` is
    called once the socket answers."""
    service = ControlService(engine, path, secrets=secrets, **options)
    signals = StopSignals()
    signals.install()  # before the socket answers: a client may signal as soon as it does
    try:
        await service.start()
    except BaseException:
        signals.remove()
        raise
    alerts = ServiceAlerts.configured(engine)
    try:
        if alerts is not None:
            await alerts.start()
        if on_ready is not None:
            on_ready()
        scheduler = asyncio.create_task(engine.run_scheduler())
        await asyncio.sleep(0)  # the scheduler has started: a stop from now on is seen
        signals.now += [
            scheduler.cancel,
            service.context.commands.cancel,
            lambda: setattr(service.server, "force_exit", True),
        ]
        await _until_stop_asked(service, scheduler, signals)
    finally:
        if alerts is not None:
            await alerts.stop()
        await service.stop()
        signals.remove()


async def _until_stop_asked(
    service: ControlService, scheduler: asyncio.Task[None], signals: StopSignals
) -> None:
    """Run until a signal (or until the scheduler or server breaks), then stop the engine after
    the batch in flight and take no new command."""
    asked = asyncio.create_task(signals.asked.wait())
    serving = service.serving
    assert serving is not None
    try:
        await asyncio.wait({scheduler, serving, asked}, return_when=asyncio.FIRST_COMPLETED)
        if serving.done():
            serving.result()  # the control server broke: say why (systemd restarts us)
    finally:
        asked.cancel()
        service.refuse_commands()
        service.engine.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await scheduler  # raises what broke the scheduler, if anything did
