"""Initial and repeat sync cost, counted in requests and file writes (python bench/bench_sync.py).

Runs the real engine against the in-process emulators (no latency) on N articles spread over
the Central KB and companies, then prints, for each figure, the bound it is measured against:

- Halo write requests of the initial sync: the batches of `--batch` (HHSYNC_BATCH_SIZE) articles
  N needs, plus the slow start (the first batches in flight go at the initial 50 before Halo
  has answered any) and the end (the last articles are shared among the batches in flight),
  against Hudu's built-in sync which, having no batching, needs one write per article.
- All Halo requests of the initial sync (token, FAQ lists, writes): a handful over the writes.
- Hudu requests of the initial sync: pages of 100 plus companies and uploads.
- Mapping-file writes: one per Halo batch (its intents, with the results of the batch before),
  plus a few per pass, never one per article.
- A second pass with nothing changed: zero Halo writes.
- One edited article: exactly one Halo write.
- Three articles Halo refuses: exactly those fail, for a bisection each plus one marker search.
- Customers (HHSYNC_CUSTOMER_ACCESS=matched, a third of the companies matched by Hudu's Halo
  integration, a third by name): one paged listing of Halo's clients per full pass plus one
  lookup per integration id the listing lacks, none on an incremental pass, never one per
  article or company; turning the setting off re-sends exactly the restricted articles.
- `hhsync doctor --probe`: the Halo requests of one probe.

Exits 1 when a bound is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time

from emulated import Figure, emulators, engine_on, new_db, report, seed_articles

from core.batching import INITIAL_BATCH
from core.emulators.halo import HaloState
from core.emulators.halo_clients import READ_CUSTOMERS
from core.emulators.hudu import HuduState
from core.emulators.seed import seed_customers
from core.engine import Engine
from core.halo_facts import PAGE_SIZE
from core.writer import BATCH_CONCURRENCY


def write_bound(articles: int, batch: int) -> int:
    """KB write requests for `articles` creates at most `batch` a request (see the module)."""
    if batch <= INITIAL_BATCH:
        return math.ceil(articles / batch)
    start = INITIAL_BATCH
    slow_start = min(BATCH_CONCURRENCY, math.ceil(articles / start))
    rest = max(0, articles - slow_start * start)
    return slow_start + math.ceil(rest / batch) + (BATCH_CONCURRENCY - 1 if rest else 0)


def article_body(n: int) -> str:
    return "".join(f"<h2>Step {k}</h2><p>Do thing {k} for article {n}.</p>" for k in range(8))


def build(articles: int, companies: int, batch: int) -> tuple[HuduState, HaloState, Engine]:
    hudu, halo = emulators()
    seed_articles(hudu, articles, companies, article_body)
    return hudu, halo, engine_on(hudu, halo, new_db(), hhsync_batch_size=batch)


async def run(articles: int, companies: int, batch: int) -> list[Figure]:
    hudu, halo, engine = build(articles, companies, batch)
    await engine.open()
    figures: list[Figure] = []

    started = time.perf_counter()
    summary = await engine.sync_now()
    seconds = time.perf_counter() - started
    halo_writes = len(halo.log.writes("/api"))
    faq_writes = len(halo.log.writes("/api/FAQLists"))
    article_bound = write_bound(articles, batch)
    figures += [
        ("articles created", summary.created, articles),
        ("initial sync: Halo KB write requests", halo_writes - faq_writes, article_bound),
        ("initial sync: Halo FAQ-list write requests", faq_writes, 2),
        (
            "initial sync: all Halo requests (token, lists, writes)",
            len(halo.log.entries),
            article_bound + 6,
        ),
        ("initial sync: Hudu requests", len(hudu.log.entries), math.ceil(articles / 100) + 4),
        ("initial sync: mapping-file writes", engine.store.write_count, article_bound + 6),
    ]
    print(f"initial sync of {articles} articles: {seconds:.2f} s in-process (no latency)")
    print(f"  Hudu's built-in sync, one write per article, would send {articles} Halo writes")

    before = len(halo.log.writes("/api"))
    await engine.sync_now()
    figures.append(
        ("second pass, nothing changed: Halo writes", len(halo.log.writes("/api")) - before, 0)
    )

    hudu.update_article(next(iter(hudu.articles)), content="<p>edited</p>")
    before = len(halo.log.writes("/api"))
    await engine.sync_now()
    figures.append(("one article edited: Halo writes", len(halo.log.writes("/api")) - before, 1))
    await engine.close()
    figures += await run_with_rejections(articles, companies, batch)
    return figures + await run_with_customers(articles, companies, batch)


async def run_with_rejections(articles: int, companies: int, batch: int) -> list[Figure]:
    """Three articles Halo refuses (AI duplicate detection, 500): isolating them must not cost
    more than a bisection each plus one marker search, or Halo's 300/5 min budget runs out."""
    hudu, halo, engine = build(articles, companies, batch)
    bad = [hudu.articles[i].name for i in list(hudu.articles)[7::700][:3]]
    halo.reject_article_names = dict.fromkeys(bad, 500)
    await engine.open()
    summary = await engine.sync_now()
    await engine.close()
    bisection = 2 * math.ceil(math.log2(batch)) + 1
    bound = write_bound(articles, batch) + len(bad) * bisection + math.ceil(articles / 100) + 6
    return [
        ("with 3 rejected articles: articles failed", summary.failed, len(bad)),
        ("with 3 rejected articles: all Halo requests", len(halo.log.entries), bound),
    ]


