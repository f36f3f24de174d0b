"""Matching Hudu companies to Halo customers: the order (map, integration, name), what counts as
no customer (and why), and what it costs (one listing, one lookup per id not seen before)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.config import CustomerAccess
from core.customers import CustomerDirectory, integration_ids
from core.emulators.halo import HaloState, create_halo_app
from core.halo import HaloClient
from core.models import HuduCompany, HuduIntegration
from tests.conftest import make_settings
from tests.test_ratelimit import FakeTime, LowJitter

CLIENT_ID, SECRET = "app", "secret"


def company(company_id: int, name: str, *integrations: HuduIntegration) -> HuduCompany:
    return HuduCompany(company_id, name, integrations=integrations)


def halo_integration(sync_id: int | None, identifier: str = "") -> HuduIntegration:
    return HuduIntegration("halo", sync_id, identifier)


class Cache:
    """The mapping file's meta entry, in memory."""

    def __init__(self) -> None:
        self.value: Any = None
        self.saves = 0

    def save(self, value: dict[str, Any]) -> None:
        self.value, self.saves = value, self.saves + 1


def directory(
    state: HaloState, tmp_path: Any, cache: Cache | None = None, **settings: Any
) -> CustomerDirectory:
    time = FakeTime()
    halo = HaloClient(
        state.base_url,
        "",
        CLIENT_ID,
        SECRET,
        optional_scopes=("read:customers",),
        transport=httpx.ASGITransport(app=create_halo_app(state)),
        clock=time.clock,
        wall_clock=time.clock,
        sleep=time.sleep,
        rng=LowJitter(),
    )
    cache = cache or Cache()
    return CustomerDirectory(
        halo,
        make_settings(tmp_path / "db.json", **settings),
        lambda: cache.value,
        cache.save,
        lambda: "2026-12-01T00:00:00+00:00",
    )


@pytest.fixture
def state() -> HaloState:
    halo = HaloState(client_id=CLIENT_ID, client_secret=SECRET)
    halo.granted_scopes |= {"read:customers"}
    return halo


def client_requests(state: HaloState) -> list[str]:
    return [e.path for e in state.log.matching("GET", "/api/Client")]


async def test_the_map_wins_then_the_integration_then_the_name(
    state: HaloState, tmp_path: Any
) -> None:
    mapped = state.add_client("Mapped Co")["id"]
    integrated = state.add_client("Integrated Ltd")["id"]
    named = state.add_client("NAMED CO")["id"]
    companies = [
        company(1, "Named Co", halo_integration(integrated)),  # the map beats both
        company(2, "Named Co", halo_integration(integrated)),  # the integration beats the name
        company(3, "named co "),
        company(4, "Elsewhere", HuduIntegration("Halo", None, str(integrated))),
    ]
    found = directory(state, tmp_path, hhsync_customer_map=f"1={mapped}")

    await found.refresh(companies, full=True)
    matches = [found.match(c) for c in companies]

    assert [(m.client_id, m.matched_by) for m in matches] == [
        (mapped, "map"),
        (integrated, "integration"),
        (named, "name"),
        (integrated, "integration"),  # a numeric identifier stands in for sync_id
    ]
    assert matches[0].describe() == f"Mapped Co (Halo client {mapped}, by HHSYNC_CUSTOMER_MAP)"
    assert "by Hudu's Halo integration" in matches[1].describe()
    assert "by same name" in matches[2].describe()


async def test_a_sync_id_that_names_no_client_is_unmatched_with_the_reason(
    state: HaloState, tmp_path: Any
) -> None:
    state.add_client("Someone Else")
    stale = company(1, "Fabrikam", halo_integration(90_001))
    found = directory(state, tmp_path)

    await found.refresh([stale], full=True)
    match = found.match(stale)

    assert match.client_id is None and not match.unavailable
    assert match.why_not == (
        "no Halo customer for company Fabrikam; its Hudu integration 'halo' names Halo client "
        "90001, which Halo does not have"
    )
    assert client_requests(state) == ["/api/Client", "/api/Client/90001"]


async def test_a_stale_integration_falls_through_to_the_name(
    state: HaloState, tmp_path: Any
) -> None:
    same = state.add_client("Fabrikam")["id"]
    stale = company(1, "Fabrikam", halo_integration(90_001))
    found = directory(state, tmp_path)

    await found.refresh([stale], full=True)

    assert (found.match(stale).client_id, found.match(stale).matched_by) == (same, "name")


async def test_inactive_missing_and_ambiguous_clients_match_nothing(
    state: HaloState, tmp_path: Any
) -> None:
    former = state.add_client("Former Ltd", inactive=True)["id"]
    state.add_client("Twin")
    state.add_client("twin")
    companies = [
        company(1, "Uses former", halo_integration(former)),
        company(2, "Mapped nowhere"),
        company(3, "Twin"),
        company(4, "Former Ltd"),  # an inactive client is no match by name either
    ]
    found = directory(state, tmp_path, hhsync_customer_map="2=777")

    await found.refresh(companies, full=True)
    why = [found.match(c).why_not for c in companies]

    assert f"names Halo client {former}, which Halo has as an inactive client" in why[0]
    assert why[1] == "HHSYNC_CUSTOMER_MAP names Halo client 777, which Halo does not have"
    assert "several Halo clients have its name" in why[2] and "HHSYNC_CUSTOMER_MAP" in why[2]
    assert why[3] == "no Halo customer for company Former Ltd"


async def test_one_listing_per_full_pass_and_one_lookup_per_new_id(
    state: HaloState, tmp_path: Any
) -> None:
    for n in range(150):
        state.add_client(f"Client {n}")
    gone = state.add_client("Gone", inactive=True)["id"]
    companies = [company(n, f"Company {n}", halo_integration(n)) for n in range(1, 120)]
    companies.append(company(500, "Uses gone", halo_integration(gone)))
    cache = Cache()
    first = directory(state, tmp_path, cache)

    await first.refresh(companies, full=True)
    listing = len(client_requests(state))
    second = directory(state, tmp_path, cache)  # a new engine: the cache comes from the file
    second.load()
    await second.refresh(companies, full=False)
    await second.refresh([*companies, company(600, "New", halo_integration(77_777))], full=False)

    assert listing == 2 + 1  # two pages of 100, then the one id the listing lacked (inactive)
    assert client_requests(state)[listing:] == ["/api/Client/77777"]
    assert cache.saves == 2
    assert sum(second.match(c).matched for c in companies) == 119


async def test_without_the_customers_scope_nothing_is_matched_and_it_says_why(
    tmp_path: Any,
) -> None:
    state = HaloState(client_id=CLIENT_ID, client_secret=SECRET)
    state.add_client("Acme")
    found = directory(state, tmp_path)

    await found.refresh([company(1, "Acme")], full=True)
    match = found.match(company(1, "Acme"))

    assert match.unavailable and "lacks read:customers" in match.why_not
    assert client_requests(state) == []


async def test_off_costs_nothing(state: HaloState, tmp_path: Any) -> None:
    found = directory(state, tmp_path, hhsync_customer_access=CustomerAccess.OFF)
    await found.refresh([company(1, "Acme", halo_integration(1))], full=True)
    assert state.log.entries == []


def test_integration_ids_take_halo_only() -> None:
    acme = company(
        1,
        "Acme",
        HuduIntegration("cw_manage", 5),
        halo_integration(9),
        halo_integration(None, "not a number"),
        halo_integration(9),
    )
    assert integration_ids(acme) == [9]
