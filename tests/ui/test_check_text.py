"""Input-check messages in the reader's language, the model store's check in the GUI, the audit
detail of a shown result, and translated window preset labels.

The GUI tests install a small PA-only test model (signed with a key the site trusts) in a real
store, so an AP image is scored with a view warning; the language is switched with
``install_translator`` and switched back at teardown. Windows are closed and their workers
drained by the ``make_window`` fixture.
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QThreadPool
from PySide6.QtWidgets import QComboBox, QLabel, QTableWidget

from tests.bundle.conftest import random_state, template
from tests.ui.mainwin import WAIT_MS, all_rows, find, make_window, wait_for_result
from viewer.config import Settings, load_settings
from viewer.inference.checks import CHECK_MESSAGES, CheckResult, make_check
from viewer.ui.check_text import check_templates, check_text, checks_text
from viewer.ui.i18n import install_translator

__all__ = ["make_window"]  # fixture imported for pytest

TS = Path(__file__).resolve().parents[2] / "resources" / "i18n" / "bedside_ja.ts"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@pytest.fixture
def japanese(qapp: QCoreApplication) -> Iterator[None]:
    app = qapp
    assert install_translator(app, "ja") == "ja"
    yield
    install_translator(app, "en")
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS), "a worker outlived its test"


# -- the table ----------------------------------------------------------------------------------


def _ja_checks() -> dict[str, tuple[str, bool]]:
    """Source -> (translation, finished) for the "Checks" context of the Japanese catalogue."""
    out: dict[str, tuple[str, bool]] = {}
    for context in ET.parse(TS).getroot().iter("context"):  # noqa: S314 - our own file
        if context.findtext("name") != "Checks":
            continue
        for message in context.iter("message"):
            tr = message.find("translation")
            text = "" if tr is None else tr.text or ""
            finished = tr is not None and tr.get("type") is None and bool(text.strip())
            out[message.findtext("source", "")] = (text, finished)
    return out


def test_every_check_code_has_a_ui_entry_with_the_core_template() -> None:
    table = check_templates()  # English: the source strings themselves
    assert sorted(table) == sorted(CHECK_MESSAGES)
    for code, english in CHECK_MESSAGES.items():
        assert table[code] == english, code


@pytest.mark.parametrize("code", sorted(CHECK_MESSAGES))
def test_every_check_code_has_a_finished_japanese_translation(code: str) -> None:
    translated, finished = _ja_checks().get(CHECK_MESSAGES[code], ("", False))
    assert finished, f"{code}: no finished Japanese translation in {TS.name}"
    assert JAPANESE.search(translated), translated
    assert sorted(PLACEHOLDER.findall(translated)) == sorted(
        PLACEHOLDER.findall(CHECK_MESSAGES[code])
    )


def _view_other() -> CheckResult:
    return make_check("view", "warning", "view_other", value="AP", allowed="PA")


def test_check_text_is_japanese_with_its_params(japanese: None) -> None:
    text = check_text(_view_other())
    assert JAPANESE.search(text), text
    assert "AP" in text and "PA" in text
    assert text != _view_other().message


def test_unknown_code_or_unfit_params_fall_back_to_the_english_message(japanese: None) -> None:
    unknown = CheckResult("view", "warning", "A check added later.", "added_later", {"x": "1"})
    no_code = CheckResult("view", "warning", "An older core's message.")
    missing = CheckResult("view", "warning", "English with params.", "view_other", {})
    assert check_text(unknown) == "A check added later."
    assert check_text(no_code) == "An older core's message."
    assert check_text(missing) == "English with params."
    assert checks_text([unknown, _view_other()], level="warning")[0] == "A check added later."


# -- the GUI ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundles:
    pa_only: Path
    other: Path
    public_key: Path


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Bundles:
    """Two validly signed test bundles (PA views only; different ids and weights)."""
    import safetensors.torch

    from viewer.bundle.create import create_bundle
    from viewer.bundle.keys import generate_keypair, load_private_key
    from viewer.dicom.synthetic import make_cxr

    root = tmp_path_factory.mktemp("check-bundles")
    sample = root / "sample.dcm"
    make_cxr(1, opacity=True, size=(128, 128)).save_as(sample, enforce_file_format=True)
    key = generate_keypair(root / "key")

    def build(model_id: str, seed: int) -> Path:
        weights = root / f"w-{model_id}.safetensors"
        state = random_state("demo-cnn", in_channels=1, num_labels=1, seed=seed)
        safetensors.torch.save_file(state, str(weights))
        tmpl = template(model_id=model_id, version="1.0.0", size=64)
        tmpl["accepted_inputs"]["views"] = ["PA"]
        out = root / f"{model_id}.bundle"
        create_bundle(
            arch_id="demo-cnn",
            weights=weights,
            template=tmpl,
            sample=sample,
            out=out,
            private_key=load_private_key(key.private_path),
            created="2026-11-28T12:00:00Z",
        )
        return out

    return Bundles(build("pa-only", 0), build("other-model", 1), key.public_path)


@pytest.fixture
def store_settings(bundles: Bundles, site_file: Path) -> Settings:
    """Non-demo settings whose store holds the PA-only model, active."""
    from viewer.bundle.store import ModelStore

    keys = site_file.parent / "trusted-keys"
    keys.mkdir(parents=True)
    (keys / "test.pub.pem").write_bytes(bundles.public_key.read_bytes())
    settings = load_settings()
    ModelStore(settings).install(bundles.pa_only)
    return settings


def _status_tip(window: Any, path: Path) -> str:
    """The worklist's AI-status tooltip for ``path``."""
    from viewer.ui.qt_worklist import COL_PATIENT, COL_STATUS

    table = find(window, QTableWidget, "worklist")
    for r in range(table.rowCount()):
        if table.item(r, COL_PATIENT).toolTip() == str(path):
            return str(table.item(r, COL_STATUS).toolTip())
    raise AssertionError(f"{path} is not in the worklist")


