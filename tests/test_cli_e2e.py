"""`hhsync` end to end against the emulators on a loopback socket: real processes for signals,
SIGKILL and the mapping lock; in-process runs (CliRunner) for exit codes, error lines and
secrets."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from core.emulators.halo import HaloState
from core.emulators.seed import seed_small
from core.emulators.server import DEMO_API_KEY, DEMO_CLIENT_SECRET
from core.store import MappingStore
from tests.cli_helpers import CliResult, instant_retry_waits, invoke_hhsync
from tests.conftest import (
    CORRUPT_MAPPING,
    Loopback,
    LoopbackApp,
    corrupt_mapping,
    halo_copies,
    hhsync_env,
    unused_url,
)
from tests.service_helpers import HHSYNC


def run(args: list[str], env: dict[str, str], cwd: Path) -> CliResult:
    return invoke_hhsync(args, env, cwd)


def one_copy_each(halo: HaloState, ids: Any) -> bool:
    return all(len(halo_copies(halo, i)) == 1 for i in ids)


def test_sync_then_resync_nothing(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, halo = loopback
    seed = seed_small(hudu)
    env = hhsync_env(server, tmp_path)

    first = run(["sync", "--json"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert {"synced", "pending", "skipped", "failed"} <= summary.keys()
    assert summary["failed"] == 0 and summary["pending"] == 0
    assert one_copy_each(halo, seed.published_ids)

    writes = len(halo.log.writes())
    second = run(["sync", "--json"], env, tmp_path)
    assert second.returncode == 0, second.stderr
    assert len(halo.log.writes()) == writes

    status = run(["status", "--json"], env, tmp_path)
    assert json.loads(status.stdout)["synced"] == summary["synced"]


def wait_for(ready: Callable[[], bool], process: subprocess.Popen[Any], what: str) -> None:
    """Poll `ready` until it holds; fail if `process` ends first (or after a minute)."""
    deadline = time.monotonic() + 60
    while not ready():
        assert process.poll() is None, f"hhsync exited ({process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within a minute"
        time.sleep(0.005)


def kill_when(process: subprocess.Popen[bytes], count: Callable[[], int], target: int) -> None:
    """SIGKILL `process` as soon as `count()` reaches `target` (or when it has ended by itself)."""
    while process.poll() is None and count() < target:
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


@pytest.mark.slow
def test_sigkill_at_many_points_never_duplicates(loopback: Loopback, tmp_path: Path) -> None:
    """Kill the real process while it plans (after a few Hudu requests) and right after Halo
    commits writes (with some answers lost after the commit). Eight kills (two while it plans,
    six while it writes, three of those with answers lost) cover each kind; each costs a new
    process."""
    server, hudu, halo = loopback
    seed = seed_small(hudu)
    extra = [hudu.add_article(f"Bulk article {n}", f"<p>{n}</p>")["id"] for n in range(200)]
    published = [*seed.published_ids, *extra]
    halo.switches.latency = 0.05
    env = hhsync_env(server, tmp_path, HHSYNC_BATCH_SIZE="5")
    rng = random.Random(42)
    killed_mid_sync = 0

    for attempt in range(8):
        halo.drop_after_commit = attempt % 3 == 1
        before = len(halo.articles)
        process = subprocess.Popen(
            [HHSYNC, "sync"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        if attempt % 4 == 0:
            asked = len(hudu.log.entries) + rng.randint(1, 3)
            kill_when(process, lambda: len(hudu.log.entries), asked)
        else:
            kill_when(process, lambda: len(halo.articles), before + rng.randint(1, 25))
        if before < len(halo.articles) < len(published):
            killed_mid_sync += 1
        MappingStore.read_only(tmp_path / "db" / "hhsync.json").records()

    halo.drop_after_commit = 0
    halo.switches.latency = 0  # it only spread the writes out for the kills
    final = run(["sync", "--json"], env, tmp_path)
    assert final.returncode == 0, final.stderr
    assert json.loads(final.stdout)["failed"] == 0
    assert killed_mid_sync >= 5, "the kills should land while Halo is being written"
    assert one_copy_each(halo, published)
    assert len(halo.articles) == len(published)


class ExpireHaloTokens:
    """Wraps the emulators: every token Halo issued dies when its `at`-th request arrives (as
    after the token's hour is up)."""

    def __init__(self, app: ASGIApp, halo: HaloState, at: int) -> None:
        self.app, self.halo, self.at = app, halo, at
        self.seen = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith("/halo/"):
            self.seen += 1
            if self.seen == self.at:
                self.halo.expire_tokens()
        await self.app(scope, receive, send)


def test_rate_limits_server_errors_and_token_expiry(
    loopback: Loopback, loopback_app: LoopbackApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Halo's 429s (with Retry-After), 503s from both services and a token that dies mid-pass:
    nothing fails and nothing is written twice. The clients' waits take no real time; Halo's
    clock moves on by each of them instead, so its rate window slides as it would have."""
    server, hudu, halo = loopback
    seed = seed_small(hudu)
    extra = [hudu.add_article(f"Bulk article {n}", f"<p>{n}</p>")["id"] for n in range(60)]
    waits = instant_retry_waits(monkeypatch)
    halo.clock = lambda: time.time() + waits.total("Halo") + waits.total("Hudu")
    halo.rate_limit, halo.rate_window_seconds, halo.send_retry_after = 15, 1.5, True
    halo.switches.error_rate = 0.1
    hudu.switches.error_rate = 0.1
    assert loopback_app.app is not None
    loopback_app.app = ExpireHaloTokens(loopback_app.app, halo, at=30)
    env = hhsync_env(server, tmp_path, HHSYNC_BATCH_SIZE="5")

    result = run(["sync", "--json"], env, tmp_path)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["failed"] == 0
    assert one_copy_each(halo, [*seed.published_ids, *extra])
    statuses = {entry.status for entry in halo.log.entries}
    assert {429, 401, 503} <= statuses, statuses
    assert waits.total("Halo") >= 1, "the 429s were waited out (Retry-After), not retried at once"


class HoldHaloWrites:
    """Wraps the emulators: article writes to Halo wait until `release` is set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.arrived = threading.Event()
        self.release = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")).lower()
        if scope["type"] == "http" and scope["method"] == "POST" and path.endswith("/kbarticle"):
            self.arrived.set()
            await asyncio.to_thread(self.release.wait, 60)
        await self.app(scope, receive, send)


def hold_halo_writes(loopback_app: LoopbackApp) -> HoldHaloWrites:
    assert loopback_app.app is not None
    hold = loopback_app.app = HoldHaloWrites(loopback_app.app)
    return hold


def recorded_passes(db: Path) -> int:
    return len(MappingStore.read_only(db).runs()) if db.exists() else 0


@pytest.mark.slow
@pytest.mark.parametrize("when", ["idle", "mid-pass"])
def test_sigterm_stops_run_cleanly(
    loopback: Loopback, loopback_app: LoopbackApp, tmp_path: Path, when: str
) -> None:
    """SIGTERM once the first pass is recorded (the scheduler waits for the next), or while
    Halo holds the pass's first article write: exit 0, "stopped", and nothing Halo has is
    missing from the mapping or there twice."""
    server, hudu, halo = loopback
    seed = seed_small(hudu)
    hold = hold_halo_writes(loopback_app) if when == "mid-pass" else None
    env = hhsync_env(server, tmp_path, HHSYNC_BATCH_SIZE="2")
    db = Path(env["HHSYNC_DB"])
    process = subprocess.Popen(
        [HHSYNC, "run"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    try:
        if hold is None:
            wait_for(lambda: recorded_passes(db) == 1, process, "a recorded pass")
        else:
            wait_for(hold.arrived.is_set, process, "a Halo write")
        process.send_signal(signal.SIGTERM)
    finally:
        if hold is not None:
            hold.release.set()  # the batch in flight is answered; no other one starts
    _, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert "stopped" in err and "Traceback" not in err
    rows = MappingStore.read_only(db).records()
    assert {r.halo_id for r in rows.values() if r.halo_id} == set(halo.articles)
    assert all(len(halo_copies(halo, i)) <= 1 for i in seed.published_ids)
    if when == "idle":
        assert one_copy_each(halo, seed.published_ids)
        assert recorded_passes(db) == 1


@pytest.mark.slow
def test_second_process_is_refused_naming_the_holder(
    loopback: Loopback, loopback_app: LoopbackApp, tmp_path: Path
) -> None:
    """A `sync` started while another one (a real process) is writing to Halo: refused at
    once, naming the holder; the holder then finishes its pass."""
    server, hudu, halo = loopback
    seed = seed_small(hudu)
    hold = hold_halo_writes(loopback_app)
    env = hhsync_env(server, tmp_path)
    holder = subprocess.Popen(
        [HHSYNC, "sync"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for(hold.arrived.is_set, holder, "a Halo write")
        second = run(["sync"], env, tmp_path)
    finally:
        hold.release.set()
    _, err = holder.communicate(timeout=60)

    assert second.returncode == 2
    assert_one_clear_line(second, str(holder.pid))
    assert holder.returncode == 0, err
    assert one_copy_each(halo, seed.published_ids)


def assert_one_clear_line(result: CliResult, *needles: str) -> None:
    lines = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_variable(loopback: Loopback, tmp_path: Path) -> None:
    server, _hudu, _halo = loopback
    env = hhsync_env(server, tmp_path)
    del env["HALO_CLIENT_ID"]

    result = run(["sync"], env, tmp_path)

    assert result.returncode == 2
    assert_one_clear_line(result, "HALO_CLIENT_ID", "example")


def test_malformed_value(loopback: Loopback, tmp_path: Path) -> None:
    server, _hudu, _halo = loopback
    env = hhsync_env(server, tmp_path, HHSYNC_INTERVAL="soon")

    result = run(["sync"], env, tmp_path)

    assert result.returncode == 2
    assert_one_clear_line(result, "HHSYNC_INTERVAL", "300")


def test_unreachable_host(
    loopback: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _hudu, _halo = loopback
    env = hhsync_env(server, tmp_path, HUDU_BASE_URL=unused_url())
    waits = instant_retry_waits(monkeypatch)

    result = run(["sync"], env, tmp_path)

    assert result.returncode == 2
    assert_one_clear_line(result, "Hudu")
    assert waits.of("Hudu"), "a refused connection is retried before it is reported"


def test_wrong_hudu_key(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, _halo = loopback
    seed_small(hudu)
    env = hhsync_env(server, tmp_path, HUDU_API_KEY="not-the-key")

    result = run(["sync"], env, tmp_path)

    assert result.returncode == 2
    assert_one_clear_line(result, "401", "HUDU_API_KEY")


def test_wrong_halo_secret(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, _halo = loopback
    seed_small(hudu)
    env = hhsync_env(server, tmp_path, HALO_CLIENT_SECRET="wrong-secret")

    result = run(["sync"], env, tmp_path)

    assert result.returncode == 2
    assert_one_clear_line(result, "HALO_CLIENT_SECRET")
    assert "wrong-secret" not in result.stderr + result.stdout


def test_missing_scope(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, halo = loopback
    seed_small(hudu)
    halo.granted_scopes = {"read:kb"}
    env = hhsync_env(server, tmp_path)

    result = run(["sync"], env, tmp_path)

    assert result.returncode == 2
    assert_one_clear_line(result, "edit:kb")


def test_hudu_answering_html(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, _halo = loopback
    seed_small(hudu)
    hudu.html_instead_of_json = True
    env = hhsync_env(server, tmp_path)

    result = run(["sync"], env, tmp_path)

    assert result.returncode == 2
    assert_one_clear_line(result, "HUDU_BASE_URL")


def test_corrupt_mapping_file_is_kept_untouched(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, _halo = loopback
    seed_small(hudu)
    env = hhsync_env(server, tmp_path)
    db = corrupt_mapping(env)

    result = run(["sync"], env, tmp_path)

    assert result.returncode == 2
    assert_one_clear_line(result, str(db))
    assert db.read_bytes() == CORRUPT_MAPPING


def test_secrets_appear_in_no_output_log_or_file(
    loopback: Loopback, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    server, hudu, halo = loopback
    seed_small(hudu)
    halo.ai_duplicate_detection = True
    env = hhsync_env(server, tmp_path)

    outputs = [run(args, env, tmp_path) for args in (["sync"], ["status"], ["doctor"])]
    bad_secret = run(["sync"], {**env, "HALO_CLIENT_SECRET": "s3cr3t-typo"}, tmp_path)

    texts = [r.stdout + r.stderr for r in [*outputs, bad_secret]]
    texts += capfd.readouterr()  # anything written past sys.stdout and sys.stderr
    texts += [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    for secret in (DEMO_API_KEY, DEMO_CLIENT_SECRET, "s3cr3t-typo"):
        assert not any(secret in text for text in texts), secret
    assert any("duplicate" in text.lower() for text in texts)
