"""The filter's input (on the line under the table): `esc` clears and closes the filter, `down` goes
back to the table."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input

from tui.bindings import FILTER_BINDINGS


class FilterInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [*FILTER_BINDINGS]

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """`Input` sets its virtual size to its text's width on every keystroke, which asks for a
    layout pass of the whole screen; the bar's width is fixed and it has no scrollbars, so the
    text scrolls without one."""
