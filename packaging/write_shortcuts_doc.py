"""Write ``docs/shortcuts.md`` from the one shortcut table (``viewer/ui/shortcuts.py``).

Usage: ``.venv/bin/python packaging/write_shortcuts_doc.py`` after changing a key. The table also
binds the keys in the window and fills Help > Keyboard shortcuts; ``tests/ui/test_shortcuts.py``
fails while this file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "shortcuts.md"


def render() -> str:
    """The document's text (English, portable key names)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from viewer.ui.shortcuts import markdown

    return markdown()


def main() -> int:
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
