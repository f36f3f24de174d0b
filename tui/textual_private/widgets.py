"""The footer, tab labels and the log, where the dashboard needs what Textual keeps private."""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.compose import compose
from textual.containers import Horizontal
from textual.content import Content
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, RichLog, Static, Tab
from textual.widgets._footer import FooterKey

TAB_ATTRIBUTES = ("_label",)
"""Private `Tab` instance attributes `relabel` sets."""
RICH_LOG_ATTRIBUTES = ("_deferred_renders",)
"""Private `RichLog` instance attributes `bound_unrendered_writes` replaces."""


class KeyFooter(Footer):
    """The footer, with the keys of `PINNED` kept together at the right end. Each set of keys
    it shows is made once and kept (the last `KEPT` sets), and shown again by showing its row:
    the stock footer removes and mounts its widgets whenever the app refreshes its bindings
    (~30 ms, and the styles of each new widget), which `/` and esc (the filter bar's keys and
    the table's) did on every press."""

    PINNED = ("help", "quit")
    KEPT = 6
    DEFAULT_CSS = """
    KeyFooter .key-set {
        width: 1fr;
        height: 1;
    }
    KeyFooter .pinned-keys {
        dock: right;
        width: auto;
        height: 1;
    }
    """

    _key_sets: dict[tuple[object, ...], Horizontal] | None = None
    _shown: tuple[object, ...] | None = None

    def _keys_shown(self) -> tuple[object, ...]:
        return tuple(
            (b.key, b.key_display, b.description, b.action, b.group, b.show, enabled, tooltip)
            for _, b, enabled, tooltip in self.screen.active_bindings.values()
        )

    @property
    def shown_set(self) -> Horizontal | None:
        """The row of keys shown."""
        sets = self._key_sets
        return sets.get(self._shown) if sets is not None and self._shown is not None else None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        keys = self._keys_shown()
        if keys == self._shown:
            return
        if self._key_sets is None:
            self._key_sets = {}
        sets = self._key_sets
        key_set = sets.pop(keys, None)
        if key_set is None:
            with self._context():  # the keys bind to this footer's `compact`
                key_set = Horizontal(*compose(self, self._key_widgets()), classes="key-set")
            self.mount(key_set)
            while len(sets) >= self.KEPT:
                sets.pop(next(iter(sets))).remove()  # the one shown longest ago
        for kept in sets.values():
            kept.display = False
        key_set.display = True
        sets[keys] = key_set
        self._shown = keys

    def compose(self) -> ComposeResult:
        """Nothing: the rows of keys are made when the bindings are known."""
        return iter(())

    def _key_widgets(self) -> ComposeResult:
        widgets = list(super().compose())
        pinned: dict[str, FooterKey] = {}
        for widget in widgets:
            if isinstance(widget, FooterKey) and widget.action in self.PINNED:
                pinned[widget.action] = widget
            else:
                yield widget
        keys = [pinned[action] for action in self.PINNED if action in pinned]
        if keys:
            yield Horizontal(*keys, classes="pinned-keys")


def relabel(tab: Tab, label: str) -> None:
    """Give `tab` a new label; one as wide as before is painted again without the layout pass of
    the whole screen that `Tab.label` asks for (~10 ms a tick). One of another width is laid
    out once: the tab's new virtual size is set beforehand, or the layout pass that sizes the
    tab finds it changed and asks for another."""
    width = tab.label.cell_length
    if width != cell_len(label):
        tab.label = label
        size = tab.virtual_size
        if size.width:  # what the layout pass will give it, or it asks for a second pass
            tab.set_reactive(Widget.virtual_size, Size(size.width + cell_len(label) - width, 1))
        return
    tab._label = Content.from_text(label)
    Static.update(tab, tab._label, layout=False)


def bound_unrendered_writes(log: RichLog, max_writes: int) -> None:
    """Keep at most the last `max_writes` writes a `RichLog` holds back until it has a size."""
    log._deferred_renders = deque(log._deferred_renders, maxlen=max_writes)
