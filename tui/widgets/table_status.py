"""The line under a status table: the filter on the left while it is open, where the cursor is
on the right ("123 of 1,915 · 3 marked").

It takes the place of the table's bottom border, so opening or closing the filter changes this
line only: the table keeps its place and size and is not painted again (at 50,000 rows, a
filter bar that pushed the table down cost `/` and esc a repaint of every row shown)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Static

from tui.widgets.filter_input import FilterInput

FILTER_HINT = "/ filter"


class TableStatus(Horizontal):
    """`filter_open` says whether the filter's input is shown; `show_position` sets the text on
    the right without a layout pass."""

    DEFAULT_CSS = """
    TableStatus {
        height: 1;
        padding: 0 1;
        #filter-label, #filter { display: none; }
        &.-filtering {
            #filter-label, #filter { display: block; }
            #filter-hint { display: none; }
        }
    }
    """

    def __init__(self, filter_input: FilterInput, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter_input = filter_input
        self.position = Static("", id="table-position", markup=False)

    def compose(self) -> ComposeResult:
        yield Label("Filter", id="filter-label")
        yield self.filter_input
        yield Label(FILTER_HINT, id="filter-hint")
        yield self.position

    @property
    def filter_open(self) -> bool:
        return self.has_class("-filtering")

    @filter_open.setter
    def filter_open(self, value: bool) -> None:
        self.set_class(value, "-filtering")

    def show_position(self, text: str) -> None:
        """The line keeps its layout: the text is right-aligned in a fixed share of it."""
        if str(self.position.content) != text:
            self.position.update(text, layout=False)
