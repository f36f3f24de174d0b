"""The app's theme looked up once per change, not once per line painted.

Textual reads `App.current_theme` for every line of every widget it paints (the ANSI colours of
the theme), and each read copies the registry of themes twice (`available_themes`): ~550 reads
when the whole table repaints, ~10 % of that repaint's CPU.
"""

from __future__ import annotations

from textual.app import App
from textual.theme import Theme


class ThemeOnce(App[int]):
    """`current_theme` kept until the theme, or a theme registered under its name, changes."""

    _theme_seen: tuple[str, Theme] | None = None

    @property
    def current_theme(self) -> Theme:
        seen = self._theme_seen
        if seen is not None and seen[0] == self.theme:
            return seen[1]
        theme = super().current_theme
        self._theme_seen = (self.theme, theme)
        return theme

    def register_theme(self, theme: Theme) -> None:
        self._theme_seen = None
        super().register_theme(theme)

    def unregister_theme(self, theme_name: str) -> None:
        self._theme_seen = None
        super().unregister_theme(theme_name)
