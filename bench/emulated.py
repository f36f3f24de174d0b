"""What the request-counting benchmarks share: the emulators in-process with no rate limit, a
real engine on them, a seed of numbered articles, and the report of figures against bounds."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from core.build import build_engine
from core.config import Settings
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState, create_hudu_app
from core.emulators.server import DEMO_API_KEY, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from core.engine import Engine

Figure = tuple[str, float, float]
"""(label, measured, bound)."""


def emulators() -> tuple[HuduState, HaloState]:
    """Hudu and Halo with their demo credentials; Halo without its rate limit (no latency
    either: the figures are counts)."""
    hudu = HuduState(api_key=DEMO_API_KEY, base_url="https://hudu.bench")
    halo = HaloState(
        client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, base_url="https://halo.bench"
    )
    halo.rate_limit = None
    return hudu, halo


def seed_articles(
    hudu: HuduState, articles: int, companies: int, body: Callable[[int], str]
) -> None:
    """`companies` companies and `articles` articles: article n is the Central KB's when
    n % (companies + 1) == 0, else a company's."""
    company_ids = [hudu.add_company(f"Company {n}")["id"] for n in range(companies)]
    for n in range(articles):
        company = None if n % (companies + 1) == 0 else company_ids[n % companies]
        hudu.add_article(f"Article {n}", body(n), company_id=company)


def new_db() -> Path:
    return Path(tempfile.mkdtemp(prefix="hhsync-bench-")) / "hhsync.json"


def engine_on(hudu: HuduState, halo: HaloState, db: Path, **settings: Any) -> Engine:
    """A real engine on the in-process emulators, its mapping file at `db`."""
    return build_engine(
        Settings(
            _env_file=None,
            hudu_base_url=hudu.base_url,
            hudu_api_key=DEMO_API_KEY,
            halo_base_url=halo.base_url,
            halo_client_id=DEMO_CLIENT_ID,
            halo_client_secret=DEMO_CLIENT_SECRET,
            hhsync_db=db,
            **settings,
        ),
        hudu_transport=httpx.ASGITransport(app=create_hudu_app(hudu)),
        halo_transport=httpx.ASGITransport(app=create_halo_app(halo)),
    )


def report(figures: Iterable[Figure], exact: tuple[str, ...] = ()) -> int:
    """Print each figure with its bound; figures whose label ends with one of `exact` must
    equal it, the others stay within it. The exit status: 1 when a bound is broken."""
    broken = 0
    for label, value, bound in figures:
        ok = value == bound if label.endswith(exact) else value <= bound
        broken += not ok
        print(f"  {'ok ' if ok else 'BAD'} {label}: {value:g} (bound {bound:g})")
    return 1 if broken else 0
