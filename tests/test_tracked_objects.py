"""What the garbage collector walks for each article the engine keeps (issue 10: a full
collection walks every tracked object, 0.4–0.6 s at 50,000 articles): nothing for an article
without files (its row is untracked, its lists are tuples, its store row and render-cache entry
tuples of atoms)."""

from __future__ import annotations

import dataclasses
import gc
import sys
import weakref

import pytest

from core.collector import collect_set_aside
from core.emulators.seed import SeedSummary
from core.engine import Engine
from core.models import ArticleRecord, SkippedFile, Status
from core.rowcodec import ARTICLE_ROWS, BadRow
from core.tables import ARTICLES
from core.untracked import copied
from tests.conftest import EngineFactory


async def test_after_a_full_pass_an_article_leaves_nothing_the_collector_walks(
    engine: Engine, seeded: SeedSummary
) -> None:
    await engine.sync_now(full=True)
    collect_set_aside()  # as the scheduler does after a full pass

    rows = engine.book.rows()
    plain = [r for r in rows if not (r.skipped_files or r.attachments)]
    entries = engine.renderer.cache._entries
    kept = [
        *rows,
        *(field for r in plain for field in (r.skipped_files, r.attachments)),
        *(engine.store._raw(ARTICLES)[str(r.hudu_id)] for r in plain),
        *(entries[r.hudu_id] for r in plain if r.hudu_id in entries),
    ]

    assert len(plain) > 10 and len(plain) < len(rows)  # some rows have files
    assert sum(r.hudu_id in entries for r in plain) >= len(plain) - 5  # drafts are not rendered
    assert [value for value in kept if gc.is_tracked(value)] == []


async def test_rows_loaded_and_rows_told_to_listeners_are_untracked(
    make_engine: EngineFactory, seeded: SeedSummary
) -> None:
    first = make_engine()
    await first.open()
    told: list[ArticleRecord] = []
    first.subscribe(lambda event: told.append(event.record) if hasattr(event, "record") else None)
    await first.sync_now(full=True)
    await first.close()

    reopened = make_engine()
    await reopened.open()

    assert told and not any(gc.is_tracked(r) for r in told)
    assert len(reopened.book.rows()) == len(first.book.rows())
    assert not any(gc.is_tracked(r) for r in reopened.book.rows())
    assert not any(gc.is_tracked(r) for r in reopened.book.snapshots())
    await reopened.close()


def test_an_untracked_row_is_freed_with_its_last_reference() -> None:
    title = "Wi-Fi " * 100
    row = copied(ArticleRecord(1, title, "Central KB", None, Status.PENDING))
    held = sys.getrefcount(title)

    del row

    assert not gc.is_tracked(copied(ArticleRecord(2, "T", "C", None, Status.PENDING)))
    assert sys.getrefcount(title) == held - 1


def test_a_copy_of_a_row_has_every_field_of_it() -> None:
    row = ArticleRecord(
        1,
        "title",
        "Acme",
        2,
        Status.FAILED,
        **{
            f.name: f"{f.name}-value"
            for f in dataclasses.fields(ArticleRecord)[5:]
            if f.type == "str"
        },
        halo_id=3,
        faqlist_id=4,
        http_status=500,
        attempts=5,
        unlinked=True,
        removed=True,
        skipped_files=(SkippedFile(6, "big.iso", 7, "too big"),),
        attachments=("a.pdf",),
        halo_client_id=8,
    )

    copy = copied(row)

    assert copy == row == dataclasses.replace(row) and copy is not row
    assert ARTICLE_ROWS.encode(copy) == ARTICLE_ROWS.encode(row)


def test_list_fields_are_stored_as_json_arrays_and_load_as_tuples() -> None:
    """The mapping file keeps the layout an earlier hhsync wrote and reads (lists)."""
    row = ArticleRecord(
        1,
        "T",
        "Central KB",
        None,
        Status.SKIPPED,
        skipped_files=(SkippedFile(6, "big.iso", 7, "too big"),),
        attachments=("a.pdf", "b.pdf"),
    )

    encoded = ARTICLE_ROWS.encode(row)
    decoded = ARTICLE_ROWS.decode(encoded)

    assert encoded["attachments"] == ["a.pdf", "b.pdf"]
    assert encoded["skipped_files"] == [
        {"upload_id": 6, "filename": "big.iso", "size": 7, "reason": "too big"}
    ]
    assert decoded == row and type(decoded.attachments) is tuple
    assert ARTICLE_ROWS.decode({**encoded, "attachments": []}).attachments == ()


@pytest.mark.parametrize(
    "field, value", [("attachments", [1]), ("attachments", "a.pdf"), ("skipped_files", [3])]
)
def test_a_list_field_with_a_wrong_item_is_refused(field: str, value: object) -> None:
    row = ARTICLE_ROWS.encode(ArticleRecord(1, "T", "Central KB", None, Status.PENDING))

    with pytest.raises(BadRow):
        ARTICLE_ROWS.decode({**row, field: value})


async def test_articles_read_from_hudu_and_their_spooled_bodies_are_untracked(
    engine: Engine, seeded: SeedSummary
) -> None:
    view = await engine.planner.read_hudu(full=True, cursor=None)
    try:
        assert len(view.articles) >= len(seeded.published_ids) and view.bodies
        assert not any(gc.is_tracked(article) for article in view.articles.values())
        assert not any(gc.is_tracked(body) for body in view.bodies.values())
        assert view.whole(view.articles[seeded.published_ids[0]]).content  # still readable
    finally:
        view.close()


async def test_an_answer_is_freed_when_dropped_without_a_collection(
    engine: Engine, seeded: SeedSummary
) -> None:
    """httpx binds a response and its stream in a cycle: each batch's answer and request (a
    batch is megabytes) waited for a full collection, which freed them all at once."""
    gc.disable()
    try:
        response = await engine.hudu._get(f"articles/{seeded.published_ids[0]}")
        assert response.json()["article"]["id"] == seeded.published_ids[0]
        gone = weakref.ref(response)
        del response

        assert gone() is None
    finally:
        gc.enable()
