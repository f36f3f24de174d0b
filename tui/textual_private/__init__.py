"""Every use of Textual's private API, in one package (Textual is pinned in pyproject.toml).

Two things the dashboard needs that Textual offers no public way to do:

- `VirtualDataTable`: a `DataTable` whose rows are one line each, with fixed column widths, and
  come from a `RowSource` (`attach`): the table asks it for the row at a position, the position
  of a row and a row's cells, only for the rows it paints. The stock table keeps a `Row`, a key
  and every cell of every row in its own dicts and walks them all on each change (its line
  offsets, its ordered rows, its row index): 50,000 articles cost seconds to add and a
  re-index per tick. Its `rows`, `_data` and `_row_locations` are replaced by views of the
  source, and the private hooks that walk every row (`_update_dimensions`, `_get_offsets`,
  `_get_row_region`, `ordered_rows`) by ones that go straight to a position. Its
  `_render_cell` paints a cell of one line of text itself (`tui.cell_line`), a fifth of the
  stock cost, which a screen of rows repainted on each tick or keystroke adds up to, and its
  `_render_line_in_row` works out a row's styles once, not per cell, and keeps a painted row
  while the cursor moves elsewhere. A new row count does not lay the screen out again unless a
  scrollbar comes or goes (`fit_virtual_size`).
- `relabel`: a tab's label set without the layout pass `Tab.label` asks for, when it is as
  wide as before (the count of a status tab changes on most ticks).

`tests/tui/test_textual_private.py` checks every name listed below against the installed
Textual and says which one changed. After a Textual upgrade, only this package needs adapting.
"""

from tui.textual_private.rows import NoRows, RowSource
from tui.textual_private.table import (
    DATA_TABLE_ATTRIBUTES,
    DATA_TABLE_HOOKS,
    DATA_TABLE_PROPERTIES,
    VirtualDataTable,
)
from tui.textual_private.widgets import (
    TAB_ATTRIBUTES,
    relabel,
)

__all__ = [
    "DATA_TABLE_ATTRIBUTES",
    "DATA_TABLE_HOOKS",
    "DATA_TABLE_PROPERTIES",
    "TAB_ATTRIBUTES",
    "NoRows",
    "RowSource",
    "VirtualDataTable",
    "relabel",
]
