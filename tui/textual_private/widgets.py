"""The footer, tab labels and the log, where the dashboard needs what Textual keeps private."""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, RichLog, Static, Tab
from textual.widgets._footer import FooterKey

TAB_ATTRIBUTES = ("_label",)
"""Private `Tab` instance attributes `relabel` sets."""
RICH_LOG_ATTRIBUTES = ("_deferred_renders",)
"""Private `RichLog` instance attributes `bound_unrendered_writes` replaces."""


class KeyFooter(Footer):
    """The footer, with the keys of `PINNED` kept together at the right end, made again only
    when its keys change (the stock one is, ~30 ms, each time the app refreshes its bindings)."""

    PINNED = ("help", "quit")
    DEFAULT_CSS = """
    KeyFooter #pinned-keys {
        dock: right;
        width: auto;
        height: 1;
    }
    """

    _composed_keys: tuple[object, ...] | None = None

    def _keys_shown(self) -> tuple[object, ...]:
        return tuple(
            (b.key, b.key_display, b.description, b.action, b.group, b.show, enabled, tooltip)
            for _, b, enabled, tooltip in self.screen.active_bindings.values()
        )

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if (
            self._composed_keys is not None
            and screen is self.screen
            and self._keys_shown() == self._composed_keys
        ):
            return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        self._composed_keys = self._keys_shown() if widgets else None
        pinned: dict[str, FooterKey] = {}
        for widget in widgets:
            if isinstance(widget, FooterKey) and widget.action in self.PINNED:
                pinned[widget.action] = widget
            else:
                yield widget
        keys = [pinned[action] for action in self.PINNED if action in pinned]
        if keys:
            yield Horizontal(*keys, id="pinned-keys")


def relabel(tab: Tab, label: str) -> None:
    """Give `tab` a new label; one as wide as before is painted again without the layout pass of
    the whole screen that `Tab.label` asks for (~10 ms a tick)."""
    if tab.label.cell_length != cell_len(label):
        tab.label = label
        return
    tab._label = Content.from_text(label)
    Static.update(tab, tab._label, layout=False)


def bound_unrendered_writes(log: RichLog, max_writes: int) -> None:
    """Keep at most the last `max_writes` writes a `RichLog` holds back until it has a size."""
    log._deferred_renders = deque(log._deferred_renders, maxlen=max_writes)
