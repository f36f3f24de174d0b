"""The real `hhsync-tui` in a real terminal (tmux).

Attached to a real `hhsync run`: the header names the service, `q` leaves at once, and the
service goes on syncing. Syncing articles whose titles carry escape sequences: the OSC 52 "set
the clipboard" sequence leaves tmux's buffers untouched, and each row keeps its columns. tmux
is told to accept OSC 52 from applications (`set-clipboard on`), and a control pane shows that
it then does. (Rich drops a bell, so a title's OSC 52 ended by BEL arrives unended; the short
one ended by ESC \\ is what would set the clipboard.)"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.emulators.seed import seed_small
from tests.conftest import Loopback, halo_copies, hhsync_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

HHSYNC = str(Path(sys.executable).parent / "hhsync")
HHSYNC_TUI = str(Path(sys.executable).parent / "hhsync-tui")
SCOPE = "Hostile Co"
HOSTILE_TITLES = (
    "Evil \x1b]52;c;ZWNobyBoaQ==\x07 osc52",
    "ST \x1b]52;c;eA==\x1b\\ set",
    "Rejected \x1b[2J clear",
    "Bell \x07\x07 and \x1b[5mblink\x1b[0m",
)


class Tmux:
    """A tmux server of its own (its own socket, no user configuration). The socket is named
    by process and folder: parallel test workers each number their folders from 0."""

    def __init__(self, folder: Path) -> None:
        self.name = f"hhsync-test-{os.getpid()}-{folder.name}"
        self.config = folder / "tmux.conf"
        self.config.write_text("set-option -g set-clipboard on\nset-option -g remain-on-exit on\n")

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> str:
        command = ["tmux", "-L", self.name, "-f", str(self.config), *args]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        return result.stdout if result.returncode == 0 else ""

    def screen(self, target: str, *, history: bool = False) -> list[str]:
        """The pane's lines (with `history`, those scrolled off the top too)."""
        scrolled = ("-S", "-") if history else ()
        return self("capture-pane", "-p", *scrolled, "-t", target).splitlines()

    def buffers(self) -> list[str]:
        return self("list-buffers", "-F", "#{buffer_name}").split()

    def kill(self) -> None:
        """End what runs in the panes with SIGTERM (a service then removes its socket), then
        the server."""
        panes = self("list-panes", "-a", "-F", "#{pane_pid} #{pane_dead}").splitlines()
        for pid, dead in (line.split() for line in panes):
            if dead == "0":
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGTERM)
        wait_for(lambda: "0" not in self("list-panes", "-a", "-F", "#{pane_dead}").split(), 10)
        self("kill-server")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    server = Tmux(tmp_path)
    yield server
    server.kill()


def wait_for(found: Callable[[], bool], seconds: float = 60) -> bool:
    """Poll until `found`; False after `seconds` (the caller's assertion says what is wrong)."""
    deadline = time.monotonic() + seconds
    while not found():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("size", [(80, 24), (60, 15)])
def test_escape_sequences_in_titles_reach_neither_the_clipboard_nor_the_layout(
    tmux: Tmux, loopback: Loopback, tmp_path: Path, size: tuple[int, int]
) -> None:
    server, hudu, halo = loopback
    company = hudu.add_company(SCOPE)["id"]
    for title in HOSTILE_TITLES:
        hudu.add_article(title, "<p>Steps</p>", company_id=company)
    env = hhsync_env(server, tmp_path)
    width, height = size
    tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), HHSYNC_TUI, env=env)

    def rows() -> list[str]:
        return [line for line in tmux.screen("t") if SCOPE in line]

    assert wait_for(lambda: len(halo.articles) == len(HOSTILE_TITLES)), "no first pass"
    wait_for(lambda: len(rows()) == len(HOSTILE_TITLES), seconds=30)
    screen = "\n".join(tmux.screen("t"))
    assert tmux.buffers() == [], f"OSC 52 set a tmux buffer:\n{tmux('show-buffer')}"
    assert len(rows()) == len(HOSTILE_TITLES), f"rows missing from the screen:\n{screen}"
    header = next(line for line in screen.splitlines() if "Title" in line and "Scope" in line)
    scope_at = header.index("Scope")
    for row in rows():
        assert row[scope_at : scope_at + len(SCOPE)] == SCOPE, f"\n{header}\n{row}"
    assert any("Evil ␛]52;c;" in row for row in rows()), screen
    assert any("ST ␛]52;c;eA==␛" in row for row in rows()), screen

    tmux("send-keys", "-t", "t", "q")
    tmux("new-window", "-d", "-t", "t", "printf '\\033]52;c;Y29udHJvbA==\\007'; sleep 30")
    assert wait_for(lambda: tmux.buffers() != [], seconds=10), "the control set no buffer"
    assert tmux("show-buffer") == "control"  # so tmux did take OSC 52 from an application


