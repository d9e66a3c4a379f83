"""The main reading window: study browser and worklist, image view, AI panel, decision.

How work is split (DESIGN.md "Layers"): two job runners — ``io`` (decode, scan, thumbnails; two
threads) and ``ai`` (bundle load with the torch import, inference, heatmaps; one thread, so the
reader's image always runs before the next worklist item by priority). Every job result carries
the request id of the image it was for; a result for an image the reader has left is dropped.
Every audit write happens on the GUI thread through ``AuditLog.append``; "Saved" is shown only
after it returned.

Nothing here imports torch: the bundle layer (which does) is imported inside the ai worker.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from viewer.config import Settings
from viewer.errors import BedsideError, InferenceError
from viewer.session.forwarding_status import ForwardingStatus
from viewer.session.models import NoModelError, OpenModel, open_model
from viewer.session.priors import find_priors, same_patient, study_date_text
from viewer.session.reading import (
    DecisionOutcome,
    FindingChoice,
    ReadingDesk,
    ReadingSession,
    ScoreOutcome,
    decision_marks,
    headline,
    ranked,
    score_image,
)
from viewer.session.shadow import ShadowOutcome, ShadowRunner, record_shadow, store_shadow
from viewer.session.trail import AppendOutcome, AuditTrail
from viewer.ui.check_text import bundle_refusal_text
from viewer.ui.plain_text import plain_labels, plain_tooltip
from viewer.ui.prefetch import PrefetchCache, Stamp, file_stamp
from viewer.ui.qt_ai_panel import QtAiPanel
from viewer.ui.qt_decision import QtDecisionPanel
from viewer.ui.qt_forwarding_status import QtForwardingStatus
from viewer.ui.qt_image_view import QtImageView
from viewer.ui.qt_pacs import QtPacsLink, QtPacsStatus
from viewer.ui.qt_study_browser import QtStudyBrowser
from viewer.ui.qt_viewports import LAYOUTS, QtViewportGrid
from viewer.ui.qt_worklist import QtWorklist
from viewer.ui.shortcuts import TypingGuard, bind_actions
from viewer.ui.workers import Job, JobRunner, error_text, launch_mark

if TYPE_CHECKING:
    import numpy as np
    from PySide6.QtPrintSupport import QPrinter

    from viewer.audit import AuditLog
    from viewer.bundle import LoadedBundle
    from viewer.dicom import DicomImage, DisplayRenderer, ImageMetadata
    from viewer.inference import Predictor
    from viewer.session.export import ExportChoice
    from viewer.session.prewarm import Prewarm


@dataclass
class OnScreen:
    """What the window holds for the image on screen beside its reading session: pixels and
    heatmap (the clinical state — score, reveal, decision — is the session's)."""

    session: ReadingSession
    image: DicomImage | None = None
    renderer: DisplayRenderer | None = None
    heatmap: np.ndarray | None = None
    heatmap_pending: bool = False
    heatmap_label: str = ""  # the label the heatmap (shown or on its way) is for

    @property
    def path(self) -> str:
        return self.session.path


# Shadow mode (viewer.session.shadow): the candidate's job waits for this much quiet on the AI
# thread, so a reader stepping through images never waits for it; decoded images kept for it.
SHADOW_QUIET_MS = 300
SHADOW_KEPT_IMAGES = 4
# The first model job waits at most this long for the start-up import of torch (issue 19), then
# imports it itself (a stuck disk is then its own error, not a silent wait).
PREWARM_WAIT_S = 120.0
# Prefetch (issue 14): the next image in Next order is decoded ahead; at most this many kept.
PREFETCH_KEPT_IMAGES = 2
ZOOM_STEP = 1.25  # one + or - key press
# annotation tool (viewer.dicom.annotations kind) -> its action's object name (keys: shortcuts)
ANNOTATION_ACTIONS = {
    "distance": "actionDistanceTool",
    "angle": "actionAngleTool",
    "rect": "actionRectRoiTool",
    "ellipse": "actionEllipseRoiTool",
    "ctr": "actionCtrTool",
    "arrow": "actionArrowTool",
    "text": "actionTextTool",
}


def _os_account() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "?"


def _cause(exc: BaseException) -> str:
    """What the core's error was raised from (the failed import), else its own sentence."""
    cause = exc.__cause__
    return f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)


def _read_job(
    path: str, show_preview: Callable[[Any], None] | None = None
) -> tuple[DicomImage, DisplayRenderer, Any]:
    """Decode ``path`` for display. With ``show_preview``, a large JPEG 2000 file's reduced
    preview is handed over first: in the same job, since the full JPEG 2000 decoder holds the GIL
    (a preview beside it on another thread waited for it: 1.8 s instead of 0.2 s on 3000 x 3000)."""
    from viewer.dicom import DisplayRenderer, read_image
    from viewer.ui.qt_image_view import make_preview

    if show_preview is not None:
        pixels = _preview_job(path)
        if pixels is not None:
            show_preview(pixels)
    image = read_image(path)
    image.pixel_sha256  # noqa: B018  (computed here, off the GUI thread; cached on the image)
    return image, DisplayRenderer(image), make_preview(image)


def _preview_job(path: str) -> Any:
    """A reduced-resolution display buffer of a large JPEG 2000 file, or None (any other file,
    or any problem: the full read reports it)."""
    from viewer.dicom import DisplayRenderer
    from viewer.dicom.preview import read_preview

    got = read_preview(path)
    if got is None:
        return None
    image, _factor = got
    return DisplayRenderer(image).render(image.default_window)


def _prefetch_job(path: str, cancelled: Callable[[], bool]) -> tuple[Stamp, Any] | None:
    """The read job ahead of time (no torch here), with the file's stamp taken before it."""
    stamp = file_stamp(path)
    if stamp is None or cancelled():
        return None
    return stamp, _read_job(path)


