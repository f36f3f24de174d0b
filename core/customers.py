"""Which Halo customer a Hudu company is, so its articles are shown only to that customer.

Matching order (README, "Company articles and Halo customers"):

1. `HHSYNC_CUSTOMER_MAP` (`hudu_company_id=halo_client_id`): the admin's word;
2. the company's Hudu integration `halo` (`sync_id`, else a numeric `identifier`): the PSA
   sync most Hudu + Halo shops run (docs/hudu-and-halo.md#hudu-integrations);
3. an exact name match (case ignored) among Halo's active clients.

A client id from 1 or 2 must be one Halo has and that is active: ids seen in the listing are
confirmed by it, others are looked up once (`GET /api/Client/{id}`) and the answer cached.

Cost: one paged listing of Halo's clients per full pass (cached in the mapping file, meta
`halo_clients`, and reused by incremental passes), plus one lookup per client id not seen
before: never a request per article or per company.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.config import CustomerAccess, Settings
from core.errors import ApiError, AuthError
from core.halo import HaloClient
from core.halo_facts import CUSTOMER_SCOPE
from core.models import HaloCustomer, HuduCompany
from core.records import iso
from core.store import MappingStore

log = logging.getLogger("hhsync.customers")

META_KEY = "halo_clients"
HALO_INTEGRATOR = "halo"

MatchedBy = str  # "map" | "integration" | "name" | ""


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    """The Halo customer of one Hudu company, or why there is none."""

    company_id: int
    company_name: str
    client_id: int | None = None
    client_name: str = ""
    matched_by: MatchedBy = ""
    why_not: str = ""
    """Why no customer (unmatched), in words."""
    unavailable: bool = False
    """Halo's client list could not be read: the company may well have a customer."""

    @property
    def matched(self) -> bool:
        return self.client_id is not None

    def describe(self) -> str:
        if self.client_id is None:
            return self.why_not
        how = {"map": "HHSYNC_CUSTOMER_MAP", "integration": "Hudu's Halo integration"}.get(
            self.matched_by, "same name"
        )
        return f"{self.client_name} (Halo client {self.client_id}, by {how})"


