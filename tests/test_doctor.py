"""`hhsync doctor` (in-process) against the emulators on a loopback socket."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.emulators.seed import seed_small
from tests.cli_helpers import instant_retry_waits, invoke_hhsync
from tests.conftest import (
    CORRUPT_MAPPING,
    Loopback,
    corrupt_mapping,
    hhsync_env,
    unused_url,
)


def doctor(env: dict[str, str], cwd: Path) -> tuple[int, list[str], list[str]]:
    """Exit status, the ✓ lines and the ✗ lines (asserting stdout holds nothing else)."""
    result = invoke_hhsync(["doctor"], env, cwd)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith(("✓ ", "✗ ")) for line in lines), result.stdout
    good = [line[2:] for line in lines if line.startswith("✓")]
    bad = [line[2:] for line in lines if line.startswith("✗")]
    return result.returncode, good, bad


def only(lines: list[str], start: str) -> str:
    found = [line for line in lines if line.startswith(start)]
    assert len(found) == 1, lines
    return found[0]


def test_all_good(loopback: Loopback, tmp_path: Path) -> None:
    server, hudu, halo = loopback
    seed = seed_small(hudu)

    status, good, bad = doctor(hhsync_env(server, tmp_path), tmp_path)

    assert (status, bad) == (0, [])
    assert good[0].startswith("configuration")
    assert f"{seed.companies} companies visible" in only(good, "Hudu API key accepted")
    assert server.url in only(good, "Hudu reachable")
    assert server.url in only(good, "Halo reachable")
    only(good, "Halo client credentials accepted")
    only(good, "Halo scopes include read:kb and edit:kb")
    assert "created the FAQ group list 'Hudu'" in good[-2]
    assert [f["name"] for f in halo.faqlists.values()] == ["Hudu"]
    assert good[-1].startswith("mapping file")

    again, good, _ = doctor(hhsync_env(server, tmp_path), tmp_path)
    assert again == 0
    assert "found the FAQ group list 'Hudu'" in good[-2]
    assert len(halo.faqlists) == 1


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
    assert "granted: read:kb" in only(bad, "Halo token lacks scope(s) edit:kb")


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
