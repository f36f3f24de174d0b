"""Halo FAQ lists: one group list `Hudu`, and under it the lists the folder layout wants
(`core.folders`): one per synced scope (flat), or a group per scope holding a list per folder.

Lists are found again by the id hhsync stored, then their third-party id, then by name in
their group, before any is created, so a lost mapping file never duplicates them. A list whose
name or group changed (a Hudu folder renamed or moved) is renamed or moved, and its articles
stay in it. After a full pass, lists no article copy is in any more are retired into the group
`Hudu / Retired`: Halo's FAQ lists have no archive flag, and hhsync never deletes one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Self

from core.config import FolderLayout, Settings
from core.errors import ApiError, WriteUncertainError
from core.halo import HaloClient
from core.models import HaloFaqList, NewFaqList, Status
from core.records import RecordBook

log = logging.getLogger("hhsync.faqlists")

GROUP_LIST_NAME = "Hudu"
GROUP_THIRD_PARTY_ID = "hudu:group"
RETIRED_LIST_NAME = "Retired"
RETIRED_THIRD_PARTY_ID = "hudu:retired"
CENTRAL_SCOPE = "Central KB"
CENTRAL_THIRD_PARTY_ID = "hudu:central"
LAYOUT_META = "faqlist_layout"
"""The `HHSYNC_FOLDERS` value the last complete full pass arranged the lists for."""
PLACED_META = "faqlist_placed"
"""Where each list was when hhsync last listed or saved it: `{key: [name, parent, is_group]}`,
so a new process (`hhsync sync` from cron) needs no listing while nothing changed."""
NESTING_META = "faqlist_groups_nest"
"""False once Halo refused a group list inside another group."""
TOP = ""
"""The `parent` of a list at the top level (no group)."""
ATTEMPTS = 3
FAQLIST_REQUESTS_PER_PASS = 7
"""At most, whatever the number of scopes and folders (no write answer lost): a listing, the
`Hudu` group and one POST per depth of the layout (two), then to retire, a listing and one
POST per depth (`Hudu / Retired`, the lists in it)."""


def company_third_party_id(company_id: int) -> str:
    return f"hudu:company:{company_id}"


@dataclass(frozen=True, slots=True)
class FaqListSpec:
    """A list as hhsync wants it: its name, and the third-party id of the group it is in."""

    name: str
    parent: str = GROUP_THIRD_PARTY_ID
    is_group: bool = False
    follow: bool = False
    """Kept in step (renamed, moved) only where it exists and is not retired: no article of
    this pass needs it, but its Hudu folder may have been renamed or moved."""


RETIRED_GROUP = FaqListSpec(RETIRED_LIST_NAME, is_group=True)


class FaqListDirectory:
    """Which Halo FAQ list holds each scope or folder, creating, renaming and moving lists."""

    def __init__(
        self,
        halo: HaloClient,
        book: RecordBook,
        *,
        showforall: bool,
        layout: FolderLayout = FolderLayout.FLAT,
    ) -> None:
        self.halo = halo
        self.book = book
        self.showforall = showforall
        self.layout = layout
        self.ids: dict[str, int] = {}
        self.placed: dict[str, FaqListSpec] = {}
        """Where each known list was in Halo when last listed or saved."""
        self.suspect = False
        """Set when Halo refused an article over its FAQ list: the next `ensure` checks the
        stored lists still exist."""
        self._complete: set[str] | None = None
        """Every list a full pass wants, until `retire` retires the others."""
        self.groups_nest = True
        """Whether Halo takes a group list inside another group (inferred; learnt from its
        refusal): if not, each knowledge base's group is at the top level, "Hudu: <name>"."""

    @classmethod
    def for_settings(cls, halo: HaloClient, book: RecordBook, settings: Settings) -> Self:
        return cls(
            halo,
            book,
            showforall=settings.hhsync_show_for_all_users,
            layout=settings.hhsync_folders,
        )

    def load(self, ids: Mapping[str, int]) -> None:
        self.ids = dict(ids)
        self.groups_nest = self.book.meta(NESTING_META) is not False
        stored = self.book.meta(PLACED_META)
        self.placed = {}
        for key, where in (stored if isinstance(stored, dict) else {}).items():
            if key in self.ids and _is_where(where):
                self.placed[key] = FaqListSpec(where[0], where[1], where[2])

    def id_for(self, third_party_id: str) -> int:
        """The Halo id of a scope's list; 0 when it is not known yet (a dry run)."""
        return self.ids.get(third_party_id, 0)

    def layout_changed(self) -> bool:
        """Whether `HHSYNC_FOLDERS` changed since the lists were last arranged (a full pass
        then moves every article)."""
        return (self.book.meta(LAYOUT_META) or FolderLayout.FLAT.value) != self.layout.value

    async def ensure(
        self, wanted: Mapping[str, FaqListSpec], *, dry_run: bool, verify: bool = False
    ) -> None:
        """Make every list in `wanted` (third-party id → spec) exist where it should: create,
        rename or move what differs. Costs nothing where hhsync last saw them so (kept in
        the mapping file).

        With `verify` (a full pass: `wanted` is then every list the articles need), Halo is
        listed again, lists deleted there since are made again, and `retire` may follow. A
        write whose answer was lost is settled by listing again: what it made is found.
        """
        wanted = self._shaped(wanted)
        needed = {key for key, spec in wanted.items() if not spec.follow}
        self._complete = needed if verify and not dry_run else None
        verify, self.suspect = verify or self.suspect, False
        if not verify and all(self._settled(key, spec) for key, spec in wanted.items()):
            return
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await self._arrange(wanted, dry_run=dry_run)
                return
            except WriteUncertainError:
                if attempt == ATTEMPTS:
                    raise
                log.info("FAQ list write unconfirmed; listing them again")

    async def retire(self) -> None:
        """After a full pass's writes: note the layout as arranged, and move the lists the
        pass did not want, and that no live copy is in, into `Hudu / Retired`. Not while a
        copy failed to move (its old list is not known for sure): a later full pass does."""
        complete, self._complete = self._complete, None
        if complete is None:
            return
        if self.layout_changed():
            self.book.remember(**{LAYOUT_META: self.layout.value})
            self.book.flush()
        rows = [r for r in self.book.rows() if r.halo_id is not None and not r.removed]
        if any(r.status is Status.FAILED for r in rows):
            log.info("FAQ lists not retired this pass: some articles failed")
            return
        in_use = {r.faqlist_id for r in rows}
        unused = {
            key: FaqListSpec(spec.name, RETIRED_THIRD_PARTY_ID, spec.is_group)
            for key, spec in self.placed.items()
            if key not in complete
            and key not in (GROUP_THIRD_PARTY_ID, RETIRED_THIRD_PARTY_ID)
            and spec.parent != RETIRED_THIRD_PARTY_ID
            and self.ids.get(key) not in in_use
            and (self.groups_nest or not spec.is_group)  # an empty group then stays put
        }
        if unused:
            await self.ensure({RETIRED_THIRD_PARTY_ID: RETIRED_GROUP, **unused}, dry_run=False)
            names = ", ".join(repr(spec.name) for spec in unused.values())
            log.info("retired %d FAQ list(s) no article is in any more: %s", len(unused), names)

    def _settled(self, key: str, spec: FaqListSpec) -> bool:
        """Whether the list is where `spec` says, as far as this process saw."""
        placed = self.placed.get(key)
        if spec.follow and (key not in self.ids or self._retired(key)):
            return True
        return key in self.ids and placed == dataclasses.replace(spec, follow=False)

    def _shaped(self, wanted: Mapping[str, FaqListSpec]) -> dict[str, FaqListSpec]:
        """`wanted` as this Halo takes it: groups in `Hudu` go to the top level, renamed
        "Hudu: <name>", where groups do not nest."""
        if self.groups_nest:
            return dict(wanted)
        return {
            key: dataclasses.replace(spec, parent=TOP, name=f"{GROUP_LIST_NAME}: {spec.name}")
            if spec.is_group and spec.parent == GROUP_THIRD_PARTY_ID
            else spec
            for key, spec in wanted.items()
        }

    def _nesting_refused(self, exc: ApiError, changes: list[NewFaqList]) -> bool:
        """Whether Halo refused these lists because groups do not nest; if so, remember it."""
        named = [changes[i] for i in exc.items if i < len(changes)]
        if not (
            self.groups_nest
            and exc.status == 400
            and ".group_id" in exc.message
            and named
            and all(new.is_group and new.group_id is not None for new in named)
        ):
            return False
        log.warning(
            "Halo refuses a group FAQ list inside another group: each knowledge base's "
            "group goes to the top level, named %r",
            f"{GROUP_LIST_NAME}: <name>",
        )
        self.groups_nest = False
        self.book.remember(**{NESTING_META: False})
        self.book.flush()
        return True

    def _retired(self, key: str) -> bool:
        placed = self.placed.get(key)
        return placed is not None and placed.parent == RETIRED_THIRD_PARTY_ID

    async def _arrange(self, wanted: Mapping[str, FaqListSpec], *, dry_run: bool) -> None:
        existing = await self.halo.list_faqlists()
        self._note(existing)
        wanted = {
            key: dataclasses.replace(spec, follow=False)
            for key, spec in wanted.items()
            if not spec.follow or (key in self.placed and not self._retired(key))
        }
        group = await self._group(existing, dry_run=dry_run)
        if group is None:
            return
        resolved = {GROUP_THIRD_PARTY_ID: group.id}
        for level in _levels(wanted):
            changes: list[NewFaqList] = []
            for key, spec in level:
                parent_id = None if spec.parent == TOP else resolved.get(spec.parent)
                if parent_id is None and spec.parent != TOP:  # a dry run: its group is not made
                    continue
                match = self._match(existing, key, spec, parent_id, taken=resolved.values())
                if match is not None:
                    resolved[key] = match.id
                if match is None or (match.name, match.group_id) != (spec.name, parent_id):
                    changes.append(
                        NewFaqList(
                            spec.name,
                            spec.is_group,
                            parent_id,
                            self.showforall,
                            key,
                            id=None if match is None else match.id,
                        )
                    )
            if changes and not dry_run:
                try:
                    saved_lists = await self.halo.save_faqlists(changes)
                except ApiError as exc:
                    if not self._nesting_refused(exc, changes):
                        raise
                    return await self._arrange(self._shaped(wanted), dry_run=dry_run)
                for new, saved in zip(changes, saved_lists, strict=True):
                    resolved[new.third_party_id] = saved.id
                    _say_saved(new, existing)
        if dry_run:
            return
        placed = {**self.placed, **{k: s for k, s in wanted.items() if k in resolved}}
        changed = any(self.ids.get(key) != list_id for key, list_id in resolved.items())
        self.ids.update(resolved)
        if changed or placed != self.placed or self.book.meta(PLACED_META) is None:
            self.placed = placed
            where = {k: [s.name, s.parent, s.is_group] for k, s in sorted(placed.items())}
            self.book.remember(**{PLACED_META: where})
            self.book.commit_faqlists(self.ids)

    def _note(self, existing: list[HaloFaqList]) -> None:
        """Forget lists deleted in Halo (they are made again); note where the others are."""
        by_id = {faqlist.id: faqlist for faqlist in existing}
        key_of = {list_id: key for key, list_id in self.ids.items()}
        for key in [k for k, list_id in self.ids.items() if list_id not in by_id]:
            log.warning("FAQ list %s (%s) is gone from Halo; making it again", self.ids[key], key)
            del self.ids[key]
            self.placed.pop(key, None)
        for key, list_id in self.ids.items():
            faqlist = by_id[list_id]
            parent = key_of.get(faqlist.group_id or 0, "")
            self.placed[key] = FaqListSpec(faqlist.name, parent, faqlist.is_group)

    def _match(
        self,
        existing: list[HaloFaqList],
        key: str,
        spec: FaqListSpec,
        parent_id: int | None,
        *,
        taken: Iterable[int],
    ) -> HaloFaqList | None:
        known = self.ids.get(key)
        for faqlist in existing:
            if faqlist.id == known:
                return faqlist
        found = find_faqlist(
            existing,
            third_party_id=key,
            name=spec.name,
            group_id=parent_id,
            is_group=spec.is_group,
        )
        return None if found is None or found.id in set(taken) else found

    async def _group(self, existing: list[HaloFaqList], *, dry_run: bool) -> HaloFaqList | None:
        group = find_faqlist(
            existing, third_party_id=GROUP_THIRD_PARTY_ID, name=GROUP_LIST_NAME, group_id=None
        )
        if group is not None or dry_run:
            return group
        return await self.halo.create_faqlist(
            GROUP_LIST_NAME,
            is_group=True,
            group_id=None,
            showforall=self.showforall,
            third_party_id=GROUP_THIRD_PARTY_ID,
        )


