"""The Log tab: the engine's log lines, users' commands (what, on which article, from where),
rate-limit waits, pass starts and ends, each failed article with its fix, and the service the
dashboard is attached to leaving and coming back; one entry per line group, wrapped under its
message, every string shown inert."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual.events import Resize
from textual.widgets import RichLog

from core.events import (
    ActionTaken,
    ArticleChanged,
    EngineLogged,
    Event,
    PassFinished,
    PassStarted,
    RateLimitWaited,
    ServiceAttached,
    ServiceLost,
)
from core.models import ArticleRecord
from tui.pass_text import pass_log_line
from tui.times import clock_time, parse_time
from tui.untrusted import NO_KNOWN_FIX, shown

LEVEL_STYLES = {"DEBUG": "dim", "INFO": "", "WARNING": "yellow", "ERROR": "bold red"}
LEVELS_SHOWN = {"": "every level", "WARNING": "warnings and errors", "ERROR": "errors only"}
"""`e` steps through these: the lowest level shown, and how the border says it."""
RANK = {"DEBUG": 0, "INFO": 1, "WARNING": 2, "ERROR": 3, "CRITICAL": 4}
WRITTEN_AT_ONCE = 400
"""At most this many entries are written when the tab is first shown, at a new width, or for a
new search or level (~2 ms an entry: 4,000 held the dashboard 7 s); the search finds the rest."""


class Entry:
    """One entry; its line (a grid of time, level and message) is made when it is first
    written, so entries that come while the tab is hidden cost only their text."""

    __slots__ = ("_line", "at", "level", "message", "words")

    def __init__(self, at: str, level: str, message: Text) -> None:
        self.at = at
        self.level = level
        self.message = message
        self.words = f"{level} {message.plain}".casefold()
        """The entry's text, casefolded, for the search."""
        self._line: Table | None = None

    @property
    def line(self) -> Table:
        if self._line is None:
            line = Table.grid(padding=(0, 1), expand=True)
            line.add_column(no_wrap=True, style="dim")
            line.add_column(no_wrap=True, width=7, style=LEVEL_STYLES.get(self.level, ""))
            line.add_column(ratio=1, overflow="fold")
            line.add_row(self.at, self.level, self.message)
            self._line = line
        return self._line


def failure_message(record: ArticleRecord) -> Text:
    """`“Title” #12 (Acme) failed: HTTP 400: …` and, on its own line, the fix (or that hhsync
    knows none)."""
    message = Text.assemble(
        ("“", ""),
        (shown(record.title), "bold"),
        (f"” #{record.hudu_id} ({shown(record.scope)}) failed", ""),
    )
    error = shown(record.error or record.reason or "no error recorded", one_line=False)
    status = f"HTTP {record.http_status}: " if record.http_status else ""
    message.append(f": {status}{error}")
    if record.hint:
        message.append("\nFix: ", "bold yellow")
        message.append(shown(record.hint, one_line=False), "yellow")
    else:
        message.append(f"\n{NO_KNOWN_FIX}", "dim")
    return message


