"""The command palette (`ctrl+p`): the app's own key actions, searchable by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import HhsyncApp


class HhsyncCommands(Provider):
    """Built from the app's bindings, so the palette and the keys never drift apart."""

    def _commands(self) -> list[tuple[str, str, str]]:
        app = cast("HhsyncApp", self.app)
        return app.palette_commands()

    async def discover(self) -> Hits:
        for name, help_text, action in self._commands():
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(self.app.run_action, action),
                    help=help_text,
                )
