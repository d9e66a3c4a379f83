"""Every keyboard shortcut and mouse gesture of the reading window, in ONE table.

Why one table (issue 14 item 3): the keys are bound from :func:`table` (the main window's
QActions by :func:`bind_actions`, the decision panel's keys by :func:`keys_of`), the Help >
Keyboard shortcuts sheet lists the same table, and ``packaging/write_shortcuts_doc.py`` writes
``docs/shortcuts.md`` from it (``tests/ui/test_shortcuts.py`` fails when that file is stale, and
when a QAction of the window carries a key the table does not list). So the sheet cannot drift
from the bindings.

Conventions follow the common DICOM viewers (Weasis, RadiAnt, OHIF): arrow keys and PgUp/PgDn
step through the images, Home/End jump to the first/last, +/- zoom, 1-9 pick a window preset,
Space goes to the next case not decided yet, F11 is full screen.

Keys never act while the reader types: :class:`TypingGuard` hands every key without Ctrl/Alt/Meta
(and not a function key) to a focused text field (the override reason, a search box), the
arrow / page / Home / End keys to a focused slider or list choice (and Space to it), and Space to
a focused button (a keyboard user presses it so). Ctrl+Return still confirms from the reason box.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class Binding:
    """One row of the table.

    ``name`` is the objectName of the QAction it binds (``numbered``: one action per key, named
    ``name`` + 1..9) or of the widget's shortcut; ``keys`` are QKeySequence portable strings
    (empty for a mouse gesture, whose ``mouse`` text says what the hand does); ``text`` says
    what it does, in the language current when :func:`table` was called.
    """

    name: str
    group: str
    text: str
    keys: tuple[str, ...] = ()
    mouse: str = ""
    numbered: bool = False


def groups() -> tuple[tuple[str, str], ...]:
    """(group id, title) in the sheet's order, titles in the current language."""
    return (
        ("images", QCoreApplication.translate("Shortcuts", "Images")),
        ("view", QCoreApplication.translate("Shortcuts", "View")),
        ("annotate", QCoreApplication.translate("Shortcuts", "Annotations")),
        ("window", QCoreApplication.translate("Shortcuts", "Window / level")),
        ("decision", QCoreApplication.translate("Shortcuts", "Decision")),
        ("mouse", QCoreApplication.translate("Shortcuts", "Mouse")),
        ("app", QCoreApplication.translate("Shortcuts", "Files, tools and help")),
    )


