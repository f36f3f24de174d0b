"""The built-in demo: seeded emulators in-process, so `hhsync-tui --demo` needs no accounts."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.build import build_engine
from core.config import FolderLayout, Settings
from core.emulators.halo import EDIT_KB, READ_KB, HaloState, create_halo_app
from core.emulators.halo_clients import READ_CUSTOMERS
from core.emulators.hudu import HuduState, create_hudu_app
from core.emulators.seed import SeedSummary, seed_customers, seed_demo
from core.emulators.server import DEMO_API_KEY, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from core.engine import Engine

HUDU_URL = "https://demo.huducloud.test"
HALO_URL = "https://demo.halopsa.test"
DEMO_BATCH_SIZE = 10
HUDU_LATENCY = 0.05
HALO_LATENCY = 0.8


@dataclass
class Demo:
    engine: Engine
    hudu: HuduState
    halo: HaloState
    seed: SeedSummary
    db_path: Path


def demo_settings(db_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        hudu_base_url=HUDU_URL,
        hudu_api_key=DEMO_API_KEY,
        halo_base_url=HALO_URL,
        halo_client_id=DEMO_CLIENT_ID,
        halo_client_secret=DEMO_CLIENT_SECRET,
        hhsync_db=db_path,
        hhsync_batch_size=DEMO_BATCH_SIZE,
        hhsync_interval=300,
        hhsync_folders=FolderLayout.LISTS,  # the demo's Hudu folders show as FAQ lists
    )


def throwaway_db_path() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="hhsync-demo-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder / "hhsync.json"


def rejected_names(hudu: HuduState, seed: SeedSummary) -> list[str]:
    """Three published articles with titles no other article has, spread over the run."""
    titles = Counter(article.name for article in hudu.articles.values())
    unique = [i for i in seed.published_ids if titles[hudu.articles[i].name] == 1]
    step = max(1, len(unique) // 3)
    return [hudu.articles[i].name for i in unique[step // 2 :: step][:3]]


def build_demo(
    db_path: Path | None = None,
    *,
    articles: int = 2000,
    companies: int = 30,
    latency: bool = True,
) -> Demo:
    """Seed both emulators and build an engine wired to them through in-process transports."""
    hudu = HuduState(api_key=DEMO_API_KEY, base_url=HUDU_URL)
    halo = HaloState(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        base_url=HALO_URL,
        granted_scopes={READ_KB, EDIT_KB, READ_CUSTOMERS},
    )
    seed = seed_demo(hudu, companies=companies, articles=articles)
    seed_customers(hudu, halo)
    halo.reject_article_names = dict(zip(rejected_names(hudu, seed), (500, 500, 400), strict=False))
    if latency:
        hudu.switches.latency = HUDU_LATENCY
        halo.switches.latency = HALO_LATENCY
    path = db_path or throwaway_db_path()
    engine = build_engine(
        demo_settings(path),
        hudu_transport=httpx.ASGITransport(app=create_hudu_app(hudu)),
        halo_transport=httpx.ASGITransport(app=create_halo_app(halo)),
    )
    return Demo(engine, hudu, halo, seed, path)


def build_demo_engine(db_path: Path | None = None) -> Engine:
    return build_demo(db_path).engine
