"""Text from Hudu and Halo as the dashboard shows it: inert.

Anyone who can edit a Hudu article chooses its title, and Halo quotes titles in its errors. Every
such string reaches the screen through `shown` (one string) or `shown_record` (every string of a
row), which apply `core.text.displayable`: control characters become visible symbols (ESC is
␛), so an escape sequence can neither clear the screen nor set the clipboard, and
bidirectional overrides become �, so a title reads as what it is. Each widget calls one of
them where it turns strings into what it renders; Rich markup is never parsed either
(`markup=False`, or `Text`).

Plain Python (no Textual).
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from core.models import ArticleRecord
from core.text import displayable

MULTI_LINE_FIELDS = frozenset({"error", "hint"})
"""Fields whose line breaks are kept (Halo's messages); the others are one line."""
NO_KNOWN_FIX = "hhsync knows no fix for this error; Halo's message is above"
BIDI_TITLE_NOTE = (
    "The title holds bidirectional control characters (shown as �): "
    "it may read differently in Hudu or Halo"
)


def shown(text: str, *, one_line: bool = True) -> str:
    """`text` as it may reach the terminal (`core.text.displayable`). Printable text, nearly
    every title, is returned as it is: it holds no control, bidi or line-break character."""
    return text if text.isprintable() else displayable(text, one_line=one_line)


RECORD_FIELDS = tuple(field.name for field in fields(ArticleRecord))
"""Read once: `dataclasses.fields` per record was most of logging a tick of 500 failures."""


def shown_record(record: ArticleRecord) -> ArticleRecord:
    """A copy of `record` whose every string is shown (the error and hint keep their lines):
    what a renderer of the whole row (detail, Fix panel, log entry) draws from."""
    changes: dict[str, Any] = {
        name: shown(value, one_line=name not in MULTI_LINE_FIELDS)
        for name in RECORD_FIELDS
        if isinstance(value := getattr(record, name), str)
    }
    changes["attachments"] = tuple(shown(name) for name in record.attachments)
    changes["skipped_files"] = tuple(
        replace(file, filename=shown(file.filename), reason=shown(file.reason))
        for file in record.skipped_files
    )
    return replace(record, **changes)
