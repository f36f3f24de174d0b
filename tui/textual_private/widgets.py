"""Tab labels, where the dashboard needs what Textual keeps private."""

from __future__ import annotations

from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static, Tab

TAB_ATTRIBUTES = ("_label",)
"""Private `Tab` instance attributes `relabel` sets."""


def relabel(tab: Tab, label: Content) -> None:
    """Give `tab` a new label; one as wide as before is painted again without the layout pass of
    the whole screen that `Tab.label` asks for (~10 ms a tick). One of another width is laid
    out once: the tab's new virtual size is set beforehand, or the layout pass that sizes the
    tab finds it changed and asks for another."""
    width = tab.label.cell_length
    if width != label.cell_length:
        tab.label = label
        size = tab.virtual_size
        if size.width:  # what the layout pass will give it, or it asks for a second pass
            tab.set_reactive(Widget.virtual_size, Size(size.width + label.cell_length - width, 1))
        return
    tab._label = label
    Static.update(tab, label, layout=False)
