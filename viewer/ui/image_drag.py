"""Drag data for one image (issue 14 item 1): a study-tree or worklist item dropped on a viewport.

The data is the file path of an image the reader opened, under a type of our own
(:data:`MIME_IMAGE`): it travels inside this process only and is never logged (a path can name
a patient).
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData

__all__ = ["MIME_IMAGE", "image_mime", "path_from_mime"]

MIME_IMAGE = "application/x-bedside-image-path"


def image_mime(path: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(MIME_IMAGE, path.encode("utf-8"))
    return mime


def path_from_mime(mime: QMimeData) -> str | None:
    if not mime.hasFormat(MIME_IMAGE):
        return None
    path = bytes(mime.data(MIME_IMAGE).data()).decode("utf-8", "replace")
    return path or None
