"""FAQ-list requests per pass with HHSYNC_FOLDERS (python bench/bench_folders.py).

Runs the real engine against the in-process emulators seeded like the demo (nested folders in
the Central KB and every company), and counts the Halo requests to `/api/FAQLists` of each pass:

- the first pass with `lists` (every group and folder list made),
- a second pass with nothing changed,
- a pass after two folders were renamed and one moved in Hudu,
- the switch to `flat` (every folder article moved, the folder lists retired),
- the switch back to `lists` (the retired lists moved back, none made again).

Each is printed against `FAQLIST_REQUESTS_PER_PASS`, a bound that does not grow with the number
of companies or folders (the pass with nothing changed: zero). Exits 1 when a bound is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from emulated import Figure, emulators, engine_on, new_db, report

from core.config import FolderLayout
from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState
from core.emulators.seed import seed_demo
from core.engine import Engine
from core.faqlists import FAQLIST_REQUESTS_PER_PASS


async def one_pass(engine: Engine, halo: HaloState, label: str, **sync: Any) -> Figure:
    halo.log.clear()
    started = time.perf_counter()
    summary = await engine.sync_now(**sync)
    requests = halo.log.count(path="/api/FAQLists")
    print(
        f"  {label}: {summary.created} created, {summary.updated} updated, "
        f"{len(halo.faqlists)} lists in Halo, {time.perf_counter() - started:.2f} s"
    )
    bound = 0 if label.startswith("nothing changed") else FAQLIST_REQUESTS_PER_PASS
    return f"{label}: FAQ-list requests", requests, bound


async def run(articles: int, companies: int) -> list[Figure]:
    hudu, halo = emulators()
    seed_demo(hudu, companies=companies, articles=articles)
    nested = sum(f.parent_folder_id is not None for f in hudu.folders.values())
    print(
        f"{articles} articles, {companies} companies, {len(hudu.folders)} Hudu folders "
        f"({nested} inside another)"
    )
    db = new_db()
    figures: list[Figure] = []
    for layout, passes in PASSES:
        engine = engine_on(hudu, halo, db, hhsync_folders=layout)
        await engine.open()
        try:
            for label, full in passes:
                if label == RENAMED:
                    rename_and_move(hudu)
                figures.append(await one_pass(engine, halo, label, full=full))
        finally:
            await engine.close()
    return figures


RENAMED = "folders renamed and moved"
PASSES = (
    (FolderLayout.LISTS, (("first pass with lists", False), ("nothing changed", False))),
    (FolderLayout.LISTS, ((RENAMED, False),)),  # a process's first pass lists Halo's lists once
    (FolderLayout.FLAT, (("switch to flat", False),)),
    (FolderLayout.LISTS, (("switch back to lists", False), ("full pass", True))),
)


def rename_and_move(hudu: HuduState) -> None:
    """Two top folders renamed, one inner folder moved to the top (no article edited)."""
    top = [f for f in hudu.folders.values() if f.parent_folder_id is None]
    inner = [f for f in hudu.folders.values() if f.parent_folder_id is not None]
    for folder in top[:2]:
        hudu.update_folder(folder.id, name=f"{folder.name} (renamed)")
    if inner:
        hudu.update_folder(inner[0].id, parent_folder_id=None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--companies", type=int, default=30)
    args = parser.parse_args()
    return report(asyncio.run(run(args.articles, args.companies)))


if __name__ == "__main__":
    sys.exit(main())
