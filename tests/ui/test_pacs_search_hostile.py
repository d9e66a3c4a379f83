"""The PACS search table shows what a PACS answered: names and descriptions with a
bidirectional override or a terminal control character are shown with a visible mark
(viewer.errors.printable), as every other text from a file is, not reordered or hidden."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton, QTableWidget

from tests.ui.mainwin import find
from tests.waits import WAIT_MS
from viewer.config import load_settings
from viewer.ui.qt_pacs_search import QtPacsSearch

_STUDY = {
    "0020000D": {"vr": "UI", "Value": ["1.2.3"]},
    "00100020": {"vr": "LO", "Value": ["ID\u202e1234"]},
    "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^\u202eenaJ"}]},
    "00081030": {"vr": "LO", "Value": ["CHEST\x1b[2J"]},
}


class _Qido(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        body = json.dumps([_STUDY]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/dicom+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def qido(site_file: Path) -> Iterator[None]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Qido)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site_file.write_text(
        "[pacs]\nenabled = true\n"
        f'dicomweb_url = "http://127.0.0.1:{server.server_address[1]}/dicom-web"\n',
        encoding="utf-8",
    )
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_names_from_pacs_are_shown_with_visible_marks(qtbot: Any, qido: None) -> None:
    dialog = QtPacsSearch(load_settings(demo=False))
    qtbot.addWidget(dialog)
    find(dialog, QLineEdit, "pacsPatientId").setText("ID*")
    qtbot.mouseClick(find(dialog, QPushButton, "pacsSearchButton"), Qt.MouseButton.LeftButton)
    table = find(dialog, QTableWidget, "pacsResults")
    qtbot.waitUntil(lambda: table.rowCount() == 1, timeout=WAIT_MS)
    shown = [table.item(0, col).text() for col in range(table.columnCount())]
    assert shown[0] == "ID\ufffd1234"
    assert shown[1] == "Doe^\ufffdenaJ"
    assert shown[-1] == "CHEST\ufffd[2J"
    assert not any(c in text for text in shown for c in "\u202e\x1b")
