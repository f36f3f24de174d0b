"""`hhsync-tui`: the dashboard's command line."""

from __future__ import annotations

import sys


def main() -> None:
    print("hhsync-tui: the dashboard is not built yet", file=sys.stderr)
    sys.exit(2)
