"""core/ is a library with no UI: importing all of it must not load Textual."""

import subprocess
import sys
from pathlib import Path

import core


def test_core_does_not_import_textual() -> None:
    modules = sorted(
        "core." + ".".join(p.relative_to(Path(core.__file__).parent).with_suffix("").parts)
        for p in Path(core.__file__).parent.rglob("*.py")
        if p.name != "__init__.py"
    )
    assert "core.engine" in modules or "core.config" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"core imported textual: {result.stdout}"


def test_tui_does_not_talk_http_or_tinydb() -> None:
    tui = Path(core.__file__).parent.parent / "tui"
    offenders = [
        str(path)
        for path in tui.rglob("*.py")
        for line in path.read_text().splitlines()
        if line.strip().startswith(("import httpx", "from httpx", "import tinydb", "from tinydb"))
    ]
    assert offenders == []
