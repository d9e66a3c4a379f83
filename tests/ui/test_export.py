"""Export and print of the view (issue 14 item 7): the PNG holds the viewport's pixels, the image
alone without overlays, a de-identified header by default, a failed write says so and leaves no
file, every export and print is an audit row without PHI, Ctrl+E / Ctrl+P open the dialogs, and a
page prints (to a PDF here: QPrinter's PdfFormat, no dialog)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QRadioButton,
)

from tests.ui.mainwin import make_window
from tests.waits import WAIT_MS
from viewer.dicom.annotations import Annotation
from viewer.dicom.synthetic import make_cxr
from viewer.session.export import ExportChoice
from viewer.ui.qt_export import QtExportDialog, footer_text

__all__ = ["make_window"]  # fixture imported for pytest

NAME = "DOE^JANE EXPORTTEST"
PATIENT_ID = "PID-EXPORT-4711"


@pytest.fixture
def reading(qtbot: Any, make_window: Any, settings: Any, tmp_path: Path) -> Any:
    """A window showing one generated image with a known name and ID, its audit log open."""
    ds = make_cxr(5, opacity=True, size=(256, 256))
    ds.PatientName = NAME
    ds.PatientID = PATIENT_ID
    path = tmp_path / "named.dcm"
    ds.save_as(path, enforce_file_format=True)
    window = make_window(settings, [path])
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: window.view.image is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.trail.is_open, timeout=WAIT_MS)
    qtbot.waitUntil(window.view.render_idle, timeout=WAIT_MS)
    window.view.set_measurement((40.0, 40.0), (200.0, 180.0))  # an overlay beside the text
    window.view.annotations.set_items(  # the reader's annotations are overlays too
        [
            Annotation("rect", ((60.0, 60.0), (150.0, 140.0))),
            Annotation("text", ((90.0, 200.0),), "note"),
        ]
    )
    return window


def _argb(image: QImage) -> QImage:
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def _pixels(image: QImage) -> np.ndarray:
    img = _argb(image)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
    return arr.reshape(img.height(), img.bytesPerLine())[:, : img.width() * 4].copy()


def _same(a: QImage, b: QImage) -> bool:
    return a.size() == b.size() and bool(np.array_equal(_pixels(a), _pixels(b)))


def test_export_with_overlays_equals_the_viewport_pixel_for_pixel(
    reading: Any, tmp_path: Path
) -> None:
    out = tmp_path / "view.png"
    assert reading.export_view(out, ExportChoice(overlays=True, header="full")) == out
    saved = QImage(str(out))
    assert not saved.isNull()
    grabbed = reading.view.grab().toImage()
    assert saved.size() == grabbed.size()
    assert _same(saved, grabbed)
    assert "Saved the view to" in reading.statusBar().currentMessage()


def test_export_without_overlays_is_the_image_alone(reading: Any, tmp_path: Path) -> None:
    out = tmp_path / "bare.png"
    assert reading.export_view(out, ExportChoice(overlays=False, header="full")) == out
    bare = QImage(str(out))
    # the image-only render made independently: corner text off, measurement and heatmap gone
    view = reading.view
    view.clear_measurement()
    view.annotations.set_items([])
    view.show_overlay = False
    try:
        image_only = view.grab().toImage()
    finally:
        view.show_overlay = True
    assert _same(bare, image_only)  # no corner text pixel and no measurement pixel differs
    with_overlays = _pixels(view.grab().toImage())
    corner = (slice(0, 60), slice(0, 4 * 200))  # the top-left corner text (name, ID)
    assert not np.array_equal(with_overlays[corner], _pixels(bare)[corner])


def test_deidentified_export_has_no_name_or_id(reading: Any, tmp_path: Path) -> None:
    view = reading.view
    seen: list[dict[str, list[str]]] = []
    original = view.corner_texts

    def spy() -> dict[str, list[str]]:
        texts = original()
        seen.append(texts)
        return texts

    view.corner_texts = spy
    try:
        assert reading.export_view(tmp_path / "d.png", ExportChoice()) is not None  # default
        deid = list(seen)
        seen.clear()
        assert reading.export_view(tmp_path / "f.png", ExportChoice(header="full")) is not None
        full = list(seen)
    finally:
        del view.corner_texts
    lines = [line for texts in deid for group in texts.values() for line in group]
    assert lines and "De-identified" in lines
    text = "\n".join(lines)
    assert "DOE" not in text and "JANE" not in text and PATIENT_ID not in text
    assert "PA" in text and "CR" in text  # modality and view stay
    full_text = "\n".join(line for t in full for g in t.values() for line in g)
    assert NAME in full_text and PATIENT_ID in full_text
    # the pictures differ in the header only
    a, b = _pixels(QImage(str(tmp_path / "d.png"))), _pixels(QImage(str(tmp_path / "f.png")))
    assert not np.array_equal(a[:60], b[:60])
    assert np.array_equal(a[200:-200], b[200:-200])
    footer = footer_text(reading, ExportChoice())
    assert "DOE" not in footer and PATIENT_ID not in footer and "de-identified" in footer
    assert NAME in footer_text(reading, ExportChoice(header="full"))


def _message_box(reading: Any) -> QMessageBox:
    box = reading.findChild(QMessageBox, "exportFailed")
    assert box is not None and box.isVisible()
    return box


def test_read_only_folder_gives_a_message_and_no_file(
    qtbot: Any, reading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    if os.geteuid() == 0:  # root ignores the mode bits: fail as the kernel would for a user
        import viewer.outputs

        def denied(*_a: Any, **_k: Any) -> Any:
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(viewer.outputs.tempfile, "mkstemp", denied)
    try:
        assert reading.export_view(folder / "view.png", ExportChoice()) is None
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)
    box = _message_box(reading)
    assert "NOT saved" in box.windowTitle() and "Permission denied" in box.text()
    assert "Saved the view" not in reading.statusBar().currentMessage()
    assert reading.audit.records(types=("image_exported",)) == []
    box.close()


def test_full_disk_leaves_no_file_and_no_temporary(
    reading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import viewer.outputs

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(viewer.outputs.os, "fsync", full)
    folder = tmp_path / "full"
    folder.mkdir()
    assert reading.export_view(folder / "view.png", ExportChoice()) is None
    assert list(folder.iterdir()) == []
    assert "No space left" in _message_box(reading).text()


def test_each_export_is_an_audit_row_without_phi(reading: Any, tmp_path: Path) -> None:
    out = tmp_path / f"{NAME}.png"  # a path holding the name must not reach the log either
    reading.export_view(out, ExportChoice(overlays=False, header="deidentified"))
    reading.export_view(tmp_path / "two.png", ExportChoice(overlays=True, header="full"))
    rows = reading.audit.records(types=("image_exported",))
    assert [r.detail for r in rows] == [
        {"target": "png", "header": "deidentified", "overlays": False},
        {"target": "png", "header": "full", "overlays": True},
    ]
    for row in rows:
        assert row.outcome == "success" and row.patient_pseudonym and row.sop_pseudonym
        dumped = json.dumps(row.as_dict())
        assert "DOE" not in dumped and PATIENT_ID not in dumped and str(tmp_path) not in dumped


def test_print_to_pdf_has_a_page_and_an_audit_row(reading: Any, tmp_path: Path) -> None:
    pdf = tmp_path / "page.pdf"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(pdf))
    assert reading.print_view(printer, ExportChoice())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"/Type /Page" in data.replace(b"/Type /Pages", b"")  # one page object at least
    rows = reading.audit.records(types=("image_exported",))
    assert [r.detail for r in rows] == [
        {"target": "print", "header": "deidentified", "overlays": True}
    ]


def test_dialog_defaults_and_names(qtbot: Any) -> None:
    dlg = QtExportDialog(None, target="png", burned=True)
    qtbot.addWidget(dlg)
    assert dlg.choice() == ExportChoice(overlays=True, header="deidentified")
    for cls in (QCheckBox, QRadioButton):
        for w in dlg.findChildren(cls):
            assert w.objectName() and w.accessibleName()
    for button in dlg.findChild(QDialogButtonBox).buttons():
        assert button.objectName() and button.accessibleName()
    assert not dlg.warning.isHidden()  # Burned In Annotation YES is said
    dlg.full.setChecked(True)
    dlg.overlays.setChecked(False)
    assert dlg.choice() == ExportChoice(overlays=False, header="full")


def _press_and_catch(qtbot: Any, reading: Any, keys: str) -> str:
    seen: list[str] = []

    def close() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None:
            QTimer.singleShot(50, close)
            return
        seen.append(modal.objectName())
        assert isinstance(modal, QDialog)
        modal.reject()

    reading.activateWindow()
    reading.view.setFocus()
    qtbot.waitUntil(reading.isActiveWindow, timeout=WAIT_MS)
    QTimer.singleShot(50, close)
    combo = QKeySequence(keys)[0]
    QTest.keyClick(reading, combo.key(), combo.keyboardModifiers())
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
    return seen[0]


@pytest.mark.parametrize(
    ("keys", "dialog"), [("Ctrl+E", "exportDialog"), ("Ctrl+P", "printOptionsDialog")]
)
def test_ctrl_e_and_ctrl_p_open_the_export_and_print_dialogs(
    qtbot: Any, reading: Any, keys: str, dialog: str
) -> None:
    assert _press_and_catch(qtbot, reading, keys) == dialog
    assert reading.audit.records(types=("image_exported",)) == []  # cancelled: nothing written


def test_nothing_to_export_without_an_image(
    make_window: Any, settings: Any, tmp_path: Path
) -> None:
    window = make_window(settings, start=False)
    assert window.export_view(tmp_path / "x.png", ExportChoice()) is None
    assert not window.print_view(QPrinter(), ExportChoice())
    assert list(tmp_path.glob("*.png")) == []
    assert "No image" in window.statusBar().currentMessage()
