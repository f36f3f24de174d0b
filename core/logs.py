"""Logging set-up shared by `hhsync` and `hhsync-tui`: a private rotating file, secrets masked
and every line made displayable (titles and Halo's messages are untrusted text)."""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import os
from collections.abc import Iterable
from pathlib import Path

from core.config import state_dir
from core.text import displayable

FILE_MODE = 0o600
DIR_MODE = 0o700

MASK = "***"


class SecretFilter(logging.Filter):
    """Replaces every known secret in a record's final message, whatever logged it, and makes
    it one displayable line: no control character reaches the file or the terminal, and a
    title holding a newline cannot forge a log line."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        safe = displayable(mask(message, self.secrets))
        if safe != message:
            record.msg, record.args = safe, None
        if record.exc_info:
            trace = logging.Formatter().formatException(record.exc_info)
            record.exc_text = displayable(mask(trace, self.secrets), one_line=False)
            record.exc_info = None
        return True


class PrivateFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files only their owner can read (titles of internal procedures
    are sensitive too), like the mapping file."""

    def _open(self) -> io.TextIOWrapper:
        def private(path: str, flags: int) -> int:
            return os.open(path, flags, FILE_MODE)

        stream = open(self.baseFilename, "a", encoding=self.encoding, opener=private)  # noqa: SIM115
        with contextlib.suppress(OSError):
            os.chmod(self.baseFilename, FILE_MODE)
        return stream


def mask(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def log_file_path() -> Path:
    return state_dir() / "hhsync.log"


def configure_logging(
    secrets: Iterable[str] = (), *, stderr_level: int | None = logging.WARNING
) -> Path:
    """Log to a rotating file under `$XDG_STATE_HOME/hhsync/` and, if asked, to stderr."""
    root = logging.getLogger("hhsync")
    root.setLevel(logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    secret_filter = SecretFilter(secrets)
    path = log_file_path()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        os.chmod(path.parent, DIR_MODE)
        for old in path.parent.glob(f"{path.name}*"):
            os.chmod(old, FILE_MODE)
        file_handler = PrivateFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        file_handler.setFormatter(formatter)
        file_handler.addFilter(secret_filter)
        root.addHandler(file_handler)
    except OSError:
        pass
    if stderr_level is not None:
        stream = logging.StreamHandler()
        stream.setLevel(stderr_level)
        stream.setFormatter(logging.Formatter("hhsync: %(message)s"))
        stream.addFilter(secret_filter)
        root.addHandler(stream)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
