"""No colour at all when asked (NO_COLOR, `hhsync-tui --color-system none`): Textual's own
NO_COLOR filter only turns colours grey, which still sends 256-colour codes and leaves the
cursor row a lighter grey; here colours become the terminal's default, and the stylesheet marks
the cursor row with reverse video (`App:nocolor`)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import App
from textual.filter import LineFilter, Monochrome, NoColor


class ColourFilters(App[int]):
    """The app's line filters, with `NoColor` in place of `Monochrome` under NO_COLOR."""

    _colourless = NoColor()

    def get_line_filters(self) -> Sequence[LineFilter]:
        filters = super().get_line_filters()
        if not self.no_color:
            return filters
        return [*(f for f in filters if not isinstance(f, Monochrome)), self._colourless]
