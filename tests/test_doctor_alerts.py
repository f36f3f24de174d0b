"""`hhsync doctor` and alerts: plain doctor says whether they are on (the URL masked) and sends
nothing; `--alert-test` sends one test message and says what became of it."""

from __future__ import annotations

import json
from pathlib import Path

from core.emulators.seed import seed_small
from tests.cli_helpers import invoke_hhsync
from tests.conftest import Loopback, hhsync_env, unused_url
from tests.test_doctor import doctor, only
from tests.webhook_receiver import SECRET_PATH, SECRET_TOKEN, WebhookReceiver

MASKED = "the webhook at 127.0.0.1 (URL masked)"


def test_plain_doctor_says_alerts_are_on_and_sends_nothing(
    loopback: Loopback, tmp_path: Path, webhook: WebhookReceiver
) -> None:
    server, hudu, _ = loopback
    seed_small(hudu)
    env = hhsync_env(server, tmp_path, HHSYNC_ALERT_URL=webhook.url)

    status, good, bad = doctor(env, tmp_path)

    assert (status, bad) == (0, [])
    assert only(good, "alerts go to") == (
        f"alerts go to {MASKED}; hhsync doctor --alert-test sends a test message"
    )
    assert webhook.requests == 0
    assert SECRET_TOKEN not in "\n".join(good)


def test_plain_doctor_says_alerts_are_off(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, _ = loopback
    seed_small(hudu)
    notes: list[str] = []

    status, _, bad = doctor(hhsync_env(server, tmp_path), tmp_path, notes=notes)

    assert (status, bad) == (0, [])
    only(notes, "alerts off (HHSYNC_ALERT_URL is not set)")


def test_alert_test_delivers_one_test_message(
    loopback: Loopback, tmp_path: Path, webhook: WebhookReceiver
) -> None:
    server, hudu, _ = loopback
    seed_small(hudu)
    env = hhsync_env(server, tmp_path, HHSYNC_ALERT_URL=webhook.url)

    status, good, bad = doctor(env, tmp_path, "--alert-test")

    assert (status, bad) == (0, [])
    assert only(good, "test alert") == f"test alert delivered to {MASKED}: HTTP 200"
    (body,) = webhook.bodies
    assert body["kind"] == "test" and "test alert (hhsync doctor --alert-test)" in body["text"]


def test_alert_test_reports_a_refusal_or_no_answer_without_the_url(
    loopback: Loopback, tmp_path: Path, webhook: WebhookReceiver
) -> None:
    server, hudu, _ = loopback
    seed_small(hudu)
    webhook.status = 403
    refused = hhsync_env(server, tmp_path, HHSYNC_ALERT_URL=webhook.url)
    nobody = hhsync_env(server, tmp_path, HHSYNC_ALERT_URL=unused_url() + SECRET_PATH)

    status, _, bad = doctor(refused, tmp_path, "--alert-test")
    assert status == 2
    assert only(bad, "test alert") == (
        f"test alert not delivered to {MASKED}: HTTP 403 — check HHSYNC_ALERT_URL (the whole "
        "URL the webhook's page gives) and that this host may reach it"
    )
    status, _, bad = doctor(nobody, tmp_path, "--alert-test")
    assert status == 2
    assert f"not delivered to {MASKED}: cannot reach it (ConnectError)" in only(bad, "test")

    result = invoke_hhsync(["doctor", "--alert-test", "--json"], refused, tmp_path)
    report = json.loads(result.stdout)
    assert report["ok"] is False and result.returncode == 2
    assert SECRET_TOKEN not in result.stdout + result.stderr
    assert webhook.requests == 2  # one each, never retried: the admin is waiting


def test_alert_test_without_a_url_says_what_to_set(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, _ = loopback
    seed_small(hudu)

    status, _, bad = doctor(hhsync_env(server, tmp_path), tmp_path, "--alert-test")

    assert status == 2
    assert only(bad, "alert test: HHSYNC_ALERT_URL is not set")


def test_a_malformed_alert_url_is_refused_without_echoing_it(
    loopback: Loopback, tmp_path: Path
) -> None:
    server, _, _ = loopback
    env = hhsync_env(server, tmp_path, HHSYNC_ALERT_URL="hooks.example.com/services/SECRETTOKEN")

    result = invoke_hhsync(["doctor"], env, tmp_path)

    assert result.returncode == 2
    assert "HHSYNC_ALERT_URL: must be the webhook's whole https:// address" in result.stdout
    assert "SECRETTOKEN" not in result.stdout + result.stderr
