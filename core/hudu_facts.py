"""What hhsync relies on about Hudu's API, each written once: URL shapes, the rate limit and its
reset, the page size, the time format of filters.

Which of these are confirmed, observed or only inferred is in docs/hudu-and-halo.md (section
"Hudu"). This module imports nothing of hhsync, so the client and the settings can both use it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

API_PATH = "/api/v1"

# Hudu's documented default is 25 per page; it takes `page_size`, but article pages much larger
# than 100 make some nginx front ends answer 502 (docs/hudu-and-halo.md, "Hudu: pagination").
PAGE_SIZE = 100

# 300 requests a minute, counted by Rack::Attack in windows that reset on the clock's 5-minute
# marks (docs/hudu-and-halo.md, "Hudu: rate limit").
MAX_REQUESTS = 300
WINDOW_SECONDS = 60.0
RESET_SECONDS = 300.0


def api_root(base_url: str) -> str:
    """`https://acme.huducloud.com[/prefix][/api/v1]` → the API root, ending in `/api/v1`."""
    base = base_url.strip().rstrip("/")
    return base if base.endswith(API_PATH) else base + API_PATH


def instance_root(url: str) -> str:
    """`https://acme.huducloud.com/API/v1` (or `/api`) → `https://acme.huducloud.com`, any case."""
    for suffix in (API_PATH, "/api"):
        if url.lower().endswith(suffix):
            return url[: -len(suffix)]
    return url


def query_time(moment: datetime) -> str:
    """`yyyy-mm-ddTHH:MM:SSZ` in UTC, as Hudu's `updated_at` filter takes it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_reset(attempt: int, now: float, rng: random.Random) -> float:
    """Seconds to wait after a 429 without `Retry-After`: past the next 5-minute mark of the
    clock, when Hudu's window resets, plus 1–5 s of jitter."""
    return RESET_SECONDS - (now % RESET_SECONDS) + rng.uniform(1.0, 5.0)
