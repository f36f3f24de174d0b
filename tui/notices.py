"""What the dashboard tells the user in a toast or asks in a dialog: after a pass, after a
command, and when a key cannot act. Plain Python; the app shows them with `notify`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.errors import HhsyncError
from core.events import PassFinished
from core.models import ArticleRecord, Status
from tui.pass_text import pass_counts
from tui.state import AttachedService, PassCommand, PassRequest

Severity = Literal["information", "warning", "error"]


@dataclass(frozen=True, slots=True)
class Notice:
    message: str
    title: str = ""
    severity: Severity = "information"
    timeout: float | None = None
    """Seconds on screen; None is Textual's default."""


@dataclass(frozen=True, slots=True)
class Question:
    """A yes/no dialog: the question, what answering yes means, and the yes button."""

    question: str
    detail: str
    yes: str


PASS_ALREADY_RUNNING = Notice("A pass is already running", severity="warning")
RETRY_ALREADY_RUNNING = Notice("A retry is already running", severity="warning")
SELECT_AN_ARTICLE = Notice("Select an article first", severity="warning")
NO_FAILED_ARTICLES = Notice("No failed articles")
RESYNC_QUEUED = Notice("Resync queued: it runs as soon as the current pass ends")
PAUSED = Notice("Automatic passes paused · s still syncs now · p resumes")
RESUMED = Notice("Automatic passes resumed")
QUIT_WHILE_RUNNING = Question(
    "A pass is running. Quit anyway?",
    "It stops between two articles; the next start picks up where it left off. Automatic"
    " syncing stops with the dashboard: `hhsync run` keeps syncing as a service, and"
    " hhsync-tui attaches to it.",
    yes="Quit",
)
SERVICE_LOST = Notice(
    "The dashboard reconnects by itself and keeps showing the rows it has;"
    " keys that need the service wait until it is back.",
    title="The service stopped answering",
    severity="warning",
    timeout=10,
)
SERVICE_NOT_ANSWERING = Notice(
    "The service is not answering: this key needs it. The header says when it is back.",
    severity="warning",
)
PASS_INTERRUPTED = "Pass interrupted: the service stopped answering"
SYNCING_STOPPED = (
    "Automatic syncing stopped with the dashboard. To keep syncing without it, run"
    " `hhsync run` as a service (`hhsync run --print-systemd-unit`); hhsync-tui attaches to it."
)
DEMO_ENDED = (
    "The demo's Hudu and Halo stopped with the dashboard. To try the service: `hhsync emulate`"
    " prints .env lines for emulators, `hhsync run` syncs with them, and hhsync-tui in another"
    " terminal attaches."
)


def service_back(pid: int) -> Notice:
    return Notice("The tables are current again", title=f"Reconnected to the service (pid {pid})")


def farewell(service: AttachedService | None) -> str:
    """The line printed once the dashboard is gone: what happens to syncing now."""
    if service is None:
        return SYNCING_STOPPED
    if not service.answering:
        return (
            f"Left the dashboard; the hhsync service (pid {service.pid}) was not answering:"
            " `hhsync doctor` says whether one runs."
        )
    return f"Left the dashboard; the hhsync service (pid {service.pid}) keeps syncing."


def retry_queued(failed: int) -> Notice:
    return Notice(f"Retry of {failed:,} queued: it runs as soon as the current pass ends")


def asked(command: str, record: ArticleRecord | None = None, what: str = "") -> str:
    """The Log tab's record of a key: `Resync of “VPN setup” #12 (Acme) asked from the
    dashboard` (the entry carries the time)."""
    if record is not None:
        what = f"“{record.title}” #{record.hudu_id} ({record.scope})"
    return f"{command} of {what} asked from the dashboard"


def unlink_question(record: ArticleRecord) -> Question:
    """Names the article by title, id and scope: one title can be in many companies."""
    return Question(
        f"Unlink “{record.title}” #{record.hudu_id} ({record.scope})?",
        f"hhsync stops syncing it. Its Halo copy (#{record.halo_id}) stays and becomes Halo's"
        " to edit; r (resync) links it again.",
        yes="Unlink",
    )


def unlink_refused(record: ArticleRecord) -> Notice | None:
    """Why `u` cannot unlink `record`, or None if it can: unlinking needs a Halo copy to hand
    over, and a skipped article would lose its reason (a draft, archived) for "unlinked"."""
    what = f"“{record.title}” #{record.hudu_id}"
    if record.unlinked:
        return Notice(f"{what} is already unlinked · r relinks it", severity="warning")
    if record.status == Status.SKIPPED:
        return Notice(
            f"{what} is skipped ({record.reason or 'no reason recorded'}): hhsync does not"
            " write it, so there is nothing to unlink",
            severity="warning",
        )
    if record.halo_id is None:
        return Notice(f"{what} has no Halo copy: there is nothing to unlink", severity="warning")
    return None


def pass_finished(
    event: PassFinished, request: PassRequest | None, failed_now: int
) -> Notice | None:
    """What a pass did, worded for the key that asked for it; a scheduled pass that changed
    nothing says nothing."""
    if event.error:
        return Notice(event.error, title="Pass stopped", severity="error", timeout=10)
    if request is not None and request.command == PassCommand.RETRY:
        tried = request.failed_before
        if not failed_now:
            return Notice(f"All {tried:,} failed articles are in Halo now", title="Retry finished")
        return Notice(
            f"{max(0, tried - failed_now):,} of {tried:,} fixed · {failed_now:,} still failing\n"
            "The Failed tab shows what to change in Halo",
            title="Retry finished",
            severity="warning",
            timeout=10,
        )
    title = "Pass finished"
    if request is not None:
        title = "Full sync finished" if event.full else "Sync finished"
    if event.failed:
        return Notice(
            f"{pass_counts(event)}\nThe Failed tab shows the fix (R retries)",
            title=title,
            severity="warning",
        )
    if event.created or event.updated or event.removed or event.restored:
        return Notice(pass_counts(event), title=title)
    if request is not None:
        return Notice("Nothing to send: Halo is up to date", title=title)
    return None


def resynced(record: ArticleRecord) -> Notice:
    if record.status == Status.FAILED:
        return Notice(
            record.hint or record.error or "it failed again",
            title=f"Resync of “{record.title}” failed",
            severity="error",
            timeout=10,
        )
    return Notice(f"“{record.title}” is {record.status}", title="Resynced")


def unlinked(record: ArticleRecord, *, followed: bool = True) -> Notice:
    """`followed`: the cursor is on the article (on its new tab), so `r` acts on it."""
    where = f"#{record.hudu_id} ({record.scope}) is on the {str(record.status).capitalize()} tab"
    relink = "r relinks it" if followed else "r on its row there relinks it"
    return Notice(
        f"“{record.title}” is no longer synced: {where}; its Halo copy stays ({relink})",
        title="Unlinked",
    )


def error_text(error: BaseException) -> str:
    """An hhsync error with its hint on the next line; anything else with its type."""
    if isinstance(error, HhsyncError):
        return str(error) + (f"\n{error.hint}" if error.hint else "")
    return f"{type(error).__name__}: {error}"


def command_failed(
    command: str, error: BaseException, target: int | None, record: ArticleRecord | None
) -> Notice:
    """`Resync of “VPN setup” failed`, with the error and its hint: for a command on one
    article (`target`), its title if the dashboard knows it (`record`), else its id."""
    what = command
    if record is not None:
        what += f" of “{record.title}”"
    elif target is not None:
        what += f" of article {target}"
    return Notice(error_text(error), title=f"{what} failed", severity="error", timeout=12)
