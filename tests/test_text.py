"""Untrusted text made displayable: no control, escape or bidi character survives."""

from __future__ import annotations

import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from core.text import BIDI_CONTROLS, displayable, has_bidi_controls, without_controls

ANY_TEXT = st.text(alphabet=st.characters(codec=None, categories=None), max_size=200)


def dangerous(char: str) -> bool:
    category = unicodedata.category(char)
    return category in ("Cc", "Cs", "Zl", "Zp") or char in BIDI_CONTROLS


@given(ANY_TEXT)
@example("Rejected \x1b[2J clear")
@example("Evil \x1b]52;c;ZWNobyBoaQ==\x07 osc52")
@example("Bell \x07\x07 and \x1b[5mblink\x1b[0m")
@example("Invoice \u202egpj.exe")
@example("CSI \x9b2J and NEL \x85 and \ud800 lone surrogate")
def test_displayable_has_no_control_escape_or_bidi_and_keeps_every_printable(text: str) -> None:
    for one_line in (True, False):
        shown = displayable(text, one_line=one_line)
        allowed = set() if one_line else {"\n"}
        assert not [c for c in shown if dangerous(c) and c not in allowed], repr(shown)
        # One character out for each one in (a carriage return in a multi-line text goes):
        # every printable character is kept, in its place.
        source = text if one_line else text.replace("\r", "")
        assert len(shown) == len(source)
        assert all(
            out == char for char, out in zip(source, shown, strict=True) if char.isprintable()
        )


@given(ANY_TEXT)
def test_a_one_line_field_stays_one_line(text: str) -> None:
    assert len(displayable(text).splitlines()) <= 1


def test_escape_sequences_are_shown_not_obeyed() -> None:
    assert displayable("Evil \x1b]52;c;ZWNobyBoaQ==\x07 osc52") == "Evil ␛]52;c;ZWNobyBoaQ==␇ osc52"
    assert displayable("a\tb\nc") == "a b c"
    assert displayable("a\r\nb", one_line=False) == "a\nb"
    assert displayable("[bold red]markup[/]") == "[bold red]markup[/]"


def test_a_bidi_override_is_neutralised_and_reported() -> None:
    title = "Invoice \u202egpj.exe"
    assert displayable(title) == "Invoice \ufffdgpj.exe"
    assert has_bidi_controls(title)
    assert not has_bidi_controls("Invoice.pdf")


@given(ANY_TEXT)
def test_what_goes_to_halo_has_no_control_characters(text: str) -> None:
    sent = without_controls(text)
    assert not [c for c in sent if dangerous(c)]
    assert without_controls(sent) == sent


def test_a_title_for_halo_loses_its_controls_not_its_words() -> None:
    assert without_controls("Bell \x07\x07 and \x1b[5mblink\x1b[0m") == "Bell and [5mblink [0m"
    assert without_controls("Invoice \u202egpj.exe") == "Invoice gpj.exe"
    assert without_controls("Two\nlines") == "Two lines"
