"""What an alert's JSON holds when titles and Halo's messages are hostile: no control or bidi
character, no link Slack or Teams would draw, bounded lengths, and never the webhook URL in
what hhsync says about a delivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from core.alert_body import (
    ERROR_CHARS,
    LISTED_ARTICLES,
    MAX_BODY_BYTES,
    TITLE_CHARS,
    Alert,
    AlertKind,
    FailedArticle,
    masked,
    webhook_body,
)
from core.webhook import Webhook
from tests.test_text import ANY_TEXT, dangerous

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOSTILE = (
    "Pay \x1b]52;c;cm0gLXJmIH4=\x07 now \u202eexe.fdp\u202c "
    "<https://evil.example|Reset your password> [click](https://evil.example) " + "x" * 400
)


def failed(hudu_id: int, title: str = "VPN setup", error: str = "Halo 500") -> FailedArticle:
    return FailedArticle(hudu_id, title, "Central KB", error)


def every_string(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in every_string(v)]
    if isinstance(value, list):
        return [s for v in value for s in every_string(v)]
    return []


def test_a_hostile_title_and_error_arrive_inert_and_short() -> None:
    alert = Alert(
        AlertKind.ARTICLES_FAILED,
        AT,
        "kb-sync-01",
        {"failed": 1},
        (failed(7, HOSTILE, "Halo 400: " + HOSTILE),),
    )
    body = webhook_body(alert)

    for text in every_string(body):
        assert not [c for c in text if dangerous(c) and c != "\n"], repr(text)
    (article,) = body["articles"]
    assert len(article["title"]) == TITLE_CHARS and article["title"].endswith("…")
    assert len(article["error"]) == ERROR_CHARS
    assert "<https://evil.example|" not in body["text"]  # Slack would draw a link
    assert "&lt;https://evil.example|Reset your password&gt;" in body["text"]
    card_text = " ".join(b["text"] for b in body["attachments"][0]["content"]["body"])
    assert "[click](" not in card_text and r"\[click\]\(https://evil\.example\)" in card_text


def test_many_articles_are_listed_up_to_ten_and_counted() -> None:
    articles = tuple(failed(i) for i in range(1, 26))
    body = webhook_body(Alert(AlertKind.ARTICLES_FAILED, AT, "h", {"failed": 25}, articles))

    assert body["summary"] == "hhsync on h: 25 article(s) newly failed to sync to Halo"
    assert len(body["articles"]) == LISTED_ARTICLES and body["more_articles"] == 15
    assert "and 15 more (hhsync status lists them)" in body["text"]
    assert len(json.dumps(body)) < 28_000  # Teams refuses messages over 28 KB


def test_the_worst_titles_and_errors_still_fit_a_teams_message() -> None:
    worst = "<&>\u2028\x1b" * 200  # each grows when escaped for Slack and shown
    articles = tuple(failed(i, worst, worst) for i in range(1, 40))
    body = webhook_body(Alert(AlertKind.ARTICLES_FAILED, AT, worst, {"failed": 39}, articles))

    assert len(json.dumps(body, ensure_ascii=False).encode()) <= MAX_BODY_BYTES
    assert body["articles"] and body["more_articles"] == 39 - len(body["articles"])
    assert body["summary"].endswith("39 article(s) newly failed to sync to Halo")


def test_a_secret_in_a_message_is_masked() -> None:
    alert = Alert(
        AlertKind.PASS_FAILED,
        AT,
        "h",
        error="refused client secret s3cr3t at https://hooks.example.com/T0/B0/K",
        articles=(failed(1, "title s3cr3t", "Halo said s3cr3t"),),
    )
    body = webhook_body(masked(alert, ["s3cr3t", "https://hooks.example.com/T0/B0/K", ""]))

    assert "s3cr3t" not in json.dumps(body) and "hooks.example.com" not in json.dumps(body)
    assert body["error"] == "refused client secret *** at ***"


@given(ANY_TEXT, ANY_TEXT | st.text(min_size=300, max_size=600))
def test_any_title_and_error_stay_inert_and_bounded(title: str, error: str) -> None:
    body = webhook_body(Alert(AlertKind.ARTICLES_FAILED, AT, "h", {}, (failed(1, title, error),)))

    article = body["articles"][0]
    assert len(article["title"]) <= TITLE_CHARS and len(article["error"]) <= ERROR_CHARS
    for text in every_string(body):
        assert not [c for c in text if dangerous(c) and c != "\n"], repr(text)
    json.dumps(body, ensure_ascii=False).encode()  # no lone surrogate


async def test_an_answer_echoing_the_webhook_path_is_masked() -> None:
    url = "https://hooks.example.com/services/T000/B000/SECRETTOKEN"

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text=f"Cannot POST {request.url.path} ({request.url})")

    webhook = Webhook(url, retry_waits=(), transport=httpx.MockTransport(echo))
    delivery = await webhook.post({"text": "hi"})
    await webhook.aclose()

    assert not delivery.ok
    assert delivery.detail == "HTTP 404: Cannot POST *** (***)"
    assert webhook.host == "hooks.example.com"