def test_the_dashboard_attaches_to_the_service_and_leaves_it_syncing(
    tmux: Tmux, loopback: Loopback, tmp_path: Path
) -> None:
    server, hudu, halo = loopback
    seed_small(hudu)
    env = hhsync_env(server, tmp_path, HHSYNC_INTERVAL="10")
    size = ("-x", "100", "-y", "30")
    tmux("new-session", "-d", "-s", "t", *size, "-n", "service", HHSYNC, "run", env=env)

    def screen(window: str) -> str:
        return "\n".join(tmux.screen(f"t:{window}", history=True))

    assert wait_for(lambda: "serving on" in screen("service")), screen("service")
    serving = re.search(r"serving on \S+ \(pid (\d+)\)", screen("service"))
    assert serving is not None, screen("service")
    pid = serving[1]
    tmux("new-window", "-d", "-t", "t", "-n", "dashboard", HHSYNC_TUI, env=env)
    assert wait_for(lambda: f"⇄ service pid {pid}" in screen("dashboard")), screen("dashboard")
    assert wait_for(lambda: "Synced " in screen("dashboard")), screen("dashboard")

    tmux("send-keys", "-t", "t:dashboard", "q")  # no question: the service goes on
    assert wait_for(lambda: "keeps syncing" in screen("dashboard")), screen("dashboard")
    farewell = " ".join(screen("dashboard").split())
    assert f"the hhsync service (pid {pid}) keeps syncing" in farewell

    article = hudu.add_article("Written after the dashboard left", "<p>New</p>")["id"]
    assert wait_for(lambda: len(halo_copies(halo, article)) == 1), "the service stopped syncing"


def test_marked_rows_unlink_as_one_command_of_the_service_z_relinks_and_y_copies(
    tmux: Tmux, loopback: Loopback, tmp_path: Path
) -> None:
    server, hudu, halo = loopback
    seed_small(hudu)
    env = hhsync_env(server, tmp_path)
    size = ("-x", "100", "-y", "30")
    tmux("new-session", "-d", "-s", "t", *size, "-n", "service", HHSYNC, "run", env=env)

    def screen(window: str) -> str:
        return "\n".join(tmux.screen(f"t:{window}"))

    def keys(*names: str) -> None:
        for name in names:
            tmux("send-keys", "-t", "t:ui", name)
            time.sleep(0.1)

    assert wait_for(lambda: "serving on" in screen("service")), screen("service")
    tmux("new-window", "-d", "-t", "t", "-n", "ui", HHSYNC_TUI, env=env)
    assert wait_for(lambda: "⇄ service pid" in screen("ui") and "1 of 2" in screen("ui"))
    assert wait_for(lambda: "○" in screen("ui")), screen("ui")  # the first pass is over
    copies = {a["id"] for a in halo.articles.values()}

    def skipped() -> int:
        found = re.search(r"3 Skipped (\d+)", screen("ui"))
        return int(found[1]) if found else -1

    before = skipped()
    keys("g", "Space", "Space", "Space", "u")
    assert wait_for(lambda: "Unlink 3 articles marked?" in screen("ui")), screen("ui")
    keys("y")
    assert wait_for(lambda: "3 articles no longer synced" in screen("ui")), screen("ui")
    assert wait_for(lambda: skipped() == before + 3), screen("ui")  # the service's rows

    keys("z")
    assert wait_for(lambda: "3 articles relinked" in screen("ui")), screen("ui")
    assert {a["id"] for a in halo.articles.values()} == copies  # no second copy
    assert wait_for(lambda: skipped() == before), screen("ui")

    keys("g", "y")
    assert wait_for(lambda: "Halo link" in screen("ui")), screen("ui")
    keys("h")
    assert wait_for(lambda: tmux.buffers() != [], seconds=10), screen("ui")
    copied = re.fullmatch(r"\S+/kb\?id=(\d+)", tmux("show-buffer"))
    assert copied is not None and int(copied[1]) in copies, tmux("show-buffer")
