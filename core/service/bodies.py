"""Reading a request: a JSON body of at most 64 KiB, typed command fields, ids and cursors.

Anything else is refused with `RequestRefused`, answered as `400` or `413`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

MAX_BODY_BYTES = 64 * 1024
M = TypeVar("M", bound=BaseModel)


class RequestRefused(Exception):
    """A request the service will not run; `str()` says why in one line."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Command(BaseModel):
    """A command body: every field typed exactly (no "true" for true), no unknown field."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class SyncCommand(Command):
    full: bool = False
    dry_run: bool = False
    force: bool = False
    command_id: str = Field(default="", max_length=200)


class RetryCommand(Command):
    command_id: str = Field(default="", max_length=200)


MAX_IDS = 5000
"""Articles in one command: 5,000 ids fit the body limit with room to spare."""


class ArticleIds(Command):
    ids: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, max_length=MAX_IDS)


class NoArguments(Command):
    pass


async def read_command(request: Request, model: type[M]) -> M:
    return parse_command(model, await read_json_object(request))


async def read_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body is `{}`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _too_large()
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise RequestRefused("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise RequestRefused("the body must be a JSON object")
    return data


def parse_command(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise RequestRefused(f"field {field!r}: {first['msg']}{more}") from None


def parse_hudu_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise RequestRefused("the article id must be a whole number (a Hudu article id)")
    return int(text)


def parse_after(text: str | None) -> int | None:
    """`?after=SEQ`: a sequence number, or None when not given (live events only)."""
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise RequestRefused("after must be a sequence number (0 or more)")
    return int(text)


def parse_limit(text: str | None, most: int) -> int:
    """`?limit=N`: how many items, 1 to `most` (`most` when not given)."""
    if text is None:
        return most
    if not text.isascii() or not text.isdigit() or not 1 <= int(text[:6]) <= most:
        raise RequestRefused(f"limit must be a number from 1 to {most}")
    return int(text)


def _too_large() -> RequestRefused:
    return RequestRefused(f"the body is larger than {MAX_BODY_BYTES // 1024} KiB", status=413)
