"""File > Export view as PNG… and File > Print…: the view as the reader sees it, on file or page.

The picture is the viewport's own pixels (:meth:`QtImageView.render_view`, a ``QWidget.grab``
with the same transform, window and zoom): with overlays, exactly what is on screen (the corner
text, heatmap, measurement and annotations); without, the image alone. The header is
de-identified unless the reader chooses the full one (which fields go and why:
:mod:`viewer.session.export`, DICOM PS3.15 Annex E Basic Profile). The PNG is written atomically
(a temporary file beside it, renamed: :func:`viewer.outputs.write_atomically`), so a read-only
folder or a full disk leaves no file and says so, never "saved". The printed page is the same
picture scaled to the page with a footer. Each export or print is an ``image_exported`` audit
row written by the session (:func:`viewer.session.export.record_export`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QIODevice, QRectF, Qt
from PySide6.QtGui import QFont, QImage, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from viewer import __version__
from viewer.errors import BedsideError
from viewer.outputs import write_atomically
from viewer.session.export import (
    ExportChoice,
    Target,
    burned_in,
    deidentified_meta,
    identity_lines,
    record_export,
)

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStatusBar

    from viewer.config import Settings
    from viewer.session.reading import ReadingSession
    from viewer.session.trail import AuditTrail
    from viewer.ui.qt_image_view import QtImageView


class ExportHost(Protocol):
    """What export and print need of the main window (a protocol, so this module does not
    import the window that imports it)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def trail(self) -> AuditTrail: ...
    @property
    def view(self) -> QtImageView: ...
    @property
    def current(self) -> ReadingSession | None: ...
    def statusBar(self) -> QStatusBar: ...  # Qt's name


def _parent(window: ExportHost) -> QWidget:
    """The top-level window the view sits in: the parent of the dialogs."""
    return window.view.window()


__all__ = ["QtExportDialog", "export_view", "print_view", "render_choice"]


