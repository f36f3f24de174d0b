"""What `y` can copy of an article (its Hudu or Halo link, its Hudu or Halo id), and whether a
value is safe to put on the clipboard: a link from Hudu or Halo with a line break or a control
character would run as a command once pasted into a shell, so such a value is not copied."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import ArticleRecord


@dataclass(frozen=True, slots=True)
class CopyChoice:
    key: str
    what: str
    """`Hudu link`: what the notice says was copied."""
    value: str
    """Empty when the article has none (no Halo copy yet)."""


def copy_choices(record: ArticleRecord, halo_url: str) -> list[CopyChoice]:
    halo_id = "" if record.halo_id is None else str(record.halo_id)
    return [
        CopyChoice("u", "Hudu link", record.hudu_url),
        CopyChoice("h", "Halo link", halo_url),
        CopyChoice("i", "Hudu id", str(record.hudu_id)),
        CopyChoice("n", "Halo id", halo_id),
    ]


def safe_to_copy(value: str) -> bool:
    """One printable word: no space, line break, control, bidi or escape character."""
    return bool(value) and value.isprintable() and not any(c.isspace() for c in value)
