"""Real child processes that start in milliseconds: forked from a server that has the store
imported already (multiprocessing's forkserver), for tests that SIGKILL many children.

A new Python process that imports the store costs a few tenths of a second; a fork costs a few
milliseconds. Each child is still its own process, killed by a real SIGKILL, with its own file
locks and its own (possibly patched) `os` functions.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import textwrap
from multiprocessing.connection import Connection
from typing import Any

import core.models
import core.store

_PRELOADED = (core.models, core.store)  # what the fork server imports once, for every child
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])


class _LinesOut:
    """The child's stdout: each line goes to the parent as one message."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.conn.send(line)
        return len(text)

    def flush(self) -> None:
        pass


class _LinesIn:
    """The child's stdin: a line arrives when the parent sends one (never, for most)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def readline(self) -> str:
        return str(self.conn.recv()) + "\n"


def _run(code: str, argv: list[str], conn: Connection) -> None:
    sys.stdout, sys.stdin = _LinesOut(conn), _LinesIn(conn)
    sys.argv = ["-c", *argv]
    exec(compile(textwrap.dedent(code), "<child>", "exec"), {"__name__": "__main__"})


class ForkedChild:
    """`python -c code *argv` as a forked child; `readline` gives what it prints."""

    def __init__(self, code: str, *argv: str) -> None:
        self._conn, theirs = _CONTEXT.Pipe()
        self._process = _CONTEXT.Process(target=_run, args=(code, list(argv), theirs))
        self._process.start()
        theirs.close()
        assert self._process.pid is not None
        self.pid: int = self._process.pid

    def readline(self, timeout: float = 60) -> str:
        """The next line it printed, "" once it has ended (or printed nothing for `timeout`)."""
        try:
            if not self._conn.poll(timeout):
                return ""
            return str(self._conn.recv()) + "\n"
        except (EOFError, OSError):
            return ""

    def kill(self) -> int:
        """SIGKILL it, wait for it; its exit status (as `Popen.returncode`)."""
        with contextlib.suppress(ProcessLookupError):  # it ended by itself meanwhile
            os.kill(self.pid, signal.SIGKILL)
        self._process.join(timeout=30)
        self._conn.close()
        code: Any = self._process.exitcode
        return int(code)
