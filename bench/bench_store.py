"""Store write cost: 10,000 records committed in batches of 50 must cost one file write each.

Run: python bench/bench_store.py   (exit status 1 if the bound is broken)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.models import ArticleRecord, Status
from core.store import MappingStore

RECORDS = 10_000
BATCH = 50


def main() -> int:
    bound = RECORDS // BATCH
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hhsync.json"
        with MappingStore(path) as store:
            before = store.write_count
            started = time.perf_counter()
            for first in range(1, RECORDS + 1, BATCH):
                store.commit_batch(
                    ArticleRecord(
                        hudu_id=hudu_id,
                        title=f"Article {hudu_id}",
                        scope="Central KB",
                        company_id=None,
                        status=Status.SYNCED,
                        halo_id=100_000 + hudu_id,
                        faqlist_id=3,
                        content_hash=f"{hudu_id:064x}",
                        hudu_updated_at="2024-05-01T10:00:00Z",
                    )
                    for hudu_id in range(first, first + BATCH)
                )
            seconds = time.perf_counter() - started
            writes = store.write_count - before
        size = path.stat().st_size
        reloaded = len(MappingStore.read_only(path).records())
    print(
        f"{RECORDS} records in batches of {BATCH}: {writes} file writes "
        f"(bound: {bound}, one per batch), {seconds:.2f} s, "
        f"{size / 1024 / 1024:.1f} MB file, {reloaded} records reloaded"
    )
    if writes > bound or reloaded != RECORDS:
        print("FAIL: the store wrote more than once per batch or lost records", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
