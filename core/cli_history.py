"""What `hhsync history` prints: one line per pass, newest first, or the passes as JSON."""

from __future__ import annotations

import json
from datetime import datetime

import click

from core.cli_output import echo
from core.config import StoreSettings
from core.history import RUN_ROWS, PassRecord, read_history
from core.remote import ControlClient, find_service
from core.socketpath import socket_path
from core.store import MappingStore

HEADER = (
    f"{'started (UTC)':19}  {'took':>7}  {'trigger':9}  {'kind':4}  {'created':>7}  "
    f"{'updated':>7}  {'removed':>7}  {'restored':>8}  {'failed':>6}  {'Halo/Hudu req':>13}  waits"
)


async def passes_kept(settings: StoreSettings, limit: int) -> list[PassRecord]:
    """The service's passes when one runs for the mapping file, else the file's own (read
    without its lock, so a dashboard or a pass running meanwhile is no obstacle)."""
    socket = socket_path(settings.hhsync_db, settings.hhsync_socket)
    if await find_service(socket) is None:
        return read_history(MappingStore.read_only(settings.hhsync_db).runs(), limit)
    client = ControlClient(socket)
    try:
        return await client.history(limit)
    finally:
        await client.aclose()


def print_history(passes: list[PassRecord], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"passes": [RUN_ROWS.encode(p) for p in passes]}))
        return
    if not passes:
        echo("no pass yet")
        return
    echo(HEADER)
    for record in passes:
        echo(history_line(record))


def history_line(record: PassRecord) -> str:
    """`2026-12-01 13:20:01    1m05s  scheduled  full  …  Halo 45 Hudu 12  2 (30s)`."""
    waits = f"{record.waits} ({took(record.waited_seconds)})" if record.waits else "0"
    line = (
        f"{record.started_at[:19].replace('T', ' '):19}  {took(_seconds(record)):>7}  "
        f"{record.cause:9}  {'full' if record.full else 'incr':4}  {record.created:>7}  "
        f"{record.updated:>7}  {record.removed:>7}  {record.restored:>8}  {record.failed:>6}  "
        f"{f'{record.halo_requests}/{record.hudu_requests}':>13}  {waits}"
    )
    return f"{line}  stopped: {record.error}" if record.error else line


def took(seconds: float) -> str:
    """`42s`, `3m07s`, `1h05m`."""
    whole = max(0, round(seconds))
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _seconds(record: PassRecord) -> float:
    try:
        started = datetime.fromisoformat(record.started_at)
        return (datetime.fromisoformat(record.finished_at) - started).total_seconds()
    except ValueError:
        return 0.0
