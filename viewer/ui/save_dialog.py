"""The save dialog of a report export: one suggested name, one rule for the file's ending.

Why: the audit window and the Monitoring window both export reports; both suggest
``~/bedside-<what>-<local time>.<format>`` and add the format's ending when the reader typed a
name without it (a PDF saved as ``report`` would open in nothing). The dialog itself asks before
replacing an existing file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

__all__ = ["ask_save_path"]


def ask_save_path(
    parent: QWidget, title: str, stem: str, fmt: str, file_filter: str
) -> Path | None:
    """The path chosen (ending in ``.fmt``), or None when the reader cancelled."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    suggested = Path.home() / f"{stem}-{stamp}.{fmt}"
    path, _ = QFileDialog.getSaveFileName(parent, title, str(suggested), file_filter)
    if not path:
        return None
    target = Path(path)
    if target.suffix.lower() != f".{fmt}":
        target = target.with_name(target.name + f".{fmt}")
    return target
