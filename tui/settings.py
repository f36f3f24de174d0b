"""The dashboard's knobs, in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TuiSettings:
    tick_seconds: float = 0.25
    """How often buffered engine events are applied to the tables (one batch per tick)."""
    filter_debounce_seconds: float = 1 / 60
    """How long the filter waits after a key before it searches: one frame, so the key's echo
    paints at once and a burst of keys (a paste, a fast typist) searches once."""
    log_max_lines: int = 5000
    animations: bool = False
    freeze_gc: bool = True
    """No collection while the tables are first filled (~100,000 long-lived objects at once,
    which each collection would walk again: a quarter of the first paint), then move them out of
    the collector's sight (`gc.freeze`): full collections over 10,000 records otherwise stall a
    tick by ~100 ms. From then on full collections run on a timer (`tui.collector`)."""
    collect_seconds: float = 1.0
    """How often the timer checks whether a full collection is due."""
