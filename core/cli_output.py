"""What the headless command prints: lines made displayable, a pass's progress and summary,
and the exit statuses.

Exit status: 0 nothing failed, 1 an article failed, 2 configuration, credential or lock errors.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections import Counter
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from core.errors import (
    AuthError,
    HhsyncError,
    MalformedResponseError,
    StoreError,
    UnreachableError,
)
from core.events import Event, PassFinished, PassProgressed, PassStarted
from core.models import ArticleRecord
from core.plan import PassSummary
from core.text import displayable

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2

stderr = Console(stderr=True, highlight=False)


def echo(line: str, *, err: bool = False) -> None:
    """Print a line of text output. Lines carry titles and Halo's messages, so they are
    made displayable: no control character from Hudu or Halo reaches the terminal."""
    click.echo(displayable(line, one_line=False), err=err)


def fail(message: str, hint: str = "", status: int = EXIT_CONFIG) -> NoReturn:
    echo(f"hhsync: error: {message}" + (f" — {hint}" if hint else ""), err=True)
    sys.exit(status)


def exit_status_for(exc: HhsyncError) -> int:
    if isinstance(exc, AuthError | UnreachableError | MalformedResponseError | StoreError):
        return EXIT_CONFIG
    return EXIT_FAILED


def new_command_id() -> str:
    return f"cli-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class ProgressReporter:
    """A Rich progress bar on a terminal; plain lines when stderr is not one.

    With a `command_id`, only the pass that command started is shown (a service may run
    other passes meanwhile); without, every pass (the service's own log).
    """

    def __init__(self, console: Console, command_id: str | None = None) -> None:
        self.console = console
        self.command_id = command_id
        self.showing = False
        self.progress: Progress | None = None
        self.task: Any = None
        self.last_percent = -1

    def __call__(self, event: Event) -> None:
        if isinstance(event, PassStarted):
            self.showing = self.command_id is None or event.command_id == self.command_id
        if not self.showing or not isinstance(event, PassStarted | PassProgressed | PassFinished):
            return
        if isinstance(event, PassStarted):
            kind = "full" if event.full else "incremental"
            if self.console.is_terminal:
                self.progress = Progress(
                    TextColumn(f"[bold]{kind} pass"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    console=self.console,
                    transient=True,
                )
                self.progress.start()
                self.task = self.progress.add_task(kind, total=None)
            else:
                self.console.print(f"hhsync: {kind} pass started")
        elif isinstance(event, PassProgressed):
            if self.progress is not None:
                self.progress.update(self.task, completed=event.done, total=event.total or None)
            elif event.total:
                percent = event.done * 100 // event.total
                if percent // 10 != self.last_percent // 10 or event.done == event.total:
                    self.last_percent = percent
                    self.console.print(f"hhsync: {event.done}/{event.total} articles written")
        elif isinstance(event, PassFinished):
            self.showing = False
            if self.progress is not None:
                self.progress.stop()
                self.progress = None


def print_summary(summary: PassSummary, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_json()))
        return
    for change in summary.plan:
        why = f" ({change.why})" if change.why else ""
        echo(f"would {change.action} {change.hudu_id} {change.title!r}{why}")
    if summary.dry_run:
        planned = Counter(change.action for change in summary.plan)
        echo(
            f"dry run: would create {summary.created}, update {summary.updated}, "
            + (f"restore {summary.restored}, " if summary.restored else "")
            + f"remove {planned['remove']}, unchanged {summary.unchanged}"
            + (f", removals held {summary.removals_held}" if summary.removals_held else "")
            + f" — nothing written; now synced {summary.synced_total}, "
            f"pending {summary.pending_total}, skipped {summary.skipped_total}, "
            f"failed {summary.failed_total}"
        )
        return
    echo(
        f"created {summary.created}, updated {summary.updated}, unchanged {summary.unchanged}, "
        f"removed {summary.removed}, "
        + (f"restored {summary.restored}, " if summary.restored else "")
        + f"failed {summary.failed}"
        + (f", removals held {summary.removals_held}" if summary.removals_held else "")
        + f" — now synced {summary.synced_total}, pending {summary.pending_total}, "
        f"skipped {summary.skipped_total}, failed {summary.failed_total}"
    )


def summary_status(summary: PassSummary) -> int:
    return EXIT_FAILED if summary.failed or summary.failed_total else EXIT_OK


def describe(rec: ArticleRecord) -> str:
    where = f" → Halo {rec.halo_id}" if rec.halo_id else ""
    why = f" ({rec.reason or rec.error})" if rec.reason or rec.error else ""
    return f"{rec.hudu_id} {rec.title!r}: {rec.status.value}{where}{why}"