def _cxr(tmp_path: Path, view: str) -> Path:
    from viewer.dicom.synthetic import make_cxr

    path = tmp_path / f"cxr-{view or 'none'}.dcm"
    make_cxr(3, opacity=False, size=(256, 256), view=view).save_as(path, enforce_file_format=True)
    return path


def test_japanese_ui_shows_a_japanese_warning_for_an_ap_image(
    qtbot: Any, make_window: Any, store_settings: Settings, tmp_path: Path, japanese: None
) -> None:
    path = _cxr(tmp_path, "AP")
    window = make_window(store_settings, [path])
    wait_for_result(qtbot, window)
    text = find(window, QLabel, "aiWarnings").text()
    assert text.startswith("入力に関する警告："), text
    assert "AP" in text and "PA" in text
    assert JAPANESE.search(text.split("\n", 1)[1]), text
    assert CHECK_MESSAGES["view_other"].split("{")[0] not in text  # not the English sentence
    assert _status_tip(window, path) == text.split("\n", 1)[1]  # the worklist says the same
    # the audit row keeps the code and params beside the English message, and the threads
    rows = [r for r in all_rows(store_settings) if r.type == "ai_result_shown"]
    assert len(rows) == 1
    detail = rows[0].detail
    assert detail["threads"] == window.current.prediction.threads
    assert detail["warnings"] == window.current.prediction.audit_detail()["warnings"]
    [warning] = detail["warnings"]
    assert warning["code"] == "view_other"
    assert warning["params"] == {"value": "AP", "allowed": "PA"}


def test_japanese_ui_shows_a_japanese_refusal_for_a_lateral_image(
    qtbot: Any, make_window: Any, store_settings: Settings, tmp_path: Path, japanese: None
) -> None:
    path = _cxr(tmp_path, "LL")
    window = make_window(store_settings, [path])
    qtbot.waitUntil(lambda: window.ai_panel.state() == "refused", timeout=WAIT_MS)
    text = find(window, QLabel, "aiState").text()
    assert text.startswith("この画像のAIスコアはありません："), text
    assert "側面像" in text and "LL" in text
    assert find(window, QLabel, "aiProbability").text() == ""
    tip = _status_tip(window, path)
    assert "側面像" in tip and "lateral" not in tip, tip
    # switching back to English re-renders both from the checks, not from stale text
    install_translator(QCoreApplication.instance(), "en")  # type: ignore[arg-type]
    qtbot.waitUntil(
        lambda: "lateral view" in find(window, QLabel, "aiState").text(), timeout=WAIT_MS
    )
    qtbot.waitUntil(lambda: "lateral view" in _status_tip(window, path), timeout=WAIT_MS)


def test_a_bundle_swapped_in_the_store_is_refused_with_no_score(
    qtbot: Any,
    make_window: Any,
    store_settings: Settings,
    bundles: Bundles,
    tmp_path: Path,
) -> None:
    from viewer.bundle.store import ModelStore

    [entry] = [e for e in ModelStore(store_settings).list() if e.active]
    shutil.copyfile(bundles.other, entry.path)  # validly signed, but not what was installed
    window = make_window(store_settings, [_cxr(tmp_path, "PA")])
    qtbot.waitUntil(lambda: window.ai_panel.state() == "no_model", timeout=WAIT_MS)
    assert window.loaded is None and window.predictor is None
    with pytest.raises(Exception) as raised:
        ModelStore(store_settings).load_active()
    message = str(raised.value)
    assert message and message in window.model_error
    assert window.model_error.startswith("The model store refused this model or change.")
    assert message in find(window, QLabel, "aiState").text()
    assert find(window, QLabel, "aiProbability").text() == ""
    refused = [r for r in all_rows(store_settings) if r.type == "bundle_refused"]
    assert refused and all(r.model_id == "pa-only" for r in refused)


def test_window_preset_labels_are_translated(
    qtbot: Any, make_window: Any, demo_settings: Settings, tmp_path: Path, japanese: None
) -> None:
    from viewer.dicom.synthetic import make_cxr

    ds = make_cxr(2, opacity=False, size=(128, 128))
    for keyword in ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation"):
        if keyword in ds:
            delattr(ds, keyword)
    path = tmp_path / "no-window.dcm"
    ds.save_as(path, enforce_file_format=True)
    window = make_window(demo_settings, [path])
    combo = find(window, QComboBox, "windowPresets")
    qtbot.waitUntil(lambda: combo.count() > 1, timeout=WAIT_MS)
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert labels[0].startswith("1: 自動：C "), labels
    assert not any("automatic" in label for label in labels), labels
