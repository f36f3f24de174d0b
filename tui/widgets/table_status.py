"""The line under a status table: the filter on the left, where the cursor is on the right
("123 of 1,915 · 3 marked").

It takes the place of the table's bottom border, and its widgets are always there (opening the
filter focuses the input and restyles the line), so `/` and esc change how this line looks, not
the layout of the screen: at 50,000 rows a filter bar that came and went above the table cost
each of them a layout pass and a repaint of every row shown."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Static

from tui.widgets.filter_input import FilterInput

OPEN_HINT = "title, scope, id or reason · enter keeps it"
CLOSED_HINT = "none · press / to type one"


class TableStatus(Horizontal):
    """`filter_open` says whether the filter's input is shown; `show_position` sets the text on
    the right without a layout pass."""

    DEFAULT_CSS = """
    TableStatus {
        height: 1;
        padding: 0 1;
        #filter-label { color: $text-muted; }
        &.-filtering #filter-label {
            color: $accent;
            text-style: bold;
        }
    }
    """

    def __init__(self, filter_input: FilterInput, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter_input = filter_input
        filter_input.placeholder = CLOSED_HINT
        self.position = Static("", id="table-position", markup=False)

    def compose(self) -> ComposeResult:
        yield Label("Filter", id="filter-label")
        yield self.filter_input
        yield self.position

    @property
    def filter_open(self) -> bool:
        """The input has the focus, or the table it filters is filtered."""
        return self.has_class("-filtering")

    @filter_open.setter
    def filter_open(self, value: bool) -> None:
        self.set_class(value, "-filtering")
        self.filter_input.placeholder = OPEN_HINT if value else CLOSED_HINT

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Focused another way than `/` (a click, `tab`), the filter is open all the same."""
        if event.widget is self.filter_input:
            self.filter_open = True

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if event.widget is self.filter_input and not self.filter_input.value:
            self.filter_open = False

    def show_position(self, text: str) -> None:
        """The line keeps its layout: the text is right-aligned in a fixed share of it."""
        if str(self.position.content) != text:
            self.position.update(text, layout=False)
