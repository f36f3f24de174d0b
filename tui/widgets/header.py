"""The top line: which Hudu syncs into which Halo, and what the engine is doing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.columns import clock_time


@dataclass(frozen=True, slots=True)
class HeaderState:
    hudu: str
    halo: str
    running: bool = False
    full: bool = False
    paused: bool = False
    next_pass_at: datetime | None = None
    percent: int | None = None
    rate_wait: str = ""
    stopped: str = ""


class SyncHeader(Static):
    """Rendered from a `HeaderState`; `show` is a no-op when nothing changed."""

    def __init__(self, state: HeaderState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._state: HeaderState | None = None
        self.show(state)

    def show(self, state: HeaderState) -> None:
        if state == self._state:
            return
        self._state = state
        self.update(self._render_state(state))

    @staticmethod
    def _render_state(state: HeaderState) -> Table:
        left = Text.assemble(
            ("hhsync ", "bold"),
            ("Hudu ", "dim"),
            (state.hudu, "bold"),
            (" → ", "dim"),
            ("Halo ", "dim"),
            (state.halo, "bold"),
        )
        left.no_wrap = True
        left.overflow = "ellipsis"
        right = Text(no_wrap=True, justify="right")
        if state.rate_wait:
            right.append(f"⏳ {state.rate_wait}  ", "yellow")
        if state.stopped:
            right.append(f"✖ {state.stopped}", "bold red")
        elif state.running:
            right.append("● full pass" if state.full else "● syncing", "bold green")
            if state.percent is not None:
                right.append(f" {state.percent}%", "bold")
        elif state.paused:
            right.append("⏸ paused", "bold yellow")
        elif state.next_pass_at:
            right.append("○ idle · next ", "dim")
            right.append(clock_time(state.next_pass_at))
        else:
            right.append("○ idle", "dim")
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(no_wrap=True, justify="right")
        grid.add_row(left, right)
        return grid
