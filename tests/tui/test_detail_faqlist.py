"""The detail pane names the article's FAQ list (its folder path with HHSYNC_FOLDERS=lists)."""

from __future__ import annotations

from rich.console import Console, RenderableType

from tests.tui.fakes import make_record
from tui.screens.detail import render_record


def text_of(renderable: RenderableType) -> str:
    console = Console(width=120, color_system=None)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


def test_detail_names_the_faq_list_by_its_path() -> None:
    record = make_record(7, faqlist="Central KB / Network / Firewalls", faqlist_id=31)

    assert "FAQ list Central KB / Network / Firewalls (id 31)" in text_of(render_record(record, ""))


def test_detail_shows_the_id_alone_for_a_row_synced_before_lists_had_names() -> None:
    text = text_of(render_record(make_record(7, faqlist_id=12), ""))

    assert "FAQ list 12" in text


def test_a_folder_name_from_hudu_is_shown_inert() -> None:
    record = make_record(7, faqlist="Central KB / \x1b]52;c;cGF5bG9hZA==\x07Net", faqlist_id=3)

    text = text_of(render_record(record, ""))

    assert "\x1b" not in text and "\x07" not in text
    assert "Central KB / ␛]52;c;cGF5bG9hZA==␇Net (id 3)" in text
