"""The command palette (`ctrl+p`): the app's own key actions, searchable by name.

Built from `tui.bindings` and the running app's `check_action`, so it needs nothing from the app
module (which imports this one).
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.bindings import palette_entries


class HhsyncCommands(Provider):
    """The keys as palette entries; an entry runs the very action its key runs."""

    async def discover(self) -> Hits:
        for name, help_text, action in palette_entries(self.app):
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in palette_entries(self.app):
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(self.app.run_action, action),
                    help=help_text,
                )
