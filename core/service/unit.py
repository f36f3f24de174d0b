"""`hhsync run --print-systemd-unit`: a systemd unit for this user, folder and install.

The unit holds paths, never a secret: the credentials stay in the `.env` of its working
directory. It keeps `PrivateTmp=no` and `/tmp` writable because the control socket lives in
`/tmp/hhsync-<uid>/` (see `core.socketpath`), the place an admin's SSH session finds too.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.config import StoreSettings
from core.logs import log_file_path
from core.socketpath import default_socket_dir, socket_path

# Variables that decide where hhsync finds its files. When this shell sets them, the unit sets
# them too, so the service uses the very files this shell does. Credentials are never copied.
PLACE_VARIABLES = ("HHSYNC_DB", "HHSYNC_SOCKET", "XDG_DATA_HOME", "XDG_STATE_HOME")


@dataclass(frozen=True, slots=True)
class UnitPlaces:
    executable: str
    working_directory: Path
    user: str
    group: str
    writable: tuple[Path, ...]  # the mapping file's folder, the log folder, the socket's
    environment: tuple[tuple[str, str], ...] = ()
    socket: str = ""
    note: tuple[str, ...] = ()  # comment lines on top


# contrib/hhsync.service: a dedicated `hhsync` user whose home is /var/lib/hhsync, the settings
# in /etc/hhsync/.env (HHSYNC_DB=/var/lib/hhsync/hhsync.json), the logs under its home.
# Regenerate with: python -m core.service.unit > contrib/hhsync.service
EXAMPLE_PLACES = UnitPlaces(
    executable="/opt/hhsync/venv/bin/hhsync",
    working_directory=Path("/etc/hhsync"),
    user="hhsync",
    group="hhsync",
    writable=(Path("/var/lib/hhsync"), Path("/tmp")),
    note=(
        "An example for a dedicated user: `useradd --system --home-dir /var/lib/hhsync hhsync`,",
        "hhsync installed in /opt/hhsync/venv, /etc/hhsync/.env readable by hhsync only, with",
        "HHSYNC_DB=/var/lib/hhsync/hhsync.json. Attach as that user, from /etc/hhsync:",
        "  sudo -u hhsync -H sh -c 'cd /etc/hhsync && hhsync-tui'",
        "`hhsync run --print-systemd-unit` writes the unit for your own user and folders.",
        "",
    ),
)


def render_unit(places: UnitPlaces) -> str:
    work = places.working_directory
    env_lines = [f"Environment={_quote(f'{k}={v}')}" for k, v in places.environment]
    curl = f"curl --unix-socket {places.socket} http://hhsync/status" if places.socket else ""
    lines = [
        *(f"# {line}".rstrip() for line in places.note),
        "# hhsync as a systemd service: a sync pass every HHSYNC_INTERVAL seconds, and the control",
        "# socket that hhsync-tui and every hhsync command attach to.",
        "# Install:  sudo cp hhsync.service /etc/systemd/system/  (or: hhsync run",
        "#           --print-systemd-unit | sudo tee /etc/systemd/system/hhsync.service)",
        "#           sudo systemctl daemon-reload && sudo systemctl enable --now hhsync",
        f"# Watch:    as {places.user}, in {work}: hhsync-tui (or hhsync status)",
        *([f"#           {curl}"] if curl else []),
        f"# Secrets stay in {work / '.env'}; this file holds none.",
        "",
        "[Unit]",
        "Description=hhsync: Hudu to HaloPSA knowledge-base sync",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"User={places.user}",
        f"Group={places.group}",
        f"WorkingDirectory={_escape(str(work))}",
        f"ExecStart={_quote(places.executable)} run",
        "Restart=on-failure",
        "RestartSec=10",
        "Environment=PYTHONUNBUFFERED=1",
        *env_lines,
        "# The socket is in /tmp/hhsync-<uid>/ so that SSH sessions find it: no PrivateTmp.",
        "NoNewPrivileges=yes",
        "PrivateTmp=no",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "ReadWritePaths=" + " ".join(_quote(str(p)) for p in places.writable),
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectControlGroups=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        "LockPersonality=yes",
        "UMask=0077",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"


def places_here(
    db_path: Path, socket: Path, log_dir: Path, environ: Mapping[str, str] = os.environ
) -> UnitPlaces:
    """The unit's places for the current user, folder and hhsync install."""
    db_dir = Path(db_path).expanduser().absolute().parent
    socket_dir = socket.parent
    # The default socket folder lives in /tmp, which is emptied at boot; the unit must name a
    # folder that exists when it starts, so it names /tmp itself.
    socket_writable = socket_dir.parent if socket_dir == default_socket_dir() else socket_dir
    writable: list[Path] = []
    for folder in (db_dir, log_dir.absolute(), socket_writable):
        if folder not in writable:
            writable.append(folder)
    return UnitPlaces(
        executable=hhsync_executable(),
        working_directory=Path.cwd(),
        user=pwd.getpwuid(os.getuid()).pw_name,
        group=grp.getgrgid(os.getgid()).gr_name,
        writable=tuple(writable),
        environment=tuple((k, environ[k]) for k in PLACE_VARIABLES if environ.get(k)),
        socket=str(socket),
    )


def hhsync_executable() -> str:
    """The absolute path of the `hhsync` being run (a venv's, usually)."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "hhsync" and argv0.is_file():
        return os.path.abspath(argv0)
    found = shutil.which("hhsync")
    return os.path.abspath(found) if found else str(Path(sys.executable).parent / "hhsync")


def _escape(text: str) -> str:
    return text.replace("%", "%%")


def _quote(text: str) -> str:
    """A value for a unit line: `%` escaped; quoted when it holds a space, quote or backslash."""
    text = _escape(text)
    if any(c in text for c in ' "\\\t'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def systemd_unit_here(settings: StoreSettings) -> tuple[str, list[str]]:
    """The unit for this shell's settings, and notes for the person installing it. Creates the
    folders the unit names (systemd refuses to start a unit whose writable paths are missing)."""
    socket = socket_path(settings.hhsync_db, settings.hhsync_socket)
    places = places_here(settings.hhsync_db, socket, log_file_path().parent)
    notes: list[str] = []
    for folder in places.writable:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            notes.append(f"created {folder} (the unit needs it to exist)")
    if not (places.working_directory / ".env").is_file():
        notes.append(
            f"there is no .env in {places.working_directory}: the service reads its settings "
            "from there (print the unit from the folder holding .env)"
        )
    if places.user == "root":
        notes.append("the unit runs hhsync as root: print it as the user that should run it")
    return render_unit(places), notes


if __name__ == "__main__":
    print(render_unit(EXAMPLE_PLACES), end="")