async def run_with_customers(articles: int, companies: int, batch: int) -> list[Figure]:
    """Customer matching's cost, the cost of turning it off, and one probe's."""
    hudu, halo, engine = build(articles, companies, batch)
    halo.granted_scopes |= {READ_CUSTOMERS}
    for n in range(250):  # a Halo with more customers than Hudu has companies: three pages
        halo.add_client(f"Other customer {n}")
    customers = seed_customers(hudu, halo)
    listing = math.ceil(sum(not c["inactive"] for c in halo.clients.values()) / PAGE_SIZE)
    unseen = len(customers.stale_integration)

    def client_requests() -> int:
        return halo.log.count("GET", "/api/Client")

    await engine.open()
    await engine.sync_now()
    initial, all_initial = client_requests(), len(halo.log.entries)
    await engine.sync_now()
    incremental = client_requests() - initial
    await engine.sync_now(full=True)
    full = client_requests() - initial - incremental
    restricted = sum(r.halo_client_id is not None for r in engine.records())
    await engine.close()

    writes = len(halo.log.writes("/api/KBArticle"))
    off = engine_on(
        hudu, halo, engine.store.path, hhsync_batch_size=batch, hhsync_customer_access="off"
    )
    await off.open()
    summary = await off.sync_now()
    off_writes = len(halo.log.writes("/api/KBArticle")) - writes
    before = len(halo.log.entries)
    await off.probe()
    probe_requests = len(halo.log.entries) - before
    await off.close()
    print(
        f"customers: {len(customers.by_integration)} companies matched by integration, "
        f"{len(customers.by_name)} by name, {len(customers.unmatched)} not; "
        f"{len(halo.clients)} Halo clients; {restricted} articles restricted"
    )
    return [
        ("customers, initial sync: Halo client requests", initial, listing + unseen),
        (
            "customers, initial sync: all Halo requests",
            all_initial,
            write_bound(articles, batch) + 6 + listing + unseen,
        ),
        ("customers, incremental pass: Halo client requests", incremental, 0),
        ("customers, full pass: Halo client requests", full, listing + unseen),
        ("setting turned off: articles updated", summary.updated, restricted),
        ("setting turned off: Halo KB write requests", off_writes, write_bound(restricted, batch)),
        ("one probe: Halo requests", probe_requests, 15),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--companies", type=int, default=30)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    figures = asyncio.run(run(args.articles, args.companies, args.batch))
    return report(figures, exact=("created", "failed", "articles updated"))


if __name__ == "__main__":
    sys.exit(main())
