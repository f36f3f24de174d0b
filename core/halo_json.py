"""Halo's JSON and hhsync's values: FAQ lists and article refs read from answers, the FAQ-list
payload, the check that an answered article is the one that was sent, and articles encoded
as httpx would with their bodies encoded once (`JsonFragment`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.models import MARKER_PREFIX, HaloArticleRef, HaloCustomer, HaloFaqList, NewFaqList

compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
"""JSON as httpx encodes a request body (before UTF-8), by an encoder made once (`json.dumps`
with options makes one a call)."""


@dataclass(frozen=True, slots=True)
class JsonFragment:
    """A value encoded as JSON already: an article's body, encoded once (when it was hashed)
    and sent as it is, however many fields hold it."""

    text: str


def encoded_item(item: Any) -> str:
    """One item of a request body as `compact_json` encodes it, a top-level `JsonFragment`
    value written as it is."""
    if not isinstance(item, Mapping) or not any(
        isinstance(value, JsonFragment) for value in item.values()
    ):
        return compact_json(item)
    fields = (
        f"{compact_json(key)}:"
        f"{value.text if isinstance(value, JsonFragment) else compact_json(value)}"
        for key, value in item.items()
    )
    return "{" + ",".join(fields) + "}"


def attachments_json(files: Sequence[tuple[str, bytes]]) -> str:
    """`[{"filename", "data_base64", "isimage": false}, …]` as JSON. Base64 never needs JSON
    escapes, so only the names go through the encoder (scanning megabytes of base64 for
    escapes cost more than the base64 itself)."""
    items = (
        f'{{"filename":{compact_json(name)},"data_base64":"{base64.b64encode(data).decode()}",'
        '"isimage":false}'
        for name, data in files
    )
    return f"[{','.join(items)}]"


def faqlist_payload(new: NewFaqList) -> dict[str, Any]:
    """A list to create; with an id, only its name, group and third-party id change (its
    "Show for all users" stays whatever an admin chose)."""
    payload: dict[str, Any] = {"id": new.id} if new.id is not None else {}
    payload["name"] = new.name
    if new.id is None:
        payload.update(is_group=new.is_group, showforall=new.showforall)
    payload["third_party_id"] = new.third_party_id
    if new.group_id is not None:
        payload["group_id"] = new.group_id
    return payload


def answer_mismatch(sent: Mapping[str, Any], ref: HaloArticleRef) -> str:
    """How the article Halo answered differs from the one sent ("" when it matches)."""
    sent_id = sent.get("id")
    if sent_id and ref.id != sent_id:
        return f"id {ref.id} instead of {sent_id}"
    name = sent.get("name")
    if isinstance(name, str) and ref.name.strip() != name.strip():
        return f"name {ref.name!r} instead of {name!r}"
    if ref.tag_string:
        for tag in sent_tags(sent):
            if tag.startswith(MARKER_PREFIX) and not ref.has_marker(tag):
                return f"tag {tag!r} missing"
    return ""


def sent_tags(sent: Mapping[str, Any]) -> list[str]:
    """The tags an article payload writes, through `tag_string` or `tags: [{text}]`."""
    tags = sent.get("tag_string")
    if isinstance(tags, str):
        return [t.strip() for t in tags.split(",") if t.strip()]
    entries = sent.get("tags")
    if isinstance(entries, list):
        return [str(e["text"]) for e in entries if isinstance(e, dict) and e.get("text")]
    return []


def _opt_id(value: Any) -> int | None:
    """Halo writes "no parent" as null or 0."""
    if value in (None, "", 0):
        return None
    return int(value)


def parse_faqlist(raw: Mapping[str, Any]) -> HaloFaqList:
    return HaloFaqList(
        id=int(raw["id"]),
        name=str(raw.get("name") or ""),
        is_group=bool(raw.get("is_group")),
        group_id=_opt_id(raw.get("group_id")),
        third_party_id=str(raw.get("third_party_id") or ""),
        showforall=bool(raw.get("showforall")),
    )


def parse_article_ref(raw: Mapping[str, Any]) -> HaloArticleRef:
    faqlists = raw.get("faqlists") or []
    return HaloArticleRef(
        id=int(raw["id"]),
        name=str(raw.get("name") or ""),
        tag_string=str(raw.get("tag_string") or ""),
        inactive=bool(raw.get("inactive")),
        faqlist_ids=tuple(
            int(f["id"]) for f in faqlists if isinstance(f, dict) and isinstance(f.get("id"), int)
        ),
        link=raw["link"] if isinstance(raw.get("link"), str) else "",
        date_edited=raw["date_edited"] if isinstance(raw.get("date_edited"), str) else "",
        seen_hash=seen_hash(raw),
    )


def seen_hash(raw: Mapping[str, Any]) -> str:
    """A digest of an article's name and `description` as Halo answers them (list items carry
    both): compared with the one after hhsync's last write, it shows an edit made in Halo."""
    body = raw.get("description")
    if not isinstance(body, str):
        return ""
    name = raw.get("name") if isinstance(raw.get("name"), str) else ""
    return hashlib.sha256(f"{name}\0{body}".encode()).hexdigest()[:32]


def parse_customer(raw: Mapping[str, Any]) -> HaloCustomer:
    """A Halo client (`Area`): its id, name and whether it is inactive."""
    return HaloCustomer(
        id=int(raw["id"]), name=str(raw.get("name") or ""), inactive=bool(raw.get("inactive"))
    )


def edited_later(listed: str, baseline: str) -> bool:
    """Whether Halo's `date_edited` moved past the baseline. Both come from Halo, in its own
    clock and format (its zone is undocumented: one without is taken as UTC); one that does
    not parse counts as moved when it differs."""
    try:
        return _moment(listed) > _moment(baseline)
    except ValueError:
        return listed != baseline


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
