"""Untrusted text made inert: what Hudu and Halo send never writes to a terminal or a log.

Anyone who can edit a Hudu article chooses its title, and Halo quotes titles in its errors.
Every output that shows such a string (the dashboard, the headless command, the log file)
passes it through `displayable`, which shows control characters as visible symbols, so an
escape sequence can neither clear the screen nor set the clipboard (OSC 52), and turns
bidirectional overrides into a visible mark, so a title reads as what it is.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Arabic letter mark, LRM, RLM, the embeddings and overrides, and the isolates."""
LINE_BREAKS = frozenset("\n\r\v\f\x85\u2028\u2029")

_SURROGATES = re.compile("[\ud800-\udfff]")


def _symbol(code: int) -> str:
    """C0 controls as their Unicode control pictures (ESC → ␛), DEL as ␡, C1 as �."""
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return REPLACEMENT


def _table(*, one_line: bool) -> dict[int, str]:
    table = {code: _symbol(code) for code in (*range(0x20), *range(0x7F, 0xA0))}
    table.update({ord(c): REPLACEMENT for c in BIDI_CONTROLS})
    table[ord("\t")] = " "
    for char in LINE_BREAKS:
        table[ord(char)] = " " if one_line else "\n"
    if not one_line:
        table[ord("\r")] = ""
    return table


_ONE_LINE = _table(one_line=True)
_MULTI_LINE = _table(one_line=False)
_PLAIN = {code: " " for code in (*range(0x20), *range(0x7F, 0xA0))} | {
    ord(c): None for c in BIDI_CONTROLS
}


def displayable(text: str, *, one_line: bool = True) -> str:
    """`text` safe to print: no control, escape or bidi character; printable ones kept.

    One-line fields (titles, names, table cells) get spaces for line breaks and tabs;
    with `one_line=False` (error messages, log entries) line breaks stay newlines.
    """
    if text.isprintable():  # the common case: nothing to change (and 15 times cheaper)
        return text
    safe = text.translate(_ONE_LINE if one_line else _MULTI_LINE)
    return _SURROGATES.sub(REPLACEMENT, safe)


def has_bidi_controls(text: str) -> bool:
    """Whether the text holds a bidirectional override or isolate (shown as �)."""
    return any(char in BIDI_CONTROLS for char in text)


def without_controls(text: str) -> str:
    """What hhsync sends to Halo as plain text (a title): control characters become spaces,
    bidi controls go, whitespace is collapsed and lone surrogates replaced."""
    plain = _SURROGATES.sub(REPLACEMENT, text.translate(_PLAIN))
    return " ".join(plain.split())
