"""`?` / `f1`: every key, built from the bindings themselves (no hand-kept list)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static


def _keys(app_key_display: dict[str, str], bindings: Iterable[Binding]) -> dict[str, list[str]]:
    """Group the keys of bindings that share an action and description."""
    grouped: dict[str, list[str]] = {}
    for binding in bindings:
        if not binding.description:
            continue
        for key in binding.key.split(","):
            label = binding.key_display or app_key_display.get(key.strip(), key.strip())
            keys = grouped.setdefault(binding.description, [])
            if label not in keys:
                keys.append(label)
    return grouped


def bindings_table(sections: list[tuple[str, list[Binding]]], key_display: dict[str, str]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="right", style="bold", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(style="dim")
    for title, bindings in sections:
        if table.row_count:
            table.add_row("", "", "")
        table.add_row("", Text(title, style="bold underline"), "")
        tooltips = {b.description: b.tooltip for b in bindings}
        for description, keys in _keys(key_display, bindings).items():
            table.add_row(" ".join(keys), description, tooltips.get(description, ""))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close")
    ]

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        key_display = {
            key: self.app.get_key_display(Binding(key, ""))
            for _, bindings in self.sections
            for binding in bindings
            for key in binding.key.split(",")
        }
        with VerticalScroll(id="help-box"):
            yield Label("Keys", id="help-title")
            yield Static(bindings_table(self.sections, key_display), id="help-table")
            yield Label(
                "↑ ↓ pgup pgdn scroll · esc closes · ctrl+p opens the command palette",
                id="help-footer",
            )
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()  # up, down and page keys scroll a long list

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
