"""Export the view over the DICOM file it shows (the save dialog confirms an overwrite, so
``overwrite=True``): refused with the message box, the file unchanged, no audit row. It replaced
the image with its PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.ui.mainwin import make_window
from tests.ui.test_export import _message_box, reading
from viewer.session.export import ExportChoice

__all__ = ["make_window", "reading"]  # fixtures imported for pytest


def test_exporting_over_the_image_shown_is_refused(reading: Any) -> None:
    source = Path(reading.current.path)
    before = source.read_bytes()
    assert reading.export_view(source, ExportChoice()) is None
    assert source.read_bytes() == before
    box = _message_box(reading)
    assert "NOT saved" in box.windowTitle()
    assert "is the file the PNG image is made from; refusing to replace it" in box.text()
    assert reading.audit.records(types=("image_exported",)) == []
    box.close()
