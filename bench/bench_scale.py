"""A first sync at scale, in simulated time, against the real rate limits and a latency model.

    python bench/bench_scale.py --articles 50000 --fast  # 45 minutes on a busy 2-core box

N articles (the Central KB and 200 companies, bodies of 2–40 KB, 5 % with a file of 20 KB to
2 MB) on the in-process emulators with their real limits: Halo 300 requests per rolling 5
minutes (429 past it), Hudu 300 per minute (fixed windows on the clock). Latency: Hudu 150 ms a
request; Halo 200 ms, plus 20 ms per article in a KBArticle POST; a body over 30,000,000 bytes
(what IIS and Kestrel accept by default) is refused with 413. Time is simulated
(`core.simtime`): waits take no real time, CPU work does.

Each mode runs in its own process, side by side (so peak RSS is its own): adaptive batches
(count up to `--ceiling`, by default 500: HHSYNC_BATCH_SIZE's largest), adaptive up to 100 (its
default) and fixed 50 (the default before batches adapted). Printed, each with its bound:

- simulated time of the first sync vs the bound the requests it needed allow (rate limits, or
  the latency of its requests when those bind: past Halo's last full window, the requests
  left still take their latency); vs one request per article (Hudu's built-in sync: one Halo
  write per article);
- 429s received (0: the clients' limiters stay under both limits);
- mapping-file writes of the pass (≤ N/50 + 10) and the bytes written;
- the longest event-loop stall in the engine (< 50 ms; time inside the emulators excluded);
- CPU per article of rendering, hashing and the mapping store (≤ 1 ms), and the engine's in
  all (HTTP client, JSON, events too; the emulators excluded);
- peak RSS of the engine (≤ 300 MB: the process's peak less what it held before the engine
  started and less the Halo emulator's growth);
- a full pass with nothing changed (simulated time, CPU, 0 Halo writes) and an incremental one
  (≤ 3 requests);
- the first sync with adaptive batches vs fixed 50 (≤ 0.5 ×).

`--fast` memoises the sanitiser (the dataset has 64 distinct bodies): on a busy machine a 50,000
run then takes minutes instead of an hour. Every figure but CPU per article is the same (they
count requests, writes, bytes and simulated time; the loop's longest callback may be one
sanitising shorter, a few ms); CPU per article is then not reported.

`--check` exits 1 when a bound is broken; `--check-counts` only when a bound on a count is
(requests, 429s, file writes, simulated time: what CI checks, at `--articles 500 --modes
adaptive --companies 50`: one page of companies; CPU time and memory depend on the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import starlette.responses
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import core.render
from core import simtime
from core.collector import collect_set_aside
from core.config import Settings
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState, create_hudu_app
from core.emulators.server import DEMO_API_KEY, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from core.engine import Engine
from core.halo import HaloClient
from core.hudu import HuduClient
from core.store import MappingStore

HUDU_URL, HALO_URL = "https://hudu.bench", "https://halo.bench"
HUDU_LATENCY = 0.150
HALO_LATENCY, HALO_PER_ARTICLE = 0.200, 0.020
MAX_BODY = 30_000_000  # IIS maxAllowedContentLength and Kestrel MaxRequestBodySize defaults
HALO_LIMIT, HALO_WINDOW = 300, 300.0
HALO_CLIENT_LIMIT = 290  # core.halo_facts.MAX_REQUESTS: the client keeps a margin of 10
HUDU_LIMIT, HUDU_WINDOW = 300, 60.0
CONCURRENCY = 4  # core.writer.BATCH_CONCURRENCY
DOWNLOADS_IN_FLIGHT = 4  # core.prefetch.PREFETCH_CONCURRENCY
BODIES = 64
FILE_SHARE = 20  # one article in 20 has a file
MACHINE_BOUND = ("stall", "CPU", "RSS")
"""Figures that depend on the machine (left out by `--check-counts`)."""
MODES: dict[str, int | None] = {"adaptive": None, "adaptive-100": 100, "fixed-50": 50}


# ---------------------------------------------------------------------- the dataset
def body(rng: random.Random, size: int, number: int) -> str:
    """An HTML article of about `size` bytes: headings, steps, a table, links, code."""
    parts = [f"<h1>Runbook {number}</h1><p>Owner: service desk. Review yearly.</p>"]
    step = 0
    while sum(map(len, parts)) < size:
        step += 1
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))
        kind = step % 5
        if kind == 0:
            parts.append(f"<h2>Step {step}</h2><p>{words}.</p>")
        elif kind == 1:
            items = "".join(f"<li>{rng.choice(WORDS)} {rng.choice(WORDS)}</li>" for _ in range(5))
            parts.append(f"<ul>{items}</ul>")
        elif kind == 2:
            rows = "".join(
                f"<tr><td>{rng.choice(WORDS)}</td><td>{rng.randint(1, 9999)}</td></tr>"
                for _ in range(4)
            )
            parts.append(f"<table><tbody>{rows}</tbody></table>")
        elif kind == 3:
            parts.append(
                f'<p>See <a href="https://vendor.example.com/kb/{step}">{words[:40]}</a>.</p>'
            )
        else:
            parts.append(
                f"<pre><code>Get-Service {rng.choice(WORDS)} | Restart-Service</code></pre>"
            )
    return "".join(parts)


WORDS = [
    *("restart", "the", "service", "check", "event", "log", "confirm", "backups", "on", "NAS"),
    *("reset", "user's", "password", "in", "Active", "Directory", "verify", "DNS", "records"),
    *("open", "a", "ticket", "with", "vendor", "update", "firmware", "reboot", "switch", "clear"),
    *("print", "queue", "map", "shared", "drive", "renew", "certificate"),
]


def seed(hudu: HuduState, articles: int, companies: int) -> int:
    """The dataset; returns the number of files."""
    rng = random.Random(2026)
    pool = [body(rng, rng.randint(2_000, 40_000), n) for n in range(BODIES)]
    company_ids = [hudu.add_company(f"Customer {n:03d} Ltd")["id"] for n in range(companies)]
    files = 0
    for n in range(articles):
        company = None if n % (companies + 1) == 0 else company_ids[n % companies]
        created = hudu.add_article(f"Procedure {n}: {rng.choice(WORDS)}", pool[n % BODIES], company)
        if n % FILE_SHARE == 7:
            name = f"runbook-{n}.{rng.choice(('pdf', 'docx', 'xlsx'))}"
            size = int(math.exp(rng.uniform(math.log(20_000), math.log(2_000_000))))
            hudu.add_upload(created["id"], name, size=size)
            files += 1
    return files


# ---------------------------------------------------------------------- the wire
@dataclass
class Wire:
    """An ASGI wrapper around an emulator: its time is measured (and kept out of the engine's
    stalls and CPU), the latency model is applied to each answer, bodies over `max_body` get
    413, and 429s are counted. `forget_bodies` drops the article bodies Halo stored (the engine
    never reads them back), so the emulator's memory does not swamp the engine's, and keeps
    what Halo stored out of the garbage collector's sight, so its full collections walk the
    engine's objects (as in a service, where Halo is another machine), not 4 objects an article
    the emulator keeps."""

    app: ASGIApp
    meter: simtime.StallMeter
    latency: Callable[[Scope, bytes], float]
    max_body: int | None = None
    halo: HaloState | None = None
    statuses: dict[int, int] = field(default_factory=dict)
    requests: list[tuple[str, str, float, float]] = field(default_factory=list)
    """(method, path, latency, simulated time of arrival)"""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        token = self.meter.enter()  # the latency model reads the body: the emulator's time
        try:
            delay = self.latency(scope, body)
        finally:
            self.meter.leave(token)
        now = asyncio.get_running_loop().time()
        self.requests.append((scope["method"], scope["path"], delay, now))
        if self.max_body is not None and len(body) > self.max_body:
            await asyncio.sleep(delay)
            await send({"type": "http.response.start", "status": 413, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            self.statuses[413] = self.statuses.get(413, 0) + 1
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:  # the client stays connected until the answer is whole
                await asyncio.get_running_loop().create_future()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        # ASGI 2.4: a streamed answer (a Hudu file) runs in this task, with no listener task.
        scope = {**scope, "asgi": {**scope.get("asgi", {}), "spec_version": "2.4"}}
        token = self.meter.enter()
        try:
            await self.app(scope, replay, keep)
            if self.halo is not None and scope["method"] == "POST":
                forget_bodies(self.halo)
        finally:
            self.meter.leave(token)
        status = next(m["status"] for m in answer if m["type"] == "http.response.start")
        self.statuses[status] = self.statuses.get(status, 0) + 1
        await asyncio.sleep(delay)
        for message in answer:
            await send(message)


_forgotten: MutableMapping[int, int] = {}


def forget_bodies(halo: HaloState) -> None:
    """Blank the long strings of articles Halo stored or changed since the last call, and
    untrack them from the garbage collector."""
    for article_id, article in halo.articles.items():
        stamp = id(article.get("date_edited"))
        if _forgotten.get(article_id) == stamp:
            continue
        _forgotten[article_id] = stamp
        for key, value in list(article.items()):
            if isinstance(value, str) and len(value) > 256:
                article[key] = ""
        for attachment in article.get("attachments") or ():
            for key, value in list(attachment.items()):
                if isinstance(value, str) and len(value) > 256:
                    attachment[key] = ""
        untrack(article)


_untrack = ctypes.pythonapi.PyObject_GC_UnTrack
_untrack.argtypes, _untrack.restype = [ctypes.py_object], None


def untrack(value: Any) -> None:
    """Leave a JSON value (dicts and lists, no cycles) out of every collection: it is still
    freed when its last reference goes (an untracked container is only never walked)."""
    if isinstance(value, dict):
        for item in value.values():
            untrack(item)
    elif isinstance(value, list):
        for item in value:
            untrack(item)
    else:
        return
    if gc.is_tracked(value):
        _untrack(value)


async def _inline(iterator: Iterator[Any]) -> AsyncIterator[Any]:
    for item in iterator:
        yield item


# A worker thread would run while the simulated clock jumps ahead: the emulators' streamed
# files are iterated in the loop instead (they are in memory).
vars(starlette.responses)["iterate_in_threadpool"] = _inline


def is_download(path: str) -> bool:
    return "download" in path or "/uploads/" in path


def hudu_latency(scope: Scope, body: bytes) -> float:
    return HUDU_LATENCY


def halo_latency(scope: Scope, body: bytes) -> float:
    if scope["method"] == "POST" and scope["path"].lower().endswith("/kbarticle") and body:
        return HALO_LATENCY + HALO_PER_ARTICLE * len(json.loads(body))
    return HALO_LATENCY


# ---------------------------------------------------------------------- one mode
class CpuMeter:
    """CPU time of the calling thread spent inside the methods `wrap` times."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, owner: Any, name: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.thread_time() - started

        setattr(owner, name, timed)


