"""The filter bar's input: `esc` clears and closes it, `down` goes back to the table."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType
from textual.widgets import Input

from tui.bindings import FILTER_BINDINGS


class FilterInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [*FILTER_BINDINGS]
