"""What the dashboard says about commands on marked rows and the undo of an unlink: the one
question that lists the articles, the Log tab's entry and the notices. Plain Python."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from core.models import ArticleRecord, Status
from tui.notices import Notice, Question

LISTED = 8
"""Articles a question names; the rest are counted ("and 12 more")."""
LOGGED_IDS = 40
"""Ids a Log tab entry names; a longer list would push every other entry off the screen."""
LINE = 58
"""Cells of one listed article: the dialog's width, so each stays on one line."""


def listing(records: Sequence[ArticleRecord], limit: int = LISTED) -> str:
    """`#12 “VPN setup” (Acme)` one a line, the first `limit`, then `and N more`."""
    lines = [named(r) for r in records[:limit]]
    if len(records) > limit:
        lines.append(f"and {len(records) - limit:,} more")
    return "\n".join(lines)


def cut(line: str, cells: int = LINE) -> str:
    """`line` in at most `cells` terminal cells, an ellipsis where it was cut."""
    text = Text(line)
    text.truncate(cells, overflow="ellipsis")
    return text.plain


def named(record: ArticleRecord) -> str:
    """`#12 “VPN setup” (Acme)` in one line of the dialog: the title gives way first."""
    head, tail = f"#{record.hudu_id} “", f"” ({cut(record.scope, 24)})"
    return head + cut(record.title, max(12, LINE - len(head) - len(tail))) + tail


def articles(count: int) -> str:
    return f"{count:,} article{'' if count == 1 else 's'}"


def resync_question(records: Sequence[ArticleRecord]) -> Question:
    return Question(
        f"Resync {articles(len(records))} marked?",
        f"{listing(records)}\n\nEach is pushed to Halo again, even unchanged, in batches;"
        " unlinked ones are linked again to their Halo copy.",
        yes="Resync",
    )


def unlink_question(records: Sequence[ArticleRecord], left_out: int) -> Question:
    skipped = (
        f"\n{articles(left_out)} marked left out: no Halo copy, skipped or already unlinked."
        if left_out
        else ""
    )
    return Question(
        f"Unlink {articles(len(records))} marked?",
        f"{listing(records)}\n\nhhsync stops syncing them. Their Halo copies stay and become"
        f" Halo's to edit; z undoes this.{skipped}",
        yes="Unlink",
    )


def none_to_unlink(count: int) -> Notice:
    return Notice(
        f"None of the {articles(count)} marked can be unlinked: they have no Halo copy, are"
        " skipped or are already unlinked",
        severity="warning",
    )


def asked(command: str, records: Sequence[ArticleRecord]) -> str:
    """The Log tab's entry: the ids (the first `LOGGED_IDS`), so an admin can tell later what
    was done."""
    ids = ", ".join(f"#{r.hudu_id}" for r in records[:LOGGED_IDS])
    more = f" and {len(records) - LOGGED_IDS:,} more" if len(records) > LOGGED_IDS else ""
    return f"{command} of {articles(len(records))} asked from the dashboard: {ids}{more}"


def resynced(records: Sequence[ArticleRecord], asked_for: int, *, undo: bool) -> Notice:
    failed = sum(1 for r in records if r.status == Status.FAILED)
    title = "Unlink undone" if undo else "Resynced"
    done = f"{articles(len(records) - failed)} {'relinked' if undo else 'synced'}"
    missing = asked_for - len(records)
    more = f" · {failed:,} failed (Failed tab)" if failed else ""
    more += f" · {missing:,} no longer in Hudu (Log tab)" if missing else ""
    return Notice(
        done + more, title=title, severity="warning" if failed or missing else "information"
    )


def unlinked(records: Sequence[ArticleRecord]) -> Notice:
    return Notice(
        f"{articles(len(records))} no longer synced; their Halo copies stay (z undoes)",
        title="Unlinked",
    )


NOTHING_TO_UNDO = Notice("Nothing to undo: no article was unlinked in this session")


def undoing(records: Sequence[ArticleRecord]) -> str:
    return asked("Undo of the last unlink (resync)", records)


def copied(what: str, value: str, record: ArticleRecord) -> Notice:
    return Notice(value, title=f"Copied the {what} of #{record.hudu_id}")


def not_copied(what: str, record: ArticleRecord) -> Notice:
    if what.startswith("Halo") and record.halo_id is None:
        return Notice(f"#{record.hudu_id} has no Halo copy yet", severity="warning")
    return Notice(
        f"The {what} of #{record.hudu_id} holds spaces or control characters: not copied"
        " (pasted into a shell it could run a command)",
        severity="warning",
    )
