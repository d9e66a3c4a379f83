"""BEDSIDE_UI_SMOKE=confirm (issue 18 item 1): the installed package's GUI smoke test.

It confirms the first AI result on a synthetic image and exits 0 once the decision is in the
audit log, and it never decides an image that is not one ``bedside demo-data`` wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import generate_uid

from tests.ui.mainwin import decision_rows
from viewer.dicom.synthetic import make_cxr
from viewer.errors import BedsideError
from viewer.ui.app import SMOKE_ENV, run_gui


def test_the_smoke_option_confirms_a_synthetic_image(
    qapp: Any, demo_settings: Any, cxr_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SMOKE_ENV, "confirm")
    assert run_gui(demo_settings, paths=[cxr_path], demo_study=False) == 0
    rows = decision_rows(demo_settings)
    assert [(r.type, r.meaning) for r in rows] == [("decision", "confirmed")]


def test_the_smoke_option_never_decides_a_patients_image(
    qapp: Any, demo_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = make_cxr(2, opacity=True, size=(256, 256))
    ds.SOPInstanceUID = generate_uid()  # a UID from outside the synthetic root: a "patient"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    path = tmp_path / "patient.dcm"
    ds.save_as(path, enforce_file_format=True)
    monkeypatch.setenv(SMOKE_ENV, "confirm")
    assert run_gui(demo_settings, paths=[path], demo_study=False) == 5
    assert decision_rows(demo_settings) == []


def test_another_value_is_refused(demo_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SMOKE_ENV, "override")
    with pytest.raises(BedsideError, match="its one value is 'confirm'"):
        run_gui(demo_settings, paths=[], demo_study=False)