class QtMainWindow(QMainWindow):
    """The reading workstation window."""

    prediction_shown = Signal(object)  # emitted when an AI result becomes visible
    decision_saved = Signal(object)  # the AuditRecord, after commit
    model_ready = Signal(object)  # LoadedBundle, or None when refused
    image_shown = Signal(str)

    def __init__(
        self, settings: Settings, *, audit: AuditLog | None = None, prewarm: Prewarm | None = None
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings
        # torch and the model modules, imported since the process started (bedside gui/open/
        # demo): the first model job waits for them instead of importing them itself
        self.prewarm = prewarm
        # The clinical state lives in the Qt-free session (viewer.session): this window turns
        # it into widgets and runs its long steps in workers.
        self.trail = AuditTrail(settings, audit)
        self.desk = ReadingDesk(settings, self.trail)
        self.io = JobRunner(2, self, name="io", nice=5)
        self.ai = JobRunner(1, self, name="ai", nice=10)
        # Prefetch: one thread niced below the AI's (10), so it never slows the reader's own
        # decode (io) or the AI; jobs are plain reads (_prefetch_job), never torch.
        self.prefetch_io = JobRunner(1, self, name="prefetch", nice=15)
        self._prefetch = PrefetchCache(PREFETCH_KEPT_IMAGES)
        self._prefetch_running: tuple[str, Job] | None = None  # (path, job) in flight
        self._prefetch_enabled = True  # bench/bench_ui.py turns it off for its A/B
        self.model: OpenModel | None = None
        self.shadow: ShadowRunner | None = None  # the store's candidate: recorded, never shown
        # Shadow jobs wait for a quiet AI thread (see _request_shadow): (session, runner, image)
        self._shadow_pending: deque[tuple[ReadingSession, ShadowRunner, DicomImage | None]] = (
            deque()
        )
        self._shadow_running: tuple[ReadingSession, ShadowRunner] | None = None
        self._shadow_timer = QTimer(self)
        self._shadow_timer.setSingleShot(True)
        self._shadow_timer.setInterval(SHADOW_QUIET_MS)
        self._shadow_timer.timeout.connect(self._shadow_next)
        self.model_error = ""
        self.model_loading = False
        self.shown: OnScreen | None = None
        self._batch_job: Any | None = None
        self._started = False
        self._stopped = False
        self._open_first_after_scan = False
        self._tag_browsers: list[QWidget] = []
        self._tools: dict[str, QWidget] = {}
        self._normal_before_full_screen = True
        self.setAcceptDrops(True)
        self.resize(1500, 950)
        self._build()
        self.view.set_left_drag(settings.values.ui.left_drag)
        plain_labels(self)  # file names, manifest and DICOM text are shown as text, never HTML
        self.retranslate()

    # ================================================================= session views
    @property
    def audit(self) -> AuditLog | None:
        """The open audit log (None while it opens, or when it cannot be opened)."""
        return self.trail.log

    @property
    def current(self) -> ReadingSession | None:
        """The reading session of the image on screen."""
        return self.desk.current

    @property
    def loaded(self) -> LoadedBundle | None:
        """The loaded, verified bundle (``viewer.bundle.LoadedBundle``), or None."""
        return self.model.loaded if self.model is not None else None

    @property
    def predictor(self) -> Predictor | None:
        return self.model.predictor if self.model is not None else None

    # ================================================================= construction
    def _build(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.demo_banner = QLabel(central)
        self.demo_banner.setObjectName("demoBanner")
        self.demo_banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.demo_banner.setStyleSheet(
            "background: #b71c1c; color: white; font-weight: bold; padding: 6px; font-size: 14pt;"
        )
        self.demo_banner.setVisible(self.settings.demo)
        outer.addWidget(self.demo_banner)

        split = QSplitter(Qt.Orientation.Horizontal, central)
        self.tabs = QTabWidget(split)
        self.tabs.setObjectName("leftTabs")
        self.browser = QtStudyBrowser(self.io, self.tabs)
        self.worklist = QtWorklist(self.tabs, hide_scores=self.desk.reading_order == "read_first")
        self.tabs.addTab(self.browser, "")
        self.tabs.addTab(self.worklist, "")
        self.view = QtImageView(split)
        # comparison layouts (issue 14 item 1): self.view is the primary viewport, top left;
        # the others are for looking only (viewer.ui.qt_viewports)
        self.grid = QtViewportGrid(self.view, self._read_for_viewport, split)
        # The AI and decision panels scroll as one column: with many labels or a small screen
        # their texts never overlap or get cut, they move below the fold
        self.right_scroll = QScrollArea(split)
        self.right_scroll.setObjectName("rightPanels")
        self.right_scroll.setWidgetResizable(True)
        self.right_scroll.setFrameShape(QFrame.Shape.NoFrame)
        # texts wrap to the column's width; anything that cannot still scrolls, never cut
        self.right_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.right_scroll.verticalScrollBar().setObjectName("rightPanelsScrollBar")
        self.right_scroll.horizontalScrollBar().setObjectName("rightPanelsSideScrollBar")
        right = QWidget(self.right_scroll)
        rlay = QVBoxLayout(right)
        rlay.setContentsMargins(4, 4, 4, 4)
        self.ai_panel = QtAiPanel(right)
        self.decision = QtDecisionPanel(right)
        self.measure_label = QLabel(right)
        self.measure_label.setObjectName("measurementText")
        self.measure_label.setWordWrap(True)
        self.image_error = QLabel(right)
        self.image_error.setObjectName("imageError")
        self.image_error.setWordWrap(True)
        self.image_error.setStyleSheet("color: #c62828;")
        rlay.addWidget(self.image_error)
        # PACS (issue 17): the hand-over of each saved decision, its state under the decision
        self.pacs_status = QtPacsStatus(self.decision)
        decision_layout = self.decision.layout()
        if decision_layout is not None:
            decision_layout.addWidget(self.pacs_status)
        self.pacs = QtPacsLink(self.settings, self.trail, self.pacs_status)
        rlay.addWidget(self.ai_panel, 3)
        rlay.addWidget(self.decision, 2)
        rlay.addWidget(self.measure_label)
        split.addWidget(self.tabs)
        split.addWidget(self.grid)
        self.right_scroll.setWidget(right)
        split.addWidget(self.right_scroll)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setStretchFactor(2, 0)
        split.setSizes([280, 900, 360])
        outer.addWidget(split, 1)
        self.setCentralWidget(central)

        self.user_label = QLabel(self)
        self.user_label.setObjectName("userStatus")
        self.model_label = QLabel(self)
        self.model_label.setObjectName("modelStatus")
        # issue 18: where the audit rows stand on their way to the department store and ATNA
        self.forwarding = QtForwardingStatus(ForwardingStatus(self.settings, self.trail), self)
        self.statusBar().addPermanentWidget(self.forwarding)
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.user_label)

        self._build_actions()
        self._build_menus()

        self.browser.image_activated.connect(self.open_image)
        self.browser.scan_finished.connect(self._scan_finished)
        self.worklist.image_activated.connect(self.open_image)
        self.worklist.paused_changed.connect(lambda _p: self._batch_next())
        self.decision.decision_requested.connect(self.record_decision)
        self.decision.findings_requested.connect(self.record_findings)
        self.decision.provisional_recorded.connect(self._provisional_recorded)
        self.decision.amend_requested.connect(self.start_amendment)
        self.ai_panel.heatmap_toggled.connect(self._heatmap_toggled)
        self.ai_panel.heatmap_label_changed.connect(self._heatmap_label_changed)
        self.ai_panel.heatmap_opacity_changed.connect(self.view.set_heatmap_opacity)
        self.view.window_changed.connect(self._window_changed)
        self.view.measurement_changed.connect(self._measurement_changed)
        self.view.annotations.changed.connect(self._annotations_changed)
        self.grid.primary_dropped.connect(self.open_image)
        self.grid.layout_changed.connect(self._layout_changed)
        self.grid.shown.connect(self._viewport_shown)

    def _action(self, name: str, slot: Any) -> QAction:
        act = QAction(self)
        act.setObjectName(name)
        act.triggered.connect(slot)
        self.addAction(act)
        return act

    def _build_actions(self) -> None:
        # keys come from the one table in viewer.ui.shortcuts (bind_actions below), which also
        # fills Help > Keyboard shortcuts and docs/shortcuts.md
        self.act_open_file = self._action("actionOpenFile", self.open_file_dialog)
        self.act_open_folder = self._action("actionOpenFolder", self.open_folder_dialog)
        self.act_open_dicomdir = self._action("actionOpenDicomdir", self.open_dicomdir_dialog)
        self.act_search_pacs = self._action("actionSearchPacs", self.show_pacs_search)
        self.act_quit = self._action("actionQuit", self.close)
        self.act_export = self._action("actionExportView", lambda: self.export_view())
        self.act_print = self._action("actionPrint", lambda: self.print_view())
        self.act_next = self._action("actionNextImage", lambda: self.step_image(1))
        self.act_prev = self._action("actionPreviousImage", lambda: self.step_image(-1))
        self.act_first = self._action("actionFirstImage", lambda: self.jump_image(0))
        self.act_last = self._action("actionLastImage", lambda: self.jump_image(-1))
        self.act_next_unread = self._action("actionNextUnread", self.next_unread)
        self.act_zoom_in = self._action(
            "actionZoomIn", lambda: self.grid.active_view().zoom_by(ZOOM_STEP)
        )
        self.act_zoom_out = self._action(
            "actionZoomOut", lambda: self.grid.active_view().zoom_by(1 / ZOOM_STEP)
        )
        self.act_full_screen = self._action("actionFullScreen", self.toggle_full_screen)
        self.act_full_screen.setCheckable(True)
        self.act_fit = self._action("actionFit", lambda: self.grid.active_view().fit())
        self.act_one = self._action(
            "actionActualSize", lambda: self.grid.active_view().actual_size()
        )
        self.act_invert = self._action("actionInvert", lambda: None)
        self.act_invert.setCheckable(True)
        self.act_invert.toggled.connect(self.view.set_invert)
        self.act_rotate = self._action("actionRotate", lambda: self.grid.active_view().rotate90())
        self.act_flip = self._action("actionFlip", lambda: self.grid.active_view().flip())
        self.act_reset = self._action("actionResetView", self._reset_view)
        tools = QActionGroup(self)
        self.act_pan = self._action("actionPanTool", lambda: self.view.set_tool("pan"))
        self.act_measure = self._action("actionMeasureTool", lambda: self.view.set_tool("measure"))
        # annotation tools (viewer.ui.qt_annotations): several per image, kept with the reading
        self.annotation_tools = {
            kind: self._action(name, partial(self.view.set_tool, kind))
            for kind, name in ANNOTATION_ACTIONS.items()
        }
        for a in (self.act_pan, self.act_measure, *self.annotation_tools.values()):
            a.setCheckable(True)
            tools.addAction(a)
        self.act_delete_annotation = self._action(
            "actionDeleteAnnotation", self.view.annotations.delete_selected
        )
        self.act_pan.setChecked(True)
        self.act_clear_measure = self._action("actionClearMeasurement", self.view.clear_measurement)
        self.act_tags = self._action("actionTagBrowser", self.show_tag_browser)
        self.act_heatmap = self._action(
            "actionHeatmap", lambda: self.ai_panel.heatmap_toggle.toggle()
        )
        self.act_model_manager = self._action("actionModelManager", self.show_model_manager)
        self.act_audit = self._action("actionAuditLog", self.show_audit_window)
        self.act_monitoring = self._action("actionMonitoring", self.show_monitoring_window)
        self.act_settings = self._action("actionSettings", self.show_settings)
        self.act_reload_model = self._action("actionReloadModel", self.load_model)
        self.act_user_guide = self._action("actionUserGuide", self.show_user_guide)
        self.act_shortcuts = self._action("actionShortcuts", self.show_shortcuts)
        self.act_intended_use = self._action("actionIntendedUse", self.show_intended_use)
        self.act_about = self._action("actionAbout", self.show_about)
        # comparison: layouts, synchronised zoom/pan, the prior beside the current image
        layouts = QActionGroup(self)
        self.layout_actions = {
            name: self._action(f"actionLayout{name}", partial(self.grid.set_layout, name))
            for name in LAYOUTS
        }
        for a in self.layout_actions.values():
            a.setCheckable(True)
            layouts.addAction(a)
        self.layout_actions["1x1"].setChecked(True)
        self.act_sync = self._action("actionSyncViews", lambda: None)
        self.act_sync.setCheckable(True)
        self.act_sync.toggled.connect(self.grid.set_sync)
        self.act_prior = self._action("actionOpenPrior", self.open_prior)
        # keys 1-9: the Nth window preset (the Window list's order)
        for k in range(1, 10):
            self._action(f"actionWindowPreset{k}", self._preset_slot(k - 1))
        bind_actions({a.objectName(): a for a in self.actions()})
        # a plain key typed into a text field (the override reason) is text, never a shortcut
        self._typing_guard = TypingGuard(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._typing_guard)

        tb = QToolBar(self)
        tb.setObjectName("viewToolbar")
        tb.setMovable(False)
        self.presets = QComboBox(tb)
        self.presets.setObjectName("windowPresets")
        self.presets.setMinimumContentsLength(30)
        self.presets.activated.connect(self.apply_preset)
        self.presets_label = QLabel(tb)
        tb.addWidget(self.presets_label)
        tb.addWidget(self.presets)
        tb.addSeparator()
        for a in (*self._view_actions(), self.act_pan, self.act_measure, self.act_tags):
            tb.addAction(a)
        tb.addSeparator()
        tb.addAction(self.act_prev)
        tb.addAction(self.act_next)
        # the annotation tools behind one button with a menu (as OHIF groups its measurement
        # tools): seven more buttons overflow the bar at the default width and hide tools
        # behind Qt's extension button
        self.annotate_button = QToolButton(tb)
        self.annotate_button.setObjectName("annotateButton")
        self.annotate_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.annotate_menu = QMenu(self.annotate_button)
        self.annotate_menu.setObjectName("annotateMenu")
        for a in self.annotation_tools.values():
            self.annotate_menu.addAction(a)
        self.annotate_button.setMenu(self.annotate_menu)
        tb.insertWidget(self.act_prev, self.annotate_button)
        tb.insertSeparator(self.act_prev)
        tb.addSeparator()
        self.layout_chooser = QComboBox(tb)
        self.layout_chooser.setObjectName("layoutChooser")
        for name in LAYOUTS:
            self.layout_chooser.addItem(name, name)
        self.layout_chooser.activated.connect(
            lambda i: self.grid.set_layout(str(self.layout_chooser.itemData(i)))
        )
        self.layout_label = QLabel(tb)
        tb.addWidget(self.layout_label)
        tb.addWidget(self.layout_chooser)
        tb.addAction(self.act_sync)
        tb.addAction(self.act_prior)
        self.addToolBar(tb)
        self.toolbar = tb

    def _view_actions(self) -> tuple[QAction, ...]:
        """Fit, 1:1, invert, rotate, flip: in the toolbar and the View menu alike."""
        return (self.act_fit, self.act_one, self.act_invert, self.act_rotate, self.act_flip)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        self.menu_file = mb.addMenu("")
        self.menu_file.setObjectName("menuFile")
        for a in (self.act_open_file, self.act_open_folder, self.act_open_dicomdir):
            self.menu_file.addAction(a)
        self.menu_file.addAction(self.act_search_pacs)
        self.menu_file.addSeparator()
        self.menu_file.addAction(self.act_export)
        self.menu_file.addAction(self.act_print)
        self.menu_file.addSeparator()
        self.menu_file.addAction(self.act_quit)
        self.menu_view = mb.addMenu("")
        self.menu_view.setObjectName("menuView")
        for a in (*self._view_actions(), self.act_reset):
            self.menu_view.addAction(a)
        self.menu_view.addSeparator()
        for a in (self.act_pan, self.act_measure, self.act_clear_measure):
            self.menu_view.addAction(a)
        self.menu_annotate = self.menu_view.addMenu("")
        self.menu_annotate.setObjectName("menuAnnotate")
        for a in (*self.annotation_tools.values(), self.act_delete_annotation):
            self.menu_annotate.addAction(a)
        self.menu_layout = self.menu_view.addMenu("")
        self.menu_layout.setObjectName("menuLayout")
        for a in (*self.layout_actions.values(), self.act_sync, self.act_prior):
            self.menu_layout.addAction(a)
        self.menu_view.addSeparator()
        self.menu_view.addAction(self.act_heatmap)
        self.menu_view.addAction(self.act_tags)
        self.menu_view.addSeparator()
        for a in (self.act_zoom_in, self.act_zoom_out, self.act_full_screen):
            self.menu_view.addAction(a)
        self.menu_image = mb.addMenu("")
        self.menu_image.setObjectName("menuImage")
        for a in (self.act_prev, self.act_next, self.act_first, self.act_last):
            self.menu_image.addAction(a)
        self.menu_image.addSeparator()
        self.menu_image.addAction(self.act_next_unread)
        self.menu_tools = mb.addMenu("")
        self.menu_tools.setObjectName("menuTools")
        for a in (
            self.act_model_manager,
            self.act_reload_model,
            self.act_audit,
            self.act_monitoring,
            self.act_settings,
        ):
            self.menu_tools.addAction(a)
        self.menu_help = mb.addMenu("")
        self.menu_help.setObjectName("menuHelp")
        for a in (self.act_user_guide, self.act_shortcuts, self.act_intended_use):
            self.menu_help.addAction(a)
        self.menu_help.addSeparator()
        self.menu_help.addAction(self.act_about)

    # ================================================================= translation
    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Bedside — DEMO") if self.settings.demo else self.tr("Bedside"))
        self.demo_banner.setText(self.tr("DEMO MODEL — NOT FOR CLINICAL USE"))
        self.demo_banner.setAccessibleName(self.tr("Demo mode warning"))
        self.tabs.setTabText(0, self.tr("Studies"))
        self.tabs.setTabText(1, self.tr("Worklist"))
        self.menu_file.setTitle(self.tr("&File"))
        self.menu_view.setTitle(self.tr("&View"))
        self.menu_annotate.setTitle(self.tr("&Annotate"))
        self.menu_layout.setTitle(self.tr("&Layout"))
        self.menu_image.setTitle(self.tr("&Image"))
        self.menu_tools.setTitle(self.tr("&Tools"))
        self.menu_help.setTitle(self.tr("&Help"))
        texts = {
            self.act_open_file: self.tr("Open file…"),
            self.act_open_folder: self.tr("Open folder…"),
            self.act_open_dicomdir: self.tr("Open DICOMDIR…"),
            self.act_search_pacs: self.tr("Search PACS…"),
            self.act_quit: self.tr("Quit"),
            self.act_export: self.tr("Export view as PNG…"),
            self.act_print: self.tr("Print…"),
            self.act_next: self.tr("Next image"),
            self.act_prev: self.tr("Previous image"),
            self.act_fit: self.tr("Fit"),
            self.act_one: self.tr("1:1"),
            self.act_invert: self.tr("Invert"),
            self.act_rotate: self.tr("Rotate 90°"),
            self.act_flip: self.tr("Flip"),
            self.act_reset: self.tr("Reset view"),
            self.act_pan: self.tr("Pan"),
            self.act_measure: self.tr("Measure"),
            self.act_clear_measure: self.tr("Clear measurement"),
            self.annotation_tools["distance"]: self.tr("Distance"),
            self.annotation_tools["angle"]: self.tr("Angle"),
            self.annotation_tools["rect"]: self.tr("Rectangle ROI"),
            self.annotation_tools["ellipse"]: self.tr("Ellipse ROI"),
            self.annotation_tools["ctr"]: self.tr("Cardiothoracic ratio"),
            self.annotation_tools["arrow"]: self.tr("Arrow"),
            self.annotation_tools["text"]: self.tr("Text"),
            self.act_delete_annotation: self.tr("Delete the selected annotation"),
            self.act_tags: self.tr("DICOM tags…"),
            self.act_heatmap: self.tr("Show heatmap"),
            self.act_model_manager: self.tr("Model manager…"),
            self.act_reload_model: self.tr("Reload model"),
            self.act_audit: self.tr("Audit log…"),
            self.act_monitoring: self.tr("Monitoring…"),
            self.act_settings: self.tr("Settings…"),
            self.act_about: self.tr("About Bedside"),
            self.act_first: self.tr("First image"),
            self.act_last: self.tr("Last image"),
            self.act_next_unread: self.tr("Next case not decided yet"),
            self.act_zoom_in: self.tr("Zoom in"),
            self.act_zoom_out: self.tr("Zoom out"),
            self.act_full_screen: self.tr("Full screen"),
            self.act_user_guide: self.tr("User guide"),
            self.act_shortcuts: self.tr("Keyboard shortcuts"),
            self.act_intended_use: self.tr("Intended use of the model"),
            self.layout_actions["1x1"]: self.tr("One viewport (1x1)"),
            self.layout_actions["1x2"]: self.tr("Two viewports side by side (1x2)"),
            self.layout_actions["2x2"]: self.tr("Four viewports (2x2)"),
            self.act_sync: self.tr("Synchronise zoom and pan"),
            self.act_prior: self.tr("Open the prior"),
        }
        for act, text in texts.items():
            act.setText(text)
            keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            act.setToolTip(f"{text} ({keys})" if keys else text)
            button = self.toolbar.widgetForAction(act)
            if button is not None:  # the toolbar's button for this action
                button.setObjectName(act.objectName() + "Button")
                button.setAccessibleName(text)
        self.tabs.tabBar().setAccessibleName(self.tr("Studies") + " / " + self.tr("Worklist"))
        self.presets_label.setText(self.tr("Window:"))
        self.layout_chooser.setAccessibleName(self.tr("Viewport layout"))
        self.layout_label.setText(self.tr("Layout:"))
        self.layout_chooser.setToolTip(
            self.tr("Viewports: the AI result and the decision belong to the top-left image")
        )
        self.presets.setAccessibleName(self.tr("Window presets"))
        self.presets.setToolTip(
            self.tr(
                "Stored windows first (one outside the image's values last); keys 1-9 select a "
                "preset"
            )
        )
        self.toolbar.setWindowTitle(self.tr("View tools"))
        self.annotate_button.setText(self.tr("Annotate"))
        self.annotate_button.setAccessibleName(self.tr("Annotation tools"))
        self.annotate_button.setToolTip(
            self.tr("Distance, angle, ROI, cardiothoracic ratio, arrow and text")
        )
        for more in self.toolbar.findChildren(QToolButton, "qt_toolbar_ext_button"):
            more.setAccessibleName(self.tr("More tools"))  # Qt's button for tools that do not fit
        self.measure_label.setAccessibleName(self.tr("Measurement"))
        self.right_scroll.verticalScrollBar().setAccessibleName(
            self.tr("Scroll the AI result and decision panels")
        )
        self.right_scroll.horizontalScrollBar().setAccessibleName(
            self.tr("Scroll the AI result and decision panels sideways")
        )
        self._render_user()
        self._render_model_status()
        self._fill_presets()

    def _render_user(self) -> None:
        # The same fields viewer.audit.current_user records, read here without importing the
        # audit package (its import costs ~0.3 s before the window could be shown).
        name = self.settings.values.user.name.strip()
        role = self.settings.values.user.role.strip()
        if name:
            who = f"{name} ({role})" if role else name
            text = self.tr("Clinician: {0}").format(who)
        else:
            text = self.tr("Clinician: not named (account {0}) — set your name in Settings").format(
                _os_account()
            )
        self.user_label.setText(text)
        self.user_label.setAccessibleName(text)

    def _render_model_status(self) -> None:
        if self.loaded is not None:
            m = self.loaded.manifest
            text = self.tr("Model: {0} {1}").format(m.id, m.version)
        elif self.model_loading:
            text = self.tr("Model: loading…")
        elif self.model_error:
            text = self.tr("Model: not available")
        else:
            text = ""
        self.model_label.setText(text)
        self.model_label.setToolTip(plain_tooltip(self.model_error))

    # ================================================================= start / stop
    def start(self, paths: list[Path] | None = None, *, demo_study: bool = False) -> None:
        """Called once the window is shown: audit start, load the model, open the paths."""
        if self._started:
            return
        self._started = True
        self._append(
            "app_start",
            detail={"demo": self.settings.demo, "reading_order": self.desk.reading_order},
        )
        if not self.trail.settled:
            # Opening the log imports the audit package and touches the disk (~0.3 s): in a
            # worker, so the window just shown reacts at once. Rows wait in the trail meanwhile.
            settings = self.settings

            def open_log(_p: Any, _c: Any) -> AuditLog:
                from viewer.audit import AuditLog

                return AuditLog.open(settings)

            self.io.submit(
                open_log,
                on_result=self._audit_opened,
                on_error=self._audit_failed,
                priority=90,
                name="open-audit",
            )
        self.load_model()
        if demo_study and not paths:
            self.open_demo_study()
        elif paths:
            self.open_paths(paths)

    def shutdown(self) -> None:
        """Stop workers and write app_stop; idempotent (closeEvent and tests)."""
        if self._stopped:
            return
        self._stopped = True
        self.trail.stop_waiting()  # a model job waiting for the log must not hold the shutdown
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._typing_guard)
        self.browser.cancel_scan()
        self.pacs.shutdown()
        self.forwarding.shutdown()
        self.io.shutdown()
        self.ai.shutdown()
        self.prefetch_io.shutdown()
        self._prefetch.clear()
        self._shadow_not_run()
        self.view.shutdown()
        self.grid.shutdown()
        for w in list(self._tag_browsers) + list(self._tools.values()):
            w.close()
        if self._started:
            self._append("app_stop")
        self.trail.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    # ================================================================= audit
    def _append(self, type_: str, **fields: Any) -> None:
        """A non-decision row through the session's trail; a failed write is shown."""
        self._show_append(self.trail.append(type_, **fields))

    def _show_append(self, outcome: AppendOutcome | None) -> None:
        if outcome is not None and outcome.error and self.trail.is_open:
            self.statusBar().showMessage(
                self.tr("Audit log write failed: {0}").format(outcome.error)
            )

    def _audit_opened(self, log: AuditLog) -> None:
        if self._stopped:
            log.close()
            return
        for outcome in self.trail.attach(log):
            self._show_append(outcome)
        self.pacs.drain()  # results an earlier run left waiting for PACS go out now
        self.forwarding.refresh()  # the forwarders have started
        shown = self.shown  # an image read before the log opened: its saved annotations now
        if shown is not None and shown.image is not None and not shown.session.annotations:
            shown.session.restore_annotations()
            self.view.annotations.set_items(shown.session.annotations)

    def _audit_failed(self, exc: BaseException) -> None:
        self.trail.open_failed(error_text(exc))
        self.statusBar().showMessage(
            self.tr("The audit log cannot be opened: {0}").format(self.trail.error)
        )

    # ================================================================= model
    def load_model(self) -> None:
        """Choose, verify and load the model in the ai worker (the session's one policy; it
        imports torch there, not here)."""
        if self.model_loading:
            return
        self.model_loading = True
        self.model = None
        self.shadow = None
        self.desk.set_model(None)  # withdraws the old model's result on screen
        self.model_error = ""
        self.worklist.reset_scores()
        self.ai_panel.set_loading_model()
        self.decision.set_decision_enabled(False)  # no score shown: nothing to decide on
        if self.shown is not None:  # the old model's heatmap goes with its score
            self.shown.heatmap, self.shown.heatmap_pending = None, False
            self.ai_panel.heatmap_toggle.setChecked(False)
        self._render_model_status()
        settings, trail, prewarm = self.settings, self.trail, self.prewarm

        def job(_p: Any, cancelled: Callable[[], bool]) -> OpenModel:
            launch_mark("model_job_start")
            # never two threads inside torch's import; a window closing meanwhile loads nothing
            waited = prewarm is None or prewarm.wait(PREWARM_WAIT_S, cancelled=cancelled)
            if not waited and cancelled():
                raise BedsideError("The window closed before the model loaded.")
            # the log is open long before it is needed (the loader records bundle_verified /
            # bundle_refused in it)
            return open_model(settings, audit=trail.wait_open(60), mark=launch_mark)

        self.ai.submit(
            job,
            on_result=self._model_loaded,
            on_error=self._model_failed,
            priority=100,
            name="load-model",
        )

    def _model_loaded(self, model: OpenModel) -> None:
        self.model_loading = False
        self.model = model
        trail = self.trail
        self.shadow = store_shadow(self.settings, model, audit=lambda: trail.wait_open(60))
        demo = model.source == "demo"
        self.desk.set_model(model.predictor, model.loaded.digest, demo_model=demo)
        self.ai_panel.set_model(model.loaded.manifest, demo=demo)
        self._render_model_status()
        self.model_ready.emit(model.loaded)
        self._request_inference()
        self._batch_next()

    def _model_failed(self, exc: BaseException) -> None:
        self.model_loading = False
        self.model_error = self._model_refusal_text(exc)
        self.ai_panel.set_model(None, refusal=self.model_error)
        self.decision.set_decision_enabled(False)
        self._render_model_status()
        self.model_ready.emit(None)

    def _model_refusal_text(self, exc: BaseException) -> str:
        """Why there is no model, in the reader's language, then the core's own sentence."""
        if isinstance(exc, NoModelError):
            texts = {
                "no_active": self.tr(
                    "No model is installed and active. IT can install one in Tools > Model manager."
                ),
                "demo_missing": self.tr(
                    "The demo model bundle is missing from this installation ({0}); "
                    "run 'make demo-bundle'."
                ).format(exc.path or ""),
                "engine": self.tr(
                    "The AI engine cannot be loaded: this installation is damaged; IT must "
                    "reinstall Bedside. Images can still be read; no AI result is shown."
                )
                + f" ({_cause(exc)})",
            }
            return texts.get(exc.code, str(exc))
        return bundle_refusal_text(exc)

    # ================================================================= opening
    def open_file_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Open DICOM files"),
            "",
            self.tr("DICOM files (*.dcm *.DCM *);;All files (*)"),
        )
        self.open_paths([Path(f) for f in files])

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Open a folder of DICOM files"))
        self.open_paths([Path(folder)] if folder else [])

    def open_dicomdir_dialog(self) -> None:
        f, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Open a DICOMDIR"),
            "",
            self.tr("DICOMDIR (DICOMDIR dicomdir);;All files (*)"),
        )
        self.open_paths([Path(f)] if f else [])

    def open_paths(self, paths: list[Path]) -> None:
        """Files open at once (the first one); everything is indexed for the study browser."""
        paths = [Path(p) for p in paths]
        if not paths:  # a dialog cancelled
            return
        files = [p for p in paths if p.is_file() and p.name.upper() != "DICOMDIR"]
        self._open_first_after_scan = not files
        if files:
            self.open_image(str(files[0]))
        self.browser.scan(paths)

    def open_demo_study(self) -> None:
        """Generate (once) the demo study in the data dir, then open it."""
        out = self.settings.data_dir / "demo-study"

        def work(_p: Any, _c: Any) -> Path:
            if not out.is_dir() or not any(out.rglob("*.dcm")):
                from viewer.dicom.synthetic import write_demo_set

                write_demo_set(out)
            return out

        self.io.submit(
            work,
            on_result=lambda folder: self.open_paths([folder]),
            on_error=lambda exc: self._show_image_error(error_text(exc)),
            priority=10,
            name="demo-study",
        )

    def _scan_finished(self, metas: list[ImageMetadata]) -> None:
        self.worklist.set_images(metas)
        if metas:
            # which listed cases were decided before (read-only log read, off the GUI thread)
            settings, listed = self.settings, list(metas)
            self.io.submit(
                lambda _p, _c: decision_marks(settings, listed),
                on_result=self._show_marks,
                priority=20,
                name="decision-marks",
            )
        if not metas and self.browser.errors():  # e.g. `bedside open` on a missing file
            self._show_image_error(
                self.tr("This file cannot be shown: {0}").format(self.browser.errors()[0])
            )
        first_new = self._open_first_after_scan
        self._open_first_after_scan = False
        if (self.shown is None or first_new) and metas:
            self.open_image(metas[0].path)
        elif self.shown is not None:
            self.browser.select_path(self.shown.path)
            if self.shown.image is not None:  # shown before the list was complete
                self._prefetch_next(self.shown.path)
        self._batch_next()

    def step_image(self, step: int) -> None:
        path = self.browser.neighbour(self.shown.path if self.shown else None, step)
        if path:
            self.open_image(path)

    def jump_image(self, index: int) -> None:
        """The first (0) or last (-1) image in display order (Home / End)."""
        paths = self.browser.paths()
        if paths:
            self.open_image(paths[index])

    def next_unread(self) -> None:
        """Space: the next case after this one, in worklist order, not decided yet (wrapping)."""
        order = self.worklist.order()
        here = self.shown.path if self.shown is not None else None
        start = order.index(here) + 1 if here in order else 0
        for path in order[start:] + order[:start]:
            if path != here and not self.worklist.done(path):
                self.open_image(path)
                return
        self.statusBar().showMessage(self.tr("Every case in the worklist is decided."), 8000)

    def _preset_slot(self, index: int) -> Callable[[], None]:
        return lambda: self.apply_preset(index)

    def toggle_full_screen(self) -> None:
        """F11: full screen and back to the window as it was."""
        if self.act_full_screen.isChecked():
            self._normal_before_full_screen = not self.isMaximized()
            self.showFullScreen()
        elif self._normal_before_full_screen:
            self.showNormal()
        else:
            self.showMaximized()

    def open_image(self, path: str) -> None:
        """Decode in a worker; the previous image's pending results become stale."""
        if self.shown is not None and self.shown.path == path and self.shown.image is not None:
            return
        # the reader moves: a prefetch for another image is dropped; one for this image is used
        self._cancel_prefetch()
        self._prefetch.keep_only({path})
        prefetched = self._prefetch.take(path)
        shown = OnScreen(self.desk.open(path))
        self.shown = shown
        if self._shadow_pending:
            self._shadow_timer.start()  # the reader acts: the candidate waits for quiet
        self.image_error.setText("")
        # never leave the previous patient's image on screen while the next one decodes
        self.view.clear(loading=True)
        self.grid.set_current_date("")
        self.decision.reset()
        self.pacs.show_for(path)
        self.ai_panel.heatmap_toggle.setChecked(False)  # off by default, for every image
        self.ai_panel.set_idle()
        self.browser.select_path(path)
        self.worklist.select_path(path)
        if prefetched is not None:  # decoded ahead from the unchanged file: shown at once
            self._image_read(shown, prefetched)
            return
        self.io.submit(
            lambda progress, _c: _read_job(path, progress),
            on_result=partial(self._image_read, shown),
            on_progress=partial(self._preview_read, shown),
            on_error=partial(self._image_failed, shown),
            priority=10,
            name="read",
        )

    # ================================================================= prefetch
    def _prefetch_target(self, here: str) -> str | None:
        """The image Next would open from ``here`` (None at the end or off the list)."""
        if here not in self.browser.paths():
            return None
        path = self.browser.neighbour(here, 1)
        return path if path != here else None

    def _prefetch_next(self, here: str) -> None:
        """Decode the image after ``here`` in the background (called once it is shown)."""
        if not self._prefetch_enabled or self._stopped:
            return
        path = self._prefetch_target(here)
        if path is None or path in self._prefetch:
            return
        if self._prefetch_running is not None:
            if self._prefetch_running[0] == path:
                return
            self._cancel_prefetch()
        holder: list[Job] = []  # the job itself, so a cancelled one's late result is told apart
        job = self.prefetch_io.submit(
            lambda _p, cancelled: _prefetch_job(path, cancelled),
            on_result=lambda result: self._prefetched(path, holder[0], result),
            on_error=lambda _exc: self._prefetched(path, holder[0], None),  # the read says why
            priority=0,
            name="prefetch",
        )
        holder.append(job)
        self._prefetch_running = (path, job)

    def _prefetched(self, path: str, job: Job, result: tuple[Stamp, Any] | None) -> None:
        if self._prefetch_running is not None and self._prefetch_running[1] is job:
            self._prefetch_running = None
        if result is None or self._stopped or self.shown is None:
            return
        if self._prefetch_target(self.shown.path) != path:
            return  # the reader has moved elsewhere: dropped
        stamp, value = result
        self._prefetch.put(stamp, value)

    def _cancel_prefetch(self) -> None:
        if self._prefetch_running is not None:
            self.prefetch_io.cancel_all()  # a queued job is taken back; a running one is dropped
            self._prefetch_running = None

    def prefetched(self, path: str) -> bool:
        """A decoded image for ``path`` is waiting (tests and the benchmark wait for it)."""
        return path in self._prefetch

    def _on_screen(self, shown: OnScreen) -> bool:
        """The reader is still on this image (results for an image left behind are dropped)."""
        return shown is self.shown and self.desk.is_current(shown.session)

    def _show_image_error(self, text: str) -> None:
        self.image_error.setText(text)

    def _preview_read(self, shown: OnScreen, pixels: Any) -> None:
        if pixels is not None and self._on_screen(shown) and shown.image is None:
            self.view.show_loading_preview(pixels)

    def _image_failed(self, shown: OnScreen, exc: BaseException) -> None:
        if not self._on_screen(shown):
            return
        shown.session.read_failed(error_text(exc))
        self.view.clear()
        self._show_image_error(self.tr("This file cannot be shown: {0}").format(error_text(exc)))
        self.worklist.set_status(shown.path, "error")

    def _image_read(self, shown: OnScreen, value: tuple[DicomImage, DisplayRenderer, Any]) -> None:
        if not self._on_screen(shown):
            return  # the reader has moved on
        shown.image, shown.renderer, preview = value
        meta = shown.image.meta
        self.browser.add_image(meta)
        self.worklist.set_images([meta])
        self.view.set_image(shown.image, shown.renderer, preview)
        self._keep_same_patient(meta)
        self.act_invert.blockSignals(True)
        self.act_invert.setChecked(False)
        self.act_invert.blockSignals(False)
        self._fill_presets()
        self.decision.reset(self._primary_label_name())
        self._show_append(shown.session.opened(meta, pixel_sha256=shown.image.pixel_sha256))
        self.view.annotations.set_items(shown.session.annotations)
        if shown.session.annotation_error:
            self.statusBar().showMessage(
                self.tr("The saved annotations cannot be shown: {0}").format(
                    shown.session.annotation_error
                )
            )
        self.worklist.select_path(shown.path)
        if shown.session.decision is not None:
            self._mark_done(shown.path, shown.session.decision.amendment)
        self.image_shown.emit(shown.path)
        self._request_inference()
        self._prefetch_next(shown.path)  # after the AI job is queued, at a lower priority

    # ================================================================= comparison
    def _read_for_viewport(
        self,
        path: str,
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """Decode for an extra viewport in the io pool, as the primary image is decoded."""
        self.io.submit(
            lambda _p, _c: _read_job(path),
            on_result=on_result,
            on_error=on_error,
            priority=5,  # after the current image (priority 10)
            name="read-viewport",
        )

    def _layout_changed(self, name: str) -> None:
        action = self.layout_actions.get(name)
        if action is not None:
            action.setChecked(True)
        self.layout_chooser.setCurrentIndex(self.layout_chooser.findData(name))
        if name == "1x2":
            self.act_sync.setChecked(True)  # side by side: the same part of the chest

    def _keep_same_patient(self, meta: ImageMetadata) -> None:
        """The current image changed: the primary's caption follows; an extra viewport showing
        another patient is emptied (never compare with someone else's film)."""
        self.grid.set_current_date(meta.study_date)
        for vp in self.grid.viewports[1:]:
            image = vp.view.image  # None while decoding: _viewport_shown looks when it is done
            if image is not None and not same_patient(meta, image.meta):
                self.grid.clear_extra_one(vp.index)

    def _viewport_shown(self, index: int, _path: str) -> None:
        """An image the reader put beside the current one: another patient's is marked."""
        shown = self.shown
        image = self.grid.viewports[index].view.image
        if shown is None or shown.image is None or image is None:
            return
        if not same_patient(shown.image.meta, image.meta):
            self.grid.mark_other_patient(index)

    def open_prior(self) -> None:
        """The newest earlier study of this patient beside the current image (1x2, right)."""
        shown = self.shown
        if shown is None or shown.image is None:
            self.statusBar().showMessage(self.tr("Open an image first, then its prior."))
            return
        meta = shown.image.meta
        priors = find_priors(meta, self.browser.images())
        if not priors:
            self.statusBar().showMessage(
                self.tr(
                    "No prior study of this patient among the opened images "
                    "(an earlier Study Date, the same Patient ID). Open the folder that holds it."
                )
            )
            return
        prior = priors[0]
        if self.grid.layout_name == "1x1":
            self.grid.set_layout("1x2")
        self.grid.show_path(
            1, prior.first_image(meta.view_position).path, prior_date=prior.study_date
        )
        self.statusBar().showMessage(
            self.tr("Prior {0} beside the current image; earlier studies found: {1}.").format(
                study_date_text(prior.study_date), len(priors)
            )
        )

    def _primary_label_name(self) -> str:
        if self.loaded is not None:
            spec = self.loaded.manifest.labels[0]
            return str(getattr(spec, "display_name", "") or spec.name)
        return self.tr("finding")

    # ================================================================= inference
    def _request_inference(self) -> None:
        shown = self.shown
        if shown is None or shown.image is None or not shown.session.needs_score:
            return
        model = self.model
        if model is None:
            if self.model_error:
                self.ai_panel.set_model(None, refusal=self.model_error)
            else:
                self.ai_panel.set_loading_model()
            return
        cached = self.desk.cached_score(shown.session)  # same path and same pixels
        if cached is not None:
            self._scored(shown, model.predictor, ScoreOutcome(prediction=cached, image=shown.image))
            return
        self.ai_panel.set_running()
        self.worklist.set_status(shown.path, "running")
        predictor, image = model.predictor, shown.image
        self.ai.submit(
            lambda _p, cancelled: score_image(predictor, image.meta, image=image, cancel=cancelled),
            on_result=partial(self._scored, shown, predictor),
            on_error=partial(self._score_crashed, shown, predictor),
            priority=50,
            name="predict",
        )

    def _score_crashed(self, shown: OnScreen, predictor: Predictor, exc: BaseException) -> None:
        """An unexpected failure in the scoring worker: shown and recorded as no score."""
        bad = InferenceError(error_text(exc))
        self._scored(shown, predictor, ScoreOutcome(error=bad, image=shown.image))

    def _show_worklist_status(self, path: str, outcome: ScoreOutcome) -> None:
        pred = outcome.prediction
        if pred is not None:
            first = headline(pred)  # triage by the highest positive finding
            self.worklist.set_status(
                path, "scored", float(first.score), bool(first.positive), checks=outcome.warnings
            )
        else:
            self.worklist.set_status(
                path,
                "refused" if outcome.status == "refused" else "error",
                checks=outcome.refusing,
                reason=outcome.message,
            )

    def _scored(self, shown: OnScreen, predictor: Predictor, outcome: ScoreOutcome) -> None:
        if not self.desk.remember_score(shown.path, predictor, outcome):
            return  # made by a model that is no longer loaded
        self._show_worklist_status(shown.path, outcome)
        if not self._on_screen(shown):
            return
        session = shown.session
        self._show_append(session.scored(outcome))
        if session.refusal:
            self.ai_panel.set_refused(session.refusal, session.refusal_checks)
            self.decision.set_decision_enabled(False)
        elif session.score_hidden:
            self.ai_panel.set_hidden()
            self.decision.set_decision_enabled(False)
        else:
            self._show_revealed(session)
        if outcome.prediction is not None and session.prediction is outcome.prediction:
            self._request_shadow(session, outcome)

    def _request_shadow(self, session: ReadingSession, outcome: ScoreOutcome) -> None:
        """The shadow candidate on the image just scored, after the active result is on screen.

        Never in the reader's way: its job waits until the AI thread has had nothing to do for
        ``SHADOW_QUIET_MS`` (a reader stepping through images keeps it waiting), then runs one
        at a time on that same thread (one OpenMP team). At most ``SHADOW_KEPT_IMAGES`` decoded
        images wait with it; older ones are read again by the job (their pixels checked)."""
        if self.shadow is None or session.meta is None or self.shadow.locate() is None:
            return
        self._shadow_pending.append((session, self.shadow, outcome.image))
        kept = [i for i, item in enumerate(self._shadow_pending) if item[2] is not None]
        for i in kept[: max(0, len(kept) - SHADOW_KEPT_IMAGES)]:
            waiting, runner, _image = self._shadow_pending[i]
            self._shadow_pending[i] = (waiting, runner, None)
        self._shadow_timer.start()  # (re)start: the reader just acted

    def _reader_waiting(self) -> bool:
        """The image on screen is being read or waits for its score (its job comes next)."""
        shown = self.shown
        if shown is None:
            return False
        if shown.image is None:
            return not shown.session.read_error
        return shown.session.needs_score and self.model is not None

    @property
    def shadow_idle(self) -> bool:
        """No shadow job waits or runs (tests and the benchmark wait for it)."""
        return not self._shadow_pending and self._shadow_running is None

    def _shadow_next(self) -> None:
        if self._stopped or self._shadow_running or not self._shadow_pending:
            return
        if self.ai.active() > 0 or self._reader_waiting():  # the reader's work first
            self._shadow_timer.start()
            return
        session, runner, image = self._shadow_pending.popleft()
        meta = session.meta
        assert meta is not None  # noqa: S101 - checked when queued

        def job(_p: Any, cancelled: Any) -> ShadowOutcome | None:
            result = runner.run(meta, image, cancel=cancelled)
            if result is not None and result.outcome is not None and result.outcome.image:
                result.outcome.image.pixel_sha256  # noqa: B018  (hashed here, off the GUI thread)
            return result

        self._shadow_running = (session, runner)
        self.ai.submit(
            job,
            on_result=partial(self._shadow_done, session),
            on_error=lambda _exc: self._shadow_done(session, None),
            priority=20,
            name="shadow",
        )

    def _shadow_done(self, session: ReadingSession, result: ShadowOutcome | None) -> None:
        """Its row, whichever image is on screen now (the record of that reading); nothing
        about it reaches a widget but a failed audit write."""
        self._shadow_running = None
        if result is not None:
            self._show_append(record_shadow(session, result))
        if self._shadow_pending:
            self._shadow_timer.start()

    def _shadow_not_run(self) -> None:
        """Closing with readings the candidate has not scored: each gets its row saying so."""
        self._shadow_timer.stop()
        waiting = [(s, r) for s, r, _image in self._shadow_pending]
        if self._shadow_running is not None:  # its result was dropped with the closing workers
            waiting.insert(0, self._shadow_running)
        self._shadow_pending.clear()
        for session, runner in waiting:
            result = runner.skipped("The app closed before the shadow candidate scored it.")
            if result is not None:
                record_shadow(session, result)

    def _show_revealed(self, session: ReadingSession) -> None:
        """The AI result is visible: panel, decision buttons, an earlier decision if any."""
        pred = session.prediction
        if pred is None:
            return
        self.ai_panel.set_result(pred)
        self.decision.set_findings(
            [r.label for r in ranked(pred) if r.positive], multi=len(pred.labels) > 1
        )
        self.decision.set_decision_enabled(True)
        earlier = session.decision
        if earlier is not None:
            # decided before: show it; a change is an amendment, not a second decision
            self.decision.set_saved(
                earlier.meaning, earlier.reason, earlier.time_text(), amendment=earlier.amendment
            )
        self.prediction_shown.emit(pred)

    def _provisional_recorded(self, value: str) -> None:
        shown = self.shown
        if shown is None:
            return
        row = shown.session.own_read(value)
        if row is not None:
            self._show_append(row)
            self._show_revealed(shown.session)

    # ================================================================= heatmap
    def _heatmap_toggled(self, on: bool) -> None:
        self.act_heatmap.blockSignals(True)
        self.view.set_heatmap_visible(on)
        self.act_heatmap.blockSignals(False)
        shown = self.shown
        if not on or shown is None or self.model is None:
            return
        pred = shown.session.prediction
        if pred is None or not shown.session.revealed:
            return
        label = self.ai_panel.heatmap_label or headline(pred).label
        if shown.heatmap_label == label and (shown.heatmap is not None or shown.heatmap_pending):
            return
        shown.heatmap, shown.heatmap_label, shown.heatmap_pending = None, label, True
        self.view.set_heatmap(None)  # never another label's heatmap under this one's name
        predictor, image = self.model.predictor, shown.image
        self.ai.submit(
            lambda _p, _c: predictor.heatmap(image, label),
            on_result=partial(self._heatmap_ready, shown, predictor, label),
            on_error=partial(self._heatmap_failed, shown),
            priority=40,
            name="heatmap",
        )

    def _heatmap_label_changed(self, _label: str) -> None:
        """Another label chosen in the AI panel: its heatmap replaces the shown one."""
        if self.ai_panel.heatmap_toggle.isChecked():
            self._heatmap_toggled(True)

    def _heatmap_ready(
        self, shown: OnScreen, predictor: Predictor, label: str, heat: np.ndarray
    ) -> None:
        if not self._on_screen(shown) or predictor is not self.predictor:
            return  # left the image, or made by a model no longer loaded
        if label != shown.heatmap_label:
            return  # another label was asked for meanwhile
        shown.heatmap_pending = False
        shown.heatmap = heat
        self.view.set_heatmap(heat)
        self.view.set_heatmap_visible(self.ai_panel.heatmap_toggle.isChecked())

    def _heatmap_failed(self, shown: OnScreen, exc: BaseException) -> None:
        if not self._on_screen(shown):
            return
        shown.heatmap_pending = False
        self.statusBar().showMessage(self.tr("Heatmap not available: {0}").format(error_text(exc)))

    # ================================================================= batch (worklist)
    def _batch_next(self) -> None:
        if self._batch_job is not None or self.model is None or self.worklist.paused:
            return
        skip = {self.shown.path} if self.shown is not None else set()
        path = self.worklist.next_pending(skip)
        if path is None:
            return
        predictor = self.model.predictor
        self.worklist.set_status(path, "running")

        def work(_p: Any, cancelled: Any) -> ScoreOutcome:
            from viewer.dicom import read_metadata

            outcome = score_image(predictor, read_metadata(path), cancel=cancelled)
            if outcome.image is not None:
                outcome.image.pixel_sha256  # noqa: B018  (hashed here, off the GUI thread)
            return outcome

        self._batch_job = self.ai.submit(
            work,
            on_result=partial(self._batch_done, path, predictor),
            on_error=partial(self._batch_crashed, path, predictor),
            priority=0,
            name="batch",
        )

    def _batch_crashed(self, path: str, predictor: Predictor, exc: BaseException) -> None:
        bad = exc if isinstance(exc, InferenceError) else InferenceError(error_text(exc))
        self._batch_done(path, predictor, ScoreOutcome(error=bad))

    def _batch_done(self, path: str, predictor: Predictor, outcome: ScoreOutcome) -> None:
        self._batch_job = None
        if self.desk.remember_score(path, predictor, outcome):
            self._show_worklist_status(path, outcome)
        QTimer.singleShot(0, self._batch_next)

    # ================================================================= decision
    def record_decision(self, meaning: str, reason: str) -> None:
        """The session writes the decision (or amendment); "Saved" only after the commit."""
        session = self.current
        if session is None or not session.can_decide:
            return
        if meaning not in ("confirmed", "overrode"):
            return
        outcome = session.decide("confirmed" if meaning == "confirmed" else "overrode", reason)
        self._show_decision_outcome(session, outcome)

    def record_findings(self, choices: list[tuple[str, bool, str]], missed: list[str]) -> None:
        """Each positive finding agreed or rejected, and what the AI missed: one audit row per
        finding in one transaction (the session's ``decide_findings``)."""
        session = self.current
        if session is None or not session.can_decide:
            return
        outcome = session.decide_findings(
            [FindingChoice(label, agree, reason) for label, agree, reason in choices], missed
        )
        self._show_decision_outcome(session, outcome)

    def _show_decision_outcome(self, session: ReadingSession, outcome: DecisionOutcome) -> None:
        """ "Saved" only with the committed rows; otherwise the reason, the choices kept."""
        if not outcome.saved or outcome.decision is None:
            if outcome.code == "log_not_open" and not self.trail.error:
                self.decision.set_failed(
                    self.tr("The audit log is not open; nothing can be saved.")
                )
            else:
                self.decision.set_failed(outcome.error)
            return
        saved = outcome.decision
        self.decision.set_saved(
            saved.meaning, saved.reason, saved.time_text(), amendment=saved.amendment
        )
        self._mark_done(session.path, saved.amendment)
        if outcome.annotation_error:
            self.statusBar().showMessage(
                self.tr("Decision saved; its annotations were NOT saved: {0}").format(
                    outcome.annotation_error
                )
            )
        self.decision_saved.emit(outcome.record)
        self._send_to_pacs(session, outcome)

    def _send_to_pacs(self, session: ReadingSession, outcome: DecisionOutcome) -> None:
        """The saved reading to the PACS outbox (when the site sends): the header, the image as
        displayed and the heatmap made for it go with it; the building runs in a worker."""
        if not self.pacs.enabled:
            return
        shown = self.shown if self.shown is not None and self.shown.session is session else None
        image = shown.image if shown is not None else None
        renderer, voi, invert = self.view.renderer, self.view.voi, self.view.invert
        render = None
        if shown is not None and shown.renderer is not None and renderer is shown.renderer:
            render = partial(renderer.render, voi, invert=invert)
        self.pacs.decision_saved(
            session,
            outcome,
            source=image.header if image is not None else None,
            render=render,
            heatmap=shown.heatmap if shown is not None else None,
        )

    def _mark_done(self, path: str, amended: bool) -> None:
        done = "amended" if amended else "decided"
        self.worklist.set_done(path, done)
        self.browser.set_done(path, done)

    def _show_marks(self, marks: dict[str, str]) -> None:
        for path, done in marks.items():
            if not self.worklist.done(path):  # a decision of this run is newer
                self.worklist.set_done(path, done)
                self.browser.set_done(path, done)

    def start_amendment(self) -> None:
        session = self.current
        if session is None or session.decision is None:
            return
        self.decision.start_amendment(session.decision.time_text())

    # ================================================================= view helpers
    def _fill_presets(self) -> None:
        self.presets.blockSignals(True)
        self.presets.clear()
        image = self.view.image
        wide = getattr(image, "wide_windows", ()) if image is not None else ()
        outside = getattr(image, "outside_windows", ()) if image is not None else ()
        for i, win in enumerate(self.view.presets()):
            name = self._window_label(win)
            tag = self.tr(" (too wide: not used by default)") if win in wide else ""
            if win in outside:
                tag = self.tr(" (outside this image's values: not used by default)")
            self.presets.addItem(f"{i + 1}: {name}{tag}" if i < 9 else f"{name}{tag}")
        self.presets.addItem(self.tr("Custom"))
        presets = self.view.presets()
        current = self.view.voi if image is not None else None
        self.presets.setCurrentIndex(presets.index(current) if current in presets else -1)
        self.presets.blockSignals(False)

    def _window_label(self, win: Any) -> str:
        """The preset's menu label in the reader's language (``Window.label()`` is English).

        A stored explanation (Window Center & Width Explanation (0028,1055), LUT Explanation
        (0028,3003)) is the modality's own text and stays as written; only Bedside's words
        ("automatic", "VOI LUT n") are translated.
        """
        explanation = str(getattr(win, "explanation", "") or "")
        lut_index = getattr(win, "lut_index", None)
        if lut_index is not None:
            auto_name = f"VOI LUT {lut_index + 1}"
            if explanation and explanation != auto_name:
                return explanation
            return self.tr("VOI LUT {0}").format(lut_index + 1)
        text = self.tr("C {0} / W {1}").format(f"{win.center:g}", f"{win.width:g}")
        function = str(getattr(win, "function", "LINEAR") or "LINEAR")
        if function != "LINEAR":
            text += f" ({function})"
        if explanation == "automatic":
            return self.tr("automatic: {0}").format(text)
        names = {  # Bedside's own presets (viewer.dicom.display)
            "full range": self.tr("Full range: {0}"),
            "lung": self.tr("Lung: {0}"),
            "mediastinum": self.tr("Mediastinum: {0}"),
            "bone": self.tr("Bone: {0}"),
        }
        if explanation in names and not self._is_stored(win):
            return names[explanation].format(text)
        return f"{explanation}: {text}" if explanation else text

    def _is_stored(self, win: Any) -> bool:
        image = self.view.image
        return image is not None and win in image.windows

    def apply_preset(self, index: int) -> None:
        """Select window preset ``index`` (0-based, menu order: key 1 is the default)."""
        if self.view.apply_preset(index):
            self.presets.blockSignals(True)
            self.presets.setCurrentIndex(index)
            self.presets.blockSignals(False)

    def _window_changed(self, window: Any) -> None:
        presets = self.view.presets()
        idx = presets.index(window) if window in presets else self.presets.count() - 1
        self.presets.blockSignals(True)
        self.presets.setCurrentIndex(idx)
        self.presets.blockSignals(False)

    def _annotations_changed(self) -> None:
        """The reader drew, moved or deleted an annotation: the reading keeps it."""
        shown = self.shown
        if shown is not None and shown.image is not None and self._on_screen(shown):
            shown.session.set_annotations(self.view.annotations.items)

    def _measurement_changed(self, text: str) -> None:
        self.measure_label.setText(self.tr("Distance: {0}").format(text) if text else "")

    def _reset_view(self) -> None:
        self.view.reset_view()
        self.act_invert.blockSignals(True)
        self.act_invert.setChecked(False)
        self.act_invert.blockSignals(False)

    def export_view(
        self, path: Path | None = None, choice: ExportChoice | None = None
    ) -> Path | None:
        """File > Export view as PNG… (``path`` / ``choice`` skip the dialogs: tests)."""
        from viewer.ui.qt_export import export_view

        return export_view(self, path, choice)

    def print_view(
        self, printer: QPrinter | None = None, choice: ExportChoice | None = None
    ) -> bool:
        """File > Print… (``printer`` / ``choice`` skip the dialogs: tests)."""
        from viewer.ui.qt_export import print_view

        return print_view(self, printer, choice)

    def show_tag_browser(self) -> QWidget | None:
        shown = self.shown
        if shown is None or shown.image is None:
            return None
        from viewer.ui.qt_tag_browser import QtTagBrowser

        dlg = QtTagBrowser(shown.image.header, Path(shown.path).name, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._tag_browsers.append(dlg)
        dlg.destroyed.connect(lambda _=None, d=dlg: self._forget_tag_browser(d))
        dlg.show()
        return dlg

    def _forget_tag_browser(self, dlg: QWidget) -> None:
        if dlg in self._tag_browsers:
            self._tag_browsers.remove(dlg)

    # ================================================================= other windows
    def _open_tool(self, key: str, make: Callable[[], QWidget]) -> QWidget:
        """Open (or raise) a tool window; each is imported when first opened (start-up cost)."""
        existing = self._tools.get(key)
        if existing is not None:
            existing.show()
            existing.raise_()
            existing.activateWindow()
            return existing
        widget = make()
        widget.setWindowFlag(Qt.WindowType.Window, True)
        widget.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        widget.destroyed.connect(lambda _=None, k=key: self._tools.pop(k, None))
        self._tools[key] = widget
        widget.show()
        return widget

    def show_model_manager(self) -> QWidget:
        from viewer.ui.qt_model_manager import QtModelManager

        def make() -> QWidget:
            manager = QtModelManager(self.settings, parent=self)
            # a model was installed, activated or rolled back: load the (new) active one
            manager.store_changed.connect(self.load_model)
            return manager

        return self._open_tool("models", make)

    def show_audit_window(self) -> QWidget:
        from viewer.ui.qt_audit_window import QtAuditWindow

        return self._open_tool(
            "audit", lambda: QtAuditWindow(self.settings, parent=self, trail=self.trail)
        )

    def show_monitoring_window(self) -> QWidget:
        """The drift monitor over this installation's log (the same report as the command)."""
        from viewer.session.monitoring_view import MonitoringSource
        from viewer.ui.qt_monitoring import QtMonitoringWindow

        return self._open_tool(
            "monitoring", lambda: QtMonitoringWindow(MonitoringSource(self.settings), parent=self)
        )

    def show_settings(self) -> None:
        from viewer.ui.qt_settings import QtSettingsDialog

        dlg = QtSettingsDialog(self.settings, parent=self)
        dlg.settings_saved.connect(self.apply_settings)
        dlg.exec()
        new = dlg.settings
        dlg.deleteLater()
        if new is not self.settings:
            self.apply_settings(new)

    def apply_settings(self, new: Settings) -> None:
        """Take new settings: user name, reading order, language."""
        old_lang = self.settings.values.ui.language
        self.settings = new
        self.desk.apply_settings(new)
        if self.audit is not None:
            from viewer.audit import current_user

            self.audit.set_user(current_user(new))
        self.worklist.set_hide_scores(self.desk.reading_order == "read_first")
        self.pacs.apply_settings(new)
        self.forwarding.apply_settings(new)
        self.view.set_left_drag(new.values.ui.left_drag)
        if new.values.ui.language != old_lang:
            from viewer.ui.i18n import install_translator

            app = QApplication.instance()
            if app is not None:
                install_translator(app, new.values.ui.language)
        self._render_user()

    def show_pacs_search(self) -> QWidget:
        """File > Search PACS…: a retrieved study opens as a folder would."""
        from viewer.ui.qt_pacs_search import QtPacsSearch

        def make() -> QWidget:
            dialog = QtPacsSearch(self.settings, self, audit=lambda: self.trail.wait_open(60))
            dialog.retrieved.connect(lambda folder: self.open_paths([Path(folder)]))
            return dialog

        return self._open_tool("pacs-search", make)

    def show_about(self) -> None:
        from viewer import __version__

        self.statusBar().showMessage(
            self.tr("Bedside {0} — decision support only; the clinician decides.").format(
                __version__
            ),
            10000,
        )

    def show_shortcuts(self) -> QWidget:
        """Help > Keyboard shortcuts: the table the keys are bound from."""
        from viewer.ui.shortcuts import QtShortcutSheet

        return self._open_tool("shortcuts", lambda: QtShortcutSheet(self))

    def show_user_guide(self) -> QWidget:
        from viewer.ui.qt_help import QtUserGuide

        return self._open_tool("guide", lambda: QtUserGuide(self))

    def show_intended_use(self) -> QWidget:
        """Help > Intended use of the model: the loaded bundle's model card, in short."""
        from viewer.ui.qt_help import QtIntendedUse

        page = self._open_tool("intended-use", lambda: QtIntendedUse(self))
        if isinstance(page, QtIntendedUse):
            demo = self.model is not None and self.model.source == "demo"
            page.set_model(self.loaded, demo=demo, why=self.model_error)
        return page

    # ================================================================= drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()
