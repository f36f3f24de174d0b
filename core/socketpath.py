"""Where the service's control socket lives, so that every command finds it from `HHSYNC_DB` alone.

The default is `/tmp/hhsync-<uid>/<16 hex of sha256(resolved mapping-file path)>.sock`. It
depends on nothing but the mapping file and the user, on purpose: a systemd service has no
`XDG_RUNTIME_DIR`, an admin's SSH shell has one, and `/run/user/<uid>` disappears when the
user's last session ends, so a socket placed there would be lost by (or hidden from) one side.
`HHSYNC_SOCKET` overrides the place.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from core.errors import HhsyncError

MAX_SOCKET_PATH_BYTES = 100  # AF_UNIX allows 108 on Linux, 104 on macOS; stay under both
SOCKET_ROOT = Path("/tmp")


class SocketPathError(HhsyncError):
    """The socket cannot live where it would go: path too long or an unsafe folder."""


def socket_path(db_path: Path, override: Path | str | None = None) -> Path:
    """The control socket of the service that owns the mapping file `db_path`."""
    if override:
        path = Path(override).expanduser().absolute()
        source = "HHSYNC_SOCKET"
    else:
        path = default_socket_dir() / f"{db_key(db_path)}.sock"
        source = "the socket path"
    size = len(os.fsencode(path))
    if size >= MAX_SOCKET_PATH_BYTES:
        raise SocketPathError(
            f"{source} {path} is {size} bytes long; a Unix socket path must be under "
            f"{MAX_SOCKET_PATH_BYTES}",
            hint="set HHSYNC_SOCKET to a shorter path",
        )
    return path


def default_socket_dir(uid: int | None = None) -> Path:
    return SOCKET_ROOT / f"hhsync-{os.getuid() if uid is None else uid}"


def db_key(db_path: Path) -> str:
    """16 hex digits naming one mapping file, however its path was written."""
    resolved = os.fsencode(Path(db_path).expanduser().resolve())
    return hashlib.sha256(resolved).hexdigest()[:16]


def prepare_socket_dir(path: Path) -> None:
    """Create the socket's folder (0700) if needed; refuse a folder others could tamper with."""
    folder = path.parent
    if not folder.exists():
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise SocketPathError(
                f"cannot create the socket folder {folder}: {exc.strerror or exc}",
                hint="set HHSYNC_SOCKET to a path in a folder you own",
            ) from None
    check_socket_dir(path)


def check_socket_dir(path: Path) -> None:
    """Raise `SocketPathError` unless the socket's folder is safe to use.

    The default folder must be a real directory owned by this user with no group or other
    permission bits (another user could otherwise swap the socket). A folder named through
    `HHSYNC_SOCKET` must be owned by this user (or root) and writable by nobody else unless
    sticky (like /tmp). Clients call this too before trusting a socket."""
    folder = path.parent
    try:
        info = folder.lstat()
    except OSError as exc:
        raise SocketPathError(
            f"socket folder {folder}: {exc.strerror or exc}",
            hint="is the hhsync service running? (hhsync run)",
        ) from None
    uid = os.getuid()
    if not stat.S_ISDIR(info.st_mode):
        problem = "is not a directory"
    elif folder == default_socket_dir():
        problem = (
            f"is owned by uid {info.st_uid}, not {uid}"
            if info.st_uid != uid
            else f"has mode {stat.S_IMODE(info.st_mode):04o}, not 0700"
            if info.st_mode & 0o077
            else ""
        )
    elif info.st_uid not in (uid, 0):
        problem = f"is owned by uid {info.st_uid}, not {uid}"
    elif info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
        problem = "is writable by other users"
    else:
        problem = ""
    if problem:
        raise SocketPathError(
            f"socket folder {folder} {problem}: refusing to use it",
            hint=f"remove {folder} (it is recreated safely) or set HHSYNC_SOCKET elsewhere",
        )
