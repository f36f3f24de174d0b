"""Halo FAQ lists: one group list `Hudu`, and under it one list per synced scope.

Lists are found again by their third-party id (then by name under the group) before any is
created, so a lost mapping file never duplicates them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping

from core.errors import WriteUncertainError
from core.halo import HaloClient
from core.models import HaloFaqList, NewFaqList

log = logging.getLogger("hhsync.faqlists")

GROUP_LIST_NAME = "Hudu"
GROUP_THIRD_PARTY_ID = "hudu:group"
CENTRAL_SCOPE = "Central KB"
CENTRAL_THIRD_PARTY_ID = "hudu:central"
ATTEMPTS = 3


def company_third_party_id(company_id: int) -> str:
    return f"hudu:company:{company_id}"


class FaqListDirectory:
    """Which Halo FAQ list holds each scope, creating lists on first need."""

    def __init__(
        self,
        halo: HaloClient,
        save: Callable[[Mapping[str, int]], None],
        *,
        showforall: bool,
    ) -> None:
        self.halo = halo
        self.save = save
        self.showforall = showforall
        self.ids: dict[str, int] = {}
        self.suspect = False
        """Set when Halo refused an article over its FAQ list: the next `ensure` checks the
        stored lists still exist."""

    def load(self, ids: Mapping[str, int]) -> None:
        self.ids = dict(ids)

    def id_for(self, third_party_id: str) -> int:
        """The Halo id of a scope's list; 0 when it is not known yet (a dry run)."""
        return self.ids.get(third_party_id, 0)

    async def ensure(
        self, wanted: Mapping[str, str], *, dry_run: bool, verify: bool = False
    ) -> None:
        """Make every list in `wanted` (third-party id → name) known, creating what is missing.

        A create whose answer was lost is settled by listing again: what it made is found.
        With `verify`, ids of lists deleted in Halo since are forgotten, so they are made again.
        """
        verify, self.suspect = verify or self.suspect, False
        if verify and self.ids:
            present = {faqlist.id for faqlist in await self.halo.list_faqlists()}
            gone = [key for key, list_id in self.ids.items() if list_id not in present]
            for key in gone:
                log.warning(
                    "FAQ list %s (%s) is gone from Halo; making it again", self.ids[key], key
                )
                del self.ids[key]
        missing = {key: name for key, name in wanted.items() if key not in self.ids}
        if not missing:
            return
        for attempt in range(1, ATTEMPTS + 1):
            try:
                found = await self._find_or_create(missing, dry_run=dry_run)
                break
            except WriteUncertainError:
                if attempt == ATTEMPTS:
                    raise
                log.info("FAQ list write unconfirmed; listing them again")
        if found and not dry_run:
            self.ids.update(found)
            self.save(self.ids)

    async def _find_or_create(self, missing: Mapping[str, str], *, dry_run: bool) -> dict[str, int]:
        existing = await self.halo.list_faqlists()
        group, _ = await self._group(existing, dry_run=dry_run)
        if group is None:
            return {}
        found = {GROUP_THIRD_PARTY_ID: group.id}
        to_create: list[NewFaqList] = []
        for key, name in sorted(missing.items()):
            match = find_faqlist(existing, third_party_id=key, name=name, group_id=group.id)
            if match is not None:
                found[key] = match.id
            else:
                to_create.append(NewFaqList(name, False, group.id, self.showforall, key))
        if to_create and not dry_run:
            created = await self.halo.create_faqlists(to_create)
            found.update({n.third_party_id: c.id for n, c in zip(to_create, created, strict=True)})
        return found

    async def _group(
        self, existing: list[HaloFaqList], *, dry_run: bool
    ) -> tuple[HaloFaqList | None, bool]:
        group = find_faqlist(
            existing, third_party_id=GROUP_THIRD_PARTY_ID, name=GROUP_LIST_NAME, group_id=None
        )
        if group is not None or dry_run:
            return group, False
        created = await self.halo.create_faqlist(
            GROUP_LIST_NAME,
            is_group=True,
            group_id=None,
            showforall=self.showforall,
            third_party_id=GROUP_THIRD_PARTY_ID,
        )
        return created, True


def find_faqlist(
    lists: Iterable[HaloFaqList], *, third_party_id: str, name: str, group_id: int | None
) -> HaloFaqList | None:
    """The list hhsync made before: by `third_party_id`, else by name within the group.

    `group_id=None` looks for a group list (top level, `is_group`); otherwise for a list that
    holds articles inside that group.
    """
    lists = list(lists)
    for faqlist in lists:
        if third_party_id and faqlist.third_party_id == third_party_id:
            return faqlist
    wanted = name.strip().casefold()
    for faqlist in lists:
        if (
            not faqlist.third_party_id  # a list made for another scope is never taken over
            and faqlist.name.strip().casefold() == wanted
            and faqlist.group_id == group_id
            and faqlist.is_group == (group_id is None)
        ):
            return faqlist
    return None