def table() -> tuple[Binding, ...]:
    """THE table, texts in the current language (English without a translator)."""
    return (
        # images
        Binding(
            "actionNextImage",
            "images",
            QCoreApplication.translate("Shortcuts", "Next image"),
            ("PgDown", "Right", "Down"),
        ),
        Binding(
            "actionPreviousImage",
            "images",
            QCoreApplication.translate("Shortcuts", "Previous image"),
            ("PgUp", "Left", "Up"),
        ),
        Binding(
            "actionFirstImage",
            "images",
            QCoreApplication.translate("Shortcuts", "First image"),
            ("Home",),
        ),
        Binding(
            "actionLastImage",
            "images",
            QCoreApplication.translate("Shortcuts", "Last image"),
            ("End",),
        ),
        Binding(
            "actionNextUnread",
            "images",
            QCoreApplication.translate(
                "Shortcuts", "Next case not decided yet (in worklist order)"
            ),
            ("Space",),
        ),
        # view
        Binding(
            "actionZoomIn", "view", QCoreApplication.translate("Shortcuts", "Zoom in"), ("+", "=")
        ),
        Binding(
            "actionZoomOut", "view", QCoreApplication.translate("Shortcuts", "Zoom out"), ("-",)
        ),
        Binding("actionFit", "view", QCoreApplication.translate("Shortcuts", "Fit"), ("F",)),
        Binding(
            "actionActualSize", "view", QCoreApplication.translate("Shortcuts", "1:1"), ("Ctrl+1",)
        ),
        Binding("actionInvert", "view", QCoreApplication.translate("Shortcuts", "Invert"), ("I",)),
        Binding(
            "actionRotate", "view", QCoreApplication.translate("Shortcuts", "Rotate 90°"), ("R",)
        ),
        Binding("actionFlip", "view", QCoreApplication.translate("Shortcuts", "Flip"), ("H",)),
        Binding(
            "actionResetView",
            "view",
            QCoreApplication.translate("Shortcuts", "Reset view"),
            ("Esc",),
        ),
        Binding("actionPanTool", "view", QCoreApplication.translate("Shortcuts", "Pan"), ("P",)),
        Binding(
            "actionMeasureTool", "view", QCoreApplication.translate("Shortcuts", "Measure"), ("M",)
        ),
        # annotations (several per image; viewer.ui.qt_annotations)
        Binding(
            "actionDistanceTool",
            "annotate",
            QCoreApplication.translate("Shortcuts", "Distance"),
            ("D",),
        ),
        Binding(
            "actionAngleTool", "annotate", QCoreApplication.translate("Shortcuts", "Angle"), ("A",)
        ),
        Binding(
            "actionRectRoiTool",
            "annotate",
            QCoreApplication.translate("Shortcuts", "Rectangle ROI (mean, SD, min, max, area)"),
            ("B",),
        ),
        Binding(
            "actionEllipseRoiTool",
            "annotate",
            QCoreApplication.translate("Shortcuts", "Ellipse ROI (mean, SD, min, max, area)"),
            ("E",),
        ),
        Binding(
            "actionCtrTool",
            "annotate",
            QCoreApplication.translate(
                "Shortcuts", "Cardiothoracic ratio: drag the cardiac width, then the thoracic"
            ),
            ("C",),
        ),
        Binding(
            "actionArrowTool", "annotate", QCoreApplication.translate("Shortcuts", "Arrow"), ("W",)
        ),
        Binding(
            "actionTextTool", "annotate", QCoreApplication.translate("Shortcuts", "Text"), ("T",)
        ),
        Binding(
            "actionDeleteAnnotation",
            "annotate",
            QCoreApplication.translate("Shortcuts", "Delete the selected annotation"),
            ("Del",),
        ),
        # comparison (viewer.ui.qt_viewports): layouts, sync, the prior beside the current
        Binding(
            "actionLayout1x1",
            "view",
            QCoreApplication.translate("Shortcuts", "One viewport (1x1)"),
            ("Alt+1",),
        ),
        Binding(
            "actionLayout1x2",
            "view",
            QCoreApplication.translate("Shortcuts", "Two viewports side by side (1x2)"),
            ("Alt+2",),
        ),
        Binding(
            "actionLayout2x2",
            "view",
            QCoreApplication.translate("Shortcuts", "Four viewports (2x2)"),
            ("Alt+4",),
        ),
        Binding(
            "actionSyncViews",
            "view",
            QCoreApplication.translate("Shortcuts", "Synchronise zoom and pan between viewports"),
            ("S",),
        ),
        Binding(
            "actionOpenPrior",
            "view",
            QCoreApplication.translate(
                "Shortcuts", "Open the prior: the newest earlier study beside the current image"
            ),
            ("Shift+P",),
        ),
        Binding(
            "actionHeatmap",
            "view",
            QCoreApplication.translate("Shortcuts", "Show heatmap"),
            ("Ctrl+H",),
        ),
        Binding(
            "actionTagBrowser",
            "view",
            QCoreApplication.translate("Shortcuts", "DICOM tags…"),
            ("Ctrl+T",),
        ),
        Binding(
            "actionFullScreen",
            "view",
            QCoreApplication.translate("Shortcuts", "Full screen"),
            ("F11",),
        ),
        # window / level
        Binding(
            "actionWindowPreset",
            "window",
            QCoreApplication.translate(
                "Shortcuts", "Window preset 1 to 9 (in the order of the Window list)"
            ),
            tuple(str(k) for k in range(1, 10)),
            numbered=True,
        ),
        # decision (bound by the decision panel through keys_of)
        Binding(
            "decisionConfirm",
            "decision",
            QCoreApplication.translate("Shortcuts", "Confirm the AI finding"),
            ("Ctrl+Return",),
        ),
        Binding(
            "decisionOverride",
            "decision",
            QCoreApplication.translate(
                "Shortcuts", "Override the AI finding (a reason is required)"
            ),
            ("Ctrl+Shift+Return",),
        ),
        Binding(
            "decisionAmend",
            "decision",
            QCoreApplication.translate("Shortcuts", "Amend a saved decision"),
            ("Ctrl+Shift+A",),
        ),
        # mouse (not bound here: QtImageView reads the left-drag setting)
        Binding(
            "mouseLeftDrag",
            "mouse",
            QCoreApplication.translate(
                "Shortcuts",
                "Pan, or window/level when Settings > Left mouse drag says so; measure or draw "
                "with the Measure and annotation tools; with Pan, a click on an annotation "
                "selects it and a drag moves it",
            ),
            mouse=QCoreApplication.translate("Shortcuts", "Left drag"),
        ),
        Binding(
            "mouseRightDrag",
            "mouse",
            QCoreApplication.translate(
                "Shortcuts", "Window/level (pan when the left drag does window/level)"
            ),
            mouse=QCoreApplication.translate("Shortcuts", "Right drag"),
        ),
        Binding(
            "mouseMiddleDrag",
            "mouse",
            QCoreApplication.translate("Shortcuts", "Pan"),
            mouse=QCoreApplication.translate("Shortcuts", "Middle drag"),
        ),
        Binding(
            "mouseWheel",
            "mouse",
            QCoreApplication.translate("Shortcuts", "Zoom about the pointer"),
            mouse=QCoreApplication.translate("Shortcuts", "Wheel"),
        ),
        Binding(
            "mouseDoubleClick",
            "mouse",
            QCoreApplication.translate("Shortcuts", "Fit"),
            mouse=QCoreApplication.translate("Shortcuts", "Double-click"),
        ),
        # files, tools, help
        Binding(
            "actionOpenFile",
            "app",
            QCoreApplication.translate("Shortcuts", "Open file…"),
            ("Ctrl+O",),
        ),
        Binding(
            "actionOpenFolder",
            "app",
            QCoreApplication.translate("Shortcuts", "Open folder…"),
            ("Ctrl+Shift+O",),
        ),
        Binding(
            "actionExportView",
            "app",
            QCoreApplication.translate("Shortcuts", "Export view as PNG…"),
            ("Ctrl+E",),
        ),
        Binding(
            "actionPrint", "app", QCoreApplication.translate("Shortcuts", "Print…"), ("Ctrl+P",)
        ),
        Binding(
            "actionSettings",
            "app",
            QCoreApplication.translate("Shortcuts", "Settings…"),
            ("Ctrl+,",),
        ),
        Binding(
            "actionUserGuide", "app", QCoreApplication.translate("Shortcuts", "User guide"), ("F1",)
        ),
        Binding(
            "actionShortcuts",
            "app",
            QCoreApplication.translate("Shortcuts", "Keyboard shortcuts"),
            ("Ctrl+/",),
        ),
        Binding("actionQuit", "app", QCoreApplication.translate("Shortcuts", "Quit"), ("Ctrl+Q",)),
    )


