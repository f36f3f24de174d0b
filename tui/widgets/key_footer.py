"""The dashboard's footer: the keys the focused widget and the screen answer to, with `? Help`
and `q Quit` kept at the right end so a narrow terminal cuts the others.

It is one line of text, not a widget per key as Textual's `Footer` is: `/` and esc, which
switch between the table's keys and the filter's, repaint this line, where the stock footer
made (or showed) a row of widgets and laid the whole screen out again (~10 ms a key at 50,000
rows, ~50 ms the first time). A key is clicked as on the stock footer, shows its tooltip under
the pointer and lights up while the pointer is on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget


@dataclass(frozen=True, slots=True)
class FooterEntry:
    """One key as the footer shows it."""

    key: str
    action: str
    shown_as: str
    description: str
    enabled: bool
    tooltip: str


class KeyFooter(Widget, can_focus=False):
    PINNED: ClassVar[tuple[str, ...]] = ("help", "quit")
    """Actions whose keys stay at the right end."""
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-footer--key",
        "key-footer--description",
        "key-footer--hover",
    }
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-footer--hover {
            background: $block-hover-background;
        }
    }
    """

    entries: Reactive[tuple[FooterEntry, ...]] = Reactive((), layout=False)
    """The keys shown, the pinned ones last."""
    hovered: Reactive[str | None] = Reactive(None, layout=False)
    """The key under the pointer."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is not self.screen or not screen.app.app_focus:
            return
        entries: dict[str, FooterEntry] = {}
        for _, binding, enabled, tooltip in screen.active_bindings.values():
            if binding.show and binding.action not in entries:  # one key an action
                shown_as = self.app.get_key_display(binding)
                entries[binding.action] = FooterEntry(
                    binding.key, binding.action, shown_as, binding.description, enabled, tooltip
                )
        pinned = [entries.pop(action) for action in self.PINNED if action in entries]
        self.entries = (*entries.values(), *pinned)

    def render(self) -> Text:
        """The keys that fit whole, then the pinned ones at the right end."""
        styles = tuple(
            self.get_component_rich_style(f"key-footer--{part}", partial=True)
            for part in ("key", "description", "hover")
        )
        keys = [(entry, self._key(entry, *styles)) for entry in self.entries]
        right = Text(no_wrap=True, end="").join(k for e, k in keys if e.action in self.PINNED)
        room = max(0, self.size.width - right.cell_len)
        left = Text(no_wrap=True, end="")
        for entry, key in keys:
            if entry.action in self.PINNED or left.cell_len + key.cell_len > room:
                break
            left.append_text(key)
        left.pad_right(room - left.cell_len)
        return Text.assemble(left, right, no_wrap=True, end="")

    def _key(self, entry: FooterEntry, key: Style, description: Style, hover: Style) -> Text:
        """`key description `; a disabled one dim, the one under the pointer lit."""
        over = Style(meta={"footer_key": entry.key}) + (
            hover if entry.key == self.hovered else Style(dim=not entry.enabled)
        )
        text = Text(no_wrap=True, end="")
        text.append(entry.shown_as, key + over)
        if entry.description:
            text.append(f" {entry.description}", description + over)
        text.append(" ")
        return text

    def key_at(self, style: Style) -> FooterEntry | None:
        key = style.meta.get("footer_key")
        return next((entry for entry in self.entries if entry.key == key), None)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        entry = self.key_at(event.style)
        if entry is None:
            return
        if entry.enabled:
            self.app.simulate_key(entry.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        entry = self.key_at(event.style)
        self.hovered = entry.key if entry is not None else None
        self.tooltip = entry.tooltip if entry is not None and entry.tooltip else None

    def on_leave(self, event: events.Leave) -> None:
        self.hovered = None
        self.tooltip = None

    @property
    def keys_shown(self) -> list[str]:
        return [entry.key for entry in self.entries]
