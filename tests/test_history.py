"""Pass history: what each pass did and cost, kept in the mapping file, read by `hhsync history`
(embedded and through the service) and the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.emulators.halo import HaloState
from core.emulators.seed import SeedSummary, seed_small
from core.engine import Engine
from core.history import PassRecord, read_history
from tests.cli_helpers import invoke_hhsync
from tests.conftest import Loopback, clean_env, halo_copies, hhsync_env, run_hhsync
from tests.service_helpers import Services, answers, get, wait_for


async def test_each_pass_is_kept_with_its_trigger_counts_and_cost(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    first = await engine.sync_now()
    (copy,) = halo_copies(halo, seeded.published_ids[0])
    halo.delete_in_halo(copy["id"])
    halo.log.clear()
    halo.switches.error_status, halo.switches.fail_next = 429, 1
    await engine.sync_now(full=True)
    halo_seen = halo.log.count()
    await engine.retry_failed()

    newest, full, initial = await engine.history()
    assert (newest.cause, full.cause, initial.cause) == ("retry", "sync", "sync")
    assert initial.full and initial.created == first.created and initial.halo_requests > 0
    assert initial.synced_total == first.synced_total
    assert full.restored == 1 and full.created == 0 and full.failed == 0
    assert full.waits == 1 and full.waited_seconds > 0  # the 429, waited out
    token_requests = len(halo.log.matching("POST", "/auth"))
    assert full.halo_requests == halo_seen - token_requests  # every API request counted once
    assert full.hudu_requests > 0
    assert full.started_at <= full.finished_at <= newest.started_at
    assert [p.started_at for p in await engine.history(limit=1)] == [newest.started_at]


def test_rows_of_an_older_hhsync_read_with_the_later_fields_empty() -> None:
    old: dict[str, Any] = {
        "started_at": "2026-06-30T14:00:00+00:00",
        "finished_at": "2026-06-30T14:01:00+00:00",
    }
    rows: list[dict[str, Any]] = [
        {**old, "full": True, "created": 3, "error": ""},
        {"not": "a pass"},
        {**old, "n": 1},
    ]

    passes = read_history(rows)

    assert passes[1] == PassRecord(old["started_at"], old["finished_at"], full=True, created=3)
    assert passes[0].cause == "sync" and passes[0].restored == 0
    assert len(passes) == 2  # the row that is no pass is left out


@pytest.mark.slow
async def test_history_reads_the_mapping_file_while_another_process_holds_it(
    engine: Engine, seeded: SeedSummary, tmp_path: Path
) -> None:
    await engine.sync_now()
    env = clean_env(HHSYNC_DB=str(engine.store.path))

    listed = run_hhsync(["history", "--json"], env, tmp_path)  # the real command: a process

    assert listed.returncode == 0, listed.stderr
    (only,) = json.loads(listed.stdout)["passes"]
    assert only["full"] is True and only["cause"] == "sync"
    assert only["created"] == len(seeded.published_ids)


@pytest.mark.slow
def test_hhsync_history_after_a_full_pass_that_restored_a_copy(
    loopback: Loopback, tmp_path: Path
) -> None:
    """`hhsync` (in this process: the output a user gets; the real process reads history in
    the test above): a full pass says "restored 1", and `history` keeps it."""
    server, hudu, halo = loopback
    seed = seed_small(hudu)
    env = hhsync_env(server, tmp_path)
    assert invoke_hhsync(["sync"], env, tmp_path).returncode == 0
    (copy,) = halo_copies(halo, seed.published_ids[0])
    halo.archive_in_halo(copy["id"])

    synced = invoke_hhsync(["sync", "--full"], env, tmp_path)
    text = invoke_hhsync(["history"], env, tmp_path)
    as_json = invoke_hhsync(["history", "--json", "--limit", "1"], env, tmp_path)

    assert synced.returncode == 0, synced.stderr
    assert "restored 1" in synced.stdout
    assert "archived in Halo; restoring it from Hudu" in synced.stderr
    assert not halo_copies(halo, seed.published_ids[0])[0]["inactive"]
    assert text.returncode == 0, text.stderr
    header, newest, _initial = text.stdout.splitlines()
    assert "restored" in header and "full" in newest and " sync " in newest
    (newest_pass,) = json.loads(as_json.stdout)["passes"]
    assert newest_pass["restored"] == 1 and newest_pass["full"] is True
    assert newest_pass["halo_requests"] > 0


@pytest.mark.slow
def test_history_through_the_service(
    service_env: tuple[dict[str, str], Path, SeedSummary],
    services: Services,
    tmp_path: Path,
) -> None:
    env, path, _seed = service_env
    process = services.start(env, tmp_path)
    wait_for(lambda: (answers(path) or {}).get("last_pass") is not None, process, "a pass")

    listed = invoke_hhsync(["history", "--json"], env, tmp_path)
    endpoint = get(path, "/v1/history?limit=1")
    refused = get(path, "/v1/history?limit=501")

    assert listed.returncode == 0, listed.stderr
    assert "in use" not in listed.stderr
    (first,) = json.loads(listed.stdout)["passes"]
    assert first["cause"] == "scheduled" and first["full"] is True
    assert endpoint.json()["passes"] == [first]
    assert refused.status_code == 400
    assert process.poll() is None
