"""The service's numbered events: the last N kept for clients that reconnect, and one cursor
per client stream.

`append` is what the engine's emit calls: it numbers the event, stores it in a ring and wakes
each following stream, O(1) per stream, never awaiting. A stream reads the ring from its own
cursor, so a slow stream costs a cursor, not a copy of the events. A stream that falls more than
its `limit` behind (it stopped reading) is dropped: its connection is closed at once, and it
reconnects from its last event (or takes a new snapshot). Events are turned into JSON lines
once, by the first stream that needs them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from core.events import Event

DEFAULT_CAPACITY = 20_000
CHUNK_EVENTS = 2000  # events per write to a stream: ~1.4 MB, ~10 ms to encode

_JSON: dict[type[Event], TypeAdapter[Any]] = {}


def event_line(event: Event, seq: int) -> bytes:
    """`core.wire.dump_event(event, seq)` as one JSON line, encoded by pydantic in one step
    (five times faster than `json.dumps` of the dumped data: a pass emits thousands)."""
    cls = type(event)
    adapter = _JSON.get(cls)
    if adapter is None:
        adapter = _JSON[cls] = TypeAdapter(cls)
    kind = json.dumps(cls.__name__).encode()
    return b'{"seq":%d,"type":%s,"event":%s}\n' % (seq, kind, adapter.dump_json(event))


class Resnapshot(Exception):
    """The events asked for are no longer held (or are from another run of the service)."""


class Entry:
    """One numbered event, until a stream needs it; then its JSON line (the event is let go:
    a full ring then holds about 14 MB of lines rather than the events and their lines)."""

    __slots__ = ("_event", "_line", "seq")

    def __init__(self, seq: int, event: Event) -> None:
        self.seq = seq
        self._event: Event | None = event
        self._line = b""

    def line(self) -> bytes:
        if self._event is not None:
            self._line = event_line(self._event, self.seq)
            self._event = None
        return self._line


class Follower:
    """One client stream: the last event it was given, and how it is woken or dropped."""

    __slots__ = ("abort", "closing", "cursor", "dropped", "left", "limit", "wake")

    def __init__(self, cursor: int, limit: int, abort: Callable[[], None] | None) -> None:
        self.cursor = cursor
        self.limit = limit
        self.abort = abort  # closes the connection at once (set by the socket server)
        self.wake = asyncio.Event()
        self.dropped = False  # fell behind: the service let it go
        self.left = False  # the client went away
        self.closing = False  # the service is stopping: send what is held, then end

    def leave(self) -> None:
        self.left = True
        self.wake.set()

    def close(self) -> None:
        self.closing = True
        self.wake.set()

    def drop(self) -> None:
        """Let the client go: its connection is closed at once (a write its reader never
        takes cannot be ended any other way), so it reconnects from its last event."""
        self.dropped = True
        self.wake.set()
        if self.abort is not None:
            self.abort()


class EventLog:
    """Numbers events from 1; keeps the last `capacity`; feeds the followers."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, follower_limit: int | None = None) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.follower_limit = min(follower_limit or capacity, capacity)
        self.last_seq = 0
        self.dropped_followers = 0
        self._ring: list[Entry | None] = [None] * capacity
        self._followers: set[Follower] = set()
        self._closed = False

    @property
    def first_seq(self) -> int:
        """The oldest event still held (1 while none was lost)."""
        return max(1, self.last_seq - self.capacity + 1)

    @property
    def followers(self) -> int:
        return len(self._followers)

    def append(self, event: Event) -> int:
        self.last_seq += 1
        seq = self.last_seq
        self._ring[seq % self.capacity] = Entry(seq, event)
        for follower in self._followers:
            if seq - follower.cursor > follower.limit:
                if not follower.dropped:
                    self.dropped_followers += 1
                    follower.drop()
            else:
                follower.wake.set()
        return seq

    def follow(self, after: int, *, abort: Callable[[], None] | None = None) -> Follower:
        """A stream of every event numbered above `after`; `Resnapshot` when they are not all
        held any more, are more than a stream may queue, or when `after` is beyond the last
        event (a number from another run of the service)."""
        behind = self.last_seq - after
        if after < self.first_seq - 1 or behind > self.follower_limit or behind < 0:
            raise Resnapshot(after)
        follower = Follower(after, self.follower_limit, abort)
        if self._closed:
            follower.close()
        self._followers.add(follower)
        return follower

    def unfollow(self, follower: Follower) -> None:
        self._followers.discard(follower)

    def next_chunk(self, follower: Follower) -> bytes | None:
        """The follower's next lines (up to `CHUNK_EVENTS`), b"" when it has read everything,
        None when its stream is over (dropped, left, or everything sent once the log closed)."""
        if follower.dropped or follower.left:
            return None
        if follower.cursor >= self.last_seq:
            return None if follower.closing else b""
        end = min(self.last_seq, follower.cursor + CHUNK_EVENTS)
        lines = []
        for seq in range(follower.cursor + 1, end + 1):
            entry = self._ring[seq % self.capacity]
            assert entry is not None and entry.seq == seq  # the drop rule keeps it held
            lines.append(entry.line())
        follower.cursor = end
        return b"".join(lines)

    async def wait(self, follower: Follower) -> None:
        """Until there is something new for the follower, or its stream is over."""
        if follower.cursor < self.last_seq or follower.dropped or follower.left:
            return
        if follower.closing:
            return
        follower.wake.clear()
        await follower.wake.wait()

    def abort_all(self) -> None:
        """Drop every stream still open, closing the connections of those stuck in a write."""
        for follower in list(self._followers):
            follower.drop()

    def close(self) -> None:
        """End every stream once it has sent what is held (the service is stopping)."""
        self._closed = True
        for follower in list(self._followers):
            follower.close()