def binding(name: str) -> Binding:
    for b in table():
        if b.name == name:
            return b
    raise KeyError(name)


def keys_of(name: str) -> str:
    """The first key of a binding, as a portable string (for a widget's own QShortcut)."""
    return binding(name).keys[0]


def action_keys() -> dict[str, tuple[str, ...]]:
    """objectName of every window QAction the table binds -> its keys."""
    out: dict[str, tuple[str, ...]] = {}
    for b in table():
        if b.group in ("mouse", "decision"):
            continue
        if b.numbered:
            for i, key in enumerate(b.keys, start=1):
                out[f"{b.name}{i}"] = (key,)
        else:
            out[b.name] = b.keys
    return out


def bind_actions(actions: Mapping[str, QAction]) -> None:
    """Give each window action its keys from the table (a missing action is a programming
    error: the table would promise a key that does nothing)."""
    for name, keys in action_keys().items():
        actions[name].setShortcuts([QKeySequence(k) for k in keys])


def keys_text(b: Binding, *, native: bool = True) -> str:
    """The keys as the reader reads them (``native``: this platform's names, e.g. Ctrl)."""
    if b.mouse:
        return b.mouse
    fmt = (
        QKeySequence.SequenceFormat.NativeText
        if native
        else QKeySequence.SequenceFormat.PortableText
    )
    names = [QKeySequence(k).toString(fmt) for k in b.keys]
    if b.numbered:
        return f"{names[0]} … {names[-1]}"
    return ", ".join(names)


