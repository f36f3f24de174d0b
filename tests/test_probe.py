"""`hhsync doctor --probe` against every tenant variant the emulator knows: what it reports, how
the engine adapts, and that a crash mid-pass still leaves one copy per article afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.build import build_engine
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState, create_hudu_app
from core.emulators.seed import SeedSummary, seed_customers
from core.engine import Engine
from core.events import EngineLogged, Event
from core.halo_profile import HaloProfile, ProbeKind, Verdict
from core.models import marker_for
from core.probe import IN_FLIGHT_KEY, is_probe_article
from core.probe_facts import Observations, full_profile
from tests.conftest import make_settings, no_wait


class Crash(BaseException):
    """The process dies: nothing of hhsync catches it."""


class HaloLine(httpx.AsyncBaseTransport):
    """The emulated Halo, with a switch that kills the process right after Halo applied the
    next KBArticle POST holding a create (`crash_after_create`), or on every request (`dead`)."""

    def __init__(self, halo: HaloState) -> None:
        self.inner = httpx.ASGITransport(app=create_halo_app(halo))
        self.crash_after_create = False
        self.dead = False
        self.posted: list[int] = []
        """Articles in each KBArticle POST."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.dead:
            raise Crash
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/KBArticle"):
            body = json.loads(request.content)
            self.posted.append(len(body))
            if self.crash_after_create and any("id" not in item for item in body):
                self.crash_after_create = False
                raise Crash
        return response


@pytest.fixture
def line(halo: HaloState) -> HaloLine:
    return HaloLine(halo)


@pytest.fixture
def customers_too(hudu: HuduState, halo: HaloState, seeded: SeedSummary) -> None:
    halo.granted_scopes |= {"read:customers"}
    seed_customers(hudu, halo)


EngineOn = Callable[..., Engine]


@pytest.fixture
def engine_on(tmp_path: Path, hudu: HuduState, line: HaloLine) -> EngineOn:
    """Engines on one mapping file, Halo reached through `line`."""

    def build(**settings: Any) -> Engine:
        return build_engine(
            make_settings(tmp_path / "hhsync.json", **settings),
            hudu_transport=httpx.ASGITransport(app=create_hudu_app(hudu)),
            halo_transport=line,
            sleep=no_wait,
        )

    return build


def facts(engine: Engine) -> dict[str, Verdict]:
    return {fact.key: fact.verdict for fact in engine.tenant.profile.facts}


def active_copies(halo: HaloState, hudu_id: int) -> list[dict[str, Any]]:
    return [a for a in halo.articles_with_tag(marker_for(hudu_id)) if not a.get("inactive")]


def probe_articles(halo: HaloState, *, active: bool = True) -> list[dict[str, Any]]:
    return [
        a
        for a in halo.articles.values()
        if is_probe_article(a["name"]) and (not active or not a.get("inactive"))
    ]


async def probed(engine_on: EngineOn) -> Engine:
    engine = engine_on()
    await engine.open()
    await engine.probe()
    return engine


async def test_a_tenant_as_documented_confirms_every_assumption(
    engine_on: EngineOn, halo: HaloState, customers_too: None
) -> None:
    engine = await probed(engine_on)

    assert set(facts(engine).values()) == {Verdict.AS_EXPECTED}
    assert set(facts(engine)) == {
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
    }
    profile = engine.tenant.profile
    assert profile.kind is ProbeKind.FULL and profile.delete_refused
    assert profile.url_template == f"{halo.base_url}/kb?id={{id}}"
    assert probe_articles(halo) == [] and len(probe_articles(halo, active=False)) == 1
    assert engine.store.meta(IN_FLIGHT_KEY) is None
    assert HaloProfile.from_meta(engine.store.meta("halo_probe")) == profile
    assert not engine.tenant.crash_recovery_degraded and engine.tenant.notice == ""


