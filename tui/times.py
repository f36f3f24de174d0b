"""Times as the dashboard shows them: ages in tables ("3m", "2d", "1y", as k9s's AGE), clock
times in the log, and full ISO 8601 with the zone in the detail pane. Stored times without a
zone are read as local time."""

from __future__ import annotations

from datetime import datetime

Moment = str | datetime | None


def parse_time(value: Moment) -> datetime | None:
    """A stored time in the local zone (aware), or None when empty or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    return moment.astimezone()


def span(seconds: float) -> str:
    """`45s`, `3m`, `5h`, `2d`, `1y`: the largest unit that gives a number of at least 2
    (so 90 seconds is `90s`, 36 hours `36h`), years from 365 days."""
    seconds = max(0, int(seconds))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86_400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 120:
        return f"{minutes}m"
    if hours < 48:
        return f"{hours}h"
    if days < 365:
        return f"{days}d"
    return f"{days // 365}y"


def age(value: Moment, now: datetime) -> str:
    """How long ago `value` was (`3m`); `in 3m` for a time still to come; "" when unknown."""
    moment, current = parse_time(value), parse_time(now)
    if moment is None or current is None:
        return ""
    seconds = (current - moment).total_seconds()
    return span(seconds) if seconds >= 0 else f"in {span(-seconds)}"


def clock_time(value: Moment) -> str:
    moment = parse_time(value)
    return moment.strftime("%H:%M:%S") if moment else ""


def hour_minute(value: Moment) -> str:
    moment = parse_time(value)
    return moment.strftime("%H:%M") if moment else ""


def short_time(value: Moment) -> str:
    """`2026-06-30 14:02`, local time: year first, so no reader takes the day for the month."""
    moment = parse_time(value)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def full_time(value: Moment) -> str:
    """`2026-06-30T14:01:30+01:00 BST`: unambiguous in every country, with the zone."""
    moment = parse_time(value)
    if moment is None:
        return "—"
    return f"{moment.isoformat(timespec='seconds')} {moment.tzname() or ''}".rstrip()
