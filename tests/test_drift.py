"""Drift repair against the in-process emulators: copies deleted, archived or edited in Halo
come back from Hudu on a full pass, at the cost of one paged listing."""

from __future__ import annotations

import math
from typing import Any

import pytest

from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState
from core.emulators.seed import SeedSummary
from core.engine import Engine
from core.events import EngineLogged
from core.halo_facts import PAGE_SIZE
from core.models import ArticleRecord, Status
from tests.conftest import halo_copies


def copy_of(halo: HaloState, hudu_id: int) -> dict[str, Any]:
    (copy,) = halo_copies(halo, hudu_id)
    return copy


def row(engine: Engine, hudu_id: int) -> ArticleRecord:
    found = engine.record(hudu_id)
    assert found is not None
    return found


async def test_copies_deleted_archived_or_edited_in_halo_are_restored_by_a_full_pass(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    deleted, archived, edited, renamed, untagged, *_ = seeded.published_ids
    synced = {i: dict(copy_of(halo, i)) for i in (archived, edited, renamed, untagged)}
    gone = copy_of(halo, deleted)["id"]
    halo.delete_in_halo(gone)
    halo.archive_in_halo(synced[archived]["id"])
    halo.edit_in_halo(synced[edited]["id"], description="<p>agent's own text</p>")
    halo.edit_in_halo(synced[renamed]["id"], name="Renamed by an agent")
    halo.edit_in_halo(synced[untagged]["id"], tag_string="agent-tag")
    said: list[str] = []
    engine.subscribe(lambda e: said.append(e.message) if isinstance(e, EngineLogged) else None)

    summary = await engine.sync_now(full=True)

    assert (summary.restored, summary.created, summary.failed) == (5, 0, 0)
    assert summary.updated <= 1  # an article linking the re-created copy, its link filled in
    assert summary.as_json()["restored"] == 5
    assert not copy_of(halo, deleted)["inactive"]
    for hudu_id, before in synced.items():
        after = copy_of(halo, hudu_id)
        assert after["id"] == before["id"], "restored in place, not copied"
        assert not after["inactive"]
        for field in ("name", "description", "tag_string"):
            # a link to the re-created copy now names its new id
            again = str(after[field]).replace(
                f'?id={copy_of(halo, deleted)["id"]}"', f'?id={gone}"'
            )
            assert again == before[field], (hudu_id, field)
    assert row(engine, deleted).halo_id == copy_of(halo, deleted)["id"]
    for why, hudu_id in (("deleted", deleted), ("archived", archived), ("edited", edited)):
        assert any(f"article {hudu_id} " in line and f"{why} in Halo" in line for line in said)
    assert all(r.status is not Status.FAILED for r in engine.records())


async def test_nothing_is_restored_twice_and_an_unchanged_tenant_costs_one_listing(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    halo.delete_in_halo(copy_of(halo, seeded.published_ids[0])["id"])
    assert (await engine.sync_now(full=True)).restored == 1
    again = await engine.sync_now(full=True)
    assert again.restored == again.created == 0  # links to the new copy are refreshed
    halo.log.clear()

    summary = await engine.sync_now(full=True)

    assert summary.restored == summary.created == summary.updated == 0
    listings = [r for r in halo.log.matching("GET", "/api/KBArticle") if "search" not in r.query]
    assert len(listings) == math.ceil(len(halo.articles) / PAGE_SIZE)
    assert not halo.log.matching("GET", "/api/KBArticle/")
    assert not halo.log.writes("/api/KBArticle")


async def test_an_incremental_pass_does_not_look_for_drift(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    halo.delete_in_halo(copy_of(halo, seeded.published_ids[0])["id"])
    halo.log.clear()

    summary = await engine.sync_now()

    assert summary.restored == 0
    assert halo_copies(halo, seeded.published_ids[0]) == []
    assert halo.log.count("GET", "/api/KBArticle") == 0


async def test_a_dry_run_says_what_it_would_restore_and_writes_nothing(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    hudu_id = seeded.published_ids[0]
    halo.archive_in_halo(copy_of(halo, hudu_id)["id"])
    halo.log.clear()

    summary = await engine.sync_now(full=True, dry_run=True)

    assert summary.restored == 1 and summary.updated == 0
    (change,) = [c for c in summary.plan if c.hudu_id == hudu_id]
    assert (change.action, change.why) == ("update", "archived in Halo")
    assert not halo.log.writes()
    assert copy_of(halo, hudu_id)["inactive"]


async def test_an_unlinked_article_stays_as_halo_left_it(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    hudu_id = seeded.published_ids[0]
    await engine.unlink(hudu_id)
    halo.edit_in_halo(copy_of(halo, hudu_id)["id"], description="<p>Halo's now</p>")

    summary = await engine.sync_now(full=True)

    assert summary.restored == 0
    assert copy_of(halo, hudu_id)["description"] == "<p>Halo's now</p>"


async def test_copies_written_before_drift_repair_take_the_listing_as_their_baseline(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    """Rows of an older hhsync (or a write answer without the article) have no baseline:
    the first full pass takes what Halo lists, and later edits are found against it."""
    await engine.sync_now()
    engine.book.note_halo_baselines({r.hudu_id: ("", "") for r in engine.records() if r.halo_id})

    assert (await engine.sync_now(full=True)).restored == 0
    hudu_id = seeded.published_ids[0]
    assert row(engine, hudu_id).halo_seen_hash
    halo.edit_in_halo(copy_of(halo, hudu_id)["id"], name="Agent title")

    assert (await engine.sync_now(full=True)).restored == 1
    assert copy_of(halo, hudu_id)["name"] != "Agent title"


def test_the_emulator_checks_a_halo_side_edit_against_the_spec(halo: HaloState) -> None:
    article = halo.add_article("A", description="<p>a</p>")
    before = dict(article)
    with pytest.raises(ValueError, match="inactive"):
        halo.edit_in_halo(article["id"], inactive="yes")
    with pytest.raises(ValueError):
        halo.edit_in_halo(article["id"], no_such_field=1)
    assert halo.articles[article["id"]] == before
    halo.edit_in_halo(article["id"], name="B")
    assert (article["name"], article["editor_name"]) == ("B", "Halo Agent")


async def test_a_body_halo_shows_otherwise_is_no_edit_while_date_edited_stays(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    """A tenant that lists a shortened or normalised body: `date_edited` decides."""
    await engine.sync_now()
    for article in halo.articles.values():
        article["description"] = article["description"][:40]

    assert (await engine.sync_now(full=True)).restored == 0


async def test_without_date_edited_an_edit_is_told_by_the_body(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    for article in halo.articles.values():
        del article["date_edited"]  # a tenant whose answers and listings lack it
    engine.book.note_halo_baselines({r.hudu_id: ("", r.halo_seen_hash) for r in engine.records()})
    copy = copy_of(halo, seeded.published_ids[0])
    copy["description"] = "<p>changed without a date</p>"

    summary = await engine.sync_now(full=True)

    assert summary.restored == 1
    assert copy_of(halo, seeded.published_ids[0])["description"] != "<p>changed without a date</p>"
