"""Every key of the dashboard, and the two views built from them: the help screen's sections and
the command palette's entries (so neither can drift from the keys)."""

from __future__ import annotations

from typing import Any, NamedTuple

from textual.app import App
from textual.binding import Binding

TABLE_ACTIONS = ("resync", "unlink", "detail")
"""App actions that act on the selected article."""

APP_BINDINGS: list[Binding] = [
    Binding("s", "sync(False)", "Sync", id="sync", tooltip="Run an incremental pass now"),
    Binding(
        "S",
        "sync(True)",
        "Full sync",
        show=False,
        id="full-sync",
        tooltip="Compare every article with Halo (queued during a pass)",
    ),
    Binding("r", "resync", "Resync", id="resync", tooltip="Push the article again, even unchanged"),
    Binding(
        "u",
        "unlink",
        "Unlink",
        id="unlink",
        tooltip="Stop syncing the article; its Halo copy stays",
    ),
    Binding(
        "R",
        "retry_failed",
        "Retry failed",
        id="retry-failed",
        tooltip="Try every failed article again now",
    ),
    Binding(
        "slash",
        "filter",
        "Filter",
        id="filter",
        tooltip="Filter the table as you type",
        priority=True,  # focus moves before the keys typed after it are routed
    ),
    Binding("p", "pause", "Pause", id="pause", tooltip="Pause automatic passes"),
    Binding("p", "resume", "Resume", id="resume", tooltip="Resume automatic passes"),
    Binding("1", "show_tab('synced')", "Synced tab", show=False, id="tab-synced"),
    Binding("2", "show_tab('pending')", "Pending tab", show=False, id="tab-pending"),
    Binding("3", "show_tab('skipped')", "Skipped tab", show=False, id="tab-skipped"),
    Binding("4", "show_tab('failed')", "Failed tab", show=False, id="tab-failed"),
    Binding("5,l", "show_tab('log')", "Log tab", show=False, id="tab-log"),
    Binding("6,h", "show_tab('history')", "History tab", show=False, id="tab-history"),
    Binding("left_square_bracket", "cycle_tab(-1)", "Previous tab", show=False),
    Binding("right_square_bracket", "cycle_tab(1)", "Next tab", show=False),
    Binding("escape", "clear_filter", "Clear filter", show=False),
    Binding("question_mark,f1", "help", "Help", id="help", tooltip="Show every key"),
    Binding("q", "quit", "Quit", id="quit", tooltip="Asks first if a pass is running"),
    Binding("ctrl+c", "force_quit", "Quit now", show=False, priority=True),
]

TABLE_BINDINGS: list[Binding] = [
    Binding("enter", "select_cursor", "Detail", tooltip="Show everything about the article"),
    Binding("g,home", "scroll_top", "Top", show=False),
    Binding("G,end", "scroll_bottom", "Bottom", show=False),
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
]

FILTER_BINDINGS: list[Binding] = [
    Binding("escape", "app.close_filter", "Clear filter"),
    Binding("down", "app.focus_table", "Back to the table", show=False),
]

NOT_IN_PALETTE = ("force_quit", "clear_filter")
"""`ctrl+c` needs no entry, and `esc` clears the filter only from the table."""


def help_sections() -> list[tuple[str, list[Binding]]]:
    """Every key, grouped: the app's, the table's, the filter bar's and the dialogs'."""

    def actions(*prefixes: str) -> list[Binding]:
        return [b for b in APP_BINDINGS if b.action.startswith(prefixes)]

    pause = [
        Binding(
            "p",
            "pause",
            "Pause / Resume",
            tooltip="Automatic passes off or on; a running pass finishes",
        )
    ]
    moves = [
        Binding("up,k", "", "Move up"),
        Binding("down,j", "", "Move down"),
        Binding("pageup,pagedown", "", "Page"),
    ]
    return [
        ("Sync", actions("sync", "retry_failed") + pause),
        ("Article (selected row)", actions(*TABLE_ACTIONS) + TABLE_BINDINGS[:1]),
        ("Tabs", actions("show_tab", "cycle_tab")),
        ("Table", moves + TABLE_BINDINGS[1:3]),
        (
            "Filter",
            [
                *actions("filter", "clear_filter"),
                Binding("enter", "", "Keep the filter"),
                *FILTER_BINDINGS,
            ],
        ),
        (
            "Dialogs",
            [
                Binding("y", "", "Confirm (unlink, quit)"),
                Binding("n,escape", "", "Cancel"),
                Binding("escape,enter,q", "", "Close details or help"),
            ],
        ),
        (
            "App",
            [
                *actions("help", "quit", "force_quit"),
                Binding("ctrl+p", "command_palette", "Command palette"),
            ],
        ),
    ]


class PaletteEntry(NamedTuple):
    name: str
    help: str
    action: str


def palette_entries(app: App[Any]) -> list[PaletteEntry]:
    """The app's key actions that can run now, with their key in the help line."""
    entries: list[PaletteEntry] = []
    for binding in APP_BINDINGS:
        action = binding.action
        if not binding.description or action in NOT_IN_PALETTE:
            continue
        name, _, _ = action.partition("(")
        if app.check_action(name, ()) is False:
            continue
        key = app.get_key_display(Binding(binding.key.split(",")[0], ""))
        help_text = f"{binding.tooltip} · {key}" if binding.tooltip else key
        entries.append(PaletteEntry(binding.description, help_text, action))
        if action == "unlink" and app.check_action("detail", ()) is not False:
            entries.append(
                PaletteEntry("Detail", "Show everything about the article · enter", "detail")
            )
    return entries
