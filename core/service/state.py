"""What the service tells about itself and its engine: `hello`, the snapshot's state, `status`.

Every body is built synchronously from the engine's fields, so a snapshot's state and rows are
exactly those after its sequence number.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from core.alerts import META_KEY as ALERTS_META
from core.engine import Engine
from core.events import Event, PassFinished, PassProgressed, PassStarted
from core.models import ArticleRecord
from core.webhook import webhook_host
from core.wire import PROTOCOL_VERSION, dump

_URL_PLACEHOLDER_ID = 987654321
_RECORDS_JSON = TypeAdapter(list[ArticleRecord])


def hhsync_version() -> str:
    try:
        return version("hhsync")
    except PackageNotFoundError:
        return "unknown"


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    """Who answers on the socket: told in `hello` so a client knows a restart when it sees one."""

    pid: int
    version: str
    started_at: datetime
    db: str
    socket: str

    @classmethod
    def now(cls, db: Path, socket: Path) -> ServiceFacts:
        return cls(
            pid=os.getpid(),
            version=hhsync_version(),
            started_at=datetime.now(UTC),
            db=str(Path(db).expanduser().resolve()),
            socket=str(socket),
        )


class PassWatch:
    """The pass in flight as its events told it, so a client attaching mid-pass can draw its
    progress at once (the engine itself keeps only `running`)."""

    def __init__(self) -> None:
        self.started: PassStarted | None = None
        self.progress: PassProgressed | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, PassStarted):
            self.started, self.progress = event, None
        elif isinstance(event, PassProgressed):
            self.progress = event
        elif isinstance(event, PassFinished):
            self.started = self.progress = None


def hello_body(facts: ServiceFacts) -> dict[str, Any]:
    return {
        "protocol": PROTOCOL_VERSION,
        "version": facts.version,
        "pid": facts.pid,
        "started_at": iso(facts.started_at),
        "db": facts.db,
        "socket": facts.socket,
    }


def state_body(engine: Engine, watch: PassWatch, facts: ServiceFacts) -> dict[str, Any]:
    running = engine.running
    return {
        "hudu_label": engine.hudu_label,
        "halo_label": engine.halo_label,
        "halo_article_url": article_url_template(engine),
        "interval": engine.interval,
        "paused": engine.paused,
        "halo_notice": engine.tenant.notice,
        "running": running,
        "next_pass_at": iso(engine.next_pass_at),
        "last_pass": _dump_or_none(engine.last_pass),
        "pass_started": _dump_or_none(watch.started if running else None),
        "pass_progress": _dump_or_none(watch.progress if running else None),
        "pid": facts.pid,
        "version": facts.version,
    }


def snapshot_json(engine: Engine, seq: int, watch: PassWatch, facts: ServiceFacts) -> bytes:
    """`{"seq", "records", "state"}` as JSON: the rows are the engine's live rows, encoded at
    once by pydantic (no copy of 10,000 rows, no await: nothing changes meanwhile), the same
    JSON as `core.wire.dump_records`."""
    records = _RECORDS_JSON.dump_json(engine.book.rows())
    state = json.dumps(state_body(engine, watch, facts), separators=(",", ":")).encode()
    return b'{"seq":%d,"records":%s,"state":%s}' % (seq, records, state)


def status_body(engine: Engine, facts: ServiceFacts) -> dict[str, Any]:
    """For monitoring: `curl --unix-socket PATH http://hhsync/status`."""
    return {
        "counts": engine.counts(),
        "paused": engine.paused,
        "running": engine.running,
        "next_pass_at": iso(engine.next_pass_at),
        "last_pass": _dump_or_none(engine.last_pass),
        "alerts": alerts_body(engine),
        "pid": facts.pid,
        "version": facts.version,
    }


def alerts_body(engine: Engine) -> dict[str, Any] | None:
    """Where alerts go (the webhook's host: its URL is a secret) and when each kind was last
    sent; None when `HHSYNC_ALERT_URL` is not set."""
    url = engine.settings.hhsync_alert_url
    if url is None:
        return None
    memory = engine.store.meta(ALERTS_META)
    sent = memory.get("sent") if isinstance(memory, dict) else None
    return {
        "webhook_host": webhook_host(url.get_secret_value()),
        "last_sent": sent if isinstance(sent, dict) else {},
    }


def article_url_template(engine: Engine) -> str:
    """Where an agent opens a Halo article, with `{id}` for its id."""
    return engine.halo_article_url(_URL_PLACEHOLDER_ID).replace(str(_URL_PLACEHOLDER_ID), "{id}")


def _dump_or_none(value: object | None) -> Any:
    return None if value is None else dump(value)
