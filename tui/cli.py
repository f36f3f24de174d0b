"""`hhsync-tui`: the dashboard's command line.

Exit status: 0 after a normal quit; 2 for configuration and store errors (a bad setting, or the
mapping file held by another hhsync process, which is named by its pid); 130 when interrupted
before the dashboard opened. The engine is opened before the first frame is drawn, so these
errors are one line on a normal terminal, never a flash of the dashboard.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from core.config import ConfigError, load_settings
from core.errors import HhsyncError
from core.logs import configure_logging, mask

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


async def run_dashboard(engine: Engine, *, mouse: bool) -> int:
    """Open the engine (taking the store lock), run the app on the same loop, close."""
    try:
        await engine.open()
        from tui.app import make_app

        app = make_app(engine)
        await app.run_async(mouse=mouse)
        return app.return_code or EXIT_OK
    finally:
        await engine.close()


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
    if demo:
        from core.demo import build_demo_engine

        engine = build_demo_engine(db_path)
    else:
        try:
            settings = load_settings()
        except ConfigError as exc:
            fail(str(exc))
        from core.engine import build_engine

        secrets = settings.secrets()
        engine = build_engine(settings, db_path)
    configure_logging(secrets, stderr_level=None)
    try:
        status = asyncio.run(run_dashboard(engine, mouse=not no_mouse))
    except HhsyncError as exc:
        fail(mask(str(exc), secrets), exc.hint)
    except KeyboardInterrupt:
        fail("interrupted", status=EXIT_INTERRUPTED)
    sys.exit(status)
