"""`hhsync-tui`: the dashboard's command line.

When a service (`hhsync run`) holds the mapping file, the dashboard attaches to it: quitting
leaves the service syncing. Otherwise it embeds the engine, and automatic syncing stops when it
quits (`--demo` always embeds its seeded, in-process Hudu and Halo). Either way a line printed
after the dashboard closes says which.

Exit status: 0 after a normal quit; 2 for configuration and store errors (a bad setting, or the
mapping file held by another hhsync process, which is named by its pid); 130 when interrupted
before the dashboard opened. The engine is opened before the first frame is drawn, so these
errors are one line on a normal terminal, never a flash of the dashboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from core.attach import EnginePort, open_engine
from core.config import ConfigError, load_settings
from core.errors import HhsyncError
from core.events import ServiceAttached
from core.logs import configure_logging, mask
from core.remote import RemoteEngine
from tui import notices  # plain Python: Textual is imported later, once its knobs are set

if TYPE_CHECKING:
    from core.engine import Engine

EXIT_OK, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 2, 130
COLOR_SYSTEMS = ("auto", "truecolor", "256", "standard", "none")


def fail(message: str, hint: str = "", status: int = EXIT_CONFIG) -> NoReturn:
    click.echo(f"hhsync-tui: {message}" + (f" — {hint}" if hint else ""), err=True)
    sys.exit(status)


def apply_terminal_options(color_system: str, theme: str | None) -> None:
    """Set Textual's environment knobs; they are read when Textual is first imported."""
    if color_system == "none":
        os.environ["NO_COLOR"] = "1"
    elif color_system != "auto":
        os.environ["TEXTUAL_COLOR_SYSTEM"] = color_system
    if theme:
        os.environ["TEXTUAL_THEME"] = theme


@contextlib.asynccontextmanager
async def embedded(engine: Engine) -> AsyncIterator[Engine]:
    """An engine of the dashboard's own (the demo's): opened, and closed when it quits."""
    try:
        await engine.open()
        yield engine
    finally:
        await engine.close()


def attached_service(engine: EnginePort) -> ServiceAttached | None:
    """The service `engine` follows, as it announced itself; None for an embedded engine."""
    service = engine.service if isinstance(engine, RemoteEngine) else None
    return ServiceAttached(service.pid, service.version, service.socket) if service else None


async def run_dashboard(
    opening: AbstractAsyncContextManager[EnginePort], *, mouse: bool
) -> tuple[int, str]:
    """Open the engine (attach, or take the store lock), run the app on the same loop, close;
    the exit status and the line to print once the dashboard is gone."""
    async with opening as engine:
        from tui.app import make_app

        app = make_app(engine, service=attached_service(engine))
        await app.run_async(mouse=mouse)
        return app.return_code or EXIT_OK, app.farewell


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--demo",
    is_flag=True,
    help="Sync a seeded, in-process Hudu and Halo: no accounts, no .env, a throw-away mapping.",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Mapping file to use instead of HHSYNC_DB (with --demo: keep the demo's mapping).",
)
@click.option("--no-mouse", is_flag=True, help="Do not capture the mouse (keys only).")
@click.option(
    "--color-system",
    type=click.Choice(COLOR_SYSTEMS),
    default="auto",
    show_default=True,
    help="Colours to use; over SSH COLORTERM is rarely forwarded, so auto often means 256.",
)
@click.option("--theme", help="A Textual theme, e.g. ansi-dark to follow the terminal's palette.")
def main(
    demo: bool, db_path: Path | None, no_mouse: bool, color_system: str, theme: str | None
) -> None:
    """Watch and steer the Hudu → HaloPSA knowledge-base sync."""
    apply_terminal_options(color_system, theme)
    secrets: list[str] = []
    opening: AbstractAsyncContextManager[EnginePort]
    if demo:
        from core.demo import build_demo_engine

        opening = embedded(build_demo_engine(db_path))
    else:
        try:
            settings = load_settings()
        except ConfigError as exc:
            fail(str(exc))
        if db_path is not None:
            settings = settings.model_copy(update={"hhsync_db": db_path})
        secrets = settings.secrets()
        opening = open_engine(settings, follow=False)
    configure_logging(secrets, stderr_level=None)
    try:
        status, farewell = asyncio.run(run_dashboard(opening, mouse=not no_mouse))
    except HhsyncError as exc:
        fail(mask(str(exc), secrets), exc.hint)
    except KeyboardInterrupt:
        fail("interrupted", status=EXIT_INTERRUPTED)
    if farewell:
        click.echo(notices.DEMO_ENDED if demo else farewell)
    sys.exit(status)
