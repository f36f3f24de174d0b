"""Which alerts a finished pass calls for, and what the service remembers of those it sent.

At most one alert of a kind an hour: articles that newly fail meanwhile wait for the next pass
after the hour (dropped if they sync again first), and a pass that cannot run is told once per
outage. A recovery is told once after every outage alert, whatever the hour. The memory lives
in the mapping file's meta, so a restart neither repeats an alert nor forgets an outage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.alert_body import Alert, AlertKind, FailedArticle
from core.events import PassFinished
from core.models import ArticleRecord, Status

META_KEY = "alerts"
QUIET = timedelta(hours=1)
"""The least time between two alerts of one kind (a recovery excepted)."""


@dataclass(slots=True)
class AlertMemory:
    sent: dict[str, str] = field(default_factory=dict)
    """Alert kind → when one was last sent (ISO 8601)."""
    reported: set[int] = field(default_factory=set)
    """Failing articles an alert told of (or that failed before alerts were on)."""
    outage: bool = False
    """A `pass_failed` alert was sent and no pass has run since."""

    @classmethod
    def from_meta(cls, raw: object, failing: Iterable[int]) -> AlertMemory:
        """The memory kept in the mapping file; without one (alerts just turned on), the
        articles failing now count as told, so turning alerts on sends no backlog."""
        if not isinstance(raw, Mapping):
            return cls(reported=set(failing))
        sent = raw.get("sent")
        reported = raw.get("reported")
        return cls(
            sent={str(k): str(v) for k, v in sent.items()} if isinstance(sent, Mapping) else {},
            reported={int(i) for i in reported if isinstance(i, int)}
            if isinstance(reported, list)
            else set(failing),
            outage=raw.get("outage") is True,
        )

    def as_meta(self) -> dict[str, Any]:
        return {"sent": dict(self.sent), "reported": sorted(self.reported), "outage": self.outage}

    def quiet(self, kind: AlertKind, now: datetime) -> bool:
        """Whether an alert of `kind` went out less than an hour ago."""
        last = self.sent.get(kind.value)
        if last is None:
            return False
        try:
            return now - datetime.fromisoformat(last) < QUIET
        except (ValueError, TypeError):  # unreadable, or naive against aware: send
            return False


class AlertRules:
    """Decides after each pass; changes `memory` (the caller stores it when `after_pass`
    says it changed)."""

    def __init__(self, memory: AlertMemory, host: str) -> None:
        self.memory = memory
        self.host = host

    def after_pass(
        self,
        finished: PassFinished,
        rows: Iterable[ArticleRecord],
        counts: dict[str, int],
        now: datetime,
    ) -> tuple[list[Alert], bool]:
        """The alerts to send after `finished`, and whether the memory changed."""
        if finished.dry_run:
            return [], False
        memory = self.memory
        before = (dict(memory.sent), set(memory.reported), memory.outage)
        alerts = [*self._outage(finished, counts, now), *self._articles(rows, counts, now)]
        for alert in alerts:
            memory.sent[alert.kind.value] = now.isoformat()
        return alerts, (memory.sent, memory.reported, memory.outage) != before

    def _outage(self, finished: PassFinished, counts: dict[str, int], now: datetime) -> list[Alert]:
        memory = self.memory
        if finished.error:
            if memory.outage or memory.quiet(AlertKind.PASS_FAILED, now):
                return []
            memory.outage = True
            return [Alert(AlertKind.PASS_FAILED, now, self.host, counts, error=finished.error)]
        if memory.outage:
            memory.outage = False
            return [Alert(AlertKind.RECOVERED, now, self.host, counts)]
        return []

    def _articles(
        self, rows: Iterable[ArticleRecord], counts: dict[str, int], now: datetime
    ) -> list[Alert]:
        memory = self.memory
        failing = {r.hudu_id: r for r in rows if r.status is Status.FAILED}
        memory.reported &= failing.keys()
        new = sorted(failing.keys() - memory.reported)
        if not new or memory.quiet(AlertKind.ARTICLES_FAILED, now):
            return []
        memory.reported |= set(new)
        articles = tuple(
            FailedArticle(i, failing[i].title, failing[i].scope, failing[i].error) for i in new
        )
        return [Alert(AlertKind.ARTICLES_FAILED, now, self.host, counts, articles)]
