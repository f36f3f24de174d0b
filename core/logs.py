"""Logging set-up shared by `hhsync` and `hhsync-tui`: a rotating file, and secrets masked."""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterable
from pathlib import Path

from core.config import state_dir

MASK = "***"


class SecretFilter(logging.Filter):
    """Replaces every known secret in a record's final message, whatever logged it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message, self.secrets)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info:
            record.exc_text = mask(
                logging.Formatter().formatException(record.exc_info), self.secrets
            )
            record.exc_info = None
        return True


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
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
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
