"""HHSYNC_CUSTOMER_ACCESS through whole passes: who may see each company article in Halo, what a
change of setting re-sends, and what customer matching costs."""

from __future__ import annotations

from typing import Any

import pytest

from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState
from core.emulators.seed import CustomerSeed, SeedSummary, seed_customers
from core.engine import Engine
from core.halo_profile import HaloProfile, ProbeKind
from core.models import Status
from tests.conftest import EngineFactory, halo_copies


@pytest.fixture
def customers(hudu: HuduState, halo: HaloState, seeded: SeedSummary) -> CustomerSeed:
    halo.granted_scopes |= {"read:customers"}
    return seed_customers(hudu, halo)


async def engine_with(make_engine: EngineFactory, **settings: Any) -> Engine:
    engine = make_engine(**settings)
    await engine.open()
    return engine


def published_of(hudu: HuduState, seeded: SeedSummary, company_ids: tuple[int, ...]) -> list[int]:
    return [i for i in seeded.published_ids if hudu.articles[i].company_id in company_ids]


def access_of(halo: HaloState, hudu_id: int) -> list[int]:
    (copy,) = [c for c in halo_copies(halo, hudu_id) if not c.get("inactive")]
    return [entry["client_id"] for entry in copy.get("kbentryclientaccess") or ()]


def kb_posts(halo: HaloState) -> int:
    return halo.log.count("POST", "/api/KBArticle")


async def test_matched_restricts_company_articles_to_their_customer(
    make_engine: EngineFactory,
    hudu: HuduState,
    halo: HaloState,
    seeded: SeedSummary,
    customers: CustomerSeed,
) -> None:
    engine = await engine_with(make_engine)

    await engine.sync_now()

    matched = customers.by_integration + customers.by_name
    for hudu_id in published_of(hudu, seeded, matched):
        client = customers.client_of[hudu.articles[hudu_id].company_id]  # type: ignore[index]
        assert access_of(halo, hudu_id) == [client]
        (copy,) = halo_copies(halo, hudu_id)
        assert copy["showforall"] is False
        row = engine.record(hudu_id)
        assert row is not None and row.halo_client_id == client
        assert row.halo_customer.startswith(halo.clients[client]["name"])
    for hudu_id in published_of(hudu, seeded, customers.unmatched):
        assert access_of(halo, hudu_id) == []
        row = engine.record(hudu_id)
        assert row is not None and row.status is not Status.FAILED
        assert row.halo_customer.startswith("unrestricted: no Halo customer for company")
        assert "names Halo client 9" in row.halo_customer  # the stale integration, said
    central = [i for i in seeded.published_ids if hudu.articles[i].company_id is None]
    for hudu_id in central:
        assert access_of(halo, hudu_id) == []
        assert engine.record(hudu_id).halo_customer == ""  # type: ignore[union-attr]


async def test_strict_skips_companies_without_a_customer(
    make_engine: EngineFactory,
    hudu: HuduState,
    halo: HaloState,
    seeded: SeedSummary,
    customers: CustomerSeed,
) -> None:
    engine = await engine_with(make_engine, hhsync_customer_access="strict")

    await engine.sync_now()

    (fabrikam,) = customers.unmatched
    name = hudu.companies[fabrikam].name
    for hudu_id in published_of(hudu, seeded, customers.unmatched):
        assert halo_copies(halo, hudu_id) == []
        row = engine.record(hudu_id)
        assert row is not None and row.status is Status.SKIPPED
        assert row.reason.startswith(f"no Halo customer for company {name}")
        assert row.reason.endswith("(HHSYNC_CUSTOMER_ACCESS=strict)")
    for hudu_id in published_of(hudu, seeded, customers.by_integration + customers.by_name):
        assert len(access_of(halo, hudu_id)) == 1
    assert name not in {f["name"] for f in halo.faqlists.values()}


async def test_off_restricts_nothing_and_asks_nothing(
    make_engine: EngineFactory,
    hudu: HuduState,
    halo: HaloState,
    seeded: SeedSummary,
    customers: CustomerSeed,
) -> None:
    engine = await engine_with(make_engine, hhsync_customer_access="off")

    await engine.sync_now()

    assert all(access_of(halo, i) == [] for i in seeded.published_ids)
    assert halo.log.count("GET", "/api/Client") == 0
    assert engine.halo.granted_scopes == {"read:kb", "edit:kb"}