class CustomerDirectory:
    """Halo's clients (cached) and the match of each Hudu company."""

    def __init__(
        self,
        halo: HaloClient,
        settings: Settings,
        load: Callable[[], Any],
        save: Callable[[dict[str, Any]], None],
        now: Callable[[], str],
    ) -> None:
        self.halo = halo
        self.access = settings.hhsync_customer_access
        self.overrides = settings.customer_map
        self._load = load
        self._save = save
        self._now = now
        self.clients: dict[int, HaloCustomer] = {}
        self.missing: set[int] = set()
        """Client ids looked up that Halo has not (or only inactive)."""
        self.fetched_at = ""
        self.problem = ""
        """Why the client list could not be read this pass ("" when it was)."""
        self.lookups = 0
        """Requests to Halo's clients since this object was made (the bench counts them)."""
        self._matches: dict[int, CustomerMatch] = {}
        """Each company's match, made once per refresh (the planner asks once per article)."""
        self._by_name: dict[str, list[HaloCustomer]] | None = None

    @classmethod
    def kept_in(
        cls,
        store: MappingStore,
        halo: HaloClient,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> CustomerDirectory:
        """A directory whose client cache lives in the mapping file's meta."""
        return cls(
            halo,
            settings,
            load=lambda: store.meta(META_KEY),
            save=lambda clients: store.set_meta(**{META_KEY: clients}),
            now=lambda: iso(clock()),
        )

    @property
    def enabled(self) -> bool:
        return self.access is not CustomerAccess.OFF

    def load(self) -> None:
        raw = self._load()
        self._forget_matches()
        if not isinstance(raw, Mapping):
            return
        try:
            self.clients = {
                int(c[0]): HaloCustomer(int(c[0]), str(c[1]), bool(c[2]))
                for c in raw.get("clients") or ()
            }
            self.missing = {int(i) for i in raw.get("missing") or ()}
            self.fetched_at = str(raw.get("fetched_at") or "")
        except (IndexError, TypeError, ValueError):
            self.clients, self.missing, self.fetched_at = {}, set(), ""

    async def refresh(
        self, companies: Iterable[HuduCompany], *, full: bool, persist: bool = True
    ) -> None:
        """Make the cache good for `companies`: list Halo's clients on a full pass (or when
        never listed), then look up each wanted client id not seen before. Failures leave
        the cache as it was and say why in `problem`. Without `persist` (a dry run), the
        mapping file is not written."""
        if not self.enabled:
            return
        self._forget_matches()
        self.problem = ""
        changed = False
        listing = full or not self.fetched_at
        unseen = self._wanted_ids(companies) - set(self.clients) - self.missing
        if not listing and not unseen:
            return  # the cache answers: no request, not even a token
        try:
            if not await self.halo.can_read_customers():
                self.problem = (
                    f"the Halo token lacks {CUSTOMER_SCOPE}: add it to the API application "
                    f"(and to HALO_SCOPE if set) so hhsync can match customers"
                )
                return
            if listing:
                listed = await self.halo.list_customers()
                self.lookups += 1
                self.clients = {c.id: c for c in listed}
                self.missing = set()
                self.fetched_at = self._now()
                changed = True
                unseen = self._wanted_ids(companies) - set(self.clients)
            for client_id in sorted(unseen):
                found = await self.halo.get_customer(client_id)
                self.lookups += 1
                if found is None:
                    self.missing.add(client_id)
                else:
                    self.clients[found.id] = found
                changed = True
        except AuthError:
            raise
        except ApiError as exc:
            self.problem = f"Halo's client list could not be read: {exc}"
            log.warning("%s", self.problem)
        if changed and persist:
            self._save(
                {
                    "fetched_at": self.fetched_at,
                    "clients": [[c.id, c.name, c.inactive] for c in self.clients.values()],
                    "missing": sorted(self.missing),
                }
            )

    def _wanted_ids(self, companies: Iterable[HuduCompany]) -> set[int]:
        wanted: set[int] = set()
        for company in companies:
            if company.id in self.overrides:
                wanted.add(self.overrides[company.id])
            else:
                wanted.update(integration_ids(company))
        return wanted

    # ------------------------------------------------------------ matching (no I/O)
    def _forget_matches(self) -> None:
        self._matches, self._by_name = {}, None

    def match(self, company: HuduCompany) -> CustomerMatch:
        """The company's Halo customer, in the matching order, from the cache alone."""
        found = self._matches.get(company.id)
        if found is None or found.company_name != company.name:
            found = self._matches[company.id] = self._match(company)
        return found

    def _match(self, company: HuduCompany) -> CustomerMatch:
        name = company.name
        if self.problem:
            return CustomerMatch(company.id, name, why_not=self.problem, unavailable=True)
        mapped = self.overrides.get(company.id)
        if mapped is not None:
            found = self._active(mapped)
            if found is not None:
                return CustomerMatch(company.id, name, found.id, found.name, "map")
            return CustomerMatch(
                company.id,
                name,
                why_not=f"HHSYNC_CUSTOMER_MAP names Halo client {mapped}, "
                f"which Halo {self._absence(mapped)}",
            )
        stale = ""
        for client_id in integration_ids(company):
            found = self._active(client_id)
            if found is not None:
                return CustomerMatch(company.id, name, found.id, found.name, "integration")
            stale = (
                f"; its Hudu integration 'halo' names Halo client {client_id}, "
                f"which Halo {self._absence(client_id)}"
            )
        if self._by_name is None:
            self._by_name = {}
            for client in self.clients.values():
                if not client.inactive:
                    self._by_name.setdefault(client.name.strip().casefold(), []).append(client)
        same_name = self._by_name.get(name.strip().casefold(), [])
        if len(same_name) == 1:
            return CustomerMatch(company.id, name, same_name[0].id, same_name[0].name, "name")
        if len(same_name) > 1:
            ids = ", ".join(str(c.id) for c in sorted(same_name, key=lambda c: c.id))
            return CustomerMatch(
                company.id,
                name,
                why_not=f"no Halo customer for company {name}: several Halo clients have its "
                f"name ({ids}); set HHSYNC_CUSTOMER_MAP",
            )
        why = f"no Halo customer for company {name}{stale}"
        return CustomerMatch(company.id, name, why_not=why)

    def _active(self, client_id: int) -> HaloCustomer | None:
        found = self.clients.get(client_id)
        return found if found is not None and not found.inactive else None

    def _absence(self, client_id: int) -> str:
        found = self.clients.get(client_id)
        return "has as an inactive client" if found is not None else "does not have"


def integration_ids(company: HuduCompany) -> list[int]:
    """The Halo client ids a company's Hudu integration `halo` names: its `sync_id`, else its
    `identifier` when that is a whole number (docs/hudu-and-halo.md#hudu-integrations)."""
    ids: list[int] = []
    for integration in company.integrations:
        if integration.integrator_name.strip().casefold() != HALO_INTEGRATOR:
            continue
        if integration.sync_id is not None and integration.sync_id > 0:
            ids.append(integration.sync_id)
        elif integration.identifier.strip().isdigit():
            ids.append(int(integration.identifier.strip()))
    return list(dict.fromkeys(ids))
