"""Removals: the Halo copies of articles that left Hudu (deleted, archived, back to draft) or
the sync's scope are deleted, or archived where Halo refuses the delete (403)."""

from __future__ import annotations

import logging

from core.errors import ApiError, AuthError
from core.events import Announcer
from core.halo import HaloClient
from core.plan import PassState, Removal
from core.records import RecordBook


async def retire_copies(
    halo: HaloClient,
    book: RecordBook,
    announcer: Announcer,
    removals: list[Removal],
    state: PassState,
) -> None:
    """Delete (or archive) each removal's Halo copy; the record book learns each outcome."""
    for removal in removals:
        rec = book[removal.hudu_id]
        if rec.halo_id is None or rec.unlinked or state.stopping():
            continue
        try:
            refused = await halo.retire_article(rec.halo_id)
        except AuthError:
            raise
        except ApiError as exc:
            book.mark_failed([rec.hudu_id], exc, f"could not remove from Halo ({removal.why})")
            state.tally.failed += 1
            state.tally.done += 1
            announcer.say(logging.WARNING, f"could not remove article {rec.hudu_id}: {exc}")
            continue
        if refused is None:
            reason = f"{removal.why}; deleted from Halo"
        else:
            reason = f"{removal.why}; archived in Halo (Halo refused the delete: {refused})"
        book.mark_removed(rec.hudu_id, reason, deleted=refused is None)
        state.tally.removed += 1
        state.tally.done += 1
