"""`hhsync status, reset, resync, unlink, retry, sync --dry-run`: exit statuses, output, and
what Halo holds afterwards. The commands run in-process (CliRunner) against the emulators on a
loopback socket; the installed entry point and the confirmation prompt run as real processes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState
from core.emulators.seed import SeedSummary, seed_small
from tests.cli_helpers import CliResult, invoke_hhsync
from tests.conftest import (
    Loopback,
    clean_env,
    corrupt_mapping,
    halo_copies,
    hhsync_env,
    run_hhsync,
)

CHANGED = "<p>Changed in Hudu after the first sync.</p>"


@dataclass
class Cli:
    run: Callable[..., CliResult]
    env: dict[str, str]
    cwd: Path
    hudu: HuduState
    halo: HaloState
    seed: SeedSummary
    db: Path

    def ok(self, *args: str, status: int = 0) -> str:
        """Run `hhsync args`; check the exit status and that stderr has no traceback."""
        result = self.run(*args)
        assert result.returncode == status, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        return result.stdout

    def status(self) -> dict[str, Any]:
        result = self.run("status", "--json")
        assert result.returncode in (0, 1), result.stderr
        body: dict[str, Any] = json.loads(result.stdout)
        body["rows"] = {row["hudu_id"]: row for row in body.pop("articles")}
        return body

    def api_writes(self) -> list[str]:
        """Writes Halo's /api answered (the token POST is not one)."""
        return [f"{w.method} {w.path}" for w in self.halo.log.writes() if "/api/" in w.path]

    def copy(self, hudu_id: int) -> dict[str, Any]:
        (only,) = halo_copies(self.halo, hudu_id)
        return only


@pytest.fixture
def cli(loopback: Loopback, tmp_path: Path) -> Cli:
    server, hudu, halo = loopback
    seed = seed_small(hudu)
    env = hhsync_env(server, tmp_path)

    def run(*args: str, stdin: str | None = None) -> CliResult:
        return invoke_hhsync(list(args), env, tmp_path, stdin=stdin)

    return Cli(run, env, tmp_path, hudu, halo, seed, Path(env["HHSYNC_DB"]))


def synced(cli: Cli) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(cli.ok("sync", "--json"))
    assert summary["failed"] == 0
    return summary


def test_status_before_any_sync(cli: Cli) -> None:
    assert cli.ok("status").startswith("synced 0, pending 0, skipped 0, failed 0")
    assert json.loads(cli.ok("status", "--json")) == {
        "synced": 0,
        "pending": 0,
        "skipped": 0,
        "failed": 0,
        "articles": [],
    }
    assert not cli.db.exists()


def test_status_after_a_sync(cli: Cli) -> None:
    summary = synced(cli)

    text = cli.ok("status")
    body = cli.status()

    assert {k: body[k] for k in ("synced", "pending", "skipped", "failed")} == {
        k: summary[k] for k in ("synced", "pending", "skipped", "failed")
    }
    assert text.splitlines()[0].startswith(f"synced {summary['synced']}, pending 0")
    assert str(cli.db) in text
    assert body["rows"][cli.seed.draft_ids[0]]["reason"] == "draft in Hudu"
    row = body["rows"][cli.seed.published_ids[0]]
    assert row["status"] == "synced" and row["halo_id"] == cli.copy(row["hudu_id"])["id"]


def test_status_of_a_corrupt_mapping_file(cli: Cli) -> None:
    corrupt_mapping({"HHSYNC_DB": str(cli.db)})

    result = cli.run("status")

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("hhsync: error:") and str(cli.db) in line


def test_dry_run_prints_the_plan_and_writes_nothing(cli: Cli) -> None:
    out = cli.ok("sync", "--dry-run")

    for hudu_id in cli.seed.published_ids:
        name = cli.hudu.articles[hudu_id].name
        assert f"would create {hudu_id} {name!r}" in out
    for hudu_id in cli.seed.draft_ids:
        assert f"would create {hudu_id} " not in out
    assert f"dry run: would create {len(cli.seed.published_ids)}, update 0" in out.splitlines()[-1]
    assert cli.api_writes() == []
    assert (cli.halo.articles, cli.halo.faqlists) == ({}, {})
    assert cli.status()["rows"] == {}

    synced(cli)
    first = cli.seed.published_ids[0]
    cli.hudu.update_article(first, content=CHANGED)
    mapping = cli.db.read_bytes()
    writes = len(cli.api_writes())

    out = cli.ok("sync", "--dry-run", "--full")

    assert [line for line in out.splitlines() if line.startswith("would")] == [
        f"would update {first} {cli.hudu.articles[first].name!r}"
    ]
    assert "dry run: would create 0, update 1, remove 0" in out
    assert len(cli.api_writes()) == writes
    assert "Changed in Hudu" not in cli.copy(first)["description_html"]
    assert cli.db.read_bytes() == mapping


def test_dry_run_json(cli: Cli) -> None:
    summary = json.loads(cli.ok("sync", "--dry-run", "--json"))

    assert summary["dry_run"] is True
    assert summary["synced"] == summary["failed"] == 0
    assert cli.api_writes() == []


def test_failed_articles_then_retry(cli: Cli) -> None:
    cli.halo.ai_duplicate_detection = True
    published = cli.seed.published_ids

    summary = json.loads(cli.ok("sync", "--json", status=1))
    assert summary["failed"] == len(published)
    assert cli.halo.articles == {}

    text = cli.ok("status", status=1)
    assert f"failed {len(published)}" in text.splitlines()[0]
    assert "hint: turn off AI Article Duplication Detection" in text
    row = cli.status()["rows"][published[0]]
    assert row["status"] == "failed" and "AI" in row["hint"] and row["error"]

    cli.halo.ai_duplicate_detection = False
    out = cli.ok("retry")

    assert f"created {len(published)}" in out and "failed 0 —" in out
    body = cli.status()
    assert body["failed"] == body["pending"] == 0
    assert body["synced"] == len(published) - cli.seed.oversized_files
    assert all(len(halo_copies(cli.halo, i)) == 1 for i in published)


