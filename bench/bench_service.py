"""What attached clients cost the service (python bench/bench_service.py).

The real engine syncs N articles (a first, full pass: the pass with the most events) inside
`ControlService`, the control server of `hhsync run`, on a real Unix socket. Hudu and Halo are
the emulators in another process, over loopback HTTP (as in production, the engine waits on the
network while the APIs work; emulators in the engine's own loop would never let it wait, and
no event could be sent before the pass paused). Each pass is run with no client attached, then
with three clients reading the event stream from their own processes (as dashboards do),
alternately, several times. Printed, each with its bound:

- pass time with three attached clients / pass time with none (medians): at most 1.1;
- Halo and Hudu requests of the pass: the same with and without clients (clients change
  nothing the engine does); control-socket requests: one stream per client;
- events each client received: every event of the pass, in order, none missed;
- the time from the engine emitting an event to a client reading it (the largest over every
  event of the pass, in every client): under 0.5 s.

Exits 1 when a bound is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.build import build_engine
from core.config import Settings
from core.emulators.hudu import HuduState
from core.emulators.server import (
    DEMO_API_KEY,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    bind_loopback,
    create_emulator_app,
    new_states,
)
from core.emulators.server import run as serve
from core.engine import Engine
from core.service import ControlService
from core.wire import PROTOCOL_VERSION

CLIENTS = 3
TIME_RATIO_BOUND = 1.1
LATENCY_BOUND = 0.5


@dataclass
class PassRun:
    clients: int
    seconds: float
    cpu_seconds: float  # of the service's process (engine and control server) during the pass
    halo_requests: int
    hudu_requests: int
    events: int  # the events of the pass, the first after the clients attached to PassFinished
    received: list[int] = field(default_factory=list)  # events each client read
    in_order: bool = True
    worst_latency: float = 0.0
    stream_requests: int = 0


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts the engine's requests to one API."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def seed(hudu: HuduState, articles: int, companies: int = 30) -> None:
    company_ids = [hudu.add_company(f"Company {n}")["id"] for n in range(companies)]
    for n in range(articles):
        company = None if n % (companies + 1) == 0 else company_ids[n % companies]
        body = "".join(f"<h2>Step {k}</h2><p>Do thing {k} for article {n}.</p>" for k in range(8))
        hudu.add_article(f"Article {n}", body, company_id=company)


def serve_emulators(articles: int) -> None:
    """The emulators' process: seeded, on a free loopback port printed on stdout."""
    sock = bind_loopback(0)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    hudu, halo = new_states(base_url)
    halo.rate_limit = None
    seed(hudu, articles)
    print(base_url, flush=True)
    serve(create_emulator_app(hudu, halo), sock)


