"""`hhsync run` as a real process with HHSYNC_ALERT_URL, against the emulators and a webhook
receiver on loopback: an article failing is told once, a pass that cannot run once, its
recovery once, a restart repeats nothing, a dead webhook stops nothing, and the URL appears in
no output and no log."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.emulators.halo import HaloState
from core.emulators.seed import seed_small
from core.emulators.server import DEMO_CLIENT_SECRET
from core.socketpath import socket_path
from core.store import MappingStore
from core.text import without_controls
from tests.cli_helpers import invoke_hhsync
from tests.conftest import Loopback, hhsync_env, unused_url
from tests.service_helpers import Services, answers, get, wait_for
from tests.webhook_receiver import SECRET_PATH, SECRET_TOKEN, WebhookReceiver

pytestmark = pytest.mark.slow


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM; what the service wrote (stdout and stderr), once it stopped cleanly."""
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    return out + err


def log_text(env: dict[str, str]) -> str:
    return (Path(env["XDG_STATE_HOME"]) / "hhsync" / "hhsync.log").read_text()


def break_credentials(halo: HaloState) -> None:
    halo.client_secret = "rotated-in-halo"
    halo.tokens.clear()


def test_the_service_alerts_once_recovers_once_and_a_restart_repeats_nothing(
    loopback: Loopback, tmp_path: Path, services: Services, webhook: WebhookReceiver
) -> None:
    server, hudu, halo = loopback
    seed = seed_small(hudu)
    bad = seed.published_ids[0]
    halo.reject_article_names = {without_controls(hudu.articles[bad].name): 500}
    env = hhsync_env(server, tmp_path, HHSYNC_INTERVAL="3600", HHSYNC_ALERT_URL=webhook.url)
    path = socket_path(Path(env["HHSYNC_DB"]))

    first = services.start(env, tmp_path)
    (failed,) = webhook.wait_for(1)
    assert failed["kind"] == "articles_failed"
    assert [a["hudu_id"] for a in failed["articles"]] == [bad]

    assert invoke_hhsync(["sync"], env, tmp_path).returncode == 1  # still failing: no alert
    break_credentials(halo)
    assert invoke_hhsync(["sync"], env, tmp_path).returncode == 2
    webhook.wait_for(2)
    assert webhook.kinds() == ["articles_failed", "pass_failed"]  # in order, one task
    alerts = (answers(path) or {})["alerts"]
    assert alerts["webhook_host"] == "127.0.0.1"
    assert sorted(alerts["last_sent"]) == ["articles_failed", "pass_failed"]
    assert SECRET_TOKEN not in get(path, "/status").text + get(path, "/v1/snapshot").text
    output = stop(first)

    second = services.start(env, tmp_path)  # Halo still refuses: its first pass fails
    wait_for(lambda: (answers(path) or {}).get("last_pass") is not None, second, "a pass")
    halo.client_secret = DEMO_CLIENT_SECRET
    assert invoke_hhsync(["sync"], env, tmp_path).returncode == 1
    webhook.wait_for(3)
    assert webhook.kinds() == ["articles_failed", "pass_failed", "recovered"]
    output += stop(second)

    log = log_text(env)
    assert "alert sent (articles_failed): HTTP 200" in log
    assert "alert sent (recovered): HTTP 200" in log
    for text in (output, log):
        assert webhook.url not in text and SECRET_PATH not in text and SECRET_TOKEN not in text
    assert "alerts go to the webhook at 127.0.0.1" in log


def remember_sent(env: dict[str, str], kind: str, ago: timedelta) -> None:
    """Write in the mapping file (no service running) that an alert of `kind` went out `ago`."""
    path = Path(env["HHSYNC_DB"])
    path.parent.mkdir(parents=True, exist_ok=True)
    store = MappingStore(path).open()
    try:
        memory = store.meta("alerts") or {"reported": [], "outage": False}
        memory["sent"] = {**memory.get("sent", {}), kind: (datetime.now(UTC) - ago).isoformat()}
        store.set_meta(alerts=memory)
    finally:
        store.close()


def test_the_hour_rule_holds_with_the_real_clock_and_a_restart(
    loopback: Loopback, tmp_path: Path, services: Services, webhook: WebhookReceiver
) -> None:
    server, hudu, halo = loopback
    seed = seed_small(hudu)
    bad = seed.published_ids[0]
    halo.reject_article_names = {without_controls(hudu.articles[bad].name): 500}
    env = hhsync_env(server, tmp_path, HHSYNC_INTERVAL="3600", HHSYNC_ALERT_URL=webhook.url)
    remember_sent(env, "articles_failed", timedelta(minutes=59))

    first = services.start(env, tmp_path)
    path = socket_path(Path(env["HHSYNC_DB"]))
    wait_for(lambda: (answers(path) or {}).get("last_pass") is not None, first, "a pass")
    break_credentials(halo)
    assert invoke_hhsync(["sync"], env, tmp_path).returncode == 2
    webhook.wait_for(1)
    assert webhook.kinds() == ["pass_failed"]  # the failed article waits: 59 minutes ago
    stop(first)

    remember_sent(env, "articles_failed", timedelta(minutes=61))
    halo.client_secret = DEMO_CLIENT_SECRET
    second = services.start(env, tmp_path)
    webhook.wait_for(3)
    assert webhook.kinds() == ["pass_failed", "recovered", "articles_failed"]
    assert [a["hudu_id"] for a in webhook.bodies[2]["articles"]] == [bad]
    stop(second)


def test_a_dead_webhook_never_stops_or_delays_the_service(
    loopback: Loopback, tmp_path: Path, services: Services
) -> None:
    server, hudu, halo = loopback
    seed = seed_small(hudu)
    bad = seed.published_ids[0]
    halo.reject_article_names = {without_controls(hudu.articles[bad].name): 500}
    dead = unused_url() + SECRET_PATH
    env = hhsync_env(server, tmp_path, HHSYNC_INTERVAL="3600", HHSYNC_ALERT_URL=dead)
    path = socket_path(Path(env["HHSYNC_DB"]))

    process = services.start(env, tmp_path)
    wait_for(lambda: (answers(path) or {}).get("last_pass") is not None, process, "a pass")
    retrying = (
        "alert not sent yet (articles_failed) to the webhook at 127.0.0.1: "
        "cannot reach it (ConnectError); trying again in 5 s"
    )
    wait_for(lambda: retrying in log_text(env), process, "the failed attempt in the log")

    started = time.monotonic()  # the alert now waits 5 s for its next attempt
    again = invoke_hhsync(["sync", "--json"], env, tmp_path)
    assert again.returncode == 1 and '"failed": 1' in again.stdout
    assert time.monotonic() - started < 5
    status = answers(path)
    assert status is not None
    assert status["counts"]["failed"] == 1 and status["counts"]["pending"] == 0
    output = stop(process)

    log = log_text(env)
    for text in (output, log, again.stdout + again.stderr):
        assert dead not in text and SECRET_PATH not in text and SECRET_TOKEN not in text
