"""One engine as the service sees it: its events numbered and kept, the pass in flight, the
commands running, and the facts `hello` tells."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from core.engine import Engine
from core.events import Event
from core.service.commands import CommandRunner
from core.service.eventlog import DEFAULT_CAPACITY, EventLog
from core.service.state import PassWatch, ServiceFacts


@dataclass(eq=False)
class ServiceContext:
    engine: Engine
    facts: ServiceFacts
    events: EventLog
    watch: PassWatch = field(default_factory=PassWatch)
    commands: CommandRunner = field(default_factory=CommandRunner)
    secrets: tuple[str, ...] = ()
    unsubscribe: Callable[[], None] | None = field(default=None, repr=False)

    @classmethod
    def watching(
        cls,
        engine: Engine,
        facts: ServiceFacts,
        *,
        secrets: Iterable[str] = (),
        capacity: int = DEFAULT_CAPACITY,
        follower_limit: int | None = None,
    ) -> ServiceContext:
        """A context listening to `engine` from now on: the first event it emits is number 1."""
        events = EventLog(capacity, follower_limit)
        context = cls(engine, facts, events, secrets=tuple(s for s in secrets if s))
        context.unsubscribe = engine.subscribe(context._on_event)
        return context

    def _on_event(self, event: Event) -> None:
        self.watch(event)
        self.events.append(event)

    def close(self) -> None:
        """Stop listening, end every event stream, take no new command."""
        self.commands.stopping = True
        self.events.close()
        if self.unsubscribe is not None:
            self.unsubscribe()
            self.unsubscribe = None
