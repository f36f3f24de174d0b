"""The top line: which Hudu syncs into which Halo, and what the engine is doing."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.events import Resize
from textual.widgets import Static

from tui.state import HeaderState
from tui.times import hour_minute
from tui.untrusted import shown

MIN_HOSTS = 12
"""Cells the hosts keep before the state's parts give way."""


def render_header(state: HeaderState, width: int = 0) -> Table:
    """Left: which Hudu syncs into which Halo. Right: the service attached to, the tenant's
    notice, a rate-limit wait, then the engine's state. When `width` is too narrow for all,
    they give way in that order, so the state is always whole. The host names are shown
    inert (an attached dashboard learns them from the service)."""
    left = Text.assemble(
        ("Hudu ", "dim"),
        (shown(state.hudu), "bold"),
        (" → ", "dim"),
        ("Halo ", "dim"),
        (shown(state.halo), "bold"),
    )
    left.no_wrap = True
    left.overflow = "ellipsis"
    parts: list[Text] = []
    if state.service_lost:
        parts.append(Text("⚠ service stopped — reconnecting…", "bold yellow"))
    else:
        if state.service_pid is not None:
            parts.append(Text(f"⇄ service pid {state.service_pid}", "bold cyan"))
        if state.halo_notice:
            headline = shown(state.halo_notice).split(":", 1)[0]
            parts.append(Text(f"⚠ {headline}", "bold yellow"))
        if state.rate_wait:
            parts.append(Text(f"⏳ {shown(state.rate_wait)}", "yellow"))
        engine = Text()
        _append_engine_state(engine, state)
        parts.append(engine)
    room = width - 2 - MIN_HOSTS if width else 0
    while room and len(parts) > 1 and sum(p.cell_len + 2 for p in parts) - 2 > room:
        parts.pop(0)
    right = Text("  ", no_wrap=True, justify="right").join(parts)
    grid = Table.grid(expand=True, padding=(0, 1))  # a space between the hosts and the state
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(no_wrap=True, justify="right")
    grid.add_row(left, right)
    return grid


def _append_engine_state(right: Text, state: HeaderState) -> None:
    """Stopped, the pass running, or the last and next pass."""
    if state.stopped:
        right.append(f"✖ {state.stopped}", "bold red")
    elif state.running:
        right.append("● full pass" if state.full else "● syncing", "bold green")
        if state.percent is not None:
            right.append(f" {state.percent}%", "bold")
        if state.paused or state.pausing:
            after = "paused after this pass" if state.paused else "pausing…"
            right.append(f" · ⏸ {after}", "bold yellow")
    elif state.pausing:
        right.append("⏸ pausing…", "bold yellow")
    else:
        times = []
        if state.last_pass_at:
            times.append(("last ", state.last_pass_at))
        if state.next_pass_at and not state.paused:
            times.append(("next ", state.next_pass_at))
        if state.paused:
            right.append("⏸ paused", "bold yellow")
        else:
            right.append("○" if times else "○ idle", "dim")
        for index, (label, moment) in enumerate(times):
            right.append(" · " if index or state.paused else " ", "dim")
            right.append(label, "dim")
            right.append(hour_minute(moment))


class SyncHeader(Static):
    """Rendered from a `HeaderState`; `show` is a no-op when nothing changed."""

    def __init__(self, state: HeaderState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._state: HeaderState | None = None
        self.show(state)

    @property
    def state(self) -> HeaderState | None:
        """What the header shows now."""
        return self._state

    def show(self, state: HeaderState) -> None:
        if state == self._state:
            return
        self._state = state
        self.update(render_header(state, self.content_size.width))

    def on_resize(self, event: Resize) -> None:
        if self._state is not None:
            self.update(render_header(self._state, self.content_size.width))
