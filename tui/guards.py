"""`needs_the_engine`: the decorator of the app's actions that send the engine a command."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from tui import notices
from tui.state import DashboardState


class Commanding(Protocol):
    """What the guard needs of the app: whether the service answers, and a way to say not."""

    state: DashboardState

    def tell(self, notice: notices.Notice | None) -> None: ...


A = TypeVar("A", bound=Commanding)
P = ParamSpec("P")


def needs_the_engine(
    action: Callable[Concatenate[A, P], None],
) -> Callable[Concatenate[A, P], None]:
    """An action that sends the engine a command: refused with a notice while the service the
    engine runs in does not answer (an embedded engine always answers)."""

    @functools.wraps(action)
    def guarded(app: A, /, *args: P.args, **kwargs: P.kwargs) -> None:
        if app.state.service_answering:
            action(app, *args, **kwargs)
        else:
            app.tell(notices.SERVICE_NOT_ANSWERING)

    return guarded
