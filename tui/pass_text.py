"""A finished pass in words: its counts, the line under the tables, and its log line."""

from __future__ import annotations

from core.events import PassFinished
from tui.columns import clock_time


def duration(seconds: float) -> str:
    """`42s`, `3m 07s`, `1h 05m`."""
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def pass_counts(finished: PassFinished) -> str:
    """`3 failed · 1,917 created · 20 updated`: what a pass did, biggest news first."""
    counts = [
        f"{value:,} {name}"
        for name, value in (
            ("failed", finished.failed),
            ("created", finished.created),
            ("updated", finished.updated),
            ("restored", finished.restored),
            ("removed", finished.removed),
            ("unchanged", finished.unchanged),
        )
        if value
    ]
    if finished.error:
        counts.insert(0, f"stopped: {finished.error}")
    return " · ".join(counts or ["nothing to do"])


def took(finished: PassFinished) -> str:
    return duration((finished.finished_at - finished.started_at).total_seconds())


def pass_summary(finished: PassFinished) -> str:
    """The line above the footer between passes."""
    kind = "full pass" if finished.full else "pass"
    return f"Last {kind} {clock_time(finished.finished_at)}, {took(finished)} · " + pass_counts(
        finished
    )


def pass_log_line(finished: PassFinished) -> str:
    kind = "Full pass" if finished.full else "Pass"
    return f"{kind} finished in {took(finished)}: {pass_counts(finished)}"
