"""The JSON form of what crosses the service socket: events, rows, pass summaries.

Each value is a dataclass of `core.events`, `core.models` or `core.plan`; pydantic's
`TypeAdapter` turns it into JSON-ready data and back, checking every field's type, so a
client decodes exactly the objects an embedded engine hands its listeners.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from pydantic import TypeAdapter, ValidationError

from core.events import (
    ActionTaken,
    ArticleChanged,
    ArticleRemoved,
    EngineLogged,
    Event,
    PassFinished,
    PassProgressed,
    PassStarted,
    RateLimitWaited,
    SchedulerChanged,
    WritesFailed,
)
from core.models import ArticleRecord
from core.plan import PassSummary

PROTOCOL_VERSION = 2
"""2: commands say where they came from (`origin`), and `ActionTaken` events."""

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        ActionTaken,
        ArticleChanged,
        ArticleRemoved,
        EngineLogged,
        PassFinished,
        PassProgressed,
        PassStarted,
        RateLimitWaited,
        SchedulerChanged,
        WritesFailed,
    )
}

T = TypeVar("T")


class WireError(ValueError):
    """Data from the other side of the socket that is not what the protocol says."""


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}
_RECORDS = TypeAdapter(list[ArticleRecord])


def _adapter(cls: type[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


def dump(value: object) -> Any:
    """A dataclass as JSON-ready data."""
    return _adapter(type(value)).dump_python(value, mode="json")


def load(cls: type[T], data: object) -> T:
    try:
        return cast(T, _adapter(cls).validate_python(data))
    except ValidationError as exc:
        raise WireError(f"not a valid {cls.__name__}: {exc.error_count()} problem(s)") from None


def dump_event(event: Event, seq: int) -> dict[str, Any]:
    return {"seq": seq, "type": type(event).__name__, "event": dump(event)}


def load_event(data: object) -> tuple[int, Event]:
    """(sequence number, event) from one line of the event stream."""
    if not isinstance(data, dict) or not isinstance(data.get("seq"), int):
        raise WireError("an event needs a sequence number")
    cls = EVENT_TYPES.get(str(data.get("type")))
    if cls is None:
        raise WireError(f"unknown event type {data.get('type')!r}")
    return data["seq"], load(cls, data.get("event"))


def dump_records(records: list[ArticleRecord]) -> Any:
    return _RECORDS.dump_python(records, mode="json")


def load_records(data: object) -> list[ArticleRecord]:
    try:
        return _RECORDS.validate_python(data)
    except ValidationError as exc:
        raise WireError(f"not a list of articles: {exc.error_count()} problem(s)") from None


def dump_summary(summary: PassSummary) -> Any:
    return dump(summary)


def load_summary(data: object) -> PassSummary:
    return load(PassSummary, data)