class EventLog(RichLog):
    """Keeps the last `max_lines` entries, also while the tab has never been shown."""

    def __init__(
        self, *, max_lines: int, now: Callable[[], datetime], id: str | None = None
    ) -> None:
        super().__init__(
            id=id, max_lines=max_lines, wrap=True, min_width=20, markup=False, highlight=False
        )
        self._now = now
        self._entries: deque[Entry] = deque(maxlen=max_lines)
        """Every entry kept, to wrap them again at a new width (RichLog keeps only lines)."""
        self._width = 0
        """The width entries are written at now; 0 while the tab is hidden."""
        self._wrapped_at = 0
        """The width the log's lines were wrapped at (0: none were, or they no longer hold)."""
        self._held: list[Entry] = []
        """Entries shown by the search and level that came while the tab was hidden."""
        self._left_out = 0
        """Entries the search and level show that were not written (`WRITTEN_AT_ONCE`)."""
        self._sized = False
        """The log has had a size (a first show before it has none to wrap at)."""
        self.search_words: list[str] = []
        self._matching = 0
        """Entries kept that the search and level show."""
        self.lowest = ""
        """The lowest level shown (a key of `LEVELS_SHOWN`)."""

    def on_resize(self, event: Resize) -> None:
        self._sized = True
        self.rewrap()

    def on_show(self) -> None:
        if self._sized:
            self.call_after_refresh(self.rewrap)

    def rewrap(self) -> None:
        """Shown again or resized: the entries that came while the tab was hidden are written,
        or, at a new width, every entry is wrapped again (~2 ms an entry: writing them all
        each time the tab was shown held a dashboard with 4,000 entries 7 s)."""
        width = self._width = self.scrollable_content_region.width
        if not width:
            return
        if width != self._wrapped_at:
            self._write_all()
            return
        for entry in self._held:
            self.write(entry.line, expand=True)
        self._held.clear()

    def _write_all(self) -> None:
        """Write the entries the search and level show, the last `WRITTEN_AT_ONCE` of them."""
        self.clear()
        self._held.clear()
        self._wrapped_at = self._width
        wanted = [entry for entry in self._entries if self._wanted(entry)]
        self._matching = len(wanted)
        self._left_out = max(0, len(wanted) - WRITTEN_AT_ONCE) if self._width else 0
        if self._width:
            for entry in wanted[self._left_out :]:
                self.write(entry.line, expand=True)
        self.show_position()

    def _wanted(self, entry: Entry) -> bool:
        if self.lowest and RANK.get(entry.level, 1) < RANK[self.lowest]:
            return False
        return all(word in entry.words for word in self.search_words)

    def search(self, text: str) -> None:
        """Show only the entries holding every word of `text` (case ignored)."""
        words = text.casefold().split()
        if words != self.search_words:
            self.search_words = words
            self._write_all()

    def cycle_level(self) -> str:
        """Show the next level filter; says which."""
        levels = list(LEVELS_SHOWN)
        self.lowest = levels[(levels.index(self.lowest) + 1) % len(levels)]
        self._write_all()
        return LEVELS_SHOWN[self.lowest]

    def show_position(self) -> None:
        """`12 of 340 entries · warnings and errors · “vpn”` in the bottom border."""
        total = len(self._entries)
        filters = [LEVELS_SHOWN[self.lowest]] if self.lowest else []
        if self.search_words:
            filters.append(f"“{' '.join(self.search_words)}”")
        if filters:
            text = f" {self._matching:,} of {total:,} entries · {' · '.join(filters)} "
        else:
            text = f" {total:,} entries "
        if self._left_out:
            text = f" the last {self._matching - self._left_out:,} shown (/ finds older) ·{text}"
        self.border_subtitle = shown(text)

    def on_hide(self) -> None:
        self._width = 0  # a hidden log must not wrap what is written at a width of 0

    def write_entry(self, level: str, message: str | Text, at: datetime | None = None) -> None:
        """One entry: time and level, then the message wrapped under itself. A string is shown
        inert here; a `Text` must be built from inert strings (`failure_message`)."""
        self._add_entry(level, message, at)
        self.show_position()

    def _add_entry(self, level: str, message: str | Text, at: datetime | None = None) -> None:
        if isinstance(message, str):
            message = Text(shown(message, one_line=False))
        entry = Entry(clock_time(at or self._now()), shown(level.upper()), message)
        entries = self._entries
        if len(entries) == entries.maxlen and self._wanted(entries[0]):
            self._matching -= 1
        entries.append(entry)
        if self._wanted(entry):
            self._matching += 1
            if self._width:
                self.write(entry.line, expand=True)
            elif self._wrapped_at and len(self._held) < (entries.maxlen or 0):
                self._held.append(entry)  # written when the tab is shown (`rewrap`)
            else:  # none written yet, or more came than it keeps: all are written then
                self._wrapped_at = 0
                self._held.clear()

    def write_journal(self, journal: Iterable[Event], failures: dict[int, ArticleRecord]) -> None:
        """A tick's journal, in order; a failed article is written only if it is in
        `failures` (failed anew), so a failed row that merely changes is not logged twice.
        The border's count is updated once for all."""
        for event in journal:
            if isinstance(event, EngineLogged):
                self._add_entry(event.level, event.message, event.at)
            elif isinstance(event, ArticleChanged):
                record = failures.pop(event.record.hudu_id, None)
                if record is not None:
                    at = parse_time(record.last_attempt_at) or None
                    self._add_entry("WARNING", failure_message(record), at)
            elif isinstance(event, ActionTaken):
                said = event.describe()
                self._add_entry("INFO", said[:1].upper() + said[1:], event.at)
            elif isinstance(event, RateLimitWaited):
                wait = f"{event.service}: {event.reason}, waiting {event.seconds:.0f}s"
                self._add_entry("INFO", wait)
            elif isinstance(event, PassStarted):
                kind = "Full pass" if event.full else "Pass"
                self._add_entry("INFO", f"{kind} started", event.started_at)
            elif isinstance(event, PassFinished):
                level = "ERROR" if event.error else "WARNING" if event.failed else "INFO"
                self._add_entry(level, pass_log_line(event), event.finished_at)
            elif isinstance(event, ServiceAttached):
                self._add_entry(
                    "INFO",
                    f"Attached to the hhsync service (pid {event.pid}, version {event.version})"
                    f" on {event.socket}: the tables show its rows",
                )
            elif isinstance(event, ServiceLost):
                self._add_entry(
                    "WARNING", f"The service stopped answering ({event.reason}); reconnecting…"
                )
        self.show_position()