VARIANTS: list[tuple[str, object, str, Verdict, Callable[[HaloProfile], bool]]] = [
    ("ignore_tag_string", True, "tag_string", Verdict.ADAPTED, lambda p: p.tag_path == "tags"),
    (
        "ignore_description_html",
        True,
        "body",
        Verdict.ADAPTED,
        lambda p: p.body_fields == ("description",),
    ),
    ("drop_post_attachments", True, "attachments", Verdict.ADAPTED, lambda p: not p.attach_in_post),
    (
        "ignore_client_access",
        True,
        "client_access",
        Verdict.DEGRADED,
        lambda p: p.client_access is False,
    ),
    ("delete_forbidden", False, "delete", Verdict.ADAPTED, lambda p: not p.delete_refused),
    ("omit_article_link", True, "link", Verdict.UNKNOWN, lambda p: p.url_template == ""),
    (
        "search_matches_tags",
        False,
        "marker_lookup",
        Verdict.DEGRADED,
        lambda p: p.crash_recovery_degraded and p.name_lookup and not p.bulk_lookup,
    ),
]


@pytest.mark.parametrize(
    ("switch", "value", "fact", "verdict", "adapted"), VARIANTS, ids=[v[0] for v in VARIANTS]
)
async def test_each_variant_is_reported_and_a_crash_still_makes_no_duplicate(
    engine_on: EngineOn,
    hudu: HuduState,
    halo: HaloState,
    line: HaloLine,
    seeded: SeedSummary,
    customers_too: None,
    switch: str,
    value: object,
    fact: str,
    verdict: Verdict,
    adapted: Callable[[HaloProfile], bool],
) -> None:
    setattr(halo, switch, value)
    first = await probed(engine_on)
    others = {k: v for k, v in facts(first).items() if k != fact}

    assert facts(first)[fact] is verdict
    assert adapted(first.tenant.profile)
    assert set(others.values()) <= {Verdict.AS_EXPECTED}, others
    assert probe_articles(halo) == []

    line.crash_after_create = True  # Halo applies the first batch of creates, then we die
    with pytest.raises(Crash):
        await first.sync_now()
    await first.close()
    second = engine_on()
    await second.open()
    summary = await second.sync_now()
    await second.close()

    assert summary.failed == 0
    for hudu_id in seeded.published_ids:
        assert len(active_copies(halo, hudu_id)) == 1, hudu_id


