"""`hhsync emulate` as a real process stopped by a signal: its .env lines drive `hhsync sync`
(in-process). The commands that fail before serving run in-process too."""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.emulators.seed import seed_small
from core.emulators.server import env_lines, free_port, new_states
from tests.cli_helpers import invoke_hhsync
from tests.conftest import clean_env
from tests.service_helpers import HHSYNC

ENV_KEYS = {line.split("=")[0] for line in env_lines("http://127.0.0.1:1")}


def read_env_lines(process: subprocess.Popen[str], timeout: float = 10) -> dict[str, str]:
    """The KEY=VALUE lines the emulator prints, read as they arrive (it keeps running)."""
    stdout = process.stdout
    assert stdout is not None
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    found: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while found.keys() != ENV_KEYS:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no .env lines within {timeout} s (got {found})") from None
        if not line.startswith("#") and "=" in line:
            key, value = line.strip().split("=", 1)
            found[key] = value
    return found


@contextlib.contextmanager
def emulator(tmp_path: Path, seed: str, stop: signal.Signals) -> Iterator[dict[str, str]]:
    """`hhsync emulate` on a free port; yields the variables it printed; stops it with `stop`
    and checks that it exits with status 0."""
    process = subprocess.Popen(
        [HHSYNC, "emulate", "--port", str(free_port()), "--seed", seed],
        env=clean_env(),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield read_env_lines(process)
    finally:
        if process.poll() is None:
            process.send_signal(stop)
        try:
            _, err = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise AssertionError(f"emulate did not stop on {stop.name}") from None
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "stopped" in err


def sync_json(variables: dict[str, str], tmp_path: Path) -> dict[str, object]:
    env = clean_env(
        **variables,
        HHSYNC_DB=str(tmp_path / "db" / "hhsync.json"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        NO_COLOR="1",
    )
    result = invoke_hhsync(["sync", "--json"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_sync_against_emulate_small(tmp_path: Path, stop: signal.Signals) -> None:
    expected = seed_small(new_states()[0])

    with emulator(tmp_path, "small", stop) as variables:
        assert variables["HUDU_API_KEY"] and variables["HALO_CLIENT_SECRET"]
        summary = sync_json(variables, tmp_path)

    skipped = expected.drafts + expected.archived + expected.oversized_files
    assert summary["created"] == expected.published
    assert summary["synced"] == expected.published - expected.oversized_files
    assert summary["skipped"] == skipped
    assert (summary["pending"], summary["failed"]) == (0, 0)


@pytest.mark.slow
def test_sync_against_emulate_empty(tmp_path: Path) -> None:
    with emulator(tmp_path, "empty", signal.SIGTERM) as variables:
        summary = sync_json(variables, tmp_path)

    counts = ("synced", "pending", "skipped", "failed", "created", "updated", "removed")
    assert {k: summary[k] for k in counts} == dict.fromkeys(counts, 0)


@pytest.mark.slow
def test_sync_against_emulate_seed_file(tmp_path: Path) -> None:
    dataset = {
        "companies": [{"name": "Northwind Dental"}],
        "articles": [
            {"name": "VPN setup", "content": "<p>Connect.</p>"},
            {"name": "Printers", "content": "<p>Floor 2.</p>", "company": "Northwind Dental"},
            {"name": "Unfinished", "content": "<p>…</p>", "draft": True},
        ],
    }
    (tmp_path / "dataset.json").write_text(json.dumps(dataset), encoding="utf-8")

    with emulator(tmp_path, "dataset.json", signal.SIGTERM) as variables:
        summary = sync_json(variables, tmp_path)

    assert (summary["created"], summary["synced"], summary["skipped"]) == (2, 2, 1)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"articles": [', "not valid JSON"),
        ('{"articles": [{"content": "<p>no name</p>"}]}', "name"),
        ("[1, 2]", "top level"),
        (None, "No such file"),
    ],
    ids=["truncated", "missing-name", "not-an-object", "missing-file"],
)
# `emulate` binds its port before it reads the seed and, on a bad seed, leaves the socket for
# the process exit to close; in-process that is an unclosed socket when the run is over.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)
def test_bad_seed_file_is_one_error_line(tmp_path: Path, content: str | None, needle: str) -> None:
    seed = tmp_path / "seed.json"
    if content is not None:
        seed.write_text(content, encoding="utf-8")

    result = invoke_hhsync(
        ["emulate", "--port", str(free_port()), "--seed", str(seed)], clean_env(), tmp_path
    )

    assert result.returncode == 2
    assert result.stdout == ""  # no .env lines for a server that never started
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hhsync: error: seed file ")
    assert str(seed) in lines[0] and needle in lines[0]


def test_port_in_use_is_one_error_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke_hhsync(
            ["emulate", "--port", str(port), "--seed", "empty"], clean_env(), tmp_path
        )

    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert f"cannot listen on 127.0.0.1:{port}" in line and "--port" in line
