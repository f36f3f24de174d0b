"""The dashboard's full garbage collections run on its timer when it is quiet, not inside a key
or a tick; Python's own threshold is held back meanwhile and given back when the app ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from tui.collector import FULL_COLLECTIONS_HELD_BACK, QuietCollector


@pytest.fixture
def full_collections() -> Iterator[list[int]]:
    """One entry per full collection from here on."""
    seen: list[int] = []

    def noted(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            seen.append(1)

    gc.callbacks.append(noted)
    yield seen
    gc.callbacks.remove(noted)


def middle_collections(count: int) -> None:
    """What Python counts towards a full collection: `count` collections of the middle one."""
    for _ in range(count):
        gc.collect(1)


def test_a_due_collection_waits_for_a_quiet_interval(full_collections: list[int]) -> None:
    thresholds = gc.get_threshold()
    collector = QuietCollector()
    collector.start()
    try:
        assert gc.get_threshold()[2] == FULL_COLLECTIONS_HELD_BACK
        middle_collections(thresholds[2])
        collector.collect_when_due()  # the first look: nothing to compare with yet
        assert not full_collections
        collector.collect_when_due()  # nothing happened since: quiet, and due
        assert len(full_collections) == 1
        collector.collect_when_due()
        collector.collect_when_due()
        assert len(full_collections) == 1  # not due again
        middle_collections(thresholds[2])
        collector.collect_when_due()
        middle_collections(1)  # busy in between
        collector.collect_when_due()
        assert len(full_collections) == 1
    finally:
        collector.stop()
    assert gc.get_threshold() == thresholds
