"""The JSON answers of the control socket, errors included: never a traceback, never a secret.

Errors have one of two shapes. Most are `{"error": {"kind", "message", "hint"}}`, where `kind`
lets a client raise the engine's error class again (and exit with the same status). The two a
client acts on without showing them in detail are one line, `{"error": "..."}`: `410`
`resnapshot` and `426` protocol mismatch.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.responses import JSONResponse

from core.errors import AuthError, HhsyncError, MalformedResponseError, StoreError, UnreachableError
from core.logs import mask

# (class, kind, HTTP status); the first that matches wins.
ENGINE_ERRORS: tuple[tuple[type[HhsyncError], str, int], ...] = (
    (AuthError, "auth", 502),
    (UnreachableError, "unreachable", 502),
    (MalformedResponseError, "malformed", 502),
    (StoreError, "store", 409),
)


def reply(body: object, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def error_reply(
    status: int,
    kind: str,
    message: str,
    hint: str = "",
    *,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"kind": kind, "message": message, "hint": hint}},
        status_code=status,
        headers=headers,
    )


def line_reply(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def error_kind(exc: HhsyncError) -> tuple[str, int]:
    """The error's kind and HTTP status: 502 when Hudu or Halo failed, else 409."""
    for cls, kind, status in ENGINE_ERRORS:
        if isinstance(exc, cls):
            return kind, status
    return "other", 409


def engine_error_reply(exc: HhsyncError, secrets: Iterable[str]) -> JSONResponse:
    kind, status = error_kind(exc)
    secrets = list(secrets)
    return error_reply(status, kind, mask(str(exc), secrets), mask(exc.hint, secrets))
