"""Every `hhsync` command with a real `hhsync run` service: the commands go through the
service (no "in use" error), reach Halo once, and a service killed mid-pass and started again
leaves no duplicate."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from core.emulators.halo import HaloState
from core.emulators.seed import SeedSummary
from tests.cli_helpers import invoke_hhsync
from tests.conftest import Loopback, LoopbackApp, halo_copies, run_hhsync
from tests.service_helpers import Services, answers, get, wait_for
from tests.test_cli_e2e import hold_halo_writes

pytestmark = pytest.mark.slow


def article_writes(halo: HaloState) -> int:
    return sum(
        1
        for entry in halo.log.entries
        if entry.method == "POST" and entry.path.lower().endswith("/kbarticle")
    )


def test_every_command_goes_through_the_running_service(
    service_env: tuple[dict[str, str], Path, SeedSummary],
    services: Services,
    loopback: Loopback,
    tmp_path: Path,
) -> None:
    env, path, seed = service_env
    _server, _hudu, halo = loopback
    process = services.start(env, tmp_path)
    wait_for(lambda: (answers(path) or {}).get("last_pass") is not None, process, "a pass")
    first, second = seed.published_ids[:2]

    status = invoke_hhsync(["status"], env, tmp_path)
    before = article_writes(halo)
    resynced = invoke_hhsync(["resync", str(first)], env, tmp_path)
    after_resync = article_writes(halo)
    unlinked = invoke_hhsync(["unlink", str(second)], env, tmp_path)
    paused = invoke_hhsync(["pause"], env, tmp_path)
    paused_status = answers(path)
    resumed = invoke_hhsync(["resume"], env, tmp_path)
    synced = invoke_hhsync(["sync", "--json"], env, tmp_path)
    doctor = invoke_hhsync(["doctor"], env, tmp_path)
    real_status = run_hhsync(["status", "--json"], env, tmp_path)
    rows = {r["hudu_id"]: r for r in get(path, "/v1/snapshot").json()["records"]}

    for result in (status, resynced, unlinked, paused, resumed, synced, doctor):
        assert result.returncode == 0, result.stdout + result.stderr
        assert "in use" not in result.stderr
    assert status.stdout.startswith(f"synced {len(seed.published_ids) - 1}")
    assert after_resync == before + 1  # one write for one resync
    assert len(halo_copies(halo, first)) == 1
    assert f"{first} " in resynced.stdout and "synced" in resynced.stdout
    assert rows[second]["unlinked"] and rows[second]["status"] == "skipped"
    assert paused_status is not None and paused_status["paused"] is True
    assert answers(path) is not None and answers(path)["paused"] is False  # type: ignore[index]
    assert json.loads(synced.stdout)["failed"] == 0
    assert f"service runs: pid {process.pid}" in doctor.stdout
    assert real_status.returncode == 0, real_status.stderr
    assert len(json.loads(real_status.stdout)["articles"]) == len(rows)
    assert process.poll() is None  # the clients came and went; the service goes on


def test_a_service_killed_mid_pass_and_started_again_makes_no_duplicate(
    service_env: tuple[dict[str, str], Path, SeedSummary],
    services: Services,
    loopback: Loopback,
    loopback_app: LoopbackApp,
    tmp_path: Path,
) -> None:
    env, path, seed = service_env
    _server, _hudu, halo = loopback
    hold = hold_halo_writes(loopback_app)
    first = services.start(env, tmp_path)
    wait_for(hold.arrived.is_set, first, "a Halo write")
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    hold.release.set()  # Halo applies the write of a process that is gone

    second = services.start(env, tmp_path)
    wait_for(
        lambda: (
            (answers(path) or {}).get("pid") == second.pid
            and (answers(path) or {}).get("last_pass") is not None
        ),
        second,
        "a pass of the restarted service",
    )

    assert all(len(halo_copies(halo, i)) == 1 for i in seed.published_ids)
    status = answers(path)
    assert status is not None and status["counts"]["failed"] == 0
