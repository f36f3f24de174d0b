"""Keeps Python's full garbage collections out of a pass.

A full collection walks every container object the process tracks: at 50,000 articles that
held the event loop the dashboard shares for hundreds of milliseconds, at moments the engine
does not choose. During a pass, what exists after each step (a page of Hudu, a slice of
planning, a Halo batch) is set aside (`gc.freeze`), so an automatic collection walks only
what the last step made. What was set aside is collected once after each full pass, between
passes (`collect_set_aside`), so that garbage forming cycles is not kept for ever.
"""

from __future__ import annotations

import gc
import time


def set_aside() -> None:
    """Leave what exists now out of automatic collections (until `collect_set_aside`)."""
    gc.freeze()


def collect_set_aside() -> float:
    """Collect everything, then set the survivors aside; the CPU seconds it took."""
    started = time.thread_time()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return time.thread_time() - started
