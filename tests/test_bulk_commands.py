"""Commands on many articles (the dashboard's marked rows) against the emulators: one command,
one batch of Halo writes, no second copy."""

from __future__ import annotations

import pytest

from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState
from core.engine import Engine
from core.errors import HhsyncError
from core.events import EngineLogged, Event
from core.models import Status
from tests.conftest import halo_copies

MANY = 120


@pytest.fixture
async def synced(engine: Engine, hudu: HuduState) -> list[int]:
    """MANY Central KB articles, all in Halo."""
    ids = [hudu.add_article(f"Runbook {n:03}", f"<p>step {n}</p>")["id"] for n in range(MANY)]
    await engine.sync_now()
    assert all(engine.record(i).status is Status.SYNCED for i in ids)  # type: ignore[union-attr]
    return ids


async def test_resync_of_many_articles_is_one_marker_search_and_a_few_batched_writes(
    engine: Engine, hudu: HuduState, halo: HaloState, synced: list[int]
) -> None:
    for hudu_id in synced:
        hudu.update_article(hudu_id, content=f"<p>changed {hudu_id}</p>")
    halo.log.clear()
    hudu.log.clear()

    records = await engine.resync_many(synced)

    assert [r.hudu_id for r in records] == synced
    assert {r.status for r in records} == {Status.SYNCED}
    for hudu_id in synced:
        (copy,) = halo_copies(halo, hudu_id)
        assert f"changed {hudu_id}" in copy["description_html"]
    posts = halo.log.writes("/api/KBArticle")
    assert len(posts) == -(-MANY // 50), [r.path for r in posts]  # batches of 50, not 120 writes
    assert halo.log.count() <= 6, [(r.method, r.path) for r in halo.log.entries]
    assert hudu.log.count("GET", "/api/v1/articles/") == 0  # the listing, not one read each


async def test_resync_relinks_unlinked_articles_to_their_copies_without_a_second_copy(
    engine: Engine, halo: HaloState, synced: list[int]
) -> None:
    before = {i: engine.record(i).halo_id for i in synced}  # type: ignore[union-attr]
    await engine.unlink_many(synced)

    records = await engine.resync_many(synced)

    assert {r.hudu_id: r.halo_id for r in records} == before
    assert all(not r.unlinked and r.status is Status.SYNCED for r in records)
    assert all(len(halo_copies(halo, i)) == 1 for i in synced)


async def test_resync_finds_a_mapped_copy_whose_marker_tag_was_edited_away(
    engine: Engine, halo: HaloState, synced: list[int]
) -> None:
    target = synced[7]
    (copy,) = halo_copies(halo, target)
    copy["tags"] = []
    copy["tag_string"] = ""

    await engine.resync_many(synced)

    assert engine.record(target).halo_id == copy["id"]  # type: ignore[union-attr]
    assert len([a for a in halo.articles.values() if a["name"] == copy["name"]]) == 1


async def test_resync_of_many_goes_on_when_hudu_lost_some_and_says_which(
    engine: Engine, hudu: HuduState, synced: list[int]
) -> None:
    gone = synced[:2]
    for hudu_id in gone:
        hudu.delete_article(hudu_id)
    said: list[Event] = []
    engine.subscribe(said.append)

    records = await engine.resync_many(synced)

    assert [r.hudu_id for r in records] == synced[2:]
    (warning,) = [e for e in said if isinstance(e, EngineLogged) and e.level == "WARNING"]
    assert f"Hudu has no article {gone[0]}, {gone[1]}" in warning.message


async def test_resync_of_articles_all_gone_from_hudu_says_what_to_do(
    engine: Engine, hudu: HuduState, synced: list[int]
) -> None:
    for hudu_id in synced[:5]:
        hudu.delete_article(hudu_id)

    with pytest.raises(HhsyncError, match="any of the 5 articles") as caught:
        await engine.resync_many(synced[:5])

    assert "full sync" in caught.value.hint


async def test_unlink_of_many_writes_nothing_to_halo_and_keeps_every_copy(
    engine: Engine, halo: HaloState, synced: list[int]
) -> None:
    halo.log.clear()

    records = await engine.unlink_many(synced[:100])

    assert len(records) == 100
    assert all(r.unlinked and r.reason == "unlinked" for r in records)
    assert halo.log.count() == 0
    assert all(len(halo_copies(halo, i)) == 1 for i in synced)
    assert not engine.record(synced[100]).unlinked  # type: ignore[union-attr]


async def test_unlink_of_many_with_an_unknown_id_changes_nothing(
    engine: Engine, synced: list[int]
) -> None:
    with pytest.raises(HhsyncError, match="999999 is not in the mapping"):
        await engine.unlink_many([*synced[:3], 999999])

    assert not any(engine.record(i).unlinked for i in synced[:3])  # type: ignore[union-attr]


async def test_resync_of_many_makes_again_a_copy_deleted_in_halo_and_adopts_unmapped_ones(
    engine: Engine, halo: HaloState, synced: list[int]
) -> None:
    deleted, unmapped = synced[3], synced[9]
    (gone,) = halo_copies(halo, deleted)
    del halo.articles[gone["id"]]
    (kept,) = halo_copies(halo, unmapped)
    engine.book[unmapped].halo_id = None  # as after a crash between Halo's answer and the file

    records = {r.hudu_id: r for r in await engine.resync_many(synced)}

    (again,) = halo_copies(halo, deleted)
    assert records[deleted].halo_id == again["id"] != gone["id"]
    assert records[unmapped].halo_id == kept["id"]
    assert len(halo_copies(halo, unmapped)) == 1
    assert all(r.status is Status.SYNCED for r in records.values())
