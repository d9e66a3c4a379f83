"""Study browser: patient -> study -> series -> image tree with thumbnails, built off-thread.

Why a worker and a progress bar: a hospital CD holds hundreds to thousands of files; the index is
built by :func:`viewer.dicom.iter_scan` (header-only reads, a generator that reports progress and
can be cancelled) on a pool thread, and thumbnails are decoded afterwards, also off the GUI
thread, so the reader can start reading while they arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QMimeData, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.ui.image_drag import image_mime
from viewer.ui.plain_text import plain_tooltip
from viewer.ui.workers import Job, JobRunner, error_text

if TYPE_CHECKING:
    from viewer.dicom.index import StudyIndex

THUMB = 64
MAX_THUMBNAILS = 400
THUMB_BATCH = 8
TREE_CHUNK = 100  # images added to the tree per event-loop turn (a few ms each)
PATH_ROLE = Qt.ItemDataRole.UserRole
LABEL_ROLE = Qt.ItemDataRole.UserRole + 2  # the item's own text, before a done mark


def _date(d: str) -> str:
    return f"{d[:4]}-{d[4:6]}-{d[6:]}" if len(d) == 8 and d.isdigit() else d


def _sort_key(meta: Any) -> tuple[Any, ...]:
    return (
        meta.patient_name,
        meta.patient_id,
        meta.study_date,
        meta.study_instance_uid,
        meta.series_number if meta.series_number is not None else 1 << 30,
        meta.series_instance_uid,
        meta.instance_number if meta.instance_number is not None else 1 << 30,
        meta.path,
    )


def make_thumbnail(path: str) -> np.ndarray:
    """Decode and render one image with its default window, reduced to about THUMB px (worker)."""
    from viewer.dicom import DisplayRenderer, read_image

    image = read_image(path)
    buf = DisplayRenderer(image).render()
    step = max(1, max(buf.shape) // THUMB)
    return np.ascontiguousarray(buf[::step, ::step])


def first_path(item: QTreeWidgetItem) -> str:
    """The image an item stands for: itself, or the first image under a series or study."""
    path = item.data(0, PATH_ROLE)
    if path:
        return str(path)
    for i in range(item.childCount()):
        child = item.child(i)
        found = first_path(child) if child is not None else ""
        if found:
            return found
    return ""


class _DragTree(QTreeWidget):
    """The study tree; an item dragged out carries its image (a series: its first image) for a
    comparison viewport (viewer.ui.qt_viewports)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        for item in items:
            path = first_path(item)
            if path:
                return image_mime(path)
        return QMimeData()


