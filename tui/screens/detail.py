"""`enter`: everything the mapping knows about one article, kept live while it is open."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from core.models import ArticleRecord, Status
from core.text import has_bidi_controls
from tui.columns import long_time
from tui.untrusted import BIDI_TITLE_NOTE, NO_KNOWN_FIX, shown, shown_record

STATUS_STYLE = {
    Status.SYNCED: "bold green",
    Status.PENDING: "bold cyan",
    Status.SKIPPED: "bold yellow",
    Status.FAILED: "bold red",
}


def _link(url: str) -> Text:
    """The URL, clickable where the terminal allows; made inert first, since the link target
    travels to the terminal too."""
    if not url:
        return Text("—", style="dim")
    url = shown(url)
    return Text(url, style=Style(link=url, underline=True))


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.0f} kB"


def render_record(record: ArticleRecord, halo_url: str) -> RenderableType:
    """Every fact of one row; its strings are drawn from `shown_record`, so none is raw."""
    disguised = has_bidi_controls(record.title)
    record = shown_record(record)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    status = Text(str(record.status), style=STATUS_STYLE.get(record.status, "bold"))
    if record.reason and record.reason != record.status:
        status.append(f" · {record.reason}", style="")
    company = record.company_id is not None
    rows: list[tuple[str, RenderableType]] = [("Title", Text(record.title))]
    if disguised:
        rows.append(("", Text(BIDI_TITLE_NOTE, style="bold yellow")))
    rows += [
        ("Status", status),
        ("Scope", Text(record.scope + (f"  (company {record.company_id})" if company else ""))),
        ("Hudu", Text.assemble((f"#{record.hudu_id}  ", ""), _link(record.hudu_url))),
    ]
    if record.halo_id is not None:
        halo = Text.assemble((f"#{record.halo_id}  ", ""), _link(halo_url))
        if record.faqlist_id is not None:
            named = f"{record.faqlist} (id {record.faqlist_id})" if record.faqlist else ""
            halo.append(f"  FAQ list {named or record.faqlist_id}", style="dim")
        rows.append(("Halo", halo))
    else:
        rows.append(("Halo", Text("not in Halo", style="dim")))
    rows += [
        ("Edited in Hudu", Text(long_time(record.hudu_updated_at))),
        ("First synced", Text(long_time(record.first_synced_at))),
        ("Last synced", Text(long_time(record.last_synced_at))),
        ("Last attempt", Text(long_time(record.last_attempt_at))),
        ("Attempts", Text(str(record.attempts))),
    ]
    if record.next_retry_at:
        rows.append(("Next retry", Text(long_time(record.next_retry_at), style="yellow")))
    if record.error:
        rows.append(("Last error", Text(record.error, style="red")))
    if record.http_status:
        rows.append(("HTTP status", Text(str(record.http_status), style="red")))
    if record.hint:
        rows.append(("Hint", Text(record.hint, style="bold yellow")))
    elif record.error:
        rows.append(("Hint", Text(NO_KNOWN_FIX, style="italic")))
    if record.attachments:
        rows.append(("Files sent", Text(", ".join(record.attachments))))
    for index, skipped in enumerate(record.skipped_files):
        rows.append(
            (
                "Files not sent" if index == 0 else "",
                Text(f"{skipped.filename} ({_size(skipped.size)}): {skipped.reason}", "yellow"),
            )
        )
    for name, value in rows:
        grid.add_row(name, value)
    return Group(grid)


class DetailScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "dismiss", "Close"),
        Binding("r", "app.resync", "Resync"),
        Binding("u", "app.unlink", "Unlink"),
        Binding("y", "app.copy", "Copy"),
    ]

    def __init__(self, record: ArticleRecord, halo_url: str) -> None:
        super().__init__()
        self.hudu_id = record.hudu_id
        self.record = record
        self.halo_url = halo_url

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-box") as box:
            box.border_title = f"Article {self.hudu_id}"
            yield Static(render_record(self.record, self.halo_url), id="detail-body")
            yield Label("r resync · u unlink · y copy · esc close", id="detail-keys")
        yield Footer(compact=True, show_command_palette=False)

    def show(self, record: ArticleRecord, halo_url: str) -> None:
        self.record = record
        self.halo_url = halo_url
        self.query_one("#detail-body", Static).update(render_record(record, halo_url))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