def test_retry_with_nothing_failed(cli: Cli) -> None:
    synced(cli)
    writes = len(cli.api_writes())

    assert "created 0, updated 0" in cli.ok("retry")
    assert len(cli.api_writes()) == writes


def test_unlink_then_resync(cli: Cli) -> None:
    synced(cli)
    target = cli.seed.published_ids[0]
    halo_id = cli.copy(target)["id"]

    out = cli.ok("unlink", str(target))

    assert out.startswith(f"{target} ") and "skipped" in out and "(unlinked)" in out
    cli.hudu.update_article(target, content=CHANGED)
    cli.ok("sync", "--full")
    assert "Changed in Hudu" not in cli.copy(target)["description_html"]
    row = cli.status()["rows"][target]
    assert (row["status"], row["reason"], row["halo_id"]) == ("skipped", "unlinked", halo_id)

    out = cli.ok("resync", str(target))

    assert f"synced → Halo {halo_id}" in out
    assert "Changed in Hudu" in cli.copy(target)["description_html"]
    assert cli.status()["rows"][target]["status"] == "synced"
    cli.hudu.update_article(target, content="<p>And again.</p>")
    synced(cli)
    assert "And again." in cli.copy(target)["description_html"]


def test_resync_an_unchanged_article_sends_it(cli: Cli) -> None:
    synced(cli)
    target = cli.seed.published_ids[1]
    writes = len(cli.api_writes())

    cli.ok("resync", str(target))

    assert len(cli.api_writes()) == writes + 1
    assert len(halo_copies(cli.halo, target)) == 1


@pytest.mark.parametrize("command", ["unlink", "resync"])
def test_unknown_article_is_one_error_line(cli: Cli, command: str) -> None:
    synced(cli)

    result = cli.run(command, "9999")

    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("hhsync: error:") and "9999" in line


def test_article_id_must_be_a_number(cli: Cli) -> None:
    result = cli.run("unlink", "vpn")

    assert result.returncode == 2
    assert "is not a valid integer" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("answer", ["n\n", ""], ids=["no", "no-stdin"])
def test_reset_asks_first(cli: Cli, answer: str) -> None:
    """The real process reading its stdin: "n", or nothing at all (as from cron), unlinks
    nothing."""
    summary = synced(cli)

    result = run_hhsync(["reset"], cli.env, cli.cwd, stdin=answer)

    assert result.returncode == 1
    assert "Unlink every synced article?" in result.stderr
    assert "Traceback" not in result.stderr
    assert cli.status()["synced"] == summary["synced"]


def test_commands_are_written_to_the_log_file_with_the_article_and_where_they_came_from(
    cli: Cli,
) -> None:
    synced(cli)
    target = cli.seed.published_ids[0]
    row = cli.status()["rows"][target]
    cli.ok("unlink", str(target))
    cli.ok("resync", str(target))
    cli.ok("pause")
    cli.ok("resume")

    log = (Path(cli.env["XDG_STATE_HOME"]) / "hhsync" / "hhsync.log").read_text()
    named = f"“{row['title']}” #{target} ({row['scope']}) from the command"
    assert f"INFO hhsync.actions: unlink of {named}" in log
    assert f"INFO hhsync.actions: resync of {named}" in log
    assert "INFO hhsync.actions: pause from the command" in log
    assert "INFO hhsync.actions: resume from the command" in log


def test_unlinking_a_skipped_article_keeps_why_it_is_skipped(cli: Cli) -> None:
    synced(cli)
    draft = cli.seed.draft_ids[0]
    assert cli.status()["rows"][draft]["reason"] == "draft in Hudu"

    cli.ok("unlink", str(draft))

    row = cli.status()["rows"][draft]
    assert (row["status"], row["reason"]) == ("skipped", "unlinked; draft in Hudu")


def test_reset_yes_unlinks_everything_and_resync_relinks(cli: Cli) -> None:
    synced(cli)
    copies = dict(cli.halo.articles)
    linked = len(cli.seed.published_ids)
    total = len(cli.seed.article_ids)

    assert cli.ok("reset", "--yes").strip() == f"unlinked {linked} article(s)"

    body = cli.status()
    assert (body["synced"], body["skipped"]) == (0, total)
    reasons = {row["reason"] for row in body["rows"].values()}
    assert "unlinked" in reasons and "draft in Hudu" in reasons
    target = cli.seed.published_ids[0]
    cli.hudu.update_article(target, content=CHANGED)
    writes = len(cli.api_writes())
    synced(cli)
    assert len(cli.api_writes()) == writes
    assert cli.halo.articles.keys() == copies.keys()  # the Halo copies stay

    cli.ok("resync", str(target))
    assert "Changed in Hudu" in cli.copy(target)["description_html"]
    assert cli.status()["synced"] == 1


@pytest.mark.slow
def test_status_needs_no_credentials(tmp_path: Path) -> None:
    """The installed `hhsync` entry point, as cron or a shell runs it."""
    env = clean_env(HHSYNC_DB=str(tmp_path / "none.json"), XDG_STATE_HOME=str(tmp_path))

    result = run_hhsync(["status", "--json"], env, tmp_path)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["synced"] == 0
