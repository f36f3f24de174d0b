"""The Hudu companies a pass needs: read whole on a full pass, by `updated_at` otherwise.

An incremental pass must notice a company renamed or archived (its FAQ list follows it), but
listing 200 companies every few minutes costs pages of requests for nothing. Hudu filters
companies by `updated_at` as it does articles (docs/hudu-and-halo.md), so after one whole
listing a pass asks only for the companies changed since its cursor. A company deleted in
Hudu is seen by the next full pass, as a deleted article is. An incremental pass lists only
the articles edited since its cursor, so the articles of a company whose rows show another name
or side of the scope than the company has now are listed again (`shown_otherwise`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from core.config import CompanyFilter
from core.events import Announcer
from core.hudu import HuduClient
from core.models import ArticleRecord, HuduCompany
from core.planned_values import Scope


class CompanyListing:
    """The companies Hudu listed, kept up to date with what changed since."""

    def __init__(self, hudu: HuduClient, wanted: CompanyFilter, announcer: Announcer) -> None:
        self.hudu = hudu
        self.wanted = wanted
        self.announcer = announcer
        self._known: dict[int, HuduCompany] | None = None
        self._unknown_names: list[str] = []

    async def read(
        self, *, since: datetime | None = None, needed: Iterable[int | None] = ()
    ) -> dict[int, HuduCompany]:
        """Every company. With `since`, and a whole listing read before, only those changed
        since then are asked for, unless `needed` names a company not known yet. Says once
        when HHSYNC_COMPANIES names a company that does not exist."""
        if self._known is not None and since is not None:
            changed = await self.hudu.list_companies(updated_since=since)
            self._known.update((c.id, c) for c in changed)
            if all(c is None or c in self._known for c in needed):
                return dict(self._known)
        self._known = {c.id: c for c in await self.hudu.list_companies()}
        unknown = self.wanted.unmatched((c.id, c.name) for c in self._known.values())
        if unknown and unknown != self._unknown_names:
            self.announcer.say(
                logging.WARNING, f"HHSYNC_COMPANIES names no Hudu company: {', '.join(unknown)}"
            )
        self._unknown_names = unknown
        return dict(self._known)


def shown_otherwise(
    rows: Iterable[ArticleRecord],
    companies: Mapping[int, HuduCompany],
    scope_for: Callable[[int, Mapping[int, HuduCompany]], Scope],
    out_of_scope: str,
) -> set[int]:
    """The companies whose articles' rows show another name than the company has now, or the
    other side of the scope (renamed in Hudu, when HHSYNC_COMPANIES names it, or archived):
    their articles are planned again. A row whose reason starts with `out_of_scope` is out
    (`…; deleted from Halo` once its copy is removed)."""
    scopes: dict[int, Scope] = {}
    stale: set[int] = set()
    for rec in rows:
        company_id = rec.company_id
        if company_id is None or company_id not in companies or company_id in stale:
            continue
        if rec.unlinked:
            continue
        if company_id not in scopes:
            scopes[company_id] = scope_for(company_id, companies)
        scope = scopes[company_id]
        if rec.scope != scope.name or rec.reason.startswith(out_of_scope) == scope.included:
            stale.add(company_id)
    return stale