async def test_the_engine_writes_what_the_tenant_keeps(
    engine_on: EngineOn, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    halo.ignore_tag_string = halo.ignore_description_html = halo.drop_post_attachments = True
    engine = await probed(engine_on)

    await engine.sync_now()

    for hudu_id in seeded.published_ids:
        (copy,) = active_copies(halo, hudu_id)
        assert "Article from Hudu" in copy["description"]
        assert copy["attachments"] == []
    for hudu_id in seeded.pdf_article_ids:
        row = engine.record(hudu_id)
        assert row is not None and "Halo drops files sent with an article" in row.reason


async def test_creates_go_one_per_request_where_no_marker_lookup_works(
    engine_on: EngineOn, halo: HaloState, line: HaloLine, seeded: SeedSummary
) -> None:
    halo.search_matches_tags = False
    await (await probed(engine_on)).close()
    said: list[Event] = []
    engine = engine_on()
    engine.subscribe(said.append)

    await engine.open()  # every start says so
    line.posted.clear()
    summary = await engine.sync_now()

    warnings = [e.message for e in said if isinstance(e, EngineLogged) and e.level == "WARNING"]
    assert any(w.startswith("crash recovery degraded") for w in warnings)
    assert engine.tenant.crash_recovery_degraded
    assert engine.tenant.notice.startswith("crash recovery degraded")
    assert line.posted[: summary.created] == [1] * summary.created


def test_where_no_lookup_works_at_all_the_notice_says_a_duplicate_may_happen() -> None:
    seen = Observations(
        body_back=dict.fromkeys(("description", "description_html"), "<p>x</p>"),
        sent_body="<p>x</p>",
        tag_string_kept=False,
        tags_kept=False,
        name_found=False,
    )

    profile = full_profile(seen, "2026-12-01T10:00:00+00:00")

    verdicts = {fact.key: fact.verdict for fact in profile.facts}
    assert verdicts["tag_string"] is verdicts["marker_lookup"] is Verdict.DEGRADED
    assert "bulk_lookup" not in verdicts
    assert profile.crash_recovery_degraded and not profile.name_lookup
    assert profile.notice() == (
        "crash recovery degraded: Halo's search does not find articles by their marker tag "
        "(probe of 2026-12-01); new articles go one per request and a create whose answer is "
        "lost may be made twice"
    )


async def test_an_interrupted_probe_removes_its_article(
    engine_on: EngineOn, halo: HaloState, line: HaloLine
) -> None:
    engine = engine_on()
    await engine.open()
    line.crash_after_create = True

    with pytest.raises(Crash):
        await engine.probe()

    assert probe_articles(halo) == []  # the finally archived it
    assert engine.store.meta(IN_FLIGHT_KEY)  # and the mark stays for the next probe or pass


@pytest.mark.parametrize("next_step", ["pass", "probe"])
async def test_a_killed_probe_is_tidied_by_the_next_pass_or_probe(
    engine_on: EngineOn,
    halo: HaloState,
    line: HaloLine,
    seeded: SeedSummary,
    next_step: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    killed = engine_on()
    await killed.open()
    line.crash_after_create = True

    async def dead(_article_id: int) -> int | None:
        line.dead = True  # the process is gone before it can tidy
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(killed.halo, "retire_article", dead)
        with pytest.raises(Crash):
            await killed.probe()
    assert len(probe_articles(halo)) == 1
    line.dead = False
    await killed.close()

    after = engine_on()
    await after.open()
    if next_step == "pass":
        await after.sync_now()
    else:
        await after.probe()

    assert probe_articles(halo) == []
    assert after.store.meta(IN_FLIGHT_KEY) is None


async def test_a_first_sync_on_a_tenant_never_probed_runs_the_read_only_part(
    engine_on: EngineOn, halo: HaloState, seeded: SeedSummary
) -> None:
    said: list[Event] = []
    engine = engine_on()
    engine.subscribe(said.append)
    await engine.open()

    await engine.sync_now()
    writes = len(halo.log.writes())
    await engine.sync_now()

    assert engine.tenant.profile.kind is ProbeKind.READ_ONLY
    assert facts(engine) == {"tag_string": Verdict.UNKNOWN}
    warnings = [e.message for e in said if isinstance(e, EngineLogged) and e.level == "WARNING"]
    assert len([w for w in warnings if "never probed" in w]) == 1  # the first sync only
    assert len(halo.log.writes()) == writes  # the check wrote nothing


async def test_the_read_only_part_reads_hhsync_articles_already_in_halo(
    engine_on: EngineOn, halo: HaloState, seeded: SeedSummary
) -> None:
    halo.add_article("Old copy", tag_string=f"hudu,{marker_for(seeded.published_ids[0])}")
    leftover = halo.add_article("hhsync probe 2026-11-30 10:00:00 UTC", tag_string="hudu")
    halo.articles[leftover["id"]]["tag_string"] = "hudu,hudu-article-0"
    engine = engine_on()
    await engine.open()

    await engine.sync_now(dry_run=True)  # a dry run checks nothing
    assert engine.tenant.profile.kind is ProbeKind.NEVER
    await engine.sync_now()

    assert facts(engine) == {
        "tag_string": Verdict.AS_EXPECTED,
        "bulk_lookup": Verdict.AS_EXPECTED,
        "link": Verdict.AS_EXPECTED,
    }
    assert probe_articles(halo) == []


# ---------------------------------------------------------------- verdicts no emulator switch makes
def seen_as_documented(**changes: Any) -> Observations:
    values: dict[str, Any] = {
        "body_back": dict.fromkeys(("description", "description_html"), "<p>x</p>"),
        "sent_body": "<p>x</p>",
        "tag_string_kept": True,
        "marker_found_after": 0.0,
        "bulk_found": True,
        "file_kept": True,
        "delete_tried": True,
        "delete_status": 403,
        "archive_kept_fields": True,
        "faqlist_third_party_id": True,
        "answered_edited": "2026-12-01T10:00:00.000Z",
        "listed_edited": "2026-12-01T10:00:00.000Z",
        "saved_edited": "2026-12-01T10:00:00.001Z",
    }
    values.update(changes)
    return Observations(**values)


@pytest.mark.parametrize(
    ("changes", "fact", "verdict", "check"),
    [
        (
            {"bulk_found": False},
            "bulk_lookup",
            Verdict.ADAPTED,
            lambda p: p.marker_lookup and not p.bulk_lookup,
        ),
        (
            {"body_back": {"description": "", "description_html": ""}},
            "body",
            Verdict.DEGRADED,
            lambda p: p.body_fields == ("description", "description_html"),
        ),
        (
            {"body_back": {"description": "<p>x</p>", "description_html": "<p>y</p>"}},
            "body",
            Verdict.AS_EXPECTED,
            lambda p: p.facts[0].seen == "both kept (description_html changed by Halo)",
        ),
        (
            {"faqlist_third_party_id": False},
            "faqlist_id",
            Verdict.ADAPTED,
            lambda p: p.faqlist_third_party_id is False,
        ),
        ({"archive_kept_fields": False}, "archive", Verdict.ADAPTED, lambda p: p.delete_refused),
        ({}, "date_edited", Verdict.AS_EXPECTED, lambda p: p.facts[-1].key == "date_edited"),
        ({"listed_edited": None}, "date_edited", Verdict.UNKNOWN, lambda p: True),
        (
            {"listed_edited": ""},
            "date_edited",
            Verdict.ADAPTED,
            lambda p: "name and body" in p.facts[-1].action,
        ),
        ({"answered_edited": ""}, "date_edited", Verdict.ADAPTED, lambda p: True),
        (
            {"listed_edited": "2026-12-01T11:00:00.000Z"},
            "date_edited",
            Verdict.DEGRADED,
            lambda p: "every full pass" in p.facts[-1].action,
        ),
        (
            {"saved_edited": "2026-12-01T10:00:00.000Z"},
            "date_edited",
            Verdict.DEGRADED,
            lambda p: "unseen" in p.facts[-1].action,
        ),
        (
            {"marker_found_after": 3.0},
            "marker_lookup",
            Verdict.AS_EXPECTED,
            lambda p: "after 3 s" in p.facts[2].seen,
        ),
    ],
)
def test_verdicts_the_emulator_cannot_play(
    changes: dict[str, Any], fact: str, verdict: Verdict, check: Callable[[HaloProfile], bool]
) -> None:
    profile = full_profile(seen_as_documented(**changes), "2026-12-01T10:00:00+00:00")
    assert {f.key: f.verdict for f in profile.facts}[fact] is verdict
    assert check(profile)
    assert HaloProfile.from_meta(json.loads(json.dumps(profile.to_meta()))) == profile


def test_a_stored_profile_that_cannot_be_read_is_never_probed() -> None:
    assert HaloProfile.from_meta({"kind": "full", "facts": [{"fact": "x"}]}) == HaloProfile()
    assert HaloProfile.from_meta("garbage") == HaloProfile()


async def test_without_a_bulk_lookup_crash_recovery_searches_each_article(
    make_engine: Callable[..., Engine], halo: HaloState, seeded: SeedSummary
) -> None:
    first = make_engine()
    await first.open()
    await first.sync_now()
    rows = [first.record(i) for i in seeded.published_ids[:6]]
    for row in rows:  # creates left in flight by a crash
        assert row is not None
        row.halo_id, row.intent = None, "create"
    first.store.commit_batch([r for r in rows if r is not None])
    await first.close()
    second = make_engine()
    await second.open()
    second.tenant.apply(HaloProfile(kind=ProbeKind.FULL, bulk_lookup=False))
    halo.log.clear()

    await second.sync_now()

    searches = [e.query.get("search", "") for e in halo.log.matching("GET", "/api/KBArticle")]
    assert sorted(searches[: len(rows)]) == sorted(marker_for(i) for i in seeded.published_ids[:6])
    assert all(len(active_copies(halo, i)) == 1 for i in seeded.published_ids)


async def test_a_failing_read_only_check_never_stops_the_pass(
    tmp_path: Path, hudu: HuduState, halo: HaloState, seeded: SeedSummary
) -> None:
    app = create_halo_app(halo)

    async def search_broken(scope: Any, receive: Any, send: Any) -> None:
        query = scope.get("query_string", b"")
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and b"search=hudu-article-" in query
        ):
            body = b'{"Message": "search is down"}'
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    engine = build_engine(
        make_settings(tmp_path / "db.json"),
        hudu_transport=httpx.ASGITransport(app=create_hudu_app(hudu)),
        halo_transport=httpx.ASGITransport(app=search_broken),
        sleep=no_wait,
    )
    await engine.open()

    summary = await engine.sync_now()
    await engine.close()

    assert summary.failed == 0 and summary.created == len(seeded.published_ids)
    assert engine.tenant.profile.kind is ProbeKind.NEVER  # tried again next pass
