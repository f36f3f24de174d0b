"""The control endpoints of the service (HTTP over its Unix socket), as a Starlette app.

GET  /v1/hello              who answers: protocol, version, pid, start, mapping file, socket
GET  /v1/snapshot           {"seq", "records", "state"}: the rows and state after event seq
GET  /v1/events?after=SEQ   application/x-ndjson, one event per line from SEQ + 1 on
                            (410 {"error": "resnapshot"} when those are not held any more)
GET  /status                counts and pass state, for monitoring with curl
GET  /v1/history?limit=N    {"passes"}: the last N passes (at most 500), newest first
POST /v1/sync               {"full", "dry_run", "force", "command_id"} → {"summary"}
POST /v1/retry              {"command_id"} → {"summary"}
POST /v1/resync/{hudu_id}   → {"record"}
POST /v1/unlink/{hudu_id}   → {"record"}
POST /v1/resync, /v1/unlink {"ids": [...]} → {"records"}: many articles as one command
POST /v1/reset              → {"unlinked"}
POST /v1/pause, /v1/resume  → {"paused"}
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.errors import HhsyncError
from core.service.bodies import (
    ArticleIds,
    NoArguments,
    RequestRefused,
    RetryCommand,
    SyncCommand,
    parse_after,
    parse_hudu_id,
    parse_limit,
    read_command,
)
from core.service.commands import ServiceStopping
from core.service.context import ServiceContext
from core.service.eventlog import Resnapshot
from core.service.guard import ProtocolGuard
from core.service.replies import engine_error_reply, error_reply, line_reply, reply
from core.service.state import hello_body, snapshot_json, status_body
from core.service.stream import ABORT_EXTENSION, MEDIA_TYPE, EventStreamResponse
from core.tables import MAX_RUNS
from core.wire import dump, dump_records, dump_summary


class Endpoints:
    """One method per endpoint, on one service context."""

    def __init__(self, context: ServiceContext) -> None:
        self.context = context
        self.engine = context.engine

    # ------------------------------------------------------------ reading
    async def hello(self, request: Request) -> Response:
        return reply(hello_body(self.context.facts))

    async def snapshot(self, request: Request) -> Response:
        # Built without an await: `seq` is exactly the last event the rows include.
        context = self.context
        body = snapshot_json(self.engine, context.events.last_seq, context.watch, context.facts)
        return Response(body, media_type="application/json")

    async def events(self, request: Request) -> Response:
        log = self.context.events
        after = parse_after(request.query_params.get("after"))
        if request.method == "HEAD":
            return Response(media_type=MEDIA_TYPE)
        extensions = request.scope.get("extensions") or {}
        try:
            follower = log.follow(
                log.last_seq if after is None else after, abort=extensions.get(ABORT_EXTENSION)
            )
        except Resnapshot:
            return line_reply(410, "resnapshot")
        return EventStreamResponse(log, follower)

    async def status(self, request: Request) -> Response:
        return reply(status_body(self.engine, self.context.facts))

    async def history(self, request: Request) -> Response:
        limit = parse_limit(request.query_params.get("limit"), MAX_RUNS)
        return reply({"passes": [dump(p) for p in await self.engine.history(limit)]})

    # ------------------------------------------------------------ commands
    async def sync(self, request: Request) -> Response:
        body = await read_command(request, SyncCommand)
        summary = await self.context.commands.run(
            lambda: self.engine.sync_now(
                full=body.full, dry_run=body.dry_run, force=body.force, command_id=body.command_id
            )
        )
        return reply({"summary": dump_summary(summary)})

    async def retry(self, request: Request) -> Response:
        body = await read_command(request, RetryCommand)
        summary = await self.context.commands.run(
            lambda: self.engine.retry_failed(command_id=body.command_id)
        )
        return reply({"summary": dump_summary(summary)})

    async def resync(self, request: Request) -> Response:
        hudu_id = parse_hudu_id(request.path_params["hudu_id"])
        await read_command(request, NoArguments)
        record = await self.context.commands.run(lambda: self.engine.resync(hudu_id))
        return reply({"record": dump(record)})

    async def unlink(self, request: Request) -> Response:
        hudu_id = parse_hudu_id(request.path_params["hudu_id"])
        await read_command(request, NoArguments)
        record = await self.context.commands.run(lambda: self.engine.unlink(hudu_id))
        return reply({"record": dump(record)})

    async def resync_many(self, request: Request) -> Response:
        body = await read_command(request, ArticleIds)
        records = await self.context.commands.run(lambda: self.engine.resync_many(body.ids))
        return reply({"records": dump_records(records)})

    async def unlink_many(self, request: Request) -> Response:
        body = await read_command(request, ArticleIds)
        records = await self.context.commands.run(lambda: self.engine.unlink_many(body.ids))
        return reply({"records": dump_records(records)})

    async def reset(self, request: Request) -> Response:
        await read_command(request, NoArguments)
        return reply({"unlinked": await self.context.commands.run(self.engine.reset)})

    async def pause(self, request: Request) -> Response:
        await read_command(request, NoArguments)
        await self.context.commands.run(self.engine.pause)
        return reply({"paused": self.engine.paused})

    async def resume(self, request: Request) -> Response:
        await read_command(request, NoArguments)
        await self.context.commands.run(self.engine.resume)
        return reply({"paused": self.engine.paused})

    def routes(self) -> list[Route]:
        get, post = ["GET"], ["POST"]
        return [
            Route("/v1/hello", self.hello, methods=get),
            Route("/v1/snapshot", self.snapshot, methods=get),
            Route("/v1/events", self.events, methods=get),
            Route("/status", self.status, methods=get),
            Route("/v1/history", self.history, methods=get),
            Route("/v1/sync", self.sync, methods=post),
            Route("/v1/retry", self.retry, methods=post),
            Route("/v1/resync/{hudu_id}", self.resync, methods=post),
            Route("/v1/unlink/{hudu_id}", self.unlink, methods=post),
            Route("/v1/resync", self.resync_many, methods=post),
            Route("/v1/unlink", self.unlink_many, methods=post),
            Route("/v1/reset", self.reset, methods=post),
            Route("/v1/pause", self.pause, methods=post),
            Route("/v1/resume", self.resume, methods=post),
        ]


def create_app(context: ServiceContext) -> Starlette:
    secrets = context.secrets

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestRefused)
        return error_reply(exc.status, "request", str(exc))

    async def engine_failed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HhsyncError)
        if isinstance(exc, ServiceStopping):
            return error_reply(503, "other", str(exc), exc.hint)
        return engine_error_reply(exc, secrets)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _http_error_reply(request, exc)

    return Starlette(
        routes=Endpoints(context).routes(),
        middleware=[Middleware(ProtocolGuard, pid=context.facts.pid)],
        exception_handlers={
            RequestRefused: refused,
            HhsyncError: engine_failed,
            HTTPException: http_error,
        },
    )


def _http_error_reply(request: Request, exc: HTTPException) -> JSONResponse:
    where = f"{request.method} {request.url.path}"[:200]
    if exc.status_code == 404:
        message = f"no such endpoint: {where}"
    elif exc.status_code == 405:
        message = f"{where}: method not allowed (allowed: {(exc.headers or {}).get('Allow', '')})"
    else:
        message = exc.detail
    return error_reply(exc.status_code, "request", message, headers=dict(exc.headers or {}))
