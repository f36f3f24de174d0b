"""`hhsync status` and a failed sync print titles and Halo's messages inert: no raw ESC or BEL
reaches the terminal, and `--json` keeps the exact strings."""

from __future__ import annotations

import json
from pathlib import Path

from core.models import ArticleRecord, Status
from core.store import MappingStore
from tests.cli_helpers import invoke_hhsync

OSC52 = "Evil \x1b]52;c;ZWNobyBoaQ==\x07 osc52"
RTL = "Invoice \u202egpj.exe"


def test_status_shows_hostile_titles_and_errors_inert(tmp_path: Path) -> None:
    db = tmp_path / "hhsync.json"
    with MappingStore(db) as store:
        store.commit_batch(
            [
                ArticleRecord(
                    1, OSC52, "Central KB", None, Status.FAILED, error=f"Halo refused '{OSC52}'"
                ),
                ArticleRecord(2, RTL, "Central KB", None, Status.PENDING, error="\x07\x07"),
            ]
        )

    text = invoke_hhsync(["status"], {"HHSYNC_DB": str(db)}, tmp_path)
    raw = invoke_hhsync(["status", "--json"], {"HHSYNC_DB": str(db)}, tmp_path)

    assert text.returncode == 1  # a failed article
    for forbidden in ("\x1b", "\x07", "\u202e"):
        assert forbidden not in text.stdout + text.stderr
    assert "Evil ␛]52;c;ZWNobyBoaQ==␇ osc52" in text.stdout
    titles = {row["hudu_id"]: row["title"] for row in json.loads(raw.stdout)["articles"]}
    assert titles == {1: OSC52, 2: RTL}