@pytest.mark.parametrize(("first", "then"), [("matched", "off"), ("off", "matched")])
async def test_a_setting_change_resends_exactly_the_affected_articles(
    make_engine: EngineFactory,
    hudu: HuduState,
    halo: HaloState,
    seeded: SeedSummary,
    customers: CustomerSeed,
    first: str,
    then: str,
) -> None:
    before = await engine_with(make_engine, hhsync_customer_access=first)
    await before.sync_now()
    await before.close()
    affected = published_of(hudu, seeded, customers.by_integration + customers.by_name)
    writes, halo.log.entries[:] = kb_posts(halo), []

    after = await engine_with(make_engine, hhsync_customer_access=then)
    summary = await after.sync_now()

    assert summary.updated == len(affected) and summary.created == 0
    assert kb_posts(halo) == 1 and writes  # one batch, every affected article, nothing else
    restricted = then == "matched"
    for hudu_id in affected:
        assert bool(access_of(halo, hudu_id)) is restricted
    again = await after.sync_now()
    assert again.updated == again.created == 0  # settled: the hash covers the restriction


async def test_matched_to_strict_removes_the_unrestricted_copies_only(
    make_engine: EngineFactory,
    hudu: HuduState,
    halo: HaloState,
    seeded: SeedSummary,
    customers: CustomerSeed,
) -> None:
    before = await engine_with(make_engine)
    await before.sync_now()
    await before.close()
    unmatched = published_of(hudu, seeded, customers.unmatched)

    after = await engine_with(make_engine, hhsync_customer_access="strict")
    summary = await after.sync_now()

    assert summary.removed == len(unmatched) and summary.updated == summary.created == 0
    for hudu_id in unmatched:
        assert all(c["inactive"] for c in halo_copies(halo, hudu_id))


async def test_customers_cost_one_listing_per_full_pass(
    make_engine: EngineFactory,
    hudu: HuduState,
    halo: HaloState,
    seeded: SeedSummary,
    customers: CustomerSeed,
) -> None:
    engine = await engine_with(make_engine)

    await engine.sync_now()  # the first pass is full
    first = halo.log.count("GET", "/api/Client")
    await engine.sync_now()  # incremental: the cached list
    incremental = halo.log.count("GET", "/api/Client") - first
    await engine.sync_now(full=True)
    full = halo.log.count("GET", "/api/Client") - first - incremental

    # The listing, plus the stale integration id (not in the listing) looked up once.
    assert (first, incremental, full) == (2, 0, 2)
    cached = engine.store.meta("halo_clients")
    assert {c[0] for c in cached["clients"]} == {c["id"] for c in halo.clients.values()} - {
        c["id"] for c in halo.clients.values() if c["inactive"]
    }


async def test_restrictions_halo_does_not_keep(
    make_engine: EngineFactory,
    hudu: HuduState,
    halo: HaloState,
    seeded: SeedSummary,
    customers: CustomerSeed,
) -> None:
    dropped = HaloProfile(
        kind=ProbeKind.FULL, probed_at="2026-12-01T00:00:00+00:00", client_access=False
    )
    matched = await engine_with(make_engine)
    matched.tenant.apply(dropped)
    await matched.sync_now()
    await matched.close()
    company = published_of(hudu, seeded, customers.by_integration)[0]
    row = matched.record(company)
    assert row is not None and row.halo_client_id is None
    assert row.halo_customer == (
        "unrestricted: Halo does not keep customer restrictions (probe of 2026-12-01)"
    )

    strict = await engine_with(make_engine, hhsync_customer_access="strict")
    strict.tenant.apply(dropped)
    await strict.sync_now()

    assert all(c["inactive"] for c in halo_copies(halo, company))
    assert "Halo does not keep customer restrictions" in strict.record(company).reason  # type: ignore[union-attr]


async def test_strict_leaves_copies_alone_when_the_client_list_cannot_be_read(
    make_engine: EngineFactory,
    hudu: HuduState,
    halo: HaloState,
    seeded: SeedSummary,
    customers: CustomerSeed,
) -> None:
    before = await engine_with(make_engine, hhsync_customer_access="strict")
    await before.sync_now()
    await before.close()
    halo.granted_scopes -= {"read:customers"}
    writes = len(halo.log.writes("/api/KBArticle"))

    after = await engine_with(make_engine, hhsync_customer_access="strict")
    await after.sync_now(full=True)

    assert len(halo.log.writes("/api/KBArticle")) == writes
    for hudu_id in published_of(hudu, seeded, customers.by_integration):
        assert len(access_of(halo, hudu_id)) == 1
        row = after.record(hudu_id)
        assert row is not None and "lacks read:customers" in row.reason
        assert row.reason.endswith("the Halo copy is left as it is")
