"""Batch sizes that follow how Halo answers: packed by bytes and by a count that adapts.

A KBArticle POST carries many articles, and Halo allows 300 requests per rolling 5 minutes, so
the fewer requests the faster a large first sync; but a bigger batch takes Halo longer to
answer, and a body past what its host accepts is refused. The count grows as TCP's window does:
doubled after each batch answered promptly and cleanly (slow start) until the first sign of
overload, by a quarter afterwards; halved on a sign of overload (a timeout, a dropped
connection, a 413, a 502/503/504, or a 500 that was not one article's fault). It never exceeds
`HHSYNC_BATCH_SIZE`, and a batch never exceeds `MAX_BATCH_JSON_BYTES`. The size that worked is
kept in the mapping file (meta ``batch_size``), so the next pass starts from it.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Sequence

from core.plan import MAX_BATCH_JSON_BYTES, Write

INITIAL_BATCH = 50
"""The first count when the mapping file remembers none (Halo's documented examples use 50)."""
PROMPT_SECONDS = 15.0
"""An answer slower than this (a quarter of the client's 60 s timeout) stops the growth."""
ATTACHMENT_OVERHEAD = 256
LOOK_AHEAD = 64
"""Writes that do not fit a batch's remaining bytes that it may pass over to fill them."""
WAITING_AHEAD = 1024
"""Writes whose files are still downloading (core.prefetch) that a batch may pass over."""
META_KEY = "batch_size"


def write_weight(write: Write) -> int:
    """The bytes a write adds to a batch's JSON body, its files (base64) included. The
    payload's size was measured when it was hashed (encoding it again here, for a whole batch
    at once, held the event loop)."""
    rendered = write.rendered
    payload_bytes = rendered.json_bytes or len(json.dumps(rendered.payload, ensure_ascii=False))
    return payload_bytes + sum(
        upload.size * 4 // 3 + ATTACHMENT_OVERHEAD for upload in write.rendered.files_to_attach
    )


class BatchSizer:
    """The count of articles the next batch may hold, and the packing of batches."""

    def __init__(self, ceiling: int, remembered: int | None = None) -> None:
        self.ceiling = max(1, ceiling)
        start = remembered if remembered else INITIAL_BATCH
        self.size = max(1, min(start, self.ceiling))
        self.worked = 0
        """The largest count Halo answered promptly and cleanly in this run."""
        self._slow_start = True

    def take(
        self,
        queue: deque[Write],
        share: int = 1,
        ready: Callable[[Write], bool] = lambda write: True,
    ) -> list[Write]:
        """The next batch from the front of `queue`: at most `size` writes and
        `MAX_BATCH_JSON_BYTES` (a single larger write goes alone). A write that does not fit
        stays at the front for the next batch while up to `LOOK_AHEAD` later ones may fill the
        room (first fit: a 2 MB file no longer closes a batch at half its bytes), and so does
        one not `ready` (its files still downloading), up to `WAITING_AHEAD` of them: the
        batch may be empty when all are. Near the end, the rest is shared among `share`
        batches in flight rather than left to one slow batch, down to `INITIAL_BATCH`
        (smaller batches would only spend requests)."""
        count = min(self.size, max(INITIAL_BATCH, -(-len(queue) // share)))
        batch: list[Write] = []
        passed: list[Write] = []
        too_big = waiting = 0
        total = 0
        while queue and len(batch) < count and too_big < LOOK_AHEAD and waiting < WAITING_AHEAD:
            write = queue.popleft()
            if not ready(write):
                passed.append(write)
                waiting += 1
                continue
            weight = write_weight(write)
            if batch and total + weight > MAX_BATCH_JSON_BYTES:
                passed.append(write)
                too_big += 1
                continue
            batch.append(write)
            total += weight
        queue.extendleft(reversed(passed))
        return batch

    def full(self, batch: Sequence[Write]) -> bool:
        """Whether the batch was as large as the limits allowed (only those say a larger
        count works)."""
        if len(batch) >= self.size:
            return True
        return sum(map(write_weight, batch)) * 4 >= MAX_BATCH_JSON_BYTES * 3

    def answered(self, batch: Sequence[Write], seconds: float) -> None:
        """Halo took the batch at its first attempt: grow from the batch's count if it was
        full and prompt; a slow answer ends slow start."""
        if seconds > PROMPT_SECONDS:
            self._slow_start = False
            return
        count = len(batch)
        self.worked = max(self.worked, count)
        if not self.full(batch):
            return
        grown = count * 2 if self._slow_start else count + max(1, count // 4)
        self.size = max(self.size, min(grown, self.ceiling))

    def overloaded(self, count: int) -> None:
        """A batch of `count` was too much for Halo: half of it from now on."""
        self._slow_start = False
        self.size = max(1, min(self.size, count) // 2)

    def remembered(self) -> int | None:
        """The count to keep for the next pass: the largest that worked, unless a smaller
        one is current because a larger one failed since."""
        return min(self.size, self.worked) if self.worked else None
