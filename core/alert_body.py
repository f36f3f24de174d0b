"""An alert as the JSON a webhook receives: a Microsoft Teams workflow posts its Adaptive Card,
Slack shows its `text`, anything else reads its plain fields.

Titles, scopes and Halo's messages are untrusted: each is made displayable (no control or
bidi character), cut to a bounded length, and escaped for the markup that shows it (Slack's
`&<>`, the card's Markdown), so a title can neither forge a link nor flood the channel.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.logs import mask
from core.text import displayable

TITLE_CHARS = 120
ERROR_CHARS = 300
HOST_CHARS = 64
LISTED_ARTICLES = 10
MAX_BODY_BYTES = 24_000
"""Teams refuses a message over 28 KB; Slack's `text` is cut at 40,000 characters."""
CARD = "application/vnd.microsoft.card.adaptive"

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


class AlertKind(StrEnum):
    ARTICLES_FAILED = "articles_failed"
    """Articles that synced (or were new) now fail."""
    PASS_FAILED = "pass_failed"
    """A pass could not run: credentials refused, Halo or Hudu down or unreachable."""
    RECOVERED = "recovered"
    """A pass ran again after a `pass_failed` alert."""
    TEST = "test"
    """`hhsync doctor --alert-test`."""


@dataclass(frozen=True, slots=True)
class FailedArticle:
    hudu_id: int
    title: str
    scope: str
    error: str


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    at: datetime
    host: str
    counts: dict[str, int] = field(default_factory=dict)
    articles: tuple[FailedArticle, ...] = ()
    error: str = ""


def clipped(text: str, limit: int) -> str:
    """`text` displayable on one line and at most `limit` characters (an ellipsis says so)."""
    safe = " ".join(displayable(text).split())
    return safe if len(safe) <= limit else safe[: limit - 1].rstrip() + "…"


def headline(alert: Alert) -> str:
    host = clipped(alert.host, HOST_CHARS)
    match alert.kind:
        case AlertKind.ARTICLES_FAILED:
            count = len(alert.articles)
            return f"hhsync on {host}: {count} article(s) newly failed to sync to Halo"
        case AlertKind.PASS_FAILED:
            return f"hhsync on {host}: a sync pass could not run"
        case AlertKind.RECOVERED:
            return f"hhsync on {host}: sync passes run again"
        case AlertKind.TEST:
            return f"hhsync on {host}: test alert (hhsync doctor --alert-test)"


def _article_line(article: FailedArticle) -> str:
    title = clipped(article.title, TITLE_CHARS)
    scope = clipped(article.scope, TITLE_CHARS)
    error = clipped(article.error, ERROR_CHARS)
    return f"{title} ({scope}, Hudu article {article.hudu_id}): {error or 'failed'}"


def detail_lines(alert: Alert, listed_at_most: int = LISTED_ARTICLES) -> list[str]:
    """The lines under the headline, plain (not yet escaped for any markup)."""
    lines: list[str] = []
    if alert.error:
        lines.append(clipped(alert.error, ERROR_CHARS))
    listed = alert.articles[:listed_at_most]
    lines += [_article_line(a) for a in listed]
    if len(alert.articles) > len(listed):
        lines.append(f"and {len(alert.articles) - len(listed)} more (hhsync status lists them)")
    if alert.counts:
        lines.append(", ".join(f"{name} {count}" for name, count in alert.counts.items()))
    return lines


def slack_escaped(text: str) -> str:
    """Slack's mrkdwn: `<…>` would make a link or a mention, so `&<>` are escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_escaped(text: str) -> str:
    """The card's Markdown: every character that could start a link or formatting escaped."""
    return _MARKDOWN.sub(r"\\\1", text)


def _card(alert: Alert, title: str, lines: list[str]) -> dict[str, Any]:
    colour = {AlertKind.RECOVERED: "Good", AlertKind.TEST: "Accent"}.get(alert.kind, "Attention")
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": markdown_escaped(title),
            "weight": "Bolder",
            "color": colour,
            "wrap": True,
        }
    ]
    body += [
        {"type": "TextBlock", "text": markdown_escaped(line), "wrap": True, "spacing": "Small"}
        for line in lines
    ]
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
        "msteams": {"width": "Full"},
    }


def webhook_body(alert: Alert) -> dict[str, Any]:
    """The JSON posted for `alert`: Slack's `text`, a Teams workflow's card in `attachments`
    (with Slack's `fallback`, so Slack accepts the attachment and shows nothing more), and the
    plain fields; fewer articles listed if that is what keeps it under `MAX_BODY_BYTES`."""
    for listed in range(LISTED_ARTICLES, 0, -1):
        body = _body(alert, listed)
        if len(json.dumps(body, ensure_ascii=False).encode()) <= MAX_BODY_BYTES:
            return body
    return _body(alert, 0)


def _body(alert: Alert, listed: int) -> dict[str, Any]:
    title = headline(alert)
    lines = detail_lines(alert, listed)
    text = "\n".join([title, *lines])
    return {
        "text": slack_escaped(text),
        "type": "message",
        "attachments": [
            {
                "contentType": CARD,
                "contentUrl": None,
                "content": _card(alert, title, lines),
                "fallback": slack_escaped(title),
            }
        ],
        "source": "hhsync",
        "kind": alert.kind.value,
        "summary": title,
        "host": clipped(alert.host, HOST_CHARS),
        "time": alert.at.isoformat(),
        "error": clipped(alert.error, ERROR_CHARS),
        "counts": dict(alert.counts),
        "articles": [
            {
                "hudu_id": a.hudu_id,
                "title": clipped(a.title, TITLE_CHARS),
                "scope": clipped(a.scope, TITLE_CHARS),
                "error": clipped(a.error, ERROR_CHARS),
            }
            for a in alert.articles[:listed]
        ],
        "more_articles": max(0, len(alert.articles) - listed),
    }


def masked(alert: Alert, secrets: Iterable[str]) -> Alert:
    """`alert` with every known secret in its texts replaced (errors are secret-free by
    design; this is the belt to those braces)."""
    keep = [s for s in secrets if s]
    articles = tuple(
        replace(a, title=mask(a.title, keep), error=mask(a.error, keep)) for a in alert.articles
    )
    return replace(alert, error=mask(alert.error, keep), articles=articles)
