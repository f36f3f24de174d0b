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
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from core.build import build_engine
from core.config import FolderLayout, Settings
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState, create_hudu_app
from core.emulators.seed import seed_demo
from core.emulators.server import DEMO_API_KEY, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from core.engine import Engine
from core.faqlists import FAQLIST_REQUESTS_PER_PASS

Figure = tuple[str, float, float]


def engine_on(hudu: HuduState, halo: HaloState, db: Path, layout: FolderLayout) -> Engine:
    return build_engine(
        Settings(
            _env_file=None,
            hudu_base_url=hudu.base_url,
            hudu_api_key=DEMO_API_KEY,
            halo_base_url=halo.base_url,
            halo_client_id=DEMO_CLIENT_ID,
            halo_client_secret=DEMO_CLIENT_SECRET,
            hhsync_db=db,
            hhsync_folders=layout,
        ),
        hudu_transport=httpx.ASGITransport(app=create_hudu_app(hudu)),
        halo_transport=httpx.ASGITransport(app=create_halo_app(halo)),
    )


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
    hudu = HuduState(api_key=DEMO_API_KEY, base_url="https://hudu.bench")
    halo = HaloState(
        client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, base_url="https://halo.bench"
    )
    halo.rate_limit = None
    seed_demo(hudu, companies=companies, articles=articles)
    nested = sum(f.parent_folder_id is not None for f in hudu.folders.values())
    print(
        f"{articles} articles, {companies} companies, {len(hudu.folders)} Hudu folders "
        f"({nested} inside another)"
    )
    db = Path(tempfile.mkdtemp(prefix="hhsync-bench-")) / "hhsync.json"
    figures: list[Figure] = []
    for layout, passes in PASSES:
        engine = engine_on(hudu, halo, db, layout)
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
    figures = asyncio.run(run(args.articles, args.companies))
    broken = 0
    for label, value, bound in figures:
        ok = value <= bound
        broken += not ok
        print(f"  {'ok ' if ok else 'BAD'} {label}: {value:g} (bound {bound:g})")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
