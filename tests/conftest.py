"""Fixtures shared by the engine, CLI and end-to-end tests: seeded emulators and engines."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from core.build import build_engine
from core.config import Settings
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState, create_hudu_app
from core.emulators.seed import SeedSummary, seed_small
from core.emulators.server import (
    DEMO_API_KEY,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    RunningServer,
    create_emulator_app,
    env_lines,
    free_port,
    new_states,
    serve_in_thread,
)
from core.engine import Engine
from core.socketpath import socket_path
from tests.service_helpers import HHSYNC, Services
from tests.webhook_receiver import WebhookReceiver

HUDU_URL = "https://hudu.test"
HALO_URL = "https://halo.test"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: at least four workers. Most tests wait on processes, sockets and terminals
    rather than compute, so two cores keep four workers busy (2 min 40 s against 3 min)."""
    return max(4, os.cpu_count() or 1)


@pytest.fixture(autouse=True)
def _nothing_set_aside() -> Iterator[None]:
    """Each test starts and ends with nothing frozen from the garbage collector's sight
    (core.collector: passes set aside what they make until a full pass collects it)."""
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads the developer's .env, XDG folders or HHSYNC_*/HUDU_*/HALO_* variables."""
    home = tmp_path_factory.mktemp("home")
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    for name in list(os.environ):
        if name.startswith(("HUDU_", "HALO_", "HHSYNC_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(home)


def make_settings(db_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "hudu_base_url": HUDU_URL,
        "hudu_api_key": DEMO_API_KEY,
        "halo_base_url": HALO_URL,
        "halo_client_id": DEMO_CLIENT_ID,
        "halo_client_secret": DEMO_CLIENT_SECRET,
        "hhsync_db": db_path,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def hudu() -> HuduState:
    return HuduState(api_key=DEMO_API_KEY, base_url=HUDU_URL)


@pytest.fixture
def halo() -> HaloState:
    return HaloState(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, base_url=HALO_URL)


@pytest.fixture
def seeded(hudu: HuduState) -> SeedSummary:
    return seed_small(hudu)


EngineFactory = Callable[..., Engine]


async def no_wait(_seconds: float) -> None:
    """Every wait of an engine under test: retries, rate limits and settling take no time."""
    await asyncio.sleep(0)


@pytest.fixture
async def make_engine(
    tmp_path: Path, hudu: HuduState, halo: HaloState
) -> AsyncIterator[EngineFactory]:
    """Build engines on the in-process emulators; each shares the same mapping file."""
    engines: list[Engine] = []
    db_path = tmp_path / "hhsync.json"

    def factory(**overrides: Any) -> Engine:
        engine = build_engine(
            make_settings(db_path, **overrides),
            hudu_transport=httpx.ASGITransport(app=create_hudu_app(hudu)),
            halo_transport=httpx.ASGITransport(app=create_halo_app(halo)),
            sleep=no_wait,
        )
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        await engine.close()


@pytest.fixture
async def engine(make_engine: EngineFactory) -> Engine:
    engine = make_engine()
    await engine.open()
    return engine


Loopback = tuple[RunningServer, HuduState, HaloState]


class LoopbackApp:
    """The app the shared loopback server hands each request to: the current test's emulators
    (`app`, which a test may wrap), or a 503 between tests."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.app
        if app is None:
            await PlainTextResponse("no test is running", status_code=503)(scope, receive, send)
        else:
            await app(scope, receive, send)


@pytest.fixture(scope="session")
def _loopback_server() -> Iterator[tuple[RunningServer, LoopbackApp]]:
    """One uvicorn server on 127.0.0.1 for the whole session (starting and stopping one per
    test costs about a quarter of a second)."""
    current = LoopbackApp()
    with serve_in_thread(current) as server:
        yield server, current


@pytest.fixture
def loopback_app(_loopback_server: tuple[RunningServer, LoopbackApp]) -> Iterator[LoopbackApp]:
    """Where the `loopback` emulators are mounted, for a test that wraps them."""
    _server, current = _loopback_server
    yield current
    current.app = None


@pytest.fixture
def loopback(
    _loopback_server: tuple[RunningServer, LoopbackApp], loopback_app: LoopbackApp
) -> Loopback:
    """Fresh emulators of both services on a real 127.0.0.1 socket, for `hhsync` run in-process
    or as a real process."""
    server, _current = _loopback_server
    hudu_state, halo_state = new_states(server.url)
    loopback_app.app = create_emulator_app(hudu_state, halo_state)
    return server, hudu_state, halo_state


def halo_copies(halo: HaloState, hudu_id: int) -> list[dict[str, Any]]:
    return halo.articles_with_tag(f"hudu-article-{hudu_id}")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any HUDU_*, HALO_* or HHSYNC_* variable, plus `extra`.
    COLUMNS and LINES go too: pytest-xdist exports 80 and 24 to its workers, and a dashboard
    started in a tmux pane would take them over the pane's real size."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HUDU_", "HALO_", "HHSYNC_")) and k not in ("COLUMNS", "LINES")
    }
    env.update(extra)
    return env


def hhsync_env(server: RunningServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a real `hhsync` process pointed at `server`, its files in `tmp_path`."""
    env = clean_env()
    for line in env_lines(server.url):
        name, value = line.split("=", 1)
        env[name] = value
    env.update(
        HHSYNC_DB=str(tmp_path / "db" / "hhsync.json"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        NO_COLOR="1",
    )
    env.update(extra)
    return env


def run_hhsync(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `hhsync` with `args` and wait for it."""
    return subprocess.run(
        [HHSYNC, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


CORRUPT_MAPPING = b'{"articles": {"1": {"hudu_id": 1, '


def corrupt_mapping(env: dict[str, str]) -> Path:
    """Write a truncated mapping file where `env`'s HHSYNC_DB points; its path."""
    db = Path(env["HHSYNC_DB"])
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(CORRUPT_MAPPING)
    return db


def unused_url() -> str:
    """An address on 127.0.0.1 where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def services() -> Iterator[Services]:
    started = Services()
    yield started
    started.stop_all()


@pytest.fixture
def service_env(loopback: Loopback, tmp_path: Path) -> tuple[dict[str, str], Path, SeedSummary]:
    server, hudu, _ = loopback
    seed = seed_small(hudu)
    env = hhsync_env(server, tmp_path, HHSYNC_INTERVAL="3600")
    return env, socket_path(Path(env["HHSYNC_DB"])), seed


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    """A webhook receiver on 127.0.0.1 (alerts)."""
    with WebhookReceiver() as receiver:
        yield receiver