class QtStudyBrowser(QWidget):
    """The tree of opened images; emits :attr:`image_activated` with a file path."""

    image_activated = Signal(str)
    scan_finished = Signal(object)  # list of ImageMetadata (all images known so far, display order)
    scan_failed = Signal(str)

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("studyBrowser")
        self.runner = runner
        self._images: dict[str, Any] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self._patients: dict[tuple[str, str], QTreeWidgetItem] = {}
        self._studies: dict[str, QTreeWidgetItem] = {}
        self._series: dict[tuple[str, str], QTreeWidgetItem] = {}
        self._errors: list[str] = []
        self._done: dict[str, str] = {}  # path -> "decided" | "amended"
        # files whose SOP Instance UID another, different image also claims (both readable)
        self._conflicts: list[str] = []
        self._non_images = 0
        self._skipped = 0
        self._scan_job: Job | None = None
        self._thumb_job: Job | None = None
        self._thumbs: dict[str, QIcon] = {}
        self._last_progress: tuple[int, int] = (0, 0)

        self.tree = _DragTree(self)
        self.tree.setObjectName("studyTree")
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(THUMB, THUMB))
        self.tree.setUniformRowHeights(False)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("scanProgress")
        self.progress.setVisible(False)
        self.cancel_button = QPushButton(self)
        self.cancel_button.setObjectName("scanCancel")
        self.cancel_button.setVisible(False)
        self.summary = QLabel(self)
        self.summary.setObjectName("scanSummary")
        self.summary.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tree, 1)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        lay.addWidget(self.summary)
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemClicked.connect(self._activated)
        self.cancel_button.clicked.connect(self.cancel_scan)
        self.retranslate()

    # ----------------------------------------------------------------- scanning
    def scan(self, paths: list[Path]) -> None:
        """Index files / folders / DICOMDIRs in a worker; the tree grows when it finishes."""
        self.cancel_scan()
        spaths = [str(p) for p in paths]

        def work(progress: Callable[[object], None], cancelled: Callable[[], bool]) -> Any:
            from viewer.dicom import iter_scan

            index = None
            last = 0
            for item in iter_scan(spaths, cancel=cancelled):
                if item.index is not None:
                    index = item.index
                if item.done == item.total or item.done - last >= 10 or item.done < 10:
                    progress((item.done, item.total))
                    last = item.done
                if cancelled():
                    return None
            return index

        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        self._render_summary(scanning=True)
        job = self.runner.submit(
            work,
            on_result=lambda idx: self._scan_done(job, idx),
            on_error=lambda exc: self._scan_error(job, exc),
            on_progress=self._scan_progress,
            priority=5,
            name="scan",
        )
        self._scan_job = job

    def cancel_scan(self) -> None:
        if self._scan_job is not None:
            self._scan_job.cancel()
            self.cancel_button.setEnabled(False)

    def _scan_progress(self, value: object) -> None:
        # JobRunner progress is untyped (object); the scan job reports (done, total).
        pair: tuple[int, int] = value  # type: ignore[assignment]
        done, total = int(pair[0]), int(pair[1])
        self._last_progress = (int(done), int(total))
        if total:
            self.progress.setRange(0, int(total))
            self.progress.setValue(int(done))
        self._render_summary(scanning=True)

    def _scan_finished_ui(self) -> None:
        self._scan_job = None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)

    def _scan_error(self, job: Job, exc: BaseException) -> None:
        if job is not self._scan_job:
            return
        self._scan_finished_ui()
        self._render_summary(error=error_text(exc))
        self.scan_failed.emit(error_text(exc))

    def _scan_done(self, job: Job, index: StudyIndex | None) -> None:
        if job is not self._scan_job:
            return
        # an index means every file was read (iter_scan gives none once cancelled): a Cancel
        # pressed after the last file cancelled nothing, and saying so hid a complete list
        cancelled = job.cancelled() and index is None
        self._scan_finished_ui()
        new: list[Any] = []
        if index is not None:
            for meta in index.images():
                if meta.path not in self._images:
                    new.append(meta)
                self._images[meta.path] = meta
            self._errors += [f"{e.path}: {e.message}" for e in index.errors]
            self._conflicts += [f"{e.path}: {e.message}" for e in index.conflicts]
            self._non_images += len(index.non_images)
            self._skipped += len(index.skipped)

        def finish() -> None:
            if index is not None:
                self._start_thumbnails()
            self._render_summary(cancelled=cancelled)
            self.scan_finished.emit(self.images())

        self._insert_chunked(sorted(new, key=_sort_key), finish)

    # ----------------------------------------------------------------- tree
    def images(self) -> list[Any]:
        return sorted(self._images.values(), key=_sort_key)

    def paths(self) -> list[str]:
        return [m.path for m in self.images()]

    def add_image(self, meta: Any) -> None:
        """Add one image known from a direct open (before or without a scan)."""
        if meta.path not in self._images:
            self._images[meta.path] = meta
            self._insert([meta])

    def _insert(self, metas: list[Any]) -> None:
        """Add tree items for images not shown yet (no clear: a rebuild of thousands of items
        costs hundreds of ms on the GUI thread)."""
        todo = sorted((m for m in metas if m.path not in self._items), key=_sort_key)
        if not todo:
            return
        self.tree.setUpdatesEnabled(False)
        tops: list[QTreeWidgetItem] = []
        for meta in todo:
            pkey = (meta.patient_id, meta.patient_name)
            p = self._patients.get(pkey)
            if p is None:
                # built detached and added in one call: no model signal per item
                p = QTreeWidgetItem([f"{meta.patient_name or '?'}  [{meta.patient_id}]"])
                tops.append(p)
                self._patients[pkey] = p
            s = self._studies.get(meta.study_instance_uid)
            if s is None:
                text = " ".join(x for x in (_date(meta.study_date), meta.study_description) if x)
                s = QTreeWidgetItem([text or meta.study_instance_uid[-12:]])
                p.addChild(s)
                self._studies[meta.study_instance_uid] = s
            skey = (meta.study_instance_uid, meta.series_instance_uid)
            se = self._series.get(skey)
            if se is None:
                num = "" if meta.series_number is None else f"#{meta.series_number} "
                se = QTreeWidgetItem([f"{num}{meta.modality} {meta.series_description}".strip()])
                s.addChild(se)
                self._series[skey] = se
            view = " ".join(x for x in (meta.view_position, meta.laterality) if x)
            inst = "" if meta.instance_number is None else f"{meta.instance_number}: "
            item = QTreeWidgetItem([f"{inst}{view or Path(meta.path).name}"])
            item.setData(0, LABEL_ROLE, item.text(0))
            se.addChild(item)
            item.setData(0, PATH_ROLE, meta.path)
            item.setToolTip(0, plain_tooltip(meta.path))
            if meta.path in self._thumbs:
                item.setIcon(0, self._thumbs[meta.path])
            self._items[meta.path] = item
            if meta.path in self._done:
                self._render_done(meta.path)
        self.tree.addTopLevelItems(tops)
        for top in tops:
            self._expand(top)
        self.tree.setUpdatesEnabled(True)

    def _expand(self, item: QTreeWidgetItem) -> None:
        item.setExpanded(True)
        for i in range(item.childCount()):
            child = item.child(i)
            if child is not None and child.childCount():
                self._expand(child)

    def _insert_chunked(self, metas: list[Any], done: Callable[[], None]) -> None:
        """Insert a CD's worth of images a chunk per event-loop turn, then call ``done``."""
        head, rest = metas[:TREE_CHUNK], metas[TREE_CHUNK:]
        self._insert(head)
        if rest:
            QTimer.singleShot(1, lambda: self._insert_chunked(rest, done))  # let other timers in
        else:
            done()

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        path = item.data(0, PATH_ROLE)
        if path:
            self.image_activated.emit(str(path))

    def set_done(self, path: str, done: str) -> None:
        """Mark an image ``"decided"`` or ``"amended"`` in the tree (kept for items added later)."""
        if done:
            self._done[path] = done
        else:
            self._done.pop(path, None)
        self._render_done(path)

    def done(self, path: str) -> str:
        return self._done.get(path, "")

    def _render_done(self, path: str) -> None:
        item = self._items.get(path)
        if item is None:
            return
        label = str(item.data(0, LABEL_ROLE) or item.text(0))
        done = {"decided": self.tr("decided"), "amended": self.tr("amended")}.get(
            self._done.get(path, "")
        )
        item.setText(0, f"{label}  ✓ {done}" if done else label)

    def select_path(self, path: str) -> None:
        item = self._items.get(path)
        if item is not None:
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(item)
            self.tree.blockSignals(False)
            self.tree.scrollToItem(item)

    def neighbour(self, path: str | None, step: int) -> str | None:
        """The next (step=1) or previous (step=-1) image in display order."""
        paths = self.paths()
        if not paths:
            return None
        if path not in paths:
            return paths[0]
        i = paths.index(path) + step
        return paths[i] if 0 <= i < len(paths) else None

    # ----------------------------------------------------------------- thumbnails
    def _start_thumbnails(self) -> None:
        if self._thumb_job is not None:
            self._thumb_job.cancel()
        todo = [m.path for m in self.images() if m.path not in self._thumbs][:MAX_THUMBNAILS]
        if not todo:
            return

        def work(progress: Callable[[object], None], cancelled: Callable[[], bool]) -> int:
            n = 0
            batch: list[tuple[str, np.ndarray]] = []
            for path in todo:
                if cancelled():
                    break
                try:
                    batch.append((path, make_thumbnail(path)))
                    n += 1
                except Exception:  # noqa: S112 - an unreadable file just gets no thumbnail
                    continue
                if len(batch) >= THUMB_BATCH:  # fewer, larger updates: one relayout per batch
                    progress(batch)
                    batch = []
            if batch:
                progress(batch)
            return n

        self._thumb_job = self.runner.submit(
            work, on_progress=self._thumb_ready, priority=-5, name="thumbnails"
        )

    def _thumb_ready(self, value: object) -> None:
        # JobRunner progress is untyped (object); the thumbnail job reports (path, pixels) pairs.
        batch: list[tuple[str, np.ndarray]] = value  # type: ignore[assignment]
        self.tree.setUpdatesEnabled(False)
        for path, buf in batch:
            h, w = buf.shape
            img = QImage(buf.data, w, h, buf.strides[0], QImage.Format.Format_Grayscale8).copy()
            icon = QIcon(QPixmap.fromImage(img))
            self._thumbs[path] = icon
            item = self._items.get(path)
            if item is not None:
                item.setIcon(0, icon)
        self.tree.setUpdatesEnabled(True)

    def errors(self) -> list[str]:
        """Files that could not be read, as "path: reason" lines."""
        return list(self._errors)

    def thumbnail_count(self) -> int:
        return len(self._thumbs)

    # ----------------------------------------------------------------- text
    def _render_summary(
        self, *, scanning: bool = False, cancelled: bool = False, error: str = ""
    ) -> None:
        if scanning:
            done, total = self._last_progress
            text = self.tr("Reading headers: {0} of {1} files…").format(done, total or "?")
        elif error:
            text = self.tr("The folder could not be read: {0}").format(error)
        else:
            text = self.tr("{0} image(s)").format(len(self._images))
            if self._non_images:
                text += " · " + self.tr("{0} non-image object(s) listed, not opened").format(
                    self._non_images
                )
            if self._skipped:
                text += " · " + self.tr("{0} non-DICOM file(s) skipped").format(self._skipped)
            if self._errors:
                text += " · " + self.tr("{0} file(s) could not be read").format(len(self._errors))
            if self._conflicts:
                text += " · " + self.tr(
                    "{0} image(s) share a SOP Instance UID with a different image: check which "
                    "belongs to the patient"
                ).format(len(self._conflicts))
            if cancelled:
                text += " · " + self.tr("scan cancelled")
        self.summary.setText(text)
        self.summary.setToolTip(plain_tooltip("\n".join((self._errors + self._conflicts)[:50])))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        for path in list(self._done):
            self._render_done(path)
        self.tree.setAccessibleName(self.tr("Studies: patient, study, series, image"))
        self.progress.setAccessibleName(self.tr("Folder reading progress"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel reading the folder"))
        self._render_summary(scanning=self._scan_job is not None)
