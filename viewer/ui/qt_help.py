"""Help menu pages: the user guide and the loaded model's intended use.

The user guide is a short Markdown page shipped in ``resources/help`` (``user-guide.md``, and
``user-guide.ja.md`` in Japanese), so it reaches the frozen app with the other resources and can
be read offline. The intended-use page is the loaded bundle's own model card (``viewer.bundle.
model_card``, the same card the model manager and ``bedside bundle inspect`` show) cut to what a
reader needs before trusting a result: intended use, out-of-scope uses and accepted inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from viewer.ui.i18n import current_language, local_time_text, translations_dir

if TYPE_CHECKING:
    from viewer.bundle import LoadedBundle

INTENDED_USE_SECTIONS = ("intended_use", "out_of_scope", "accepted_inputs")


def guide_path(language: str) -> Path:
    """The user guide in ``language`` (English when there is none in it)."""
    folder = translations_dir().parent / "help"
    translated = folder / f"user-guide.{language}.md"
    return translated if language != "en" and translated.is_file() else folder / "user-guide.md"


class _Page(QDialog):
    """A read-only rich-text page with a Close button; re-rendered on a language change."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.text = QTextBrowser(self)
        self.text.setObjectName(name + "Text")
        self.text.setOpenExternalLinks(False)
        self.text.verticalScrollBar().setObjectName(name + "ScrollBar")
        self.text.horizontalScrollBar().setObjectName(name + "SideScrollBar")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.setObjectName(name + "Buttons")
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName(name + "Close")
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addWidget(buttons)
        self.resize(760, 720)

    def retranslate(self) -> None:
        # one context for both pages (self.tr in a base class would take the subclass's)
        self.close_button.setText(QCoreApplication.translate("QtHelp", "Close"))
        self.close_button.setAccessibleName(QCoreApplication.translate("QtHelp", "Close this page"))
        self.text.verticalScrollBar().setAccessibleName(
            QCoreApplication.translate("QtHelp", "Scroll the page")
        )
        self.text.horizontalScrollBar().setAccessibleName(
            QCoreApplication.translate("QtHelp", "Scroll the page sideways")
        )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class QtUserGuide(_Page):
    """Help > User guide."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("userGuide", parent)
        self.retranslate()

    def retranslate(self) -> None:
        super().retranslate()
        self.setWindowTitle(self.tr("Bedside user guide"))
        self.text.setAccessibleName(self.tr("User guide"))
        path = guide_path(current_language())
        try:
            self.text.setMarkdown(path.read_text(encoding="utf-8"))
        except OSError as exc:
            self.text.setPlainText(
                self.tr("The user guide cannot be read ({0}): {1}").format(path, exc.strerror)
            )


class QtIntendedUse(_Page):
    """Help > Intended use of the model: what the loaded model is for, and is not for."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("intendedUse", parent)
        self._loaded: LoadedBundle | None = None
        self._demo = False
        self._why_none = ""
        self.retranslate()

    def set_model(self, loaded: LoadedBundle | None, *, demo: bool = False, why: str = "") -> None:
        """The model on which results are shown now (None: ``why`` there is none)."""
        self._loaded, self._demo, self._why_none = loaded, demo, why
        self._render()

    def retranslate(self) -> None:
        super().retranslate()
        self.setWindowTitle(self.tr("Intended use of the model"))
        self.text.setAccessibleName(self.tr("Intended use of the model"))
        self._render()

    def _render(self) -> None:
        if self._loaded is None:
            why = self._why_none or self.tr("the model is still loading.")
            self.text.setPlainText(self.tr("No model is loaded: {0}").format(why))
            return
        from viewer.bundle.model_card import build_card, render_html
        from viewer.ui.qt_model_card import DEMO_COLOUR, card_texts

        notices = []
        if self._demo:
            notices.append((self.tr("Demo model — NOT for clinical use."), DEMO_COLOUR))
        card = build_card(self._loaded.manifest)
        self.text.setHtml(
            render_html(
                card,
                texts=card_texts(),
                sections=INTENDED_USE_SECTIONS,
                notices=notices,
                time_text=local_time_text,
            )
        )