def _is_where(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and isinstance(value[1], str)
        and isinstance(value[2], bool)
    )


def _levels(wanted: Mapping[str, FaqListSpec]) -> list[list[tuple[str, FaqListSpec]]]:
    """The wanted lists by depth below `Hudu`: groups before the lists in them."""
    depth: dict[str, int] = {}
    for key in wanted:
        seen, current = 0, key
        while current in wanted and seen <= len(wanted):
            current, seen = wanted[current].parent, seen + 1
        depth[key] = seen
    levels: dict[int, list[tuple[str, FaqListSpec]]] = {}
    for key, spec in sorted(wanted.items()):
        levels.setdefault(depth[key], []).append((key, spec))
    return [levels[d] for d in sorted(levels)]


def _say_saved(new: NewFaqList, existing: list[HaloFaqList]) -> None:
    before = next((f for f in existing if f.id == new.id), None)
    if before is None:
        log.info("created FAQ list %r (%s)", new.name, new.third_party_id)
    elif before.name != new.name:
        log.info("renamed FAQ list %r to %r (%s)", before.name, new.name, new.third_party_id)
    else:
        log.info("moved FAQ list %r to another group (%s)", new.name, new.third_party_id)


def find_faqlist(
    lists: Iterable[HaloFaqList],
    *,
    third_party_id: str,
    name: str,
    group_id: int | None,
    is_group: bool | None = None,
) -> HaloFaqList | None:
    """The list hhsync made before: by `third_party_id`, else by name within the group.

    `group_id=None` looks for a top-level list. A group list (`is_group`) is looked for when
    `is_group` says so, or by default at the top level; otherwise a list that holds articles.
    """
    lists = list(lists)
    for faqlist in lists:
        if third_party_id and faqlist.third_party_id == third_party_id:
            return faqlist
    wanted = name.strip().casefold()
    group = (group_id is None) if is_group is None else is_group
    for faqlist in lists:
        if (
            not faqlist.third_party_id  # a list made for another scope is never taken over
            and faqlist.name.strip().casefold() == wanted
            and faqlist.group_id == group_id
            and faqlist.is_group == group
        ):
            return faqlist
    return None
