"""The garbage collector while the dashboard runs: none while the tables are first filled, the
objects that stay from then on out of its sight, and its full collections made on a timer of
their own rather than in the time of a key or a tick.

A full collection walks every object the collector tracks (~50,000 after a while at 50,000
rows: painted lines, the log's entries) and takes 50–80 ms; Python starts one on its own after
every ten collections of the middle generation, inside whatever allocated last, which was
often a filter keystroke or a tick."""

from __future__ import annotations

import gc

FULL_COLLECTIONS_HELD_BACK = 100
"""The dashboard's own threshold for a full collection Python starts itself (its default is
10): met only if the timer does not run (a burst of work that never yields for that long)."""


class QuietCollector:
    """`hold` before the first fill, `start` once the tables are filled, `freeze` once they are
    painted, `collect_when_due` on a timer, `stop` when the app ends (the thresholds are the
    process's)."""

    def __init__(self) -> None:
        self._thresholds = gc.get_threshold()
        self._counts_seen: tuple[int, int] | None = None

    def hold(self) -> None:
        gc.disable()

    def start(self) -> None:
        gc.freeze()
        gc.enable()
        young, middle, _ = self._thresholds
        gc.set_threshold(young, middle, FULL_COLLECTIONS_HELD_BACK)

    def freeze(self) -> None:
        """Move what is there now out of the collector's sight (it stays: the first paint's)."""
        gc.freeze()

    def collect_when_due(self) -> None:
        """A full collection when Python would have made one by now and the dashboard has been
        quiet since the last call: not one young collection since (fewer than ~700 objects
        made and kept), so no key or tick is being handled and none is likely to be."""
        _, young_collections, middle_collections = gc.get_count()
        counts = (young_collections, middle_collections)
        quiet, self._counts_seen = counts == self._counts_seen, counts
        if quiet and gc.isenabled() and middle_collections >= self._thresholds[2]:
            gc.collect()
            self._counts_seen = None

    def stop(self) -> None:
        gc.set_threshold(*self._thresholds)