def rows(*, native: bool = True) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group title, [(keys, what it does), ...]) in table order, texts in the current language;
    ``native``: this platform's key names (Ctrl, or the Command key on a Mac), else portable."""
    bindings = table()
    return [
        (title, [(keys_text(b, native=native), b.text) for b in bindings if b.group == group])
        for group, title in groups()
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """``docs/shortcuts.md``: portable key names, English (no translator installed)."""
    lines = [
        "# Keyboard shortcuts and mouse",
        "",
        "<!-- generated by packaging/write_shortcuts_doc.py from viewer/ui/shortcuts.py; "
        "do not edit -->",
        "",
        "The same table binds the keys in the reading window and fills Help > Keyboard "
        "shortcuts. Keys without Ctrl or Alt do nothing while you type in a text box (the "
        "override reason): the text box gets them.",
        "",
    ]
    for title, items in rows(native=False):
        lines += [f"## {title}", "", "| Keys | Action |", "|---|---|"]
        lines += [f"| {_cell(keys)} | {_cell(text)} |" for keys, text in items]
        lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------- typing guard
_NAVIGATION = frozenset(
    {
        Qt.Key.Key_Left,
        Qt.Key.Key_Right,
        Qt.Key.Key_Up,
        Qt.Key.Key_Down,
        Qt.Key.Key_PageUp,
        Qt.Key.Key_PageDown,
        Qt.Key.Key_Home,
        Qt.Key.Key_End,
    }
)
_COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


def is_text_input(widget: QObject | None) -> bool:
    """A widget the reader types into (an editable combo box's line edit included)."""
    if isinstance(widget, QLineEdit | QTextEdit | QPlainTextEdit | QAbstractSpinBox):
        return not (isinstance(widget, QTextEdit | QPlainTextEdit) and widget.isReadOnly())
    return isinstance(widget, QComboBox) and widget.isEditable()


def typing_key(widget: QObject | None, event: QKeyEvent) -> bool:
    """True when the focused ``widget`` should get this key rather than a window shortcut."""
    if event.modifiers() & _COMMAND_MODIFIERS:
        return False
    key = Qt.Key(event.key())
    if Qt.Key.Key_F1 <= key <= Qt.Key.Key_F35:
        return False
    if is_text_input(widget):
        return True
    if isinstance(widget, QComboBox):  # a list choice: arrows pick, Space opens it
        return key in _NAVIGATION or key == Qt.Key.Key_Space
    if isinstance(widget, QAbstractButton):  # Space presses the focused button, as everywhere
        return key == Qt.Key.Key_Space
    return isinstance(widget, QAbstractSlider) and key in _NAVIGATION


class TypingGuard(QObject):
    """Application event filter: a plain key typed into a text field of ``window`` goes to the
    field, never to a window shortcut (accepting ShortcutOverride is Qt's way to say so)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(watched, QWidget)
            and (watched is self._window or self._window.isAncestorOf(watched))
            and typing_key(watched, cast(QKeyEvent, event))
        ):
            event.accept()
            return True
        return False


# ----------------------------------------------------------------------- the sheet
class QtShortcutSheet(QDialog):
    """Help > Keyboard shortcuts: the table, grouped, in the reader's language."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutSheet")
        self.note = QLabel(self)
        self.note.setObjectName("shortcutNote")
        self.note.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("shortcutTable")
        self.tree.setColumnCount(2)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.NoSelection)
        self.tree.setAlternatingRowColors(True)
        self.tree.verticalScrollBar().setObjectName("shortcutTableScrollBar")
        self.tree.horizontalScrollBar().setObjectName("shortcutTableSideScrollBar")
        self.tree.header().setObjectName("shortcutTableHeader")
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.setObjectName("shortcutButtons")
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName("closeShortcutsButton")
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.note)
        lay.addWidget(self.tree, 1)
        lay.addWidget(buttons)
        self.retranslate()
        self._fit_rows()

    def _fit_rows(self) -> None:
        """As tall as every row needs, so no row hides below the fold on a common screen; on a
        small one (at most 70 % of its height) the list scrolls."""
        rows = self.tree.topLevelItemCount() + sum(
            item.childCount()
            for item in (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
            if item is not None
        )
        # uniform row heights: every row is as tall as the first
        row = self.tree.sizeHintForRow(0)
        if row <= 0:
            row = self.fontMetrics().height() + 4
        need = rows * row + self.tree.header().sizeHint().height() + 2 * self.tree.frameWidth() + 8
        screen = self.screen()
        room = int(screen.availableGeometry().height() * 0.7) if screen is not None else need
        self.tree.setMinimumHeight(min(need, room))
        columns = self.tree.sizeHintForColumn(0) + self.tree.sizeHintForColumn(1)
        width = columns + 2 * self.tree.frameWidth() + 48  # indentation, margins, a scroll bar
        if screen is not None:
            width = min(width, int(screen.availableGeometry().width() * 0.9))
        self.resize(max(720, width), self.sizeHint().height())

    def retranslate(self) -> None:
        title = QCoreApplication.translate("Shortcuts", "Keyboard shortcuts")
        self.setWindowTitle(title)
        self.tree.setAccessibleName(title)
        self.tree.verticalScrollBar().setAccessibleName(
            QCoreApplication.translate("Shortcuts", "Scroll the shortcut list")
        )
        self.tree.header().setAccessibleName(
            QCoreApplication.translate("Shortcuts", "Column titles: keys, action")
        )
        self.tree.horizontalScrollBar().setAccessibleName(
            QCoreApplication.translate("Shortcuts", "Scroll the shortcut list sideways")
        )
        self.note.setText(
            QCoreApplication.translate(
                "Shortcuts",
                "Keys without Ctrl or Alt do nothing while you type in a text box (the override "
                "reason): the text box gets them.",
            )
        )
        self.close_button.setText(QCoreApplication.translate("Shortcuts", "Close"))
        self.close_button.setAccessibleName(
            QCoreApplication.translate("Shortcuts", "Close the shortcut list")
        )
        self.tree.setHeaderLabels(
            [
                QCoreApplication.translate("Shortcuts", "Keys"),
                QCoreApplication.translate("Shortcuts", "Action"),
            ]
        )
        self.tree.clear()
        for title, items in rows():
            head = QTreeWidgetItem(self.tree, [title])
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            head.setFirstColumnSpanned(True)
            for keys, text in items:
                QTreeWidgetItem(head, [keys, text])
        self.tree.expandAll()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def listed(self) -> list[tuple[str, str]]:
        """(keys, action) of every row shown (tests)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            for j in range(head.childCount() if head is not None else 0):
                child = head.child(j) if head is not None else None
                if child is not None:
                    out.append((child.text(0), child.text(1)))
        return out
