"""`hhsync`: the headless command for cron, systemd and scripts.

Exit status: 0 nothing failed, 1 an article failed, 2 configuration, credential or lock errors.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from core.attach import EnginePort, open_engine
from core.build import build_engine
from core.cli_history import passes_kept, print_history
from core.cli_output import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    ProgressReporter,
    describe,
    echo,
    exit_status_for,
    fail,
    new_command_id,
    print_summary,
    stderr,
    summary_status,
)
from core.config import ConfigError, Settings, load_settings, load_store_settings
from core.engine import Engine
from core.errors import (
    HhsyncError,
)
from core.logs import configure_logging, mask
from core.models import ArticleRecord, Status
from core.remote import ControlClient, find_service
from core.socketpath import socket_path
from core.store import MappingStore
from core.tables import MAX_RUNS
from core.text import displayable

if TYPE_CHECKING:
    from core.emulators.halo import HaloState
    from core.emulators.hudu import HuduState

T = TypeVar("T")


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc))


def run_async(settings: Settings, main: Callable[[], Awaitable[T]]) -> T:
    """Run `main`; turn every expected error into one line and its exit status."""
    configure_logging(settings.secrets())
    try:
        return asyncio.run(main())  # type: ignore[arg-type]
    except HhsyncError as exc:
        fail(mask(str(exc), settings.secrets()), exc.hint, exit_status_for(exc))
    except KeyboardInterrupt:
        fail("interrupted", status=130)


def run_with_engine(
    settings: Settings, body: Callable[[Engine], Awaitable[T]], *, open_store: bool = True
) -> T:
    """Open an embedded engine, run `body`, close it (the service and `doctor`)."""

    async def main() -> T:
        engine = build_engine(settings)
        try:
            if open_store:
                await engine.open()
            return await body(engine)
        finally:
            await engine.close()

    return run_async(settings, main)


def run_command(settings: Settings, body: Callable[[EnginePort], Awaitable[int]]) -> int:
    """Run a command on the service when one answers, else on an embedded engine."""

    async def on_engine() -> int:
        async with open_engine(settings) as engine:
            return await body(engine)

    return run_async(settings, on_engine)


def engine_command(func: Callable[..., Coroutine[Any, Any, int]]) -> Callable[..., None]:
    """A click command body that runs on the engine (the service's or an embedded one) and
    returns the exit status."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        settings = settings_or_exit()
        sys.exit(run_command(settings, lambda engine: func(engine, *args, **kwargs)))

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hhsync")
def main() -> None:
    """Sync Hudu KB articles into the HaloPSA Knowledge Base."""


@main.command()
@click.option("--full", is_flag=True, help="List every Hudu article, not only recent changes.")
@click.option(
    "--dry-run", is_flag=True, help="Print the plan; write nothing to Halo or the mapping."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@click.option("--force", is_flag=True, help="Allow removals beyond the safety cap.")
@engine_command
async def sync(engine: EnginePort, full: bool, dry_run: bool, as_json: bool, force: bool) -> int:
    """Run one sync pass (in the service when one runs) and exit."""
    command_id = new_command_id()
    engine.subscribe(ProgressReporter(stderr, command_id))
    summary = await engine.sync_now(full=full, dry_run=dry_run, force=force, command_id=command_id)
    print_summary(summary, as_json)
    return EXIT_OK if dry_run else summary_status(summary)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts and rows as JSON.")
def status(as_json: bool) -> None:
    """Show what is synced, pending, skipped and failed: the service's rows when one runs,
    else the mapping file's (no network beyond the local socket)."""
    try:
        store = load_store_settings()
        db_path = store.hhsync_db
        records = asyncio.run(service_records(socket_path(db_path, store.hhsync_socket)))
        if records is None:
            records = list(MappingStore.read_only(db_path).records().values())
    except ConfigError as exc:
        fail(str(exc))
    except HhsyncError as exc:
        fail(str(exc), exc.hint)
    counts = {s.value: sum(1 for r in records if r.status is s) for s in Status}
    if as_json:
        rows = [
            {
                "hudu_id": r.hudu_id,
                "title": r.title,
                "scope": r.scope,
                "status": r.status.value,
                "halo_id": r.halo_id,
                "reason": r.reason,
                "error": r.error,
                "hint": r.hint,
            }
            for r in sorted(records, key=lambda r: r.hudu_id)
        ]
        click.echo(json.dumps({**counts, "articles": rows}))
    else:
        echo(", ".join(f"{k} {v}" for k, v in counts.items()) + f"  ({db_path})")
        for rec in sorted(records, key=lambda r: r.hudu_id):
            if rec.status in (Status.FAILED, Status.PENDING):
                echo(f"  {rec.status.value:8} {rec.hudu_id:>7} {rec.title}  {rec.error}")
                if rec.hint:
                    echo(f"           hint: {rec.hint}")
    sys.exit(EXIT_FAILED if counts["failed"] else EXIT_OK)


async def service_records(socket: Path) -> list[ArticleRecord] | None:
    """Every row of the service listening on `socket`, or None when none answers."""
    if await find_service(socket) is None:
        return None
    client = ControlClient(socket)
    try:
        return (await client.snapshot()).records
    finally:
        await client.aclose()


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the passes as JSON.")
@click.option("--limit", type=click.IntRange(1, MAX_RUNS), default=MAX_RUNS, show_default=True)
def history(as_json: bool, limit: int) -> None:
    """Show the last passes, newest first: trigger, counts, requests, rate-limit waits (the
    service's when one runs, else the mapping file's; needs only HHSYNC_DB)."""
    try:
        print_history(asyncio.run(passes_kept(load_store_settings(), limit)), as_json)
    except ConfigError as exc:
        fail(str(exc))
    except HhsyncError as exc:
        fail(str(exc), exc.hint)
    sys.exit(EXIT_OK)


@main.command()
@click.argument("hudu_id", type=int)
@engine_command
async def resync(engine: EnginePort, hudu_id: int) -> int:
    """Push one article now, even if unchanged (relinks an unlinked one)."""
    rec = await engine.resync(hudu_id)
    echo(describe(rec))
    return EXIT_FAILED if rec.status is Status.FAILED else EXIT_OK


@main.command()
@click.argument("hudu_id", type=int)
@engine_command
async def unlink(engine: EnginePort, hudu_id: int) -> int:
    """Stop syncing one article; its Halo copy stays and becomes Halo's to edit."""
    echo(describe(await engine.unlink(hudu_id)))
    return EXIT_OK


@main.command()
@engine_command
async def retry(engine: EnginePort) -> int:
    """Retry every failed article now."""
    command_id = new_command_id()
    engine.subscribe(ProgressReporter(stderr, command_id))
    summary = await engine.retry_failed(command_id=command_id)
    print_summary(summary, as_json=False)
    return summary_status(summary)


@main.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset(yes: bool) -> None:
    """Unlink every article (Halo copies stay; the next resync relinks)."""
    settings = settings_or_exit()
    if not yes:
        click.confirm("Unlink every synced article?", abort=True, err=True)

    async def body(engine: EnginePort) -> int:
        echo(f"unlinked {await engine.reset()} article(s)")
        return EXIT_OK

    sys.exit(run_command(settings, body))


@main.command()
@engine_command
async def pause(engine: EnginePort) -> int:
    """Stop scheduled passes until `hhsync resume` (commands still work)."""
    await engine.pause()
    echo("scheduled passes paused")
    return EXIT_OK


@main.command()
@engine_command
async def resume(engine: EnginePort) -> int:
    """Start scheduled passes again, the next one now."""
    await engine.resume()
    echo("scheduled passes resumed")
    return EXIT_OK


@main.command()
@click.option(
    "--print-systemd-unit",
    "print_unit",
    is_flag=True,
    help="Print a systemd unit running this service (this user, folder and install), and exit.",
)
def run(print_unit: bool) -> None:
    """The service: a pass every HHSYNC_INTERVAL seconds, and the control socket that
    hhsync-tui and the other commands attach to, until SIGTERM or SIGINT (for systemd)."""
    from core.service import ServiceRunningError, run_service
    from core.service.unit import systemd_unit_here
    from core.socketpath import SocketPathError

    if print_unit:
        try:
            unit, notes = systemd_unit_here(load_store_settings())
        except (ConfigError, SocketPathError, OSError) as exc:
            fail(str(exc), getattr(exc, "hint", ""))
        click.echo(unit, nl=False)
        for note in notes:
            echo(f"hhsync: note: {note}", err=True)
        return
    settings = settings_or_exit()
    try:
        socket = socket_path(settings.hhsync_db, settings.hhsync_socket)
    except SocketPathError as exc:
        fail(str(exc), exc.hint)

    async def body(engine: Engine) -> int:
        engine.subscribe(ProgressReporter(stderr))
        try:
            await run_service(
                engine,
                socket,
                secrets=settings.secrets(),
                on_ready=lambda: echo(f"hhsync: serving on {socket} (pid {os.getpid()})", err=True),
            )
        except (SocketPathError, ServiceRunningError) as exc:  # the socket cannot be served
            echo(f"hhsync: error: {exc} — {exc.hint}", err=True)
            return EXIT_CONFIG
        echo("hhsync: stopped", err=True)
        return EXIT_OK

    sys.exit(run_with_engine(settings, body))


@main.command()
@click.option(
    "--probe",
    is_flag=True,
    help="Also write one test article to Halo, read it back, look it up and remove it; "
    "hhsync then adapts to what Halo kept (stop the service first).",
)
@click.option(
    "--alert-test",
    is_flag=True,
    help="Also send one test message to HHSYNC_ALERT_URL and say whether it was delivered.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the checks and facts as JSON.")
def doctor(probe: bool, alert_test: bool, as_json: bool) -> None:
    """Check configuration, reachability, credentials, scopes, FAQ lists, customers and the
    last probe's verdicts; say what to fix. Only --probe writes to Halo; only --alert-test
    posts to the alert webhook.

    Exit status: 0 fine, 1 the probe found crash recovery degraded, 2 something to fix."""
    checks: list[dict[str, object]] = []

    def show(ok: bool | None, line: str) -> None:
        line = mask(line, secrets)
        if as_json:
            checks.append({"ok": ok, "line": displayable(line)})
        else:
            echo({True: "✓ ", False: "✗ ", None: "! "}[ok] + line)

    secrets: list[str] = []
    try:
        settings = load_settings()
    except ConfigError as exc:
        show(False, f"configuration: {exc}")
        if as_json:
            click.echo(json.dumps({"ok": False, "checks": checks}))
        sys.exit(EXIT_CONFIG)
    secrets = settings.secrets()
    show(True, f"configuration (mapping file {settings.hhsync_db})")

    async def body(engine: Engine) -> int:
        from core.doctor import run_doctor, stored_profile

        status, report = await run_doctor(engine, show, probe=probe, alert_test=alert_test)
        if as_json:
            profile = report.profile if report is not None else stored_profile(engine)
            facts = [fact.as_json() for fact in profile.facts]
            probe_json = report.as_json() if report is not None else None
            click.echo(
                json.dumps(
                    {
                        "ok": status == EXIT_OK,
                        "checks": checks,
                        "probe": probe_json,
                        "probed_at": profile.probed_at,
                        "probe_kind": profile.kind.value,
                        "facts": facts,
                    }
                )
            )
        return status

    sys.exit(run_with_engine(settings, body, open_store=False))


def _load_seed(hudu: HuduState, halo: HaloState, seed: str) -> int:
    """Seed the emulators as `--seed` says (the built-in seeds give Halo customers for the
    Hudu companies); the number of articles."""
    from core.emulators import seed as seeds

    if seed == "empty":
        return 0
    if seed in ("demo", "small"):
        count = (seeds.seed_demo if seed == "demo" else seeds.seed_small)(hudu).articles
        seeds.seed_customers(hudu, halo)
        return count
    try:
        return seeds.seed_from_file(hudu, Path(seed)).articles
    except ValueError as exc:  # names the file and the bad entry
        fail(str(exc))
    except OSError as exc:
        fail(
            f"seed file {seed}: {exc.strerror or exc}",
            "use --seed small, demo, empty, or a JSON dataset file",
        )


@main.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port; the .env lines say which).",
)
@click.option(
    "--seed",
    default="small",
    show_default=True,
    help="demo (about 2,000 articles), small, empty, or a JSON dataset FILE.",
)
@click.option(
    "--latency",
    type=click.FloatRange(min=0),
    default=0.0,
    help="Seconds added to every request.",
)
def emulate(port: int, seed: str, latency: float) -> None:
    """Serve the Hudu and Halo emulators on 127.0.0.1 and print the .env lines for them.

    The lines are printed (and flushed) once the port is listening; SIGINT or SIGTERM stops the
    emulators with exit status 0."""
    from core.emulators.server import bind_loopback, create_emulator_app, env_lines, new_states
    from core.emulators.server import run as serve

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        try:
            sock = bind_loopback(port)
        except OSError as exc:
            fail(
                f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}",
                "choose another --port (0 picks a free one)",
            )
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        hudu, halo = new_states(base_url)
        count = _load_seed(hudu, halo, seed)
        hudu.switches.latency = halo.switches.latency = latency
        echo("# Hudu and Halo emulators; put these lines in .env (or export them):")
        for line in env_lines(base_url):
            echo(line)
        sys.stdout.flush()
        echo(f"# serving {count} Hudu articles on {base_url} — Ctrl-C stops", err=True)
        serve(create_emulator_app(hudu, halo), sock)
    except KeyboardInterrupt:
        pass
    echo("# emulators stopped", err=True)
