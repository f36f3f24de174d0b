"""The content hash of a rendered article: what says whether Halo has it as hhsync would send it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from core.models import HuduUpload


def content_hash(payload: dict[str, Any], files: Sequence[HuduUpload], *, images: str = "") -> str:
    """sha256 of the canonical JSON of the payload, the manifest of files to attach and, for
    an article with images, where they are kept."""
    hashed: dict[str, Any] = {"payload": payload, "files": _manifest(files)}
    if images:
        hashed["images"] = images
    canonical = json.dumps(hashed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def hashed(
    payload: dict[str, Any],
    files: Sequence[HuduUpload],
    *,
    images: str = "",
    encoded: Mapping[str, str],
) -> tuple[str, int]:
    """`content_hash`, the payload's fields in `encoded` taken as encoded already (the body,
    in two fields, is most of the JSON), and the size of the canonical JSON it hashes (the
    payload's as sent, give or take the files' short manifest)."""
    fields = ",".join(
        f"{_canonical(key)}:{encoded[key] if key in encoded else _canonical(payload[key])}"
        for key in sorted(payload)
    )
    head = '{"files":' + _canonical(_manifest(files))
    if images:
        head += ',"images":' + _canonical(images)
    canonical = f'{head},"payload":{{{fields}}}}}'.encode("utf-8", "surrogatepass")
    return hashlib.sha256(canonical).hexdigest(), len(canonical)


_canonical = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def _manifest(files: Sequence[HuduUpload]) -> list[dict[str, Any]]:
    return [{"id": u.id, "name": u.name, "size": u.size} for u in files]
