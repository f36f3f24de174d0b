"""The cost of drift repair on a full pass, in Halo requests (python bench/bench_drift.py).

Runs the real engine against the in-process emulators (no latency) on N articles, with Halo
also holding articles of its own (a tenth as many), then prints each figure with its bound:

- A full pass with nothing changed anywhere: the drift check is one paged listing of every
  Halo article (pages of 100), so all its Halo requests are those pages plus the FAQ-list read
  and at most a token; no write, no request per article.
- A full pass after 1 % of the copies were deleted, archived or edited in Halo (a third each):
  exactly those are restored; the writes are their batches, plus, for the deleted ones, the
  batch Halo refuses for the missing ids and one lookup per missing copy (never a create
  without it, so never a duplicate).
- Each figure's share of Halo's budget (290 requests per rolling 5 minutes, hhsync's margin
  of Halo's 300): a full pass's drift check at 10,000 articles is about 110 requests.

Exits 1 when a bound is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys

from emulated import Figure, emulators, engine_on, new_db, report, seed_articles

from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState
from core.engine import Engine
from core.halo_facts import MAX_REQUESTS, PAGE_SIZE
from core.models import MARKER_PREFIX


def build(articles: int, companies: int, batch: int) -> tuple[HuduState, HaloState, Engine]:
    hudu, halo = emulators()
    seed_articles(hudu, articles, companies, lambda n: f"<h2>Step</h2><p>Do thing {n}.</p>")
    for n in range(articles // 10):
        halo.add_article(f"Halo's own article {n}", description="<p>written in Halo</p>")
    return hudu, halo, engine_on(hudu, halo, new_db(), hhsync_batch_size=batch)


def drift(halo: HaloState, share: float) -> tuple[int, int]:
    """Delete, archive and edit (a third each) `share` of hhsync's copies, as agents would;
    returns (copies changed, copies deleted)."""
    copies = sorted(i for i, a in halo.articles.items() if MARKER_PREFIX in a["tag_string"])
    changed = copies[:: max(1, round(1 / share))]
    for n, halo_id in enumerate(changed):
        if n % 3 == 0:
            halo.delete_in_halo(halo_id)
        elif n % 3 == 1:
            halo.archive_in_halo(halo_id)
        else:
            halo.edit_in_halo(halo_id, description="<p>edited by an agent</p>")
    return len(changed), len(changed[::3])


async def run(articles: int, companies: int, batch: int) -> list[Figure]:
    _hudu, halo, engine = build(articles, companies, batch)
    await engine.open()
    await engine.sync_now()
    pages = math.ceil(len(halo.articles) / PAGE_SIZE)
    budget = MAX_REQUESTS

    halo.log.clear()
    quiet = await engine.sync_now(full=True)
    quiet_requests = len(halo.log.entries)
    figures: list[Figure] = [
        ("full pass, nothing changed: copies restored", quiet.restored, 0),
        ("full pass, nothing changed: Halo listing requests", listing(halo), pages),
        ("full pass, nothing changed: all Halo requests", quiet_requests, pages + 3),
        ("full pass, nothing changed: Halo writes", len(halo.log.writes()), 0),
        ("full pass, nothing changed: requests per article", per_article(halo), 0),
    ]

    changed, deleted = drift(halo, 0.01)
    halo.log.clear()
    repaired = await engine.sync_now(full=True)
    write_batches = math.ceil(changed / batch)
    figures += [
        ("1 % drifted: copies restored", repaired.restored, changed),
        ("1 % drifted: copies failed", repaired.failed, 0),
        ("1 % drifted: Halo listing requests", listing(halo), pages),
        ("1 % drifted: Halo KB writes", len(halo.log.writes("/api/KBArticle")), 2 * write_batches),
        ("1 % drifted: lookups of missing copies", per_article(halo), deleted),
        (
            "1 % drifted: all Halo requests",
            len(halo.log.entries),
            pages + 3 + 2 * write_batches + deleted,
        ),
    ]
    await engine.close()
    print(
        f"{articles} articles synced, {len(halo.articles)} in Halo ({articles // 10} Halo's "
        f"own); {changed} copies changed in Halo ({deleted} deleted)"
    )
    print(
        f"  a full pass's drift check: {pages} requests, {pages / budget:.0%} of Halo's "
        f"{budget} per 5 minutes; Hudu's built-in sync never notices such changes"
    )
    return figures


def listing(halo: HaloState) -> int:
    """Pages of the drift check's listing: GET /api/KBArticle without a search."""
    return sum(
        r.path == "/api/KBArticle" and "search" not in r.query
        for r in halo.log.matching("GET", "/api/KBArticle")
    )


def per_article(halo: HaloState) -> int:
    return len(halo.log.matching("GET", "/api/KBArticle/"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--companies", type=int, default=30)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    logging.getLogger("hhsync").setLevel(logging.ERROR)  # each restore is logged: not here
    figures = asyncio.run(run(args.articles, args.companies, args.batch))
    return report(figures, exact=("restored", "failed", "listing requests"))


if __name__ == "__main__":
    sys.exit(main())
