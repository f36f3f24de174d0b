"""The log file: private, secrets masked, and no control character from a title or a Halo
message reaches it."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from core.logs import configure_logging


def test_the_log_is_private_and_holds_no_control_character(tmp_path: Path) -> None:
    path = configure_logging(["s3cret"], stderr_level=None)
    log = logging.getLogger("hhsync.engine")
    log.warning("1 article(s) failed: %s", "Evil \x1b]52;c;ZWNobyBoaQ==\x07 osc52 s3cret")
    log.warning("forged?\n2026-12-01 10:00:00 INFO hhsync.engine: all good \u202egpj.exe")
    for handler in logging.getLogger("hhsync").handlers:
        handler.flush()

    text = path.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "Evil ␛]52;c;ZWNobyBoaQ==␇ osc52 ***" in text
    assert "s3cret" not in text
    assert len(text.splitlines()) == 2  # the newline in a message forges no second entry
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_an_existing_log_is_made_private(tmp_path: Path) -> None:
    path = configure_logging(stderr_level=None)
    path.chmod(0o644)
    path.parent.chmod(0o755)

    configure_logging(stderr_level=None)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
