"""The client side of the service: an engine that lives in another process.

`ControlClient` speaks the control protocol over the service's Unix socket (one method per
endpoint, typed results, the engine's errors raised again as the same classes).
`RemoteEngine` offers the dashboard and the commands the same face as `Engine`: it mirrors
the service's rows from a snapshot and its event stream, tells listeners the same events an
embedded engine would, and reconnects when the service restarts.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from core.errors import (
    AuthError,
    HhsyncError,
    MalformedResponseError,
    StoreError,
    UnreachableError,
)
from core.events import (
    Announcer,
    ArticleChanged,
    ArticleRemoved,
    Event,
    PassFinished,
    PassProgressed,
    PassStarted,
    SchedulerChanged,
    ServiceAttached,
    ServiceLost,
)
from core.history import PassRecord
from core.models import ArticleRecord, Status
from core.plan import PassSummary
from core.tables import MAX_RUNS
from core.wire import PROTOCOL_VERSION, WireError, load, load_event, load_records, load_summary

log = logging.getLogger("hhsync.remote")

PROTOCOL_HEADER = "X-Hhsync-Protocol"
RECONNECT_WAITS = (0.2, 0.5, 1.0, 2.0, 5.0)

ERROR_KINDS: dict[str, type[HhsyncError]] = {
    "auth": AuthError,
    "unreachable": UnreachableError,
    "malformed": MalformedResponseError,
    "store": StoreError,
}


class ServiceUnavailable(HhsyncError):
    """No service answers on the socket (none runs, or it stopped)."""


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    protocol: int
    version: str
    pid: int
    started_at: str
    db: str
    socket: str


@dataclass(slots=True)
class Snapshot:
    seq: int
    records: list[ArticleRecord]
    state: dict[str, Any]


class ControlClient:
    """One method per endpoint of the service's control socket."""

    def __init__(self, socket: Path, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.socket = socket
        self._http = httpx.AsyncClient(
            transport=transport or httpx.AsyncHTTPTransport(uds=str(socket)),
            base_url="http://hhsync",
            headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
            timeout=httpx.Timeout(10.0, read=None),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def hello(self) -> ServiceInfo:
        data = await self._call("GET", "/v1/hello", timeout=5.0)
        return load(ServiceInfo, data)

    async def status(self) -> dict[str, Any]:
        """The service's `/status`: counts, paused, running, next and last pass."""
        data = await self._call("GET", "/status", timeout=5.0)
        if not isinstance(data, dict):
            raise WireError("the status is not an object")
        return data

    async def snapshot(self) -> Snapshot:
        data = await self._call("GET", "/v1/snapshot")
        if not isinstance(data, dict) or not isinstance(data.get("seq"), int):
            raise WireError("the snapshot has no sequence number")
        state = data.get("state")
        return Snapshot(data["seq"], load_records(data.get("records")), dict(state or {}))

    async def events(self, after: int) -> AsyncIterator[tuple[int, Event]]:
        """Every event after `after`, as the service emits them, until it closes the stream.
        Raises `WireError("resnapshot")` when the service no longer holds those events."""
        try:
            async with self._http.stream("GET", "/v1/events", params={"after": after}) as reply:
                if reply.status_code == 410:
                    raise WireError("resnapshot")
                if reply.status_code != 200:
                    await reply.aread()
                    self._raise_for(reply)
                async for line in reply.aiter_lines():
                    if line.strip():
                        yield load_event(json.loads(line))
        except (httpx.TransportError, json.JSONDecodeError) as exc:
            raise ServiceUnavailable(f"the service's event stream ended: {exc}") from None

    async def history(self, limit: int) -> list[PassRecord]:
        """The service's last passes, newest first."""
        data = await self._call("GET", f"/v1/history?limit={int(limit)}", timeout=5.0)
        return load(list[PassRecord], _field(data, "passes"))

    async def sync(self, *, full: bool, dry_run: bool, force: bool, command_id: str) -> PassSummary:
        body = {"full": full, "dry_run": dry_run, "force": force, "command_id": command_id}
        data = await self._call("POST", "/v1/sync", json=body)
        return load_summary(_field(data, "summary"))

    async def retry(self, *, command_id: str) -> PassSummary:
        data = await self._call("POST", "/v1/retry", json={"command_id": command_id})
        return load_summary(_field(data, "summary"))

    async def resync(self, hudu_id: int) -> ArticleRecord:
        data = await self._call("POST", f"/v1/resync/{int(hudu_id)}")
        return load(ArticleRecord, _field(data, "record"))

    async def unlink(self, hudu_id: int) -> ArticleRecord:
        data = await self._call("POST", f"/v1/unlink/{int(hudu_id)}")
        return load(ArticleRecord, _field(data, "record"))

    async def resync_many(self, hudu_ids: Sequence[int]) -> list[ArticleRecord]:
        data = await self._call("POST", "/v1/resync", json={"ids": list(hudu_ids)})
        return load_records(_field(data, "records"))

    async def unlink_many(self, hudu_ids: Sequence[int]) -> list[ArticleRecord]:
        data = await self._call("POST", "/v1/unlink", json={"ids": list(hudu_ids)})
        return load_records(_field(data, "records"))

    async def reset(self) -> int:
        return int(_field(await self._call("POST", "/v1/reset"), "unlinked"))

    async def pause(self) -> bool:
        return bool(_field(await self._call("POST", "/v1/pause"), "paused"))

    async def resume(self) -> bool:
        return bool(_field(await self._call("POST", "/v1/resume"), "paused"))

    async def _call(
        self, method: str, path: str, *, json: object = None, timeout: float | None = None
    ) -> Any:
        try:
            reply = await self._http.request(
                method, path, json=json, timeout=timeout or httpx.USE_CLIENT_DEFAULT
            )
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"no hhsync service answers on {self.socket}: {exc}") from None
        if reply.status_code >= 400:
            self._raise_for(reply)
        try:
            return reply.json()
        except ValueError:
            raise WireError(f"the service answered {path} with something not JSON") from None

    def _raise_for(self, reply: httpx.Response) -> None:
        """The engine's error raised again as the class it had in the service."""
        try:
            error = reply.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if isinstance(error, str):
            raise HhsyncError(error)
        if not isinstance(error, dict):
            raise HhsyncError(f"the service answered {reply.status_code}")
        message, hint = str(error.get("message") or ""), str(error.get("hint") or "")
        raise ERROR_KINDS.get(str(error.get("kind")), HhsyncError)(message, hint=hint)


def _field(data: object, name: str) -> Any:
    if not isinstance(data, dict) or name not in data:
        raise WireError(f"the service's answer has no {name!r}")
    return data[name]


async def find_service(socket: Path) -> ServiceInfo | None:
    """The service listening on `socket`, or None when none answers. A service of another
    protocol version is an error with one clear line (its `426` answer)."""
    if not socket.exists():
        return None
    client = ControlClient(socket)
    try:
        return await client.hello()
    except ServiceUnavailable:
        return None
    finally:
        await client.aclose()


class RemoteEngine:
    """The engine of a running service, seen from a dashboard or a command."""

    def __init__(self, client: ControlClient) -> None:
        self.client = client
        self.announcer = Announcer(datetime.now)
        self.hudu_label = ""
        self.halo_label = ""
        self.interval: float = 0
        self.paused = False
        self.running = False
        self.next_pass_at: datetime | None = None
        self.last_pass: PassFinished | None = None
        self.service: ServiceInfo | None = None
        self.halo_notice = ""
        """What the service's engine says of the tenant ("crash recovery degraded …")."""
        self._article_url = ""
        self._records: dict[int, ArticleRecord] = {}
        self._seq = -1
        self._stopping = False

    # ------------------------------------------------------------ what the port offers
    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        return self.announcer.subscribe(listener)

    def records(self) -> list[ArticleRecord]:
        return list(self._records.values())

    def record(self, hudu_id: int) -> ArticleRecord | None:
        return self._records.get(hudu_id)

    def counts(self) -> dict[str, int]:
        tally = dict.fromkeys((s.value for s in Status), 0)
        for rec in self._records.values():
            tally[rec.status.value] += 1
        return tally

    def halo_article_url(self, halo_id: int) -> str:
        return self._article_url.replace("{id}", str(int(halo_id))) if self._article_url else ""

    async def sync_now(
        self,
        *,
        full: bool = False,
        dry_run: bool = False,
        force: bool = False,
        command_id: str = "",
    ) -> PassSummary:
        return await self.client.sync(
            full=full, dry_run=dry_run, force=force, command_id=command_id
        )

    async def retry_failed(self, *, command_id: str = "") -> PassSummary:
        return await self.client.retry(command_id=command_id)

    async def history(self, limit: int | None = None) -> list[PassRecord]:
        return await self.client.history(limit or MAX_RUNS)

    async def resync(self, hudu_id: int) -> ArticleRecord:
        return await self.client.resync(hudu_id)

    async def unlink(self, hudu_id: int) -> ArticleRecord:
        return await self.client.unlink(hudu_id)

    async def resync_many(self, hudu_ids: Sequence[int]) -> list[ArticleRecord]:
        return await self.client.resync_many(hudu_ids)

    async def unlink_many(self, hudu_ids: Sequence[int]) -> list[ArticleRecord]:
        return await self.client.unlink_many(hudu_ids)

    async def reset(self) -> int:
        return await self.client.reset()

    async def pause(self) -> None:
        self.paused = await self.client.pause()

    async def resume(self) -> None:
        self.paused = await self.client.resume()

    def stop(self) -> None:
        """Stop following the service (the service itself goes on)."""
        self._stopping = True

    async def close(self) -> None:
        self.stop()
        await self.client.aclose()

    # ------------------------------------------------------------ following the service
    async def attach(self) -> None:
        """Take the first snapshot (raises `ServiceUnavailable` when none answers)."""
        self.service = await self.client.hello()
        await self._resnapshot()

    async def run_scheduler(self) -> None:
        """Follow the service's events until `stop`; the scheduler runs in the service.
        When the service stops, say so, wait for it to come back, and take a new snapshot."""
        self._stopping = False
        lost = 0
        while not self._stopping:
            try:
                if self._seq < 0:
                    self.service = await self.client.hello()
                    await self._resnapshot()
                lost = 0
                async for seq, event in self.client.events(self._seq):
                    self._seq = seq
                    self._apply(event)
                    self.announcer.emit(event)
                    if self._stopping:
                        return
                raise ServiceUnavailable("the service closed the event stream")
            except WireError as exc:
                if str(exc) != "resnapshot":
                    log.warning("the service sent something unexpected: %s", exc)
                self._seq = -1
            except ServiceUnavailable as exc:
                if not lost and self._seq >= 0 and await self._same_service():
                    continue  # only the stream was dropped (this client fell behind)
                if not lost:
                    self.running = False
                    self.announcer.emit(ServiceLost(str(exc)))
                await asyncio.sleep(RECONNECT_WAITS[min(lost, len(RECONNECT_WAITS) - 1)])
                lost += 1
                self._seq = -1

    async def _same_service(self) -> bool:
        """Whether the service that answers is the one followed (same pid, same start)."""
        try:
            now = await self.client.hello()
        except ServiceUnavailable:
            return False
        return self.service is not None and (now.pid, now.started_at) == (
            self.service.pid,
            self.service.started_at,
        )

    async def _resnapshot(self) -> None:
        """Replace the mirror with a new snapshot; listeners learn the differences as the
        usual row events, so a dashboard needs no special case for a reconnect."""
        snapshot = await self.client.snapshot()
        fresh = {rec.hudu_id: rec for rec in snapshot.records}
        gone = [i for i in self._records if i not in fresh]
        changed = [r for i, r in fresh.items() if self._records.get(i) != r]
        self._records = fresh
        self._apply_state(snapshot.state)
        self._seq = snapshot.seq
        for hudu_id in gone:
            self.announcer.emit(ArticleRemoved(hudu_id))
        for rec in changed:
            self.announcer.emit(ArticleChanged(rec))
        assert self.service is not None
        self.announcer.emit(
            ServiceAttached(self.service.pid, self.service.version, self.service.socket)
        )
        for key, cls in (("pass_started", PassStarted), ("pass_progress", PassProgressed)):
            if self.running and snapshot.state.get(key):
                self.announcer.emit(load(cls, snapshot.state[key]))

    def _apply_state(self, state: dict[str, Any]) -> None:
        self.hudu_label = str(state.get("hudu_label") or "")
        self.halo_label = str(state.get("halo_label") or "")
        self.interval = float(state.get("interval") or 0)
        self.paused = bool(state.get("paused"))
        self.halo_notice = str(state.get("halo_notice") or "")
        self.running = bool(state.get("running"))
        self._article_url = str(state.get("halo_article_url") or "")
        nxt = state.get("next_pass_at")
        self.next_pass_at = datetime.fromisoformat(nxt) if isinstance(nxt, str) else None
        last = state.get("last_pass")
        self.last_pass = load(PassFinished, last) if last else None

    def _apply(self, event: Event) -> None:
        if isinstance(event, ArticleChanged):
            self._records[event.record.hudu_id] = event.record
        elif isinstance(event, ArticleRemoved):
            self._records.pop(event.hudu_id, None)
        elif isinstance(event, PassStarted):
            self.running = True
        elif isinstance(event, PassFinished):
            self.running = False
            if not event.dry_run:
                self.last_pass = event
        elif isinstance(event, SchedulerChanged):
            self.paused, self.next_pass_at = event.paused, event.next_pass_at
