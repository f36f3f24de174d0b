"""What a command on many articles needs before it writes: the articles Hudu has, their Halo
copies found in one search, and the ids checked against the mapping."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from core.errors import HhsyncError
from core.events import Announcer
from core.planner import HuduView, Planner
from core.reconciler import Reconciler
from core.records import RecordBook

GONE_HINT = "it was deleted in Hudu: a full sync (S, or hhsync sync --full) removes its Halo copy"


async def read_for_resync(
    hudu_ids: Sequence[int],
    planner: Planner,
    reconciler: Reconciler,
    book: RecordBook,
    announcer: Announcer,
) -> tuple[HuduView, list[int]]:
    """Hudu's view of the articles and those of them Hudu has, each relinked to its Halo copy
    (the mapped one if Halo still has it, else one found by marker), so none is made twice.
    Articles Hudu no longer has are said in the log; if it has none of them, this raises."""
    wanted = list(dict.fromkeys(hudu_ids))
    view = await planner.read_articles(wanted)
    found = [i for i in wanted if i in view.articles]
    gone = [i for i in wanted if i not in view.articles]
    if not found:
        what = f"article {gone[0]}" if len(gone) == 1 else f"any of the {len(gone):,} articles"
        raise HhsyncError(f"Hudu has no {what}", hint=GONE_HINT)
    if gone:
        listed = ", ".join(str(i) for i in gone[:10]) + (" …" if len(gone) > 10 else "")
        announcer.say(logging.WARNING, f"resync: Hudu has no article {listed}; {GONE_HINT}")
    mapped = [i for i in found if i in book]
    for hudu_id, halo_id in (await reconciler.copies_to_relink(mapped)).items():
        book.prepare_resync(hudu_id, halo_id)
    return view, found


def mapped_ids(hudu_ids: Sequence[int], book: RecordBook) -> list[int]:
    """The ids, each once; raises if one is not in the mapping (nothing is changed then)."""
    wanted = list(dict.fromkeys(hudu_ids))
    missing = [i for i in wanted if i not in book]
    if missing:
        raise HhsyncError(f"article {missing[0]} is not in the mapping")
    return wanted
