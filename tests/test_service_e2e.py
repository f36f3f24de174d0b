"""`hhsync run` as a real process against the emulators on loopback: the control socket answers
curl-style requests, SIGTERM stops it cleanly and removes the socket, SIGKILL leaves a stale
socket that the next start replaces, and a second service is refused with one line."""

from __future__ import annotations

import json
import os
import pwd
import signal
from pathlib import Path

import httpx
import pytest

from core.emulators.seed import SeedSummary, seed_small
from core.emulators.server import DEMO_API_KEY, DEMO_CLIENT_SECRET
from core.socketpath import socket_path
from tests.cli_helpers import invoke_hhsync
from tests.conftest import Loopback, hhsync_env, run_hhsync
from tests.service_helpers import HHSYNC, Services, answers, get, wait_for

pytestmark = pytest.mark.slow


def test_run_serves_status_and_stops_on_sigterm(
    service_env: tuple[dict[str, str], Path, SeedSummary], services: Services, tmp_path: Path
) -> None:
    env, path, seed = service_env
    process = services.start(env, tmp_path)
    wait_for(lambda: (answers(path) or {}).get("last_pass") is not None, process, "a pass")

    status = answers(path)
    assert status is not None
    assert status["last_pass"]["created"] == len(seed.published_ids)
    assert status["counts"]["failed"] == status["counts"]["pending"] == 0
    assert status["pid"] == process.pid and status["running"] is False
    hello = get(path, "/v1/hello")
    assert hello.headers["x-hhsync-protocol"] == "2"
    assert hello.json()["db"] == str(Path(env["HHSYNC_DB"]).resolve())

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert f"serving on {path}" in err and err.rstrip().endswith("hhsync: stopped")
    assert "Traceback" not in err
    assert not path.exists()
    for secret in (DEMO_API_KEY, DEMO_CLIENT_SECRET):
        assert secret not in out + err


def test_sigkill_leaves_a_stale_socket_the_next_start_replaces(
    service_env: tuple[dict[str, str], Path, SeedSummary], services: Services, tmp_path: Path
) -> None:
    env, path, _ = service_env
    first = services.start(env, tmp_path)
    wait_for(lambda: answers(path) is not None, first, "the socket")
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    assert path.exists() and answers(path) is None  # stale: the file, nobody behind it

    second = services.start(env, tmp_path)
    wait_for(lambda: (answers(path) or {}).get("pid") == second.pid, second, "the new socket")
    second.send_signal(signal.SIGINT)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert "error" not in err and "Traceback" not in err
    assert not path.exists()


def test_a_second_service_is_refused_with_one_line(
    service_env: tuple[dict[str, str], Path, SeedSummary], services: Services, tmp_path: Path
) -> None:
    env, path, _ = service_env
    first = services.start(env, tmp_path)
    wait_for(lambda: answers(path) is not None, first, "the socket")

    # The second one runs in this process: the holder is the real process.
    same_db = invoke_hhsync(["run"], env, tmp_path)
    assert same_db.returncode == 2
    assert f"in use by process {first.pid}" in same_db.stderr

    other_db = dict(env, HHSYNC_DB=str(tmp_path / "other" / "hhsync.json"), HHSYNC_SOCKET=str(path))
    same_socket = invoke_hhsync(["run"], other_db, tmp_path)
    assert same_socket.returncode == 2
    lines = same_socket.stderr.strip().splitlines()
    assert lines == [
        f"hhsync: error: another hhsync service is running (pid {first.pid}) — it answers on "
        f"{path}; stop it first, or give this one its own HHSYNC_DB"
    ]
    assert answers(path) is not None  # the first one is untouched


def test_print_systemd_unit_names_this_install_and_no_secret(
    service_env: tuple[dict[str, str], Path, SeedSummary], tmp_path: Path
) -> None:
    env, path, _ = service_env
    folder = tmp_path / "service"
    folder.mkdir()
    (folder / ".env").write_text(
        "".join(f"{k}={v}\n" for k, v in env.items() if k.startswith(("HUDU_", "HALO_")))
    )
    result = run_hhsync(["run", "--print-systemd-unit"], env, folder)
    assert result.returncode == 0, result.stderr
    unit = result.stdout
    assert f"ExecStart={Path(HHSYNC).absolute()} run\n" in unit
    assert f"WorkingDirectory={folder}\n" in unit
    assert "Restart=on-failure\n" in unit and "RestartSec=10\n" in unit
    assert "PrivateTmp=no\n" in unit and "ProtectSystem=strict\n" in unit
    writable = next(line for line in unit.splitlines() if line.startswith("ReadWritePaths="))
    assert str(Path(env["HHSYNC_DB"]).parent) in writable and "/tmp" in writable.split()[-1]
    assert f"Environment=HHSYNC_DB={env['HHSYNC_DB']}\n" in unit
    assert str(path) in unit  # the curl line
    for secret in (DEMO_API_KEY, DEMO_CLIENT_SECRET):
        assert secret not in unit + result.stderr
    assert Path(env["HHSYNC_DB"]).parent.is_dir()  # created: systemd needs it to exist
    assert "Type=simple" in unit and f"User={pwd.getpwuid(os.getuid()).pw_name}" in unit


def test_sigterm_mid_pass_ends_the_pass_and_the_streams_cleanly(
    loopback: Loopback, tmp_path: Path, services: Services
) -> None:
    server, hudu, halo = loopback
    seed_small(hudu)
    halo.switches.latency = 0.2  # a pass long enough to stop in the middle
    env = hhsync_env(server, tmp_path, HHSYNC_INTERVAL="3600", HHSYNC_BATCH_SIZE="2")
    path = socket_path(Path(env["HHSYNC_DB"]))
    process = services.start(env, tmp_path)
    wait_for(lambda: answers(path) is not None, process, "the socket")

    types: list[str] = []
    transport = httpx.HTTPTransport(uds=str(path))
    with (
        httpx.Client(transport=transport, timeout=60) as client,
        client.stream("GET", "http://hhsync/v1/events", params={"after": 0}) as stream,
    ):
        for line in stream.iter_lines():
            types.append(json.loads(line)["type"])
            if types.count("ArticleChanged") == 3:
                process.send_signal(signal.SIGTERM)
    # The stream ended by itself, after the end of the pass the signal cut short.
    assert "PassStarted" in types and types[-1] == "PassFinished"
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert err.rstrip().endswith("hhsync: stopped") and "Traceback" not in err
    assert not path.exists()
