"""Closing the window (or the search dialog) while a DIMSE PACS accepted the association and
never answers: the association is aborted and the worker ends at once, instead of the process
staying alive for pacs.timeout_s; what was waiting for PACS stays in the outbox.

Real parts only: a pynetdicom PACS of the test's own whose handlers never answer
(tests/pacs/helpers.hung_scp), the window's own workers and outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton

from tests.pacs.helpers import dimse_site, hung_scp, source_image, text_report
from tests.ui.mainwin import WAIT_MS, find, make_window
from viewer.config import Settings, load_settings, save_user_settings

__all__ = ["make_window"]  # fixture imported for pytest

# pacs.timeout_s, ten times any wait here: a worker that ends within the wait was broken off by
# the close, however slowly a loaded machine ran it (not "within the close's own 2 s wait")
HANG_S = 10 * WAIT_MS / 1000


def _settings(site_file: Path, port: int) -> Settings:
    site_file.parent.mkdir(parents=True, exist_ok=True)
    site_file.write_text(
        dimse_site(port, connect_timeout_s=30.0, timeout_s=HANG_S), encoding="utf-8"
    )
    return save_user_settings(
        load_settings(demo=True), {"user.name": "Dr Test", "user.role": "Radiologist"}
    )


def test_closing_the_window_aborts_a_send_the_pacs_never_answers(
    qtbot: Any, make_window: Any, site_file: Path
) -> None:
    from viewer.outbox import Outbox
    from viewer.pacs.delivery import PacsDelivery

    with hung_scp(HANG_S) as (port, reached):
        settings = _settings(site_file, port)
        with PacsDelivery(settings) as earlier:
            assert earlier.queue([text_report(source_image(43))], reading_id="earlier") == 1
        window = make_window(settings)  # the drain on start sends the object: no answer
        qtbot.waitUntil(reached.is_set, timeout=WAIT_MS)
        window.close()
        # the send in flight was aborted by the close (it used to run to pacs.timeout_s, and
        # the process with it)
        assert window.pacs.runner.pool.waitForDone(WAIT_MS)
        with Outbox(settings.pacs_outbox_path) as box:
            status = box.status("earlier")
        assert (status.pending, status.sent) == (1, 0)  # kept for the next start


def test_closing_the_search_dialog_aborts_a_search_the_pacs_never_answers(
    qtbot: Any, make_window: Any, site_file: Path
) -> None:
    with hung_scp(HANG_S) as (port, reached):
        window = make_window(_settings(site_file, port))
        dialog = window.show_pacs_search()
        find(dialog, QLineEdit, "pacsPatientId").setText("HUNG")
        qtbot.mouseClick(find(dialog, QPushButton, "pacsSearchButton"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(reached.is_set, timeout=WAIT_MS)
        runner = dialog.runner
        dialog.close()
        assert runner.pool.waitForDone(WAIT_MS)