class QtExportDialog(QDialog):
    """The reader's choice: overlays and annotations, de-identified (default) or full header."""

    def __init__(self, parent: QWidget | None, *, target: Target, burned: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog" if target == "png" else "printOptionsDialog")
        self.setWindowTitle(
            self.tr("Export view as PNG") if target == "png" else self.tr("Print view")
        )
        self.overlays = QCheckBox(
            self.tr("Include overlays and annotations (corner text, measurement, heatmap)"), self
        )
        self.overlays.setObjectName("exportOverlays")
        self.overlays.setAccessibleName(self.tr("Include overlays and annotations"))
        self.overlays.setChecked(True)
        box = QGroupBox(self.tr("Header"), self)
        box.setObjectName("exportHeader")
        self.deidentified = QRadioButton(
            self.tr(
                "De-identified: no patient name, ID, birth date, sex, accession number or "
                "study date (DICOM PS3.15 Basic Profile)"
            ),
            box,
        )
        self.deidentified.setObjectName("exportHeaderDeidentified")
        self.deidentified.setAccessibleName(self.tr("De-identified header"))
        self.deidentified.setChecked(True)
        self.full = QRadioButton(
            self.tr("Full: patient name, ID and study date as in the file"), box
        )
        self.full.setObjectName("exportHeaderFull")
        self.full.setAccessibleName(self.tr("Full header"))
        inner = QVBoxLayout(box)
        inner.addWidget(self.deidentified)
        inner.addWidget(self.full)
        self.warning = QLabel(
            self.tr(
                "This file declares text burned into its pixels (Burned In Annotation: YES). "
                "A de-identified header does not remove it: look at the picture before sharing."
            ),
            self,
        )
        self.warning.setObjectName("exportBurnedIn")
        self.warning.setWordWrap(True)
        self.warning.setVisible(burned)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.setObjectName("exportButtons")
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Export…") if target == "png" else self.tr("Print…"))
        ok.setObjectName("exportOk")
        ok.setAccessibleName(ok.text().rstrip("…"))
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("exportCancel")
        cancel.setAccessibleName(self.tr("Cancel"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.overlays)
        layout.addWidget(box)
        layout.addWidget(self.warning)
        layout.addWidget(self.buttons)

    def choice(self) -> ExportChoice:
        return ExportChoice(
            overlays=self.overlays.isChecked(),
            header="full" if self.full.isChecked() else "deidentified",
        )


def render_choice(view: QtImageView, choice: ExportChoice) -> QImage:
    """The viewport's pixels for ``choice`` (the image must be shown)."""
    if view.image is None:
        raise RuntimeError("no image")
    meta = deidentified_meta(view.image.meta) if choice.deidentified else None
    return view.render_view(overlays=choice.overlays, header_meta=meta)


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    # the stub says bytes, PySide6 6.11 accepts only str at run time
    if not image.save(buf, "PNG"):  # type: ignore[call-overload]
        raise BedsideError("the PNG image could not be encoded.")
    buf.close()
    return bytes(data.data())


def _ask_choice(window: ExportHost, target: Target) -> ExportChoice | None:
    image = window.view.image
    dlg = QtExportDialog(
        _parent(window), target=target, burned=burned_in(getattr(image, "header", None))
    )
    try:
        return dlg.choice() if dlg.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dlg.deleteLater()


def _start(window: ExportHost, target: Target, choice: ExportChoice | None) -> ExportChoice | None:
    """The choice to use: ``choice``, else the reader's from the dialog; None without an image
    (said in the status bar) or when the reader cancelled."""
    if window.view.image is None:
        window.statusBar().showMessage(
            QCoreApplication.translate("QtExport", "No image on screen to export or print."), 5000
        )
        return None
    return choice if choice is not None else _ask_choice(window, target)


def _failed(window: ExportHost, title: str, text: str) -> None:
    """A clear message that nothing was saved (window-modal, does not block the caller)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, _parent(window)
    )
    box.setObjectName("exportFailed")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    window.statusBar().showMessage(title)


def _record(window: ExportHost, choice: ExportChoice, target: Target) -> None:
    image = window.view.image
    if image is None:
        return
    outcome = record_export(window.trail, image.meta, choice, target)
    if outcome.error:
        window.statusBar().showMessage(
            QCoreApplication.translate("QtExport", "Audit log write failed: {0}").format(
                outcome.error
            )
        )


def export_view(
    window: ExportHost, path: Path | None = None, choice: ExportChoice | None = None
) -> Path | None:
    """Export the view to a PNG; ``path`` / ``choice`` skip the dialogs. Returns the path saved."""
    choice = _start(window, "png", choice)
    if choice is None:
        return None
    if path is None:
        from viewer.ui.save_dialog import ask_save_path

        path = ask_save_path(
            _parent(window),
            QCoreApplication.translate("QtExport", "Export view as PNG"),
            "bedside-view",
            "png",
            QCoreApplication.translate("QtExport", "PNG image (*.png)"),
        )
        if path is None:
            return None
    try:
        data = png_bytes(render_choice(window.view, choice))

        def write(fh: BinaryIO) -> None:
            fh.write(data)

        shown = window.current  # the DICOM file itself is never replaced by its view
        write_atomically(
            path,
            write,
            settings=window.settings,
            overwrite=True,
            what="PNG image",
            sources=(Path(shown.path),) if shown is not None else (),
        )
    except BedsideError as exc:
        _failed(window, QCoreApplication.translate("QtExport", "The view was NOT saved"), str(exc))
        return None
    window.statusBar().showMessage(
        QCoreApplication.translate("QtExport", "Saved the view to {0}").format(path), 8000
    )
    _record(window, choice, "png")
    return path


def footer_text(window: ExportHost, choice: ExportChoice) -> str:
    """The printed page's footer: app, local time, header choice (and who, when full)."""
    image = window.view.image
    when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    parts = [
        f"Bedside {__version__}",
        QCoreApplication.translate("QtExport", "printed {0}").format(when),
    ]
    if image is not None and choice.deidentified:
        parts.append(
            QCoreApplication.translate("QtExport", "de-identified (DICOM PS3.15 Basic Profile)")
        )
    elif image is not None:
        parts.extend(identity_lines(image.meta, choice))
    if not choice.overlays:
        parts.append(QCoreApplication.translate("QtExport", "image only, no overlays"))
    return "  ·  ".join(parts)


def paint_page(printer: QPrinter, image: QImage, footer: str) -> bool:
    """The picture scaled to the page (aspect kept, centred) above a one-line footer."""
    painter = QPainter()
    if not painter.begin(printer):
        return False
    page = QRectF(printer.pageLayout().paintRectPixels(printer.resolution()))
    page.moveTo(0, 0)
    font = QFont(painter.font())
    font.setPointSizeF(9.0)
    painter.setFont(font)
    fm = painter.fontMetrics()
    footer_h = fm.height() * 2
    area = QRectF(page.left(), page.top(), page.width(), page.height() - footer_h)
    scale = min(area.width() / max(1, image.width()), area.height() / max(1, image.height()))
    w, h = image.width() * scale, image.height() * scale
    target = QRectF(area.left() + (area.width() - w) / 2, area.top(), w, h)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    painter.drawImage(target, image)
    painter.drawText(
        QRectF(page.left(), page.bottom() - fm.height(), page.width(), fm.height()),
        int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
        footer,
    )
    return painter.end()


def print_view(
    window: ExportHost, printer: QPrinter | None = None, choice: ExportChoice | None = None
) -> bool:
    """Print the view; ``printer`` / ``choice`` skip the dialogs. True when the page was sent."""
    choice = _start(window, "print", choice)
    if choice is None:
        return False
    if printer is None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dlg = QPrintDialog(printer, _parent(window))
        dlg.setObjectName("printDialog")
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return False
    image = render_choice(window.view, choice)
    if not paint_page(printer, image, footer_text(window, choice)):
        _failed(
            window,
            QCoreApplication.translate("QtExport", "The view was NOT printed"),
            QCoreApplication.translate(
                "QtExport", "The printer or its output file could not be opened."
            ),
        )
        return False
    window.statusBar().showMessage(
        QCoreApplication.translate("QtExport", "Sent the view to the printer."), 8000
    )
    _record(window, choice, "print")
    return True