class CollectorPauses:
    """The longest collection of the cyclic garbage collector (CPU time), and how many were
    full (generation 2): a pause the event loop has no say in."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.full = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.thread_time()
            return
        self.longest = max(self.longest, time.thread_time() - self._started)
        self.full += info["generation"] == 2


def rss_now() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 1e6


def peak_rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def deep_size(root: Any) -> int:
    """Bytes held by dicts, lists, strings and numbers reachable from `root`."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple):
            stack.extend(obj)
    return total


async def run_mode(
    loop: simtime.VirtualTimeLoop,
    articles: int,
    companies: int,
    ceiling: int,
    *,
    unchanged_passes: bool = False,
) -> dict[str, Any]:
    hudu = HuduState(api_key=DEMO_API_KEY, base_url=HUDU_URL, clock=loop.now)
    halo = HaloState(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        base_url=HALO_URL,
        clock=loop.wall,
    )
    hudu.rate_limit, hudu.rate_window_seconds = HUDU_LIMIT, int(HUDU_WINDOW)
    halo.rate_limit, halo.rate_window_seconds = HALO_LIMIT, HALO_WINDOW
    files = seed(hudu, articles, companies)
    gc.collect()
    gc.freeze()  # the Hudu emulator's articles are not the engine's: kept out of its collections
    meter = simtime.StallMeter()
    hudu_wire = Wire(create_hudu_app(hudu), meter, hudu_latency)
    halo_wire = Wire(create_halo_app(halo), meter, halo_latency, MAX_BODY, halo)
    folder = Path(tempfile.mkdtemp(prefix="hhsync-scale-"))
    settings = Settings(
        _env_file=None,
        hudu_base_url=HUDU_URL,
        hudu_api_key=DEMO_API_KEY,
        halo_base_url=HALO_URL,
        halo_client_id=DEMO_CLIENT_ID,
        halo_client_secret=DEMO_CLIENT_SECRET,
        hhsync_db=folder / "hhsync.json",
        hhsync_batch_size=min(ceiling, 500),
    )
    baseline = rss_now()
    hudu_client = HuduClient(
        HUDU_URL,
        DEMO_API_KEY,
        transport=httpx.ASGITransport(app=hudu_wire),
        clock=loop.time,
        wall_clock=loop.wall,
    )
    halo_client = HaloClient(
        HALO_URL,
        settings.halo_auth_url,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        transport=httpx.ASGITransport(app=halo_wire),
        clock=loop.time,
        wall_clock=loop.wall,
    )
    store = MappingStore(settings.hhsync_db)
    engine = Engine(settings, store=store, hudu=hudu_client, halo=halo_client, clock=loop.now)
    engine.writer.batch_size = ceiling  # may be past the setting's range (1-500)
    engine.book.fsync.offload = simtime.inline
    own_work = CpuMeter()  # the "render + hash + store"
    own_work.wrap(engine.renderer, "render")
    own_work.wrap(store, "commit_batch")
    await engine.open()
    out: dict[str, Any] = {"articles": articles, "files": files, "ceiling": ceiling}

    async def measured(label: str, work: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        hudu_wire.requests.clear()
        halo_wire.requests.clear()
        before = (loop.time(), time.process_time(), meter.emulator_seconds)
        writes = (store.write_count, store.bytes_written, store.snapshot_count)
        renders = engine.renderer.cache.renders
        meter.reset()
        with meter:
            await work()
            store.wait_for_compaction()
        emulators = meter.emulator_seconds - before[2]
        kb_posts = [
            (d, t) for m, p, d, t in halo_wire.requests if m == "POST" and "kbarticle" in p.lower()
        ]
        first_post = min((t for _d, t in kb_posts), default=loop.time())
        downloads = [r for r in hudu_wire.requests if is_download(r[1])]
        return {
            "simulated_seconds": loop.time() - before[0],
            "engine_cpu_seconds": time.process_time() - before[1] - emulators,
            "emulator_seconds": emulators,
            "halo_requests": len(halo_wire.requests),
            "halo_kb_posts": len(kb_posts),
            "halo_kb_latency": sum(d for d, _t in kb_posts),
            "hudu_requests": len(hudu_wire.requests),
            "hudu_read_requests": sum(
                t < first_post and not is_download(p) for _m, p, _d, t in hudu_wire.requests
            ),
            "halo_setup_latency": sum(d for *_r, d, t in halo_wire.requests if t < first_post),
            "hudu_downloads": len(downloads),
            "requests": sorted(
                {f"{m} {p}" for m, p, *_r in hudu_wire.requests + halo_wire.requests}
            )[:20],
            "store_writes": store.write_count - writes[0],
            "store_bytes": store.bytes_written - writes[1],
            "store_snapshots": store.snapshot_count - writes[2],
            "rendered": engine.renderer.cache.renders - renders,
        }

    pauses = CollectorPauses()
    gc.callbacks.append(pauses)
    first = await measured("first", engine.sync_now)
    gc.callbacks.remove(pauses)
    first["gc_longest"], first["gc_full"] = pauses.longest, pauses.full
    first["render_store_cpu_seconds"] = own_work.seconds
    first["collect_between_passes"] = collect_set_aside()  # what the scheduler does next
    first["longest_stall"] = meter.longest
    first["stall_where"] = meter.where
    first["stalls"] = [(round(spent * 1e3, 1), where) for spent, where in meter.worst]
    first["created"] = engine.counts()
    first["batch_size_kept"] = store.meta("batch_size")
    out["first"] = first
    out["peak_rss"] = peak_rss()
    out["baseline_rss"] = baseline
    out["halo_state_mb"] = deep_size(halo.articles) / 1e6
    out["status_429"] = hudu_wire.statuses.get(429, 0) + halo_wire.statuses.get(429, 0)
    out["status_413"] = halo_wire.statuses.get(413, 0)
    if unchanged_passes:
        # As the scheduler does: the next pass an interval after this one ended.
        await asyncio.sleep(settings.hhsync_interval)
        out["full_unchanged"] = await measured("full", lambda: engine.sync_now(full=True))
        await asyncio.sleep(settings.hhsync_interval)
        out["incremental_unchanged"] = await measured("incremental", engine.sync_now)
        out["status_429"] = hudu_wire.statuses.get(429, 0) + halo_wire.statuses.get(429, 0)
    await engine.close()
    if unchanged_passes:  # a restart: the mapping file of N rows loaded (before any pass)
        started, cpu = time.thread_time(), time.process_time()
        reopened = Engine(
            settings, store=MappingStore(settings.hhsync_db), hudu=hudu_client, halo=halo_client
        )
        await reopened.open()
        out["open_seconds"] = time.thread_time() - started  # on the event loop
        out["open_cpu_seconds"] = time.process_time() - cpu  # its worker thread too
        out["open_rows"] = len(reopened.records())
        await reopened.close()
        del reopened  # one engine's rows in what the collection below walks, not two
    # What a full collection costs over what the engine holds (its rows and render cache), as
    # in a service, where the emulators' articles and request logs are not in the process.
    for state in (hudu.articles, hudu.uploads, halo.articles, hudu.log.entries, halo.log.entries):
        state.clear()
    hudu_wire.requests.clear()
    halo_wire.requests.clear()
    out["collect_engine_only"] = collect_set_aside()
    out["engine_rows"] = len(engine.records())
    return out


# ---------------------------------------------------------------------- bounds and report
def halo_rate_bound(requests: int) -> float:
    """Seconds Halo's client-side window (290 per rolling 300 s) needs for `requests`."""
    return max(0, math.ceil(requests / HALO_CLIENT_LIMIT) - 1) * HALO_WINDOW


def hudu_rate_bound(requests: int) -> float:
    return max(0, math.ceil(requests / HUDU_LIMIT) - 1) * HUDU_WINDOW


def read_floor(first: dict[str, Any]) -> float:
    """Before the first write: reading Hudu, pages one after the other under its limit, then
    Halo's own requests one after the other (the token, the FAQ lists the writes go to)."""
    reads = int(first["hudu_read_requests"])
    setup = float(first.get("halo_setup_latency", 0.0))
    return float(max(reads * HUDU_LATENCY, hudu_rate_bound(reads))) + setup


def write_latency_floor(first: dict[str, Any]) -> float:
    """The writes' own latency, spread over the batches in flight; and the downloads',
    spread over those in flight (they go on beside the writes: core.prefetch)."""
    posts = float(first["halo_kb_latency"]) / CONCURRENCY
    return max(posts, float(first["hudu_downloads"]) * HUDU_LATENCY / DOWNLOADS_IN_FLIGHT)


def halo_window_floor(first: dict[str, Any]) -> float:
    """Writing under Halo's window: the requests past the last full window cannot start
    before it slides (`halo_rate_bound`), and then still take their latency, a few in flight."""
    requests = int(first["halo_requests"])
    posts = max(1, int(first["halo_kb_posts"]))
    past = requests - max(0, math.ceil(requests / HALO_CLIENT_LIMIT) - 1) * HALO_CLIENT_LIMIT
    tail = min(past, posts) * float(first["halo_kb_latency"]) / posts / CONCURRENCY
    return halo_rate_bound(requests) + (tail if requests > HALO_CLIENT_LIMIT else 0.0)


def lower_bound(first: dict[str, Any]) -> float:
    """The least time the requests of a pass allow: Hudu's limit over all of them; reading,
    then writing at the pace of Halo's window or of the writes' latency."""
    writing = max(write_latency_floor(first), halo_window_floor(first))
    return float(max(hudu_rate_bound(first["hudu_requests"]), read_floor(first) + writing))


def report(results: dict[str, dict[str, Any]]) -> list[tuple[str, float, float, bool]]:
    """(label, value, bound, ok) for each figure."""
    rows: list[tuple[str, float, float, bool]] = []
    adaptive = results["adaptive"]
    n = adaptive["articles"]
    for mode, res in results.items():
        first = res["first"]
        bound = lower_bound(first)
        print(
            f"\n[{mode}] first sync of {n:,} articles ({res['files']:,} files): "
            f"{first['simulated_seconds'] / 60:.1f} min simulated, "
            f"{first['halo_kb_posts']} KBArticle POSTs, {first['halo_requests']} Halo and "
            f"{first['hudu_requests']} Hudu requests; batch size kept: {first['batch_size_kept']}"
        )
        print(
            f"  bound {bound:.0f} s: Halo's window {halo_window_floor(first):.0f}"
            f" s, Hudu's {hudu_rate_bound(first['hudu_requests']):.0f} s, reading Hudu, then "
            f"Halo's lists {read_floor(first):.0f} s, then the latency of the writes "
            f"{write_latency_floor(first):.0f} s ({CONCURRENCY} in flight)"
        )
        rows.append(
            (
                f"{mode}: first sync vs its bound (× bound)",
                first["simulated_seconds"] / bound,
                1.1,
                first["simulated_seconds"] <= 1.1 * bound,
            )
        )
        rows.append((f"{mode}: 429s received", res["status_429"], 0, res["status_429"] == 0))
        limit = n / 50 + 10
        if mode != "fixed-50":  # the old default, for comparison: a write per batch of 50
            rows.append(
                (
                    f"{mode}: mapping-file writes of the pass",
                    first["store_writes"],
                    limit,
                    first["store_writes"] <= limit,
                )
            )
        print(
            f"  mapping file: {first['store_writes']} writes "
            f"({first['store_snapshots']} whole snapshots), "
            f"{first['store_bytes'] / 1e6:.1f} MB written"
        )
        if mode == "adaptive":
            stall_ms = first["longest_stall"] * 1e3
            rows.append(("adaptive: longest event-loop stall (ms)", stall_ms, 50, stall_ms < 50))
            if "gc_full" in first:
                print(
                    f"  garbage collector: {first['gc_full']} full collections, the longest "
                    f"{first['gc_longest'] * 1e3:.0f} ms"
                )
            if "collect_between_passes" in first:
                print(
                    "  between passes, after a full pass: a full collection of "
                    f"{first['collect_between_passes'] * 1e3:.0f} ms (core.collector)"
                )
            if "collect_engine_only" in res:
                print(
                    "  a full collection over what the engine holds (the emulators emptied, as "
                    f"in a service): {res['collect_engine_only'] * 1e3:.0f} ms"
                )
            for spent, where in first["stalls"]:
                print(f"  stall of {spent} ms, then: {where}")
            cpu_ms = first["engine_cpu_seconds"] / n * 1e3
            own_ms = first.get("render_store_cpu_seconds", 0.0) / n * 1e3
            if res.get("fast"):
                print(f"  CPU per article: not measured (--fast; {cpu_ms:.2f} ms)")
            else:
                label = "adaptive: CPU per article rendering, hashing, storing (ms)"
                rows.append((label, own_ms, 1.0, own_ms <= 1.0))
                print(f"  engine CPU per article, all of it: {cpu_ms:.2f} ms")
            engine_mb = res["peak_rss"] - res["baseline_rss"] - res["halo_state_mb"]
            print(
                f"  RSS: peak {res['peak_rss']:.0f} MB, before the engine "
                f"{res['baseline_rss']:.0f} MB, Halo emulator's articles "
                f"{res['halo_state_mb']:.0f} MB"
            )
            rows.append(("adaptive: peak RSS of the engine (MB)", engine_mb, 300, engine_mb <= 300))
    one_each = halo_rate_bound(n) + 0.0
    print(
        f"\none request per article (Hudu's built-in sync): {n:,} Halo writes, at least "
        f"{one_each / 3600:.1f} h at 300 per 5 minutes"
    )
    full, inc = adaptive["full_unchanged"], adaptive["incremental_unchanged"]
    print(
        f"full pass, nothing changed: {full['simulated_seconds']:.0f} s simulated, "
        f"engine CPU {full['engine_cpu_seconds']:.1f} s "
        f"({full['engine_cpu_seconds'] / n * 1e3:.2f} ms an article, "
        f"{full['rendered']:,} rendered), {full['hudu_requests']} Hudu and "
        f"{full['halo_requests']} Halo requests, {full['store_writes']} mapping-file writes"
    )
    rows.append(
        (
            "full pass, nothing changed: Halo KB writes",
            full["halo_kb_posts"],
            0,
            full["halo_kb_posts"] == 0,
        )
    )
    if "open_seconds" in adaptive:
        print(
            f"opening the mapping file of {adaptive['open_rows']:,} rows (a restart): "
            f"{adaptive['open_seconds'] * 1e3:.0f} ms CPU on the event loop "
            f"({adaptive.get('open_cpu_seconds', 0) * 1e3:.0f} ms in all), before the first pass"
        )
    inc_requests = inc["hudu_requests"] + inc["halo_requests"]
    print(f"incremental pass, nothing changed: {', '.join(inc['requests'])}")
    rows.append(("incremental pass, nothing changed: requests", inc_requests, 3, inc_requests <= 3))
    if "fixed-50" in results:
        ratio = (
            adaptive["first"]["simulated_seconds"]
            / results["fixed-50"]["first"]["simulated_seconds"]
        )
        rows.append(("first sync, adaptive vs fixed 50 (×)", ratio, 0.5, ratio <= 0.5))
        hudu_requests = adaptive["first"]["hudu_requests"]
        least = hudu_rate_bound(hudu_requests) / results["fixed-50"]["first"]["simulated_seconds"]
        print(
            f"adaptive vs fixed 50: {ratio:.2f} ×; no batching goes below {least:.2f} ×: "
            f"Hudu's 300 a minute takes {hudu_rate_bound(hudu_requests):.0f} s for the "
            f"{hudu_requests:,} Hudu requests (pages and file downloads) any sync needs"
        )
        rows.append(
            (
                "first sync vs one request per article (×)",
                adaptive["first"]["simulated_seconds"] / one_each,
                1.0,
                adaptive["first"]["simulated_seconds"] < one_each,
            )
        )
    return rows


def memoise_sanitiser() -> None:
    """`--fast`: each distinct body is sanitised once."""
    cleaner = core.render._CLEANER

    class Memo:
        def __init__(self) -> None:
            self.cleaned: dict[str, str] = {}

        def clean(self, html: str) -> str:
            if html not in self.cleaned:
                self.cleaned[html] = cleaner.clean(html)
            return self.cleaned[html]

    vars(core.render)["_CLEANER"] = Memo()


def start_child(
    mode: str, articles: int, companies: int, ceiling: int, *, fast: bool
) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "--articles", str(articles), "--companies", str(companies)]
    command += ["--ceiling", str(ceiling), "--child", mode] + (["--fast"] if fast else [])
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def child_result(mode: str, child: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = child.communicate()
    if child.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{err[-3000:]}")
    result: dict[str, Any] = json.loads(out.splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--ceiling", type=int, default=500, help="adaptive batches' largest count")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--check", action="store_true", help="exit 1 when a bound is broken")
    parser.add_argument(
        "--check-counts", action="store_true", help="exit 1 when a bound on a count is broken"
    )
    parser.add_argument("--fast", action="store_true", help="memoise the sanitiser (see above)")
    parser.add_argument("--save", type=Path, help="keep the measurements (JSON) in this file")
    parser.add_argument("--load", type=Path, help="report the measurements kept by --save")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.fast:
            memoise_sanitiser()
        ceiling = MODES[args.child] or args.ceiling
        result = simtime.run(
            lambda loop: run_mode(
                loop,
                args.articles,
                args.companies,
                ceiling,
                unchanged_passes=args.child == "adaptive",
            )
        )
        print(json.dumps(result))
        return 0
    if args.load:
        results = json.loads(args.load.read_text())
    else:
        started = time.perf_counter()
        children = {  # side by side: the figures are simulated time and each process's own CPU
            mode: start_child(mode, args.articles, args.companies, args.ceiling, fast=args.fast)
            for mode in args.modes.split(",")
        }
        results = {mode: child_result(mode, child) for mode, child in children.items()}
        for result in results.values():
            result["fast"] = args.fast
        print(f"({len(children)} modes: {time.perf_counter() - started:.0f} s of real time)")
        if args.save:
            args.save.write_text(json.dumps(results))
    rows = report(results)
    print()
    broken = counts_broken = 0
    for label, value, bound, ok in rows:
        broken += not ok
        counts_broken += not ok and not any(word in label for word in MACHINE_BOUND)
        print(f"  {'ok ' if ok else 'BAD'} {label}: {value:,.3g} (bound {bound:,.3g})")
    return 1 if (broken and args.check) or (counts_broken and args.check_counts) else 0


if __name__ == "__main__":
    sys.exit(main())
