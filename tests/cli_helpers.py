"""`hhsync` run in this process with click's CliRunner: the same stdout, stderr and exit status a
user gets from the installed command, without the second or so a new Python process costs.

Real processes stay where they matter: signals, file locks held by another process, SIGKILL,
stdin and the console-script wiring (see `tests.conftest.run_hhsync`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from core.cli import main
from core.http import ApiSession, ServiceSpec
from core.probe import HaloProbe


@dataclass(frozen=True)
class CliResult:
    """What `hhsync` printed and returned (named like `subprocess.CompletedProcess`)."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def invoke_hhsync(
    args: list[str], env: Mapping[str, str], cwd: Path, stdin: str | None = None
) -> CliResult:
    """Run `hhsync args` in-process with exactly the environment `env`, in `cwd`.

    As for the real process, the environment is all the CLI sees: any variable not in `env`
    is unset meanwhile, and `cwd` is where it looks for a `.env` file. `sys.exit` becomes the
    exit status. An exception the CLI lets escape (a traceback, for a user) is raised here.
    """
    overrides: dict[str, str | None] = {name: None for name in os.environ if name not in env}
    overrides.update(env)
    log = logging.getLogger("hhsync")
    handlers, level = list(log.handlers), log.level
    sigterm = signal.getsignal(signal.SIGTERM)  # `hhsync emulate` installs its own
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, args, input=stdin, env=overrides, prog_name="hhsync")
    finally:
        os.chdir(previous)
        signal.signal(signal.SIGTERM, sigterm)
        for handler in log.handlers:  # bound to the runner's streams and this run's log file
            if handler not in handlers:
                log.removeHandler(handler)
                handler.close()
        log.setLevel(level)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(tuple(args), result.exit_code, result.stdout, result.stderr)


class RetryWaits:
    """The waits between retries the API clients asked for, by service ("Hudu", "Halo")."""

    def __init__(self) -> None:
        self.by_service: dict[str, list[float]] = {}

    def of(self, service: str) -> list[float]:
        return self.by_service.get(service, [])

    def total(self, service: str) -> float:
        return sum(self.of(service))


def instant_retry_waits(monkeypatch: pytest.MonkeyPatch) -> RetryWaits:
    """Make the API clients' waits between retries return at once, and record them.

    A refused connection or a 503 is retried after a backoff of seconds, a 429 after its
    Retry-After; the attempts, their order and the final error are unchanged. The clients'
    rate limiters keep real time.
    """
    waits = RetryWaits()
    build = ApiSession.__init__

    def init(self: ApiSession, spec: ServiceSpec, *args: Any, **kwargs: Any) -> None:
        assert "sleep" in kwargs, "the clients no longer pass their sleep to ApiSession"
        asked = waits.by_service.setdefault(spec.name, [])

        async def sleep(seconds: float) -> None:
            asked.append(seconds)
            await asyncio.sleep(0)

        build(self, spec, *args, **{**kwargs, "sleep": sleep})

    monkeypatch.setattr(ApiSession, "__init__", init)
    return waits


def instant_probe_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make the Halo probe's waits for a lagging search index return at once; the waits it
    asked for, in order. Every search still runs, against the emulator as it is."""
    asked: list[float] = []
    build = HaloProbe.__init__

    async def sleep(seconds: float) -> None:
        asked.append(seconds)
        await asyncio.sleep(0)

    def init(self: HaloProbe, *args: Any, **kwargs: Any) -> None:
        assert "sleep" in kwargs, "the engine no longer passes its sleep to HaloProbe"
        build(self, *args, **{**kwargs, "sleep": sleep})

    monkeypatch.setattr(HaloProbe, "__init__", init)
    return asked
