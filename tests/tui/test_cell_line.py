"""A screen of rows paints the same lines as Textual's own `DataTable` would, with less work:
no Rich wrapping and line splitting per cell, the table's style and the app's theme looked up
once, not per line (the work is counted; the timings are bench/bench_tui.py's)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from rich.console import Console
from rich.padding import Padding
from rich.style import Style
from rich.text import Text
from textual.dom import DOMNode
from textual.renderables.styled import Styled
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable

from core.models import Status
from tests.tui.fakes import FakeEngine, make_record
from tests.tui.pilot import app_for
from tui.cell_line import cell_segments, one_line_text

CONSOLE = Console(width=120)
UNDER = Style(color="white", bgcolor="black") + Style.from_meta({"row": 3, "column": 1})
OVER = Style(italic=True)


def stock_line(text: Text, width: int) -> Strip:
    """What `DataTable._render_cell` paints for a one-line cell with a padding of one."""
    options = CONSOLE.options.update_dimensions(width, 1).update(no_wrap=True)
    lines = CONSOLE.render_lines(Styled(Padding(text, (0, 1)), UNDER, OVER), options)
    return Strip(lines[0]).simplify()


PLAINS = ["", "a", "  spaced  ", "How to set up the VPN", "日本語のテキスト"]


@pytest.mark.parametrize("justify", [None, "left", "right"])
@pytest.mark.parametrize("overflow", [None, "ellipsis", "crop"])
@pytest.mark.parametrize("width", [3, 4, 12, 40])
@pytest.mark.parametrize("plain", PLAINS)
def test_a_cell_paints_as_rich_paints_it(
    justify: Any, overflow: Any, width: int, plain: str
) -> None:
    for style, spans in (("", False), ("bold", False), ("", True), ("bold", True)):
        text = Text(plain, style=style, justify=justify, overflow=overflow, no_wrap=True)
        if spans and len(plain) > 2:
            text.stylize("red", 0, 2)
        line = one_line_text(text)
        assert line is not None
        fast = Strip(cell_segments(CONSOLE, line, width, 1, UNDER, OVER)).simplify()
        assert fast == stock_line(text or Text(), width), (
            justify,
            overflow,
            width,
            plain,
            style,
            spans,
        )


def test_text_on_more_than_one_line_is_painted_the_stock_way() -> None:
    assert one_line_text(Text("two\nlines")) is None
    assert one_line_text(Text("a\ttab")) is None
    assert one_line_text(Text("centred", justify="center")) is None
    assert one_line_text(Padding("boxed", 1)) is None


async def test_the_dashboard_paints_its_rows_as_the_stock_table_would_without_rich_layout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = [make_record(i, Status.SYNCED) for i in range(1, 31)]
    records[2] = make_record(3, Status.SYNCED, title="A title long enough to be cut " * 4)
    records[4] = make_record(5, Status.SYNCED, halo_id=None)  # an empty cell, styled
    app = app_for(FakeEngine(records))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.dashboard.table(Status.SYNCED)
        table.move_cursor(row=2)
        await pilot.pause()
        region = table.size.region
        laid_out: list[Any] = []
        render_lines = Console.render_lines

        def counted(console: Console, *args: Any, **kwargs: Any) -> Any:
            laid_out.append(args[0])
            return render_lines(console, *args, **kwargs)

        monkeypatch.setattr(Console, "render_lines", counted)
        table.repaint_cells()
        fast = [strip.simplify() for strip in table.render_lines(region)]
        body = [r for r in laid_out if isinstance(r, Styled) and not _is_header(r, table)]
        assert body == []  # no body cell went through Rich's line layout
        monkeypatch.setattr(type(table), "_render_cell", DataTable._render_cell)
        monkeypatch.setattr(type(table), "_render_line_in_row", DataTable._render_line_in_row)
        table.repaint_cells()
        stock = [strip.simplify() for strip in table.render_lines(region)]
        assert len(laid_out) > 30  # the stock way lays out every cell
        assert fast == stock


def _is_header(renderable: Styled, table: DataTable[Any]) -> bool:
    labels = {str(column.label) for column in table.columns.values()}
    inner = renderable.renderable
    return isinstance(inner, Padding) and str(inner.renderable) in labels


async def test_a_paint_works_out_the_tables_style_once_not_per_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = app_for(FakeEngine([make_record(i, Status.SYNCED) for i in range(1, 60)]))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.dashboard.table(Status.SYNCED)
        worked_out: list[object] = []
        stock: Any = vars(DOMNode)["rich_style"].fget

        def counted(node: Widget) -> Style:
            if node is table:
                worked_out.append(node)
            return cast(Style, stock(node))

        monkeypatch.setattr(Widget, "rich_style", property(counted))
        table.repaint_cells()
        lines = table.render_lines(table.size.region)
        assert len(lines) > 30
        assert len(worked_out) == 1
        assert table.rich_style == stock(table)  # outside a paint: worked out each time


async def test_the_theme_is_looked_up_once_and_again_when_it_changes() -> None:
    app = app_for(FakeEngine([make_record(i, Status.SYNCED) for i in range(1, 60)]))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        looked_up: list[str] = []
        get_theme = app.get_theme

        def counted(name: str) -> Any:
            looked_up.append(name)
            return get_theme(name)

        app.get_theme = counted  # type: ignore[method-assign, assignment]
        app.dashboard.table(Status.SYNCED).repaint_cells()
        app.dashboard.refresh()
        await pilot.pause()
        assert looked_up == []  # every line painted again, the theme kept
        app.theme = "textual-light"
        await pilot.pause()
        assert app.current_theme.name == "textual-light"
        assert looked_up
