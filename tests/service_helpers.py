"""Helpers for tests that run `hhsync run` as a real process and talk to its control socket."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

HHSYNC = str(Path(sys.executable).parent / "hhsync")
"""The installed `hhsync` of this environment."""


def get(path: Path, url: str) -> httpx.Response:
    """A request as curl would send it (`curl --unix-socket PATH http://hhsync/status`)."""
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(path)), timeout=10) as client:
        return client.get(f"http://hhsync{url}")


def answers(path: Path) -> dict[str, Any] | None:
    try:
        return dict(get(path, "/status").json())
    except (httpx.TransportError, ValueError):
        return None


def wait_for(ready: Callable[[], bool], process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        if process.poll() is not None:
            raise AssertionError(f"hhsync exited ({process.returncode}) before {what}")
        assert time.monotonic() < deadline, f"no {what} within a minute"
        time.sleep(0.02)


class Services:
    """Starts `hhsync run` processes; kills any still running at the end of the test."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [HHSYNC, "run"],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        """SIGTERM (so each removes its socket), SIGKILL if one does not stop."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate(timeout=30)
