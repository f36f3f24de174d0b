"""The engine against the in-process emulators: what Halo holds after each kind of pass."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from core import simtime
from core.build import build_engine
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState, create_hudu_app
from core.emulators.seed import SeedSummary
from core.engine import Engine
from core.errors import HhsyncError
from core.events import (
    ArticleChanged,
    Event,
    PassFinished,
    PassProgressed,
    PassStarted,
    SchedulerChanged,
)
from core.models import Status
from core.plan import PassSummary
from tests.conftest import EngineFactory, halo_copies, make_settings


def kb_writes(halo: HaloState) -> int:
    return len(halo.log.writes("/api/KBArticle"))


async def test_first_sync_puts_every_published_article_in_halo_once(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    summary = await engine.sync_now()

    for hudu_id in seeded.published_ids:
        copies = halo_copies(halo, hudu_id)
        assert len(copies) == 1, f"article {hudu_id} has {len(copies)} Halo copies"
    for hudu_id in seeded.draft_ids:
        assert halo_copies(halo, hudu_id) == []
    for hudu_id in seeded.archived_ids:
        assert halo_copies(halo, hudu_id) == []
    assert summary.created == len(seeded.published_ids)
    assert summary.failed == 0


async def test_articles_land_in_their_faq_list_under_the_hudu_group(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()

    lists = {f["id"]: f for f in halo.faqlists.values()}
    group = next(f for f in lists.values() if f["is_group"])
    assert group["name"] == "Hudu"
    for hudu_id in seeded.published_ids:
        article = hudu.articles[hudu_id]
        (copy,) = halo_copies(halo, hudu_id)
        (faq,) = copy["faqlists"]
        faqlist = lists[faq["id"]]
        assert faqlist["group_id"] == group["id"]
        expected = (
            "Central KB" if article.company_id is None else hudu.companies[article.company_id].name
        )
        assert faqlist["name"] == expected


async def test_body_has_banner_marker_and_no_script(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()

    assert seeded.hostile_article_id is not None
    (copy,) = halo_copies(halo, seeded.hostile_article_id)
    tree = HTMLParser(copy["description_html"])
    assert "Article from Hudu" in tree.text()
    assert tree.css("script") == []
    assert tree.css("iframe") == []
    for node in tree.css("*"):
        assert not any(name.lower().startswith("on") for name in node.attributes)
        assert "javascript:" not in (node.attributes.get("href") or "").lower()
    for copy in halo.articles.values():
        assert "hudu-article-" in copy["tag_string"]


async def test_pdf_travels_as_attachment_and_oversized_file_is_skipped(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()

    for hudu_id in seeded.pdf_article_ids:
        (copy,) = halo_copies(halo, hudu_id)
        assert any(a["filename"].lower().endswith(".pdf") for a in copy["attachments"])
    assert seeded.oversized_article_id is not None
    (copy,) = halo_copies(halo, seeded.oversized_article_id)
    record = engine.record(seeded.oversized_article_id)
    assert record is not None and record.halo_id == copy["id"]
    assert record.status is Status.SKIPPED
    assert "25 MB" in record.reason
    assert record.skipped_files and record.skipped_files[0].size > 25 * 1024 * 1024


async def test_a_file_hudu_serves_larger_than_it_listed_is_read_only_up_to_halos_limit(
    engine: Engine, hudu: HuduState, halo: HaloState
) -> None:
    article = hudu.add_article("Runbook with a growing file", "<p>See the file</p>")["id"]
    upload = hudu.add_upload(article, "runbook.pdf", data=b"%PDF-1.4 small")["id"]
    hudu.uploads[upload].data = b"%PDF-1.4 " + b"x" * (25 * 1024 * 1024)  # listed: 14 bytes

    await engine.sync_now()

    (copy,) = halo_copies(halo, article)
    assert not any(a["filename"] == "runbook.pdf" for a in copy.get("attachments") or [])
    record = engine.record(article)
    assert record is not None and record.halo_id == copy["id"]
    (skipped,) = record.skipped_files
    assert skipped.filename == "runbook.pdf" and "25 MB attachment limit" in skipped.reason
    assert skipped.reason.endswith("(more than 26,214,400 bytes)")  # read up to the limit


async def test_second_pass_with_nothing_changed_writes_nothing(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    before = len(halo.log.writes())

    summary = await engine.sync_now()

    assert len(halo.log.writes()) == before
    assert summary.created == summary.updated == 0


async def test_editing_one_article_sends_exactly_one_update(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    target = seeded.published_ids[3]
    hudu.update_article(target, content="<p>New steps</p>")
    before = kb_writes(halo)

    summary = await engine.sync_now()

    assert kb_writes(halo) - before == 1
    assert summary.updated == 1
    (copy,) = halo_copies(halo, target)
    assert "New steps" in copy["description_html"]


async def test_publishing_a_draft_creates_it(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    draft = next(i for i in seeded.draft_ids if hudu.articles[i].draft)
    hudu.update_article(draft, draft=False)

    summary = await engine.sync_now()

    assert summary.created == 1
    assert len(halo_copies(halo, draft)) == 1
    record = engine.record(draft)
    assert record is not None and record.status is Status.SYNCED


async def test_deleting_an_article_deletes_then_archives_on_403(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    target = seeded.published_ids[0]
    hudu.delete_article(target)

    await engine.sync_now(full=True)

    deletes = halo.log.matching("DELETE", "/api/KBArticle")
    assert len(deletes) == 1 and deletes[0].status == 403
    (copy,) = halo_copies(halo, target)
    assert copy["inactive"] is True
    record = engine.record(target)
    assert record is not None and record.status is Status.SKIPPED
    assert "deleted in Hudu" in record.reason and "archived in Halo" in record.reason


async def test_archiving_in_hudu_archives_in_halo_and_unarchiving_restores(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    halo.delete_forbidden = False
    await engine.sync_now()
    target = seeded.published_ids[1]
    hudu.update_article(target, archived=True)
    await engine.sync_now()
    assert halo_copies(halo, target) == []

    hudu.update_article(target, archived=False)
    await engine.sync_now()

    assert len(halo_copies(halo, target)) == 1
    record = engine.record(target)
    assert record is not None and record.status is Status.SYNCED


async def test_thousand_articles_take_at_most_thirty_halo_writes(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState
) -> None:
    companies = [hudu.add_company(f"Company {n}")["id"] for n in range(3)]
    for n in range(1000):
        company = None if n % 4 == 0 else companies[n % 3]
        hudu.add_article(f"Article {n}", f"<p>Body {n}</p>", company_id=company)
    engine = make_engine()
    await engine.open()

    summary = await engine.sync_now()

    assert summary.created == 1000
    assert len(halo.live_articles()) == 1000
    assert len(halo.log.writes()) <= 30, len(halo.log.writes())


async def test_a_bad_article_is_isolated_and_the_rest_of_its_batch_syncs(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    bad = seeded.published_ids[5]
    halo.reject_article_names = {hudu.articles[bad].name: 400}

    await engine.sync_now()

    record = engine.record(bad)
    assert record is not None and record.status is Status.FAILED
    assert record.http_status == 400 and "FAQ" in record.hint
    others = [i for i in seeded.published_ids if hudu.articles[i].name != hudu.articles[bad].name]
    assert all(len(halo_copies(halo, i)) == 1 for i in others)


async def test_a_server_error_on_one_article_is_bisected_out(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    bad = seeded.published_ids[5]
    halo.reject_article_names = {hudu.articles[bad].name: 500}

    await engine.sync_now()

    record = engine.record(bad)
    assert record is not None and record.status is Status.FAILED and record.http_status == 500
    assert all(len(halo_copies(halo, i)) == 1 for i in seeded.published_ids if i != bad)
    assert len(halo.log.writes("/api/KBArticle")) <= 2 * 6 + 6


async def test_ai_duplicate_detection_fails_with_the_hint_and_retry_recovers(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    halo.ai_duplicate_detection = True
    await engine.sync_now()
    failed = [r for r in engine.records() if r.status is Status.FAILED]
    assert failed and all(r.http_status == 500 for r in failed)
    assert "duplication detection" in failed[0].hint.lower()

    halo.ai_duplicate_detection = False
    summary = await engine.retry_failed()

    assert summary.failed_total == 0
    assert all(len(halo_copies(halo, i)) == 1 for i in seeded.published_ids)


async def test_dropped_connections_after_commit_never_duplicate(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    halo.drop_after_commit = 2

    await engine.sync_now()

    assert all(len(halo_copies(halo, i)) == 1 for i in seeded.published_ids)
    assert all(
        engine.record(i).status in (Status.SYNCED, Status.SKIPPED)  # type: ignore[union-attr]
        for i in seeded.published_ids
    )


def test_rate_limits_server_errors_and_expired_tokens_mid_pass(
    tmp_path: Path, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    """On simulated time: Halo's rate window, its Retry-After waits and the engine's settle
    waits pass as they would, without taking real seconds."""
    halo_app = create_halo_app(halo)

    async def expire_tokens_mid_pass(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and len(halo.log.entries) in (8, 16):
            halo.expire_tokens()
        await halo_app(scope, receive, send)

    async def main(loop: simtime.VirtualTimeLoop) -> tuple[PassSummary, float]:
        halo.clock, hudu.clock = loop.wall, loop.now
        engine = build_engine(
            make_settings(tmp_path / "db.json", hhsync_batch_size=3),
            hudu_transport=httpx.ASGITransport(app=create_hudu_app(hudu)),
            halo_transport=httpx.ASGITransport(app=expire_tokens_mid_pass),
        )
        await engine.open()
        halo.switches.fail_next = 2
        hudu.switches.fail_next = 1
        halo.send_retry_after = True
        halo.rate_limit = 10
        halo.rate_window_seconds = 0.5
        started = loop.time()
        summary = await engine.sync_now()
        await engine.close()
        return summary, loop.time() - started

    summary, waited = simtime.run(main)

    assert summary.failed_total == 0
    assert all(len(halo_copies(halo, i)) == 1 for i in seeded.published_ids)
    statuses = {r.status for r in halo.log.entries}
    assert {429, 401, 503} <= statuses
    assert waited >= 1, "the 429s were waited out (Retry-After), not retried at once"


async def test_events_report_progress_and_each_row(engine: Engine, seeded: SeedSummary) -> None:
    seen: list[Event] = []
    engine.subscribe(seen.append)

    await engine.sync_now()

    progress = [e for e in seen if isinstance(e, PassProgressed)]
    assert progress[-1].done == progress[-1].total > 0
    changed = {e.record.hudu_id for e in seen if isinstance(e, ArticleChanged)}
    assert set(seeded.published_ids) <= changed
    assert isinstance(seen[-1], PassFinished)


async def test_unlink_keeps_the_halo_copy_and_stops_syncing(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    target = seeded.published_ids[2]

    record = await engine.unlink(target)
    hudu.update_article(target, content="<p>changed after unlink</p>")
    await engine.sync_now()

    assert record.status is Status.SKIPPED and record.reason == "unlinked"
    (copy,) = halo_copies(halo, target)
    assert "changed after unlink" not in copy["description_html"]

    relinked = await engine.resync(target)
    assert relinked.status is Status.SYNCED
    (copy,) = halo_copies(halo, target)
    assert "changed after unlink" in copy["description_html"]


async def test_an_unlinked_article_renamed_in_hudu_is_shown_and_kept_renamed(
    make_engine: EngineFactory, hudu: HuduState, seeded: SeedSummary
) -> None:
    """Found by the chaos model: the row changed in memory but not in the mapping file."""
    engine = make_engine()
    await engine.open()
    await engine.sync_now()
    target = seeded.published_ids[2]
    await engine.unlink(target)
    hudu.update_article(target, name="Renamed after unlink")
    await engine.sync_now(full=True)
    shown = engine.record(target)
    await engine.close()

    reopened = make_engine()
    await reopened.open()
    kept = reopened.record(target)
    assert shown is not None and shown.title == "Renamed after unlink"
    assert kept == shown


async def test_an_article_deleted_in_halo_is_created_again_when_it_changes(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    target, neighbour = seeded.published_ids[4], seeded.published_ids[5]
    (copy,) = halo_copies(halo, target)
    del halo.articles[copy["id"]]
    hudu.update_article(target, content="<p>edited after the Halo copy was deleted</p>")
    hudu.update_article(neighbour, content="<p>edited too</p>")

    summary = await engine.sync_now()

    (new_copy,) = halo_copies(halo, target)
    assert "edited after" in new_copy["description_html"]
    assert engine.record(target).halo_id == new_copy["id"]  # type: ignore[union-attr]
    assert "edited too" in halo_copies(halo, neighbour)[0]["description_html"]
    assert summary.failed == 0


async def test_a_lone_update_whose_copy_is_gone_is_created_again(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    target = seeded.published_ids[4]
    (copy,) = halo_copies(halo, target)
    del halo.articles[copy["id"]]
    hudu.update_article(target, content="<p>only this one changed</p>")

    await engine.sync_now()

    (new_copy,) = halo_copies(halo, target)
    assert engine.record(target).status is Status.SYNCED  # type: ignore[union-attr]
    assert new_copy["id"] != copy["id"]


async def test_resync_recreates_an_article_deleted_in_halo(
    engine: Engine, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    target = seeded.published_ids[4]
    (copy,) = halo_copies(halo, target)
    del halo.articles[copy["id"]]

    record = await engine.resync(target)

    (new_copy,) = halo_copies(halo, target)
    assert record.halo_id == new_copy["id"] != copy["id"]


async def test_reset_unlinks_every_linked_article(engine: Engine, seeded: SeedSummary) -> None:
    await engine.sync_now()
    drafts_before = {r.hudu_id: r.reason for r in engine.records() if r.hudu_id in seeded.draft_ids}

    count = await engine.reset()

    assert count == len(seeded.published_ids)
    linked = [r for r in engine.records() if r.halo_id is not None]
    assert all(r.unlinked and r.status is Status.SKIPPED for r in linked)
    drafts_after = {r.hudu_id: r.reason for r in engine.records() if r.hudu_id in seeded.draft_ids}
    assert drafts_after == drafts_before


async def test_removal_cap_holds_back_mass_deletions(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState
) -> None:
    ids = [hudu.add_article(f"Doc {n}")["id"] for n in range(60)]
    engine = make_engine()
    await engine.open()
    await engine.sync_now()
    for hudu_id in ids[:55]:
        hudu.delete_article(hudu_id)

    held = await engine.sync_now(full=True)
    assert held.removed == 0 and held.removals_held == 55

    forced = await engine.sync_now(full=True, force=True)
    assert forced.removed == 55


async def test_dry_run_writes_nothing(
    make_engine: EngineFactory, halo: HaloState, seeded: SeedSummary, tmp_path
) -> None:
    engine = make_engine()
    await engine.open()

    summary = await engine.sync_now(dry_run=True)

    assert halo.log.writes("/api") == []
    assert len(summary.plan) == len(seeded.published_ids)
    assert engine.records() == []


async def test_dry_run_after_a_sync_changes_no_row(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    target = seeded.published_ids[0]
    hudu.update_article(target, content="<p>edited</p>")
    rows_before, writes_before = engine.records(), kb_writes(halo)

    summary = await engine.sync_now(dry_run=True)

    assert [(c.action, c.hudu_id) for c in summary.plan] == [("update", target)]
    assert engine.records() == rows_before
    assert kb_writes(halo) == writes_before


async def test_a_restart_reconciles_a_create_left_in_flight(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    first = make_engine()
    await first.open()
    await first.sync_now()
    target = seeded.published_ids[0]
    # What a crash between "intent committed" and "reply received" leaves behind:
    record = first.record(target)
    assert record is not None
    record.halo_id, record.intent, record.status = None, "create", Status.PENDING
    first.store.commit_batch([record])
    await first.close()

    second = make_engine()
    await second.open()
    await second.sync_now()

    assert len(halo_copies(halo, target)) == 1
    assert second.record(target).status is Status.SYNCED  # type: ignore[union-attr]


@pytest.mark.parametrize("scope", ["none", "Contoso"])
async def test_company_scope_limits_what_syncs(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState, scope: str
) -> None:
    contoso = hudu.add_company("Contoso")["id"]
    other = hudu.add_company("Fabrikam")["id"]
    central = hudu.add_article("Central doc")["id"]
    mine = hudu.add_article("Contoso doc", company_id=contoso)["id"]
    theirs = hudu.add_article("Fabrikam doc", company_id=other)["id"]
    engine = make_engine(hhsync_companies=scope)
    await engine.open()

    await engine.sync_now()

    assert len(halo_copies(halo, central)) == 1
    assert len(halo_copies(halo, mine)) == (1 if scope == "Contoso" else 0)
    assert halo_copies(halo, theirs) == []
    assert engine.record(theirs).reason.startswith("out of scope")  # type: ignore[union-attr]


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition the engine's events make true (fails the test on timeout)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


async def test_scheduler_runs_on_the_interval_never_overlaps_and_pauses(
    engine: Engine, seeded: SeedSummary
) -> None:
    engine.interval = 0.05
    active, most_active, finished, paused_turns = 0, 0, 0, 0

    def watch(event: Event) -> None:
        nonlocal active, most_active, finished, paused_turns
        if isinstance(event, PassStarted):
            active += 1
            most_active = max(most_active, active)
        elif isinstance(event, PassFinished):
            active -= 1
            finished += 1
        elif isinstance(event, SchedulerChanged) and event.paused:
            paused_turns += 1

    engine.subscribe(watch)
    scheduler = asyncio.create_task(engine.run_scheduler())
    await asyncio.gather(engine.sync_now(), engine.sync_now())
    await until(lambda: finished >= 5)
    await engine.pause()
    await until(lambda: active == 0)
    paused_at = finished
    # Each turn of the scheduler says it is paused; three turns, and still no pass.
    await until(lambda: paused_turns >= 4)
    assert finished == paused_at
    await engine.resume()
    await until(lambda: finished > paused_at)
    engine.stop()
    await asyncio.wait_for(scheduler, 5)

    assert most_active == 1
    assert engine.next_pass_at is None


async def test_a_pass_with_nothing_new_writes_only_its_bookkeeping(
    make_engine: EngineFactory, halo: HaloState, seeded: SeedSummary
) -> None:
    first = make_engine()
    await first.open()
    await first.sync_now()
    await first.close()
    narrowed = make_engine(hhsync_companies="none")
    await narrowed.open()
    await narrowed.sync_now()
    before = narrowed.store.write_count

    await narrowed.sync_now()

    assert narrowed.store.write_count - before == 2  # the cursor and the run log
    kept = [r for r in narrowed.records() if r.company_id is not None and r.halo_id]
    assert kept and all(r.reason.endswith("the Halo copy is left as it is") for r in kept)


async def test_resync_of_an_article_gone_from_hudu_says_what_to_do(
    engine: Engine, hudu: HuduState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    target = seeded.published_ids[0]
    hudu.delete_article(target)

    with pytest.raises(HhsyncError) as caught:
        await engine.resync(target)

    assert "full sync" in caught.value.hint


async def test_resync_of_an_article_in_a_new_company_makes_its_faq_list(
    engine: Engine, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    newcomer = hudu.add_company("Newcomer Ltd")["id"]
    target = hudu.add_article("Newcomer onboarding", company_id=newcomer)["id"]

    record = await engine.resync(target)

    assert record.status is Status.SYNCED
    (copy,) = halo_copies(halo, target)
    (faq,) = copy["faqlists"]
    assert halo.faqlists[faq["id"]]["name"] == "Newcomer Ltd"


async def test_a_resync_is_no_pass_and_reports_no_pass_progress(
    engine: Engine, seeded: SeedSummary
) -> None:
    await engine.sync_now()
    seen: list[Event] = []
    engine.subscribe(seen.append)

    record = await engine.resync(seeded.published_ids[0])

    assert record.status is Status.SYNCED
    assert any(isinstance(e, ArticleChanged) for e in seen)
    assert not [e for e in seen if isinstance(e, PassStarted | PassProgressed | PassFinished)]
