"""`hhsync doctor` (in-process) against the emulators on a loopback socket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.emulators.seed import seed_customers, seed_small
from core.remote import ServiceInfo
from tests.cli_helpers import instant_retry_waits, invoke_hhsync
from tests.conftest import (
    CORRUPT_MAPPING,
    Loopback,
    corrupt_mapping,
    hhsync_env,
    unused_url,
)


def doctor(
    env: dict[str, str], cwd: Path, *args: str, notes: list[str] | None = None
) -> tuple[int, list[str], list[str]]:
    """Exit status, the ✓ lines and the ✗ lines (asserting stdout holds nothing else); the !
    lines (worth knowing, nothing broken) go to `notes`."""
    result = invoke_hhsync(["doctor", *args], env, cwd)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith(("✓ ", "✗ ", "! ")) for line in lines), result.stdout
    good = [line[2:] for line in lines if line.startswith("✓")]
    bad = [line[2:] for line in lines if line.startswith("✗")]
    if notes is not None:
        notes.extend(line[2:] for line in lines if line.startswith("!"))
    return result.returncode, good, bad


def only(lines: list[str], start: str) -> str:
    found = [line for line in lines if line.startswith(start)]
    assert len(found) == 1, lines
    return found[0]


def test_all_good_and_plain_doctor_writes_nothing(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, halo = loopback
    seed = seed_small(hudu)
    env = hhsync_env(server, tmp_path)
    notes: list[str] = []

    status, good, bad = doctor(env, tmp_path, notes=notes)

    assert (status, bad) == (0, [])
    assert good[0].startswith("configuration")
    assert f"{seed.companies} companies visible" in only(good, "Hudu API key accepted")
    assert server.url in only(good, "Hudu reachable")
    assert server.url in only(good, "Halo reachable")
    only(good, "Halo client credentials accepted")
    only(good, "Halo scopes include read:kb and edit:kb")
    assert "the first sync (or hhsync doctor --probe) creates it" in only(notes, "FAQ group list")
    assert "run hhsync doctor --probe" in only(notes, "Halo never probed")
    assert good[-1].startswith("mapping file")
    assert halo.log.writes("/api") == [] and halo.faqlists == {}  # a token is no write
    assert not Path(env["HHSYNC_DB"]).exists()

    assert invoke_hhsync(["sync"], env, tmp_path).returncode == 0
    again, good, _ = doctor(env, tmp_path, notes=notes)
    assert again == 0
    only(good, "found the FAQ group list 'Hudu'")


def test_wrong_halo_secret(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, _halo = loopback
    seed_small(hudu)
    env = hhsync_env(server, tmp_path, HALO_CLIENT_SECRET="wrong-secret")

    status, good, bad = doctor(env, tmp_path)

    assert status == 2
    assert len(bad) == 1
    line = only(bad, "Halo client credentials refused")
    assert "401" in line and "HALO_CLIENT_SECRET" in line  # the hint
    assert "wrong-secret" not in line
    only(good, "Hudu API key accepted")
    only(good, "mapping file")


def test_scope_refused_by_the_token_endpoint(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, halo = loopback
    seed_small(hudu)
    halo.granted_scopes = {"read:kb"}

    status, _good, bad = doctor(hhsync_env(server, tmp_path), tmp_path)

    assert status == 2
    line = only(bad, "Halo token lacks scope(s) edit:kb")
    assert "invalid_scope" in line and "HALO_SCOPE" in line
    assert not [b for b in bad if "credentials" in b]


def test_scope_left_out_of_halo_scope(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, _halo = loopback
    seed_small(hudu)

    status, _good, bad = doctor(hhsync_env(server, tmp_path, HALO_SCOPE="read:kb"), tmp_path)

    assert status == 2
    assert "granted: read:customers read:kb" in only(bad, "Halo token lacks scope(s) edit:kb")


def test_hudu_unreachable(
    loopback: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _hudu, _halo = loopback
    nowhere = unused_url()
    waits = instant_retry_waits(monkeypatch)

    status, good, bad = doctor(hhsync_env(server, tmp_path, HUDU_BASE_URL=nowhere), tmp_path)

    assert status == 2
    line = only(bad, f"Hudu unreachable at {nowhere}")
    assert "HUDU_BASE_URL" in line
    assert len(bad) == 1 and not [g for g in good if g.startswith("Hudu")]
    only(good, "Halo scopes include")
    assert waits.of("Hudu"), "a refused connection is retried before it is reported"


def test_halo_unreachable(
    loopback: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, hudu, _halo = loopback
    seed_small(hudu)
    nowhere = unused_url()
    waits = instant_retry_waits(monkeypatch)

    status, good, bad = doctor(hhsync_env(server, tmp_path, HALO_BASE_URL=nowhere), tmp_path)

    assert status == 2
    assert bad == [only(bad, f"Halo unreachable at {nowhere}")]
    assert "HALO_BASE_URL" in bad[0]
    assert not [g for g in good if g.startswith("Halo")]
    assert waits.of("Halo"), "a refused connection is retried before it is reported"


def test_corrupt_mapping_file(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, _halo = loopback
    seed_small(hudu)
    env = hhsync_env(server, tmp_path)
    db = corrupt_mapping(env)

    status, good, bad = doctor(env, tmp_path)

    assert status == 2
    line = only(bad, "mapping file")
    assert str(db) in line and "hhsync sync --full" in line
    assert len(bad) == 1
    only(good, "Halo scopes include")
    assert db.read_bytes() == CORRUPT_MAPPING


def test_hudu_answering_html(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, _halo = loopback
    hudu.html_instead_of_json = True

    status, _good, bad = doctor(hhsync_env(server, tmp_path), tmp_path)

    assert status == 2
    assert "HUDU_BASE_URL" in only(bad, "Hudu at")


def test_bad_configuration(tmp_path: Path, loopback: Loopback) -> None:
    server, _hudu, _halo = loopback
    env = hhsync_env(server, tmp_path)
    del env["HALO_CLIENT_ID"]

    status, good, bad = doctor(env, tmp_path)

    assert (status, good) == (2, [])
    assert "HALO_CLIENT_ID" in only(bad, "configuration")


def test_a_company_name_that_matches_nothing(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, _halo = loopback
    seed_small(hudu)

    status, _good, bad = doctor(hhsync_env(server, tmp_path, HHSYNC_COMPANIES="Nope Inc"), tmp_path)

    assert status == 2
    assert "names no Hudu company: nope inc" in only(bad, "HHSYNC_COMPANIES")


# ---------------------------------------------------------------- the probe
def test_probe_writes_checks_removes_and_plain_doctor_then_shows_its_verdicts(
    loopback: Loopback, tmp_path: Path
) -> None:
    server, hudu, halo = loopback
    seed_small(hudu)
    seed_customers(hudu, halo)
    env = hhsync_env(server, tmp_path)

    status, good, bad = doctor(env, tmp_path, "--probe")

    assert (status, bad) == (0, [])
    facts = [line.split(":", 1)[0] for line in good if "; seen " in line]
    assert facts == [
        "body",
        "tag_string",
        "marker_lookup",
        "bulk_lookup",
        "attachments",
        "client_access",
        "link",
        "delete",
        "archive",
        "faqlist_id",
        "date_edited",
    ]
    assert "→ write tags through tag_string" in only(good, "tag_string:")
    assert "written, read back and removed" in only(good, "probe article")
    assert [a for a in halo.articles.values() if not a["inactive"]] == []

    again, good, bad = doctor(env, tmp_path)
    assert (again, bad) == (0, [])
    assert "just now" in only(good, "Halo probed (")
    assert len([line for line in good if line.startswith("probe: ")]) == len(facts)
    assert len(halo.articles) == 1  # plain doctor wrote nothing


def test_probe_json(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, halo = loopback
    seed_small(hudu)
    halo.ignore_tag_string = True
    env = hhsync_env(server, tmp_path)

    result = invoke_hhsync(["doctor", "--probe", "--json"], env, tmp_path)
    body = json.loads(result.stdout)

    assert result.returncode == 0 and body["ok"] is True
    assert body["probe_kind"] == "full" and body["probe"]["leftovers_removed"] == 0
    tags = next(f for f in body["facts"] if f["fact"] == "tag_string")
    assert tags["verdict"] == "adapted" and "tags: [{text}]" in tags["action"]
    assert {"ok", "line"} == set(body["checks"][0])
    plain = json.loads(invoke_hhsync(["doctor", "--json"], env, tmp_path).stdout)
    assert plain["probe"] is None and plain["facts"] == body["facts"]


def test_a_degraded_tenant_exits_1_and_says_so(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, halo = loopback
    seed_small(hudu)
    halo.search_matches_tags = False

    status, _good, bad = doctor(hhsync_env(server, tmp_path), tmp_path, "--probe")

    assert status == 1
    assert "crash recovery degraded" in only(bad, "marker_lookup:")


def test_the_probe_waits_for_the_checks_and_the_service(
    loopback: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, hudu, halo = loopback
    seed_small(hudu)
    env = hhsync_env(server, tmp_path)

    status, _good, bad = doctor({**env, "HALO_SCOPE": "read:kb"}, tmp_path, "--probe")
    assert status == 2 and only(bad, "probe not run").endswith("fix what is marked ✗ above first")

    async def a_service(_socket: Path) -> ServiceInfo:
        return ServiceInfo(1, "0.1.0", 4242, "2026-12-01T00:00:00+00:00", "db", "sock")

    monkeypatch.setattr("core.doctor.find_service", a_service)
    status, _good, bad = doctor(env, tmp_path, "--probe")
    assert status == 2 and "service (pid 4242) holds the mapping file" in only(bad, "probe")
    assert halo.log.writes("/api") == []


# ---------------------------------------------------------------- customers
def test_each_synced_company_and_how_it_meets_its_customer(
    loopback: Loopback, tmp_path: Path
) -> None:
    server, hudu, halo = loopback
    seed_small(hudu)
    customers = seed_customers(hudu, halo)
    notes: list[str] = []

    status, good, bad = doctor(hhsync_env(server, tmp_path), tmp_path, notes=notes)

    assert (status, bad) == (0, [])
    assert "2 of 3 synced companies" in only(good, "HHSYNC_CUSTOMER_ACCESS=matched")
    (integrated,) = customers.by_integration
    name = hudu.companies[integrated].name
    line = only(good, f"customer: {name} →")
    assert "by Hudu's Halo integration" in line
    (stale,) = customers.stale_integration
    note = only(notes, f"customer: {hudu.companies[stale].name}:")
    assert "names Halo client 9" in note and note.endswith("its articles sync unrestricted")


def test_strict_without_the_customers_scope_is_a_problem(
    loopback: Loopback, tmp_path: Path
) -> None:
    server, hudu, halo = loopback
    seed_small(hudu)
    halo.granted_scopes -= {"read:customers"}
    env = hhsync_env(server, tmp_path, HHSYNC_CUSTOMER_ACCESS="strict")

    status, _good, bad = doctor(env, tmp_path)

    assert status == 2
    assert "lacks read:customers" in only(bad, "Halo customers")


@pytest.mark.parametrize("command", [["doctor"], ["sync"]])
def test_a_bad_customer_map_exits_2_naming_it(
    loopback: Loopback, tmp_path: Path, command: list[str]
) -> None:
    server, _hudu, halo = loopback
    env = hhsync_env(server, tmp_path, HHSYNC_CUSTOMER_MAP="12=acme")

    result = invoke_hhsync(command, env, tmp_path)

    assert result.returncode == 2
    assert "HHSYNC_CUSTOMER_MAP: '12=acme' is not" in result.stdout + result.stderr
    assert halo.log.entries == []
