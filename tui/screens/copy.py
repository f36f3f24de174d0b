"""`y`: what to copy of the selected article, one key each (as lazygit's `y` menu)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from core.models import ArticleRecord
from tui.clipboard import CopyChoice, copy_choices
from tui.untrusted import shown


class CopyScreen(ModalScreen[CopyChoice | None]):
    """Answers the choice picked, or None (`esc`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "pick('u')", "Hudu link"),
        Binding("h", "pick('h')", "Halo link"),
        Binding("i", "pick('i')", "Hudu id"),
        Binding("n", "pick('n')", "Halo id"),
        Binding("escape,q,y", "pick('')", "Cancel"),
    ]

    def __init__(self, record: ArticleRecord, halo_url: str) -> None:
        super().__init__()
        self.record = record
        self.choices = {c.key: c for c in copy_choices(record, halo_url)}

    def compose(self) -> ComposeResult:
        lines = [
            Text.assemble(
                (f" {c.key} ", "bold reverse"),
                f"  {c.what:<10} ",
                (shown(c.value), "dim") if c.value else ("none", "dim italic"),
            )
            for c in self.choices.values()
        ]
        menu = Text("\n", no_wrap=True, overflow="ellipsis").join(lines)
        record = self.record
        with Vertical(id="copy-box"):
            yield Label(
                shown(f"Copy of #{record.hudu_id} “{record.title}”"), id="copy-title", markup=False
            )
            yield Static(menu, id="copy-menu")
            yield Label("esc cancels · the terminal's clipboard, also over SSH", id="copy-footer")
        yield Footer(compact=True, show_command_palette=False)

    def action_pick(self, key: str) -> None:
        self.dismiss(self.choices.get(key))
