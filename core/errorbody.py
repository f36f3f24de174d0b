"""What a failed answer says: the message of a Hudu or Halo error body, and the array items it
names.

Both services answer errors in several JSON shapes (``{"message": …}``, OAuth's
``{"error": …, "error_description": …}``, ASP.NET model state ``{"errors": {"[3].faqlists":
[…]}}``), sometimes as plain text, and behind a misconfigured URL as an HTML page. Nothing here
reads headers other than the content type, so a message never carries one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

HTML_ANSWER = "the server answered with a web page (HTML) instead of JSON"


def looks_like_html(response: httpx.Response) -> bool:
    if "html" in response.headers.get("content-type", "").lower():
        return True
    head = response.content[:200].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def message_from_body(response: httpx.Response) -> str:
    """The human part of an error body, in the shapes Hudu and Halo use; never the raw headers."""
    if looks_like_html(response):
        return HTML_ANSWER
    text = response.text.strip() if response.content else ""
    message = ""
    if text:
        try:
            body = json.loads(text)
        except ValueError:
            message = text.splitlines()[0]
        else:
            message = _message_from_json(body)
    return message or response.reason_phrase or f"HTTP {response.status_code}"


_ITEM_KEY = re.compile(r"^\[(\d+)\]")


def items_named_in(response: httpx.Response) -> tuple[int, ...]:
    """The array positions an ASP.NET model-state body names: {"[3].faqlists": [...]} → (3,)."""
    try:
        body = response.json()
    except ValueError:
        return ()
    if isinstance(body, dict) and isinstance(body.get("errors"), dict):
        body = body["errors"]
    if not isinstance(body, dict):
        return ()
    found = {int(m[1]) for key in body if isinstance(key, str) and (m := _ITEM_KEY.match(key))}
    return tuple(sorted(found))


def _message_from_json(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "; ".join(m for m in (_message_from_json(item) for item in body[:3]) if m)
    if not isinstance(body, dict):
        return ""
    for key in ("Message", "message", "errorMessage"):
        if isinstance(text := body.get(key), str) and text:
            return text
    error, description = body.get("error"), body.get("error_description")
    if isinstance(error, str) and error:
        return f"{error}: {description}" if isinstance(description, str) and description else error
    if isinstance(body.get("errors"), dict):
        return _model_state(body["errors"]) or str(body.get("title", ""))
    if isinstance(title := body.get("title"), str):
        return title
    return _model_state(body)


def _model_state(errors: Mapping[str, Any]) -> str:
    """ASP.NET model state: {"[0].name": ["The name field is required."]}."""
    parts = []
    for field, value in list(errors.items())[:5]:
        if isinstance(value, list):
            value = " ".join(str(v) for v in value if isinstance(v, str | int | float))
        if isinstance(value, str | int | float) and str(value):
            parts.append(f"{field}: {value}")
    return "; ".join(parts)