def start_emulators(articles: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--emulators", str(articles)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def build(base_url: str, folder: Path) -> tuple[CountingTransport, CountingTransport, Engine]:
    settings = Settings(
        _env_file=None,
        hudu_base_url=f"{base_url}/hudu",
        hudu_api_key=DEMO_API_KEY,
        halo_base_url=f"{base_url}/halo",
        halo_client_id=DEMO_CLIENT_ID,
        halo_client_secret=DEMO_CLIENT_SECRET,
        hhsync_db=folder / "hhsync.json",
    )
    hudu, halo = CountingTransport(), CountingTransport()
    return hudu, halo, build_engine(settings, hudu_transport=hudu, halo_transport=halo)


def start_client(socket: Path, after: int) -> subprocess.Popen[str]:
    """A client process reading the event stream until the pass has finished."""
    return subprocess.Popen(
        [sys.executable, __file__, "--client", str(socket), "--after", str(after)],
        stdout=subprocess.PIPE,
        text=True,
    )


async def one_pass(articles: int, clients: int) -> PassRun:
    folder = Path(tempfile.mkdtemp(prefix="hb-", dir="/tmp"))
    emulators, base_url = await asyncio.to_thread(start_emulators, articles)
    hudu, halo, engine = build(base_url, folder)
    await engine.open()
    emitted_at: dict[int, float] = {}
    async with ControlService(engine, folder / "s.sock") as service:
        log = service.context.events
        engine.subscribe(lambda event: emitted_at.__setitem__(log.last_seq, time.time()))
        first = log.last_seq + 1
        readers = [start_client(service.path, log.last_seq) for _ in range(clients)]
        while log.followers < clients:
            await asyncio.sleep(0.01)
        started, cpu = time.perf_counter(), time.process_time()
        await engine.sync_now()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        last = log.last_seq
        reports = []
        for reader in readers:
            out, _ = await asyncio.to_thread(reader.communicate, timeout=120)
            reports.append(json.loads(out))
    await engine.close()
    emulators.terminate()
    await asyncio.to_thread(emulators.wait, 30)
    shutil.rmtree(folder, ignore_errors=True)
    run = PassRun(clients, seconds, cpu, halo.requests, hudu.requests, last - first + 1)
    for report in reports:
        seqs: list[int] = report["seqs"]
        run.received.append(len(seqs))
        run.in_order &= seqs == list(range(first, first + len(seqs)))
        run.stream_requests += report["requests"]
        for seq, at in zip(seqs, report["at"], strict=True):
            run.worst_latency = max(run.worst_latency, at - emitted_at[seq])
    return run


def client(path: str, after: int) -> None:
    """Read the stream until PassFinished, noting when each line arrived; report.

    A raw socket and only the sequence number read from each line: on a small machine the
    CPU a client spends decoding would be measured here as time taken from the engine (a
    dashboard's decoding and painting are `bench_tui`'s concern)."""
    seqs: list[int] = []
    at: list[float] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(
            f"GET /v1/events?after={after} HTTP/1.1\r\nHost: hhsync\r\n"
            f"X-Hhsync-Protocol: {PROTOCOL_VERSION}\r\n\r\n".encode()
        )
        pending = b""
        head = True
        finished = False
        while not finished:
            data = sock.recv(1 << 20)
            if not data:
                break
            now = time.time()
            pending += data
            if head:
                if b"\r\n\r\n" not in pending:
                    continue
                pending = pending.split(b"\r\n\r\n", 1)[1]
                head = False
            *lines, pending = pending.split(b"\n")
            for line in lines:
                start = line.find(b'{"seq":')
                if start < 0:
                    continue  # a chunk-size line of the chunked encoding
                seqs.append(int(line[start + 7 : line.index(b",", start)]))
                at.append(now)
                finished = b'"type":"PassFinished"' in line
    print(json.dumps({"seqs": seqs, "at": at, "requests": 1}))


async def run(articles: int, rounds: int) -> list[tuple[str, float, float]]:
    runs: dict[int, list[PassRun]] = {0: [], CLIENTS: []}
    await one_pass(min(articles, 200), 0)  # warm up (imports, caches)
    for _ in range(rounds):
        for clients in (0, CLIENTS):
            runs[clients].append(await one_pass(articles, clients))
    alone = statistics.median(r.seconds for r in runs[0])
    attached = statistics.median(r.seconds for r in runs[CLIENTS])
    cpu_alone = statistics.median(r.cpu_seconds for r in runs[0])
    cpu_attached = statistics.median(r.cpu_seconds for r in runs[CLIENTS])
    print(
        f"a first pass of {articles} articles, median of {rounds}: {alone:.2f} s with no client, "
        f"{attached:.2f} s with {CLIENTS} attached "
        f"(each run: {[round(r.seconds, 2) for r in runs[0]]} / "
        f"{[round(r.seconds, 2) for r in runs[CLIENTS]]})"
    )
    with_clients = runs[CLIENTS]
    lone, busy = runs[0][0], with_clients[0]
    events = min(r.events for r in with_clients)
    print(f"  {events} events per pass; each client read {with_clients[0].received}")
    print(
        f"  CPU time of the service's process: {cpu_alone:.2f} s with no client, "
        f"{cpu_attached:.2f} s with {CLIENTS} attached"
    )
    return [
        (f"pass time with {CLIENTS} clients / with none", attached / alone, TIME_RATIO_BOUND),
        (
            f"service CPU time with {CLIENTS} clients / with none",
            cpu_attached / cpu_alone,
            TIME_RATIO_BOUND,
        ),
        ("Halo requests: with clients minus without", busy.halo_requests - lone.halo_requests, 0),
        ("Hudu requests: with clients minus without", busy.hudu_requests - lone.hudu_requests, 0),
        ("control-socket requests per client", busy.stream_requests / CLIENTS, 1),
        (
            "events a client missed (fewest read vs emitted)",
            max(r.events - min(r.received) for r in with_clients),
            0,
        ),
        ("passes whose streams were out of order", sum(not r.in_order for r in with_clients), 0),
        (
            "seconds from emit to a client reading it (largest)",
            max(r.worst_latency for r in with_clients),
            LATENCY_BOUND,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--after", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--emulators", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emulators:
        serve_emulators(args.emulators)
        return 0
    if args.client:
        client(args.client, args.after)
        return 0
    figures = asyncio.run(run(args.articles, args.rounds))
    broken = 0
    for label, value, bound in figures:
        ok = value <= bound
        broken += not ok
        shown = f"{value:.3f}" if isinstance(value, float) else f"{value}"
        print(f"  {'ok ' if ok else 'BAD'} {label}: {shown} (bound {bound})")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
