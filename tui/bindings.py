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
    Binding(
        "space",
        "mark",
        "Mark",
        show=False,
        id="mark",
        tooltip="Mark or unmark the row; r and u then act on every marked row",
    ),
    Binding(
        "M",
        "mark_all",
        "Mark all",
        show=False,
        id="mark-all",
        tooltip="Mark every row shown (a filter's matches); again clears the marks",
    ),
    Binding(
        "z",
        "undo_unlink",
        "Undo unlink",
        show=False,
        id="undo-unlink",
        tooltip="Link the articles of the last unlink again to their Halo copies",
    ),
    Binding(
        "y",
        "copy",
        "Copy",
        show=False,
        id="copy",
        tooltip="Copy the Hudu or Halo link or id to the clipboard (works over SSH)",
    ),
    Binding(
        "greater_than_sign",
        "sort_column(1)",
        "Sort by the next column",
        show=False,
        id="sort-next",
        tooltip="The header shows ▲ or ▼ on the sorted column",
    ),
    Binding(
        "less_than_sign",
        "sort_column(-1)",
        "Sort by the previous column",
        show=False,
        id="sort-previous",
        tooltip="Or click a column's header (again: the other way)",
    ),
    Binding(
        "I",
        "sort_reverse",
        "Reverse the order",
        show=False,
        id="sort-reverse",
        tooltip="Ascending or descending; each tab keeps its own order",
    ),
    Binding("ctrl+d", "half_page(1)", "Half page down", show=False, id="half-page-down"),
    Binding("ctrl+u", "half_page(-1)", "Half page up", show=False, id="half-page-up"),
    Binding(
        "slash",
        "log_search",
        "Search the log",
        show=False,
        id="log-search",
        tooltip="The Log tab shows the entries with every word typed",
        priority=True,
    ),
    Binding(
        "e",
        "log_level",
        "Log level shown",
        show=False,
        id="log-level",
        tooltip="The Log tab shows every level, warnings and errors, or errors only",
    ),
    Binding("p", "pause", "Pause", id="pause", tooltip="Pause automatic passes"),
    Binding("p", "resume", "Resume", id="resume", tooltip="Resume automatic passes"),
    # The tab keys act as they arrive (`priority`), as `/` does, so `2/` in one burst filters
    # the Pending tab; typed into an input they are text (`check_action`).
    *(
        Binding(
            key,
            f"show_tab('{tab}')",
            f"{tab.capitalize()} tab",
            show=False,
            id=f"tab-{tab}",
            priority=True,
        )
        for key, tab in (
            ("1", "synced"),
            ("2", "pending"),
            ("3", "skipped"),
            ("4", "failed"),
            ("5,l", "log"),
            ("6,h", "history"),
        )
    ),
    Binding("left_square_bracket", "cycle_tab(-1)", "Previous tab", show=False, priority=True),
    Binding("right_square_bracket", "cycle_tab(1)", "Next tab", show=False, priority=True),
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
    """Every key, grouped: the app's, the table's, the filter's and the dialogs'."""

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
        ("Article (selected row)", actions(*TABLE_ACTIONS, "copy") + TABLE_BINDINGS[:1]),
        (
            "Marked rows",
            [
                *actions("mark"),
                Binding("r", "", "Resync the marked rows", tooltip="One question lists them"),
                Binding("u", "", "Unlink the marked rows", tooltip="One question lists them"),
                *actions("undo_unlink"),
            ],
        ),
        ("Tabs", actions("show_tab", "cycle_tab")),
        ("Table", moves + actions("half_page") + TABLE_BINDINGS[1:3]),
        ("Sort (each tab its own)", actions("sort_")),
        (
            "Log tab",
            [
                *actions("log_"),
                Binding("enter", "", "Keep the search"),
                Binding("escape", "", "Clear the search"),
            ],
        ),
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
