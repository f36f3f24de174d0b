"""The service's control endpoints: in-process through ASGI against a real engine on the
emulators, and over a real Unix socket (uvicorn in this process) for what only a socket shows:
streams, bad bytes, slow readers, file modes, stale sockets, other users."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.build import build_engine
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState
from core.emulators.seed import SeedSummary
from core.engine import Engine
from core.errors import (
    AuthError,
    HaloAuthError,
    HhsyncError,
    HuduUnreachableError,
    MalformedResponseError,
    StoreError,
    StoreLockedError,
    UnreachableError,
)
from core.events import ArticleChanged, EngineLogged, Event, PassFinished
from core.models import ArticleRecord
from core.service import ControlService, ServiceRunningError
from core.service.app import create_app
from core.service.bodies import MAX_BODY_BYTES
from core.service.commands import CommandRunner
from core.service.context import ServiceContext
from core.service.eventlog import EventLog, Resnapshot
from core.service.listener import peer_allowed, peer_uid
from core.service.replies import engine_error_reply, error_kind
from core.service.state import ServiceFacts
from core.socketpath import SocketPathError
from core.wire import PROTOCOL_VERSION, dump_records, load, load_event, load_summary
from tests.cli_helpers import instant_retry_waits
from tests.conftest import EngineFactory, halo_copies, make_settings

PROTOCOL = {"X-Hhsync-Protocol": str(PROTOCOL_VERSION)}


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


def make_context(engine: Engine, **options: Any) -> ServiceContext:
    facts = ServiceFacts.now(engine.store.path, Path("/tmp/hhsync-test.sock"))
    return ServiceContext.watching(engine, facts, secrets=engine.settings.secrets(), **options)


def asgi_client(context: ServiceContext) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(context)),
        base_url="http://hhsync",
        headers=PROTOCOL,
    )


def socket_client(path: Path, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.AsyncHTTPTransport(uds=str(path)),
        base_url="http://hhsync",
        headers={**PROTOCOL, **headers},
        timeout=httpx.Timeout(10.0, read=60.0),
    )


@pytest.fixture
def context(engine: Engine) -> Iterator[ServiceContext]:
    context = make_context(engine)
    yield context
    context.close()


@pytest.fixture
async def client(context: ServiceContext) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(context) as client:
        yield client


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A private folder with a short path (a socket path must stay under 100 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="hs-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def service(engine: Engine, short_dir: Path) -> AsyncIterator[ControlService]:
    async with ControlService(engine, short_dir / "s.sock", secrets=engine.settings.secrets()) as s:
        yield s


# ---------------------------------------------------------------- hello, status, snapshot
async def test_hello_says_who_answers(client: httpx.AsyncClient, engine: Engine) -> None:
    reply = await client.get("/v1/hello")
    assert reply.status_code == 200
    assert reply.headers["x-hhsync-protocol"] == str(PROTOCOL_VERSION)
    body = reply.json()
    assert body["protocol"] == PROTOCOL_VERSION
    assert body["pid"] == os.getpid()
    assert body["db"] == str(engine.store.path.resolve())
    assert body["socket"] == "/tmp/hhsync-test.sock"
    assert body["version"] and body["started_at"]


async def test_status_counts_and_pass_state(
    client: httpx.AsyncClient, engine: Engine, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    body = (await client.get("/status")).json()
    assert body["counts"] == engine.counts()
    assert body["running"] is False and body["paused"] is False
    assert body["last_pass"]["created"] == len(seeded.published_ids)
    assert body["pid"] == os.getpid()


async def test_snapshot_is_the_rows_and_state_after_its_sequence_number(
    client: httpx.AsyncClient, context: ServiceContext, engine: Engine, seeded: SeedSummary
) -> None:
    await client.post("/v1/sync", json={})
    snapshot = (await client.get("/v1/snapshot")).json()
    assert snapshot["seq"] == context.events.last_seq > 0
    assert snapshot["records"] == dump_records(engine.records())
    state = snapshot["state"]
    assert state["hudu_label"] == "hudu.test" and state["halo_label"] == "halo.test"
    assert state["interval"] == engine.interval
    assert state["running"] is False and state["pass_started"] is None
    assert state["last_pass"]["created"] == len(seeded.published_ids)
    assert state["halo_article_url"].replace("{id}", "7") == engine.halo_article_url(7)
    assert {"paused", "next_pass_at", "pass_progress", "pid", "version"} <= state.keys()


async def test_a_snapshot_taken_mid_pass_carries_the_pass_and_its_progress(
    client: httpx.AsyncClient, context: ServiceContext, engine: Engine, seeded: SeedSummary
) -> None:
    sync = asyncio.create_task(client.post("/v1/sync", json={"command_id": "mine"}))
    await until(lambda: engine.running and context.watch.progress is not None)
    snapshot = (await client.get("/v1/snapshot")).json()
    await sync
    state = snapshot["state"]
    assert state["running"] is True
    assert state["pass_started"]["command_id"] == "mine"
    assert state["pass_progress"]["total"] > 0


# ---------------------------------------------------------------- events
async def test_events_after_a_sequence_number_then_live(
    client: httpx.AsyncClient, context: ServiceContext, engine: Engine
) -> None:
    for n in range(5):
        engine.announcer.say(20, f"line {n}")
    stream = asyncio.create_task(client.get("/v1/events", params={"after": 3}))
    await until(lambda: context.events.followers == 1)
    engine.announcer.say(20, "live")
    context.events.close()  # ends the stream, so the in-process client gets the whole body
    reply = await stream
    assert reply.headers["content-type"] == "application/x-ndjson"
    events = [load_event(json.loads(line)) for line in reply.text.splitlines()]
    assert [seq for seq, _ in events] == [4, 5, 6]
    assert [e.message for _, e in events if isinstance(e, EngineLogged)] == [
        "line 3",
        "line 4",
        "live",
    ]


async def test_events_no_longer_held_or_from_another_run_ask_for_a_snapshot(
    engine: Engine,
) -> None:
    context = make_context(engine, capacity=10)
    async with asgi_client(context) as client:
        for n in range(30):
            engine.announcer.say(20, f"line {n}")
        assert context.events.first_seq == 21
        for after in (0, 19, 31, 10**9):
            reply = await client.get("/v1/events", params={"after": after})
            assert reply.status_code == 410, after
            assert reply.json() == {"error": "resnapshot"}
        head = await client.head("/v1/events", params={"after": 25})
        assert head.status_code == 200 and context.events.followers == 0
        for bad in ("-1", "x", "1.5", "9" * 40):
            reply = await client.get("/v1/events", params={"after": bad})
            assert reply.status_code == 400, bad
            assert reply.json()["error"]["kind"] == "request"
    context.close()


def test_event_log_keeps_the_last_n_and_drops_a_follower_that_falls_behind() -> None:
    closed: list[str] = []
    log = EventLog(capacity=100, follower_limit=10)
    reader = log.follow(0, abort=lambda: closed.append("reader"))
    for n in range(9):
        log.append(EngineLogged("INFO", f"{n}"))
    assert log.next_chunk(reader) is not None and reader.cursor == 9
    stuck = log.follow(9, abort=lambda: closed.append("stuck"))
    for n in range(11):
        log.append(EngineLogged("INFO", f"more {n}"))
    assert stuck.dropped and log.next_chunk(stuck) is None
    assert log.dropped_followers == 2  # the reader fell behind too, having read nothing since
    assert sorted(closed) == ["reader", "stuck"]  # their connections closed at once
    with pytest.raises(Resnapshot):  # more than a stream may queue: take a snapshot
        log.follow(log.last_seq - 11)
    log.follow(log.last_seq - 10)

    log = EventLog(capacity=100)
    for n in range(220):
        log.append(EngineLogged("INFO", f"{n}"))
    assert log.first_seq == 121 and log.last_seq == 220
    with pytest.raises(Resnapshot):
        log.follow(119)
    follower = log.follow(120)
    assert log.next_chunk(follower) is not None and follower.cursor == 220


def test_an_event_line_is_the_wire_form_of_the_event() -> None:
    from datetime import UTC, datetime

    from core.events import (
        ArticleRemoved,
        PassCause,
        PassProgressed,
        PassStarted,
        RateLimitWaited,
        SchedulerChanged,
        WritesFailed,
    )
    from core.models import Status
    from core.service.eventlog import event_line
    from core.wire import EVENT_TYPES, dump_event

    moment = datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
    record = ArticleRecord(
        hudu_id=7, title='Café ☕ "quoted"\n', scope="Acme", company_id=3, status=Status.FAILED
    )
    samples: list[Event] = [
        ArticleChanged(record),
        ArticleRemoved(7),
        PassStarted(True, moment, PassCause.RETRY, "id-1"),
        PassProgressed(3, 10, 2, 1),
        PassFinished(False, moment, moment, 1, 2, 3, 4, 5, "boom", dry_run=True),
        WritesFailed((1, 2), ("a", "b"), "refused", "hint"),
        SchedulerChanged(True, None),
        SchedulerChanged(False, moment),
        RateLimitWaited("Halo", 1.5e-7, "window"),
        EngineLogged("INFO", "ünïcode \u2028 line", moment),
    ]
    assert {type(e).__name__ for e in samples} >= set(EVENT_TYPES)
    for seq, event in enumerate(samples, start=1):
        line = event_line(event, seq)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert json.loads(line) == json.loads(json.dumps(dump_event(event, seq)))
        assert load_event(json.loads(line)) == (seq, event)


# ---------------------------------------------------------------- commands
async def test_sync_answers_the_summary_the_engine_gives(
    client: httpx.AsyncClient, engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    dry = await client.post("/v1/sync", json={"dry_run": True, "full": True})
    assert dry.status_code == 200, dry.text
    planned = load_summary(dry.json()["summary"])
    assert planned.dry_run and len(planned.plan) == len(seeded.published_ids)
    assert halo.log.writes("/api") == []

    reply = await client.post("/v1/sync", json={"command_id": "abc", "force": False})
    summary = load_summary(reply.json()["summary"])
    assert summary.created == len(seeded.published_ids) and summary.failed == 0
    assert engine.last_pass is not None and engine.last_pass.created == summary.created
    assert all(len(halo_copies(halo, i)) == 1 for i in seeded.published_ids)

    retry = await client.post("/v1/retry", json={"command_id": "r1"})
    assert load_summary(retry.json()["summary"]).created == 0


async def test_resync_unlink_reset_pause_resume(
    client: httpx.AsyncClient, engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    await client.post("/v1/sync")
    some = seeded.published_ids[0]

    reply = await client.post(f"/v1/unlink/{some}")
    assert reply.status_code == 200
    record = load(ArticleRecord, reply.json()["record"])
    assert record.hudu_id == some and record.unlinked

    reply = await client.post(f"/v1/resync/{some}")
    record = load(ArticleRecord, reply.json()["record"])
    assert not record.unlinked and record.status.value == "synced"
    assert len(halo_copies(halo, some)) == 1

    reply = await client.post("/v1/reset")
    assert reply.json() == {"unlinked": len(seeded.published_ids)}

    assert (await client.post("/v1/pause")).json() == {"paused": True}
    assert engine.paused
    assert (await client.post("/v1/resume")).json() == {"paused": False}
    assert not engine.paused


async def test_engine_errors_keep_their_kind_and_hint(
    client: httpx.AsyncClient, seeded: SeedSummary
) -> None:
    reply = await client.post("/v1/unlink/999999")
    assert reply.status_code == 409
    assert reply.json()["error"] == {
        "kind": "other",
        "message": "article 999999 is not in the mapping",
        "hint": "",
    }
    reply = await client.post("/v1/resync/999999")
    assert reply.status_code == 409
    error = reply.json()["error"]
    assert error["message"] == "Hudu has no article 999999" and "full sync" in error["hint"]


async def test_a_credential_error_is_502_auth_and_carries_no_secret(
    make_engine: EngineFactory, seeded: SeedSummary
) -> None:
    secret = "wrong-secret-0123456789"
    engine = make_engine(halo_client_secret=secret)
    await engine.open()
    context = make_context(engine)
    async with asgi_client(context) as client:
        reply = await client.post("/v1/sync")
    context.close()
    assert reply.status_code == 502
    error = reply.json()["error"]
    assert error["kind"] == "auth" and error["hint"]
    assert secret not in reply.text
    with pytest.raises(AuthError):
        raise {"auth": AuthError}[error["kind"]](error["message"])


async def test_an_unreachable_hudu_is_502_unreachable(
    tmp_path: Path, halo: HaloState, monkeypatch: pytest.MonkeyPatch
) -> None:
    instant_retry_waits(monkeypatch)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    engine = build_engine(
        make_settings(tmp_path / "hhsync.json"),
        hudu_transport=httpx.MockTransport(refuse),
        halo_transport=httpx.ASGITransport(app=create_halo_app(halo)),
    )
    await engine.open()
    context = make_context(engine)
    try:
        async with asgi_client(context) as client:
            reply = await client.post("/v1/sync")
    finally:
        context.close()
        await engine.close()
    assert reply.status_code == 502
    assert reply.json()["error"]["kind"] == "unreachable"


@pytest.mark.parametrize(
    ("error", "kind", "status"),
    [
        (HaloAuthError("401 refused"), "auth", 502),
        (HuduUnreachableError("refused"), "unreachable", 502),
        (UnreachableError("refused"), "unreachable", 502),
        (MalformedResponseError("not JSON"), "malformed", 502),
        (StoreError("cannot read"), "store", 409),
        (StoreLockedError("/x.json", 12), "store", 409),
        (HhsyncError("no such article"), "other", 409),
    ],
)
def test_each_engine_error_has_a_kind_and_status(
    error: HhsyncError, kind: str, status: int
) -> None:
    assert error_kind(error) == (kind, status)
    reply = engine_error_reply(HhsyncError("key s3cr3t leaked", hint="s3cr3t"), ["s3cr3t"])
    assert b"s3cr3t" not in reply.body


# ---------------------------------------------------------------- bad requests
async def test_another_protocol_gets_426_and_one_line(
    client: httpx.AsyncClient, context: ServiceContext
) -> None:
    for asked in ("2", "0", "junk"):
        reply = await client.get("/v1/hello", headers={"X-Hhsync-Protocol": asked})
        assert reply.status_code == 426
        assert reply.headers["x-hhsync-protocol"] == "1"
        line = reply.json()["error"]
        assert line.startswith("hhsync protocol ") and "is not 1" in line
        assert f"(pid {context.facts.pid})" in line and "\n" not in line
    reply = await client.post("/v1/pause", headers={"X-Hhsync-Protocol": "2"})
    assert reply.status_code == 426 and not context.engine.paused


async def test_no_protocol_header_is_served(context: ServiceContext) -> None:
    transport = httpx.ASGITransport(app=create_app(context))
    async with httpx.AsyncClient(transport=transport, base_url="http://hhsync") as plain:
        reply = await plain.get("/status")
    assert reply.status_code == 200 and reply.headers["x-hhsync-protocol"] == "1"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/v1/sync", b"{not json", 400),
        ("POST", "/v1/sync", b"[1, 2]", 400),
        ("POST", "/v1/sync", b'{"full": "yes"}', 400),
        ("POST", "/v1/sync", b'{"full": 1}', 400),
        ("POST", "/v1/sync", b'{"fast": true}', 400),
        ("POST", "/v1/sync", b'{"command_id": 5}', 400),
        ("POST", "/v1/sync", b'{"command_id": "' + b"x" * 300 + b'"}', 400),
        ("POST", "/v1/retry", b'{"full": true}', 400),
        ("POST", "/v1/resync/abc", b"", 400),
        ("POST", "/v1/unlink/-3", b"", 400),
        ("POST", "/v1/reset", b'{"yes": true}', 400),
        ("POST", "/v1/resync", b"", 400),
        ("POST", "/v1/resync", b'{"ids": []}', 400),
        ("POST", "/v1/unlink", b'{"ids": ["12"]}', 400),
        ("POST", "/v1/unlink", b'{"ids": [0]}', 400),
        ("POST", "/v1/unlink", b'{"ids": [' + b"1," * 5000 + b"1]}", 400),
        ("POST", "/v1/sync", b" " * (MAX_BODY_BYTES + 1), 413),
        ("GET", "/v1/nothing", b"", 404),
        ("GET", "/", b"", 404),
        ("GET", "/v1/sync", b"", 405),
        ("DELETE", "/v1/hello", b"", 405),
    ],
)
async def test_bad_requests_get_a_json_error(
    client: httpx.AsyncClient, method: str, path: str, body: bytes, status: int
) -> None:
    reply = await client.request(method, path, content=body)
    assert reply.status_code == status, reply.text
    assert reply.headers["x-hhsync-protocol"] == "1"
    error = reply.json()["error"]
    assert error["kind"] == "request" and error["message"] and "Traceback" not in reply.text
    if status == 405:
        assert reply.headers["allow"]


async def test_a_large_body_without_length_is_cut_at_64_kib(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    reply = await client.post("/v1/sync", content=chunks())
    assert reply.status_code == 413


async def test_an_unexpected_failure_is_a_500_without_traceback(
    client: httpx.AsyncClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> int:
        raise RuntimeError("boom: internal detail")

    monkeypatch.setattr(engine, "reset", broken)
    reply = await client.post("/v1/reset")
    assert reply.status_code == 500
    assert reply.json()["error"]["kind"] == "other"
    assert "boom" not in reply.text and "Traceback" not in reply.text
    assert (await client.get("/v1/hello")).status_code == 200


async def test_a_stopping_service_refuses_new_commands(
    client: httpx.AsyncClient, context: ServiceContext, engine: Engine
) -> None:
    context.commands.stopping = True
    reply = await client.post("/v1/pause")
    assert reply.status_code == 503 and reply.json()["error"]["kind"] == "other"
    assert not engine.paused
    assert (await client.get("/status")).status_code == 200


async def test_a_command_outlives_the_request_that_asked_for_it() -> None:
    runner = CommandRunner()
    finished = asyncio.Event()

    async def command() -> str:
        await asyncio.sleep(0.05)
        finished.set()
        return "done"

    request = asyncio.create_task(runner.run(command))
    await asyncio.sleep(0.01)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    await asyncio.wait_for(finished.wait(), 5)
    assert runner.in_flight == 0


# ---------------------------------------------------------------- over a real socket
async def test_snapshot_then_stream_misses_nothing_mid_pass(
    service: ControlService, engine: Engine, seeded: SeedSummary
) -> None:
    async with socket_client(service.path) as client:
        sync = asyncio.create_task(client.post("/v1/sync", json={"command_id": "c1"}))
        await until(lambda: engine.running and service.context.events.last_seq > 10)
        snapshot = (await client.get("/v1/snapshot")).json()
        await until(lambda: service.context.events.last_seq > snapshot["seq"] + 5)
        rows = {r["hudu_id"]: r for r in snapshot["records"]}
        seqs: list[int] = []
        async with client.stream("GET", "/v1/events", params={"after": snapshot["seq"]}) as r:
            assert r.status_code == 200
            async for line in r.aiter_lines():
                data = json.loads(line)
                seq, event = load_event(data)
                seqs.append(seq)
                if isinstance(event, ArticleChanged):
                    rows[event.record.hudu_id] = data["event"]["record"]
                if isinstance(event, PassFinished):
                    break
        assert (await sync).status_code == 200
    assert seqs == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(seqs)))
    assert rows == {r["hudu_id"]: r for r in dump_records(engine.records())}


async def test_a_client_that_leaves_mid_command_does_not_cancel_it(
    service: ControlService, engine: Engine, seeded: SeedSummary
) -> None:
    finished: list[PassFinished] = []
    engine.subscribe(lambda e: finished.append(e) if isinstance(e, PassFinished) else None)
    client = socket_client(service.path)
    request = asyncio.create_task(client.post("/v1/sync", json={"command_id": "gone"}))
    await until(lambda: engine.running)
    request.cancel()
    await client.aclose()
    await until(lambda: bool(finished))
    assert finished[0].error == "" and finished[0].created == len(seeded.published_ids)
    assert engine.store.meta("cursor")


async def raw_exchange(path: Path, data: bytes, *, close_write: bool = True) -> bytes:
    """Send raw bytes on a new connection; everything the service answers until it closes."""
    reader, writer = await asyncio.open_unix_connection(str(path))
    writer.write(data)
    await writer.drain()
    if close_write:
        writer.write_eof()
    try:
        async with asyncio.timeout(10):
            return await reader.read()
    except ConnectionResetError:
        return b""
    finally:
        writer.close()


async def test_garbage_and_half_written_requests_leave_the_service_answering(
    service: ControlService,
) -> None:
    garbage = [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),
        b"NOT HTTP AT ALL\r\n\r\n",
        b"GET /v1/hello HTTP/1.1\r\nHost: hhsync\r\nContent-Length: -5\r\n\r\n",
        b"GET /v1/hello HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"\r\n\r\n\r\n",
        b"GET /status HTTP/1.1\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n",
        b"\x00" * 1000,
        b"GET /v1/hel",  # half-written, then the client stops writing
        b"POST /v1/sync HTTP/1.1\r\nHost: hhsync\r\nContent-Length: 100\r\n\r\n{",
    ]
    for data in garbage:
        answer = await raw_exchange(service.path, data)
        assert answer == b"" or answer.startswith((b"HTTP/1.1 4", b"HTTP/1.1 5")), answer[:80]
    # A connection left half-written and open does not hold the others up.
    _, idle = await asyncio.open_unix_connection(str(service.path))
    idle.write(b"GET /v1/hello HTTP/1.1\r\nHo")
    async with socket_client(service.path) as client:
        for _ in range(3):
            assert (await client.get("/v1/hello")).status_code == 200
    idle.close()


async def test_a_client_that_never_reads_is_dropped_and_does_not_hold_the_pass(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState, short_dir: Path
) -> None:
    halo.rate_limit = None
    for n in range(2000):
        hudu.add_article(f"Article {n}", f"<p>Body of article {n}, " + "words " * 40 + "</p>")
    engine = make_engine()
    await engine.open()
    path = short_dir / "s.sock"
    async with ControlService(engine, path, follower_limit=1000) as service:
        stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.connect(str(path))
        stuck.sendall(b"GET /v1/events?after=0 HTTP/1.1\r\nHost: hhsync\r\n\r\n")
        await until(lambda: service.context.events.followers == 1)
        async with socket_client(path) as client:
            reply = await client.post("/v1/sync", json={})
            assert reply.status_code == 200
            assert load_summary(reply.json()["summary"]).created == 2000
            log = service.context.events
            assert log.last_seq > 4000  # the events it never read: far more than its bound
            assert log.dropped_followers == 1
            await until(lambda: log.followers == 0)
            assert (await client.get("/v1/hello")).status_code == 200
        stuck.settimeout(10)  # what the buffers hold, then the end: a timeout fails the test
        with contextlib.suppress(ConnectionResetError):
            while stuck.recv(65536):
                pass
        stuck.close()


# ---------------------------------------------------------------- the socket file
async def test_socket_is_0600_in_a_0700_folder_and_removed_on_stop(
    engine: Engine, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core import socketpath

    monkeypatch.setattr(socketpath, "SOCKET_ROOT", short_dir)
    path = socketpath.socket_path(engine.store.path)
    assert path.parent == short_dir / f"hhsync-{os.getuid()}"
    async with ControlService(engine, path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_ISSOCK(path.lstat().st_mode)
    assert not path.exists()


async def test_an_unsafe_socket_folder_is_refused(
    engine: Engine, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core import socketpath

    monkeypatch.setattr(socketpath, "SOCKET_ROOT", short_dir)
    folder = short_dir / f"hhsync-{os.getuid()}"
    folder.mkdir()
    os.chmod(folder, 0o755)
    with pytest.raises(SocketPathError, match="0755"):
        async with ControlService(engine, socketpath.socket_path(engine.store.path)):
            pass
    path = short_dir / "plain-file"
    path.write_text("not a socket")
    with pytest.raises(SocketPathError, match="not a socket"):
        async with ControlService(engine, path):
            pass


async def test_a_stale_socket_is_replaced_and_a_live_one_refused(
    make_engine: EngineFactory, short_dir: Path, tmp_path: Path
) -> None:
    path = short_dir / "s.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))  # bound, never listening, closed: what a killed process leaves
    dead.close()
    assert path.exists()
    engine = make_engine()
    await engine.open()
    async with ControlService(engine, path) as first:
        async with socket_client(path) as client:
            assert (await client.get("/v1/hello")).json()["pid"] == os.getpid()
        other = build_engine(make_settings(tmp_path / "other.json"))
        try:
            with pytest.raises(ServiceRunningError, match=f"pid {os.getpid()}"):
                async with ControlService(other, path):
                    pass
        finally:
            await other.close()
        assert first.serving is not None and not first.serving.done()
        async with socket_client(path) as client:
            assert (await client.get("/v1/hello")).status_code == 200


async def test_a_socket_nobody_answers_on_is_replaced(
    engine: Engine, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.service import listener

    monkeypatch.setattr(listener, "PROBE_SECONDS", 0.2)
    path = short_dir / "s.sock"
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(str(path))
    silent.listen(1)  # connections wait in the backlog; no answer ever comes
    try:
        async with ControlService(engine, path), socket_client(path) as client:
            assert (await client.get("/v1/hello")).status_code == 200
    finally:
        silent.close()


def test_peer_credentials_predicate() -> None:
    me = os.getuid()
    assert peer_allowed(me, me)
    assert not peer_allowed(me + 1, me)
    assert not peer_allowed(0, 1000)  # root is another user too
    assert not peer_allowed(-1, me)  # credentials that could not be read
    assert peer_allowed(None, me)  # the platform cannot tell: the 0700 folder decides
    if hasattr(socket, "SO_PEERCRED"):
        left, right = socket.socketpair()
        with left, right:
            assert peer_uid(left) == me


def connect_as(uid: int, path: Path) -> str:
    """Connect to `path` from a forked child running as `uid`, send a request; what came back:
    "data:<bytes>" or "error:<exception name>"."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no Python-level cleanup, only system calls, then _exit
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            peer.settimeout(10)
            peer.connect(str(path))
            peer.sendall(b"GET /status HTTP/1.1\r\nHost: hhsync\r\n\r\n")
            os.write(write_end, b"data:" + peer.recv(100))
        except BaseException as exc:
            os.write(write_end, f"error:{type(exc).__name__}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        result = answer.read().decode(errors="replace")
    os.waitpid(pid, 0)
    return result


@pytest.mark.skipif(os.getuid() != 0, reason="switching to another uid needs root")
async def test_another_user_is_refused(service: ControlService, short_dir: Path) -> None:
    # Open the folder and socket to everyone, so that only the peer check stands in the way.
    os.chmod(short_dir, 0o755)
    os.chmod(service.path, 0o666)
    answer = await asyncio.to_thread(connect_as, 65534, service.path)
    assert answer in ("data:", "error:ConnectionResetError", "error:BrokenPipeError"), answer
    async with socket_client(service.path) as client:  # its own user still gets in
        assert (await client.get("/status")).status_code == 200


# ---------------------------------------------------------------- the systemd unit
def test_contrib_unit_is_the_rendered_example() -> None:
    from core.service.unit import EXAMPLE_PLACES, render_unit

    shipped = Path(__file__).parent.parent / "contrib" / "hhsync.service"
    assert shipped.read_text() == render_unit(EXAMPLE_PLACES)


def test_unit_copies_places_never_credentials_and_quotes_paths(tmp_path: Path) -> None:
    from core.service.unit import places_here, render_unit
    from core.socketpath import default_socket_dir

    environ = {
        "HHSYNC_DB": "/srv/kb sync/map%.json",
        "XDG_STATE_HOME": "/srv/state",
        "HUDU_API_KEY": "hudu-secret",
        "HALO_CLIENT_SECRET": "halo-secret",
    }
    places = places_here(
        Path("/srv/kb sync/map%.json"),
        default_socket_dir() / "0123456789abcdef.sock",
        Path("/srv/state/hhsync"),
        environ,
    )
    unit = render_unit(places)
    assert 'Environment="HHSYNC_DB=/srv/kb sync/map%%.json"' in unit
    assert "Environment=XDG_STATE_HOME=/srv/state" in unit
    assert "secret" not in unit and "HUDU_API_KEY" not in unit
    # /tmp, not /tmp/hhsync-<uid>: a folder systemd can find at boot, before hhsync makes it
    assert 'ReadWritePaths="/srv/kb sync" /srv/state/hhsync /tmp\n' in unit
