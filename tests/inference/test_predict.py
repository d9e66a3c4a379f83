"""Predictor: checks, preprocessing, forward, threshold; refusals; heatmaps; determinism."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.inference.helpers import loaded, manifest
from viewer.inference.predict import (
    InferenceCancelledError,
    InputRefusedError,
    Predictor,
)


@pytest.fixture
def image(cxr_path: Path) -> Any:
    from viewer.dicom import read_image

    return read_image(cxr_path)


def test_predict_returns_scores_checks_identity_threads_and_timings(image: Any) -> None:
    prediction = Predictor(loaded(), threads=1).predict(image)
    assert [r.label for r in prediction.labels] == ["opacity", "effusion"]
    assert all(0.0 <= r.score <= 1.0 for r in prediction.labels)
    assert [r.positive for r in prediction.labels] == [r.score >= r.threshold
                                                       for r in prediction.labels]  # fmt: skip
    assert prediction.positive_labels == [r.label for r in prediction.labels if r.positive]
    assert prediction.model_id == "tiny" and prediction.model_version == "1.0.0"
    assert prediction.bundle_digest == "ab" * 32
    assert prediction.threads == 1
    assert set(prediction.timings_ms) == {"checks", "preprocess", "forward", "postprocess",
                                          "total"}  # fmt: skip
    assert prediction.audit_detail()["threads"] == 1
    assert {c.level for c in prediction.checks} == {"ok"}


def test_refused_image_gets_no_score_and_says_why(image: Any) -> None:
    ct = dataclasses.replace(image, meta=dataclasses.replace(image.meta, modality="CT"))
    predictor = Predictor(loaded())
    with pytest.raises(InputRefusedError) as info:
        predictor.predict(ct)
    assert "CT" in str(info.value)
    assert [c.name for c in info.value.checks if c.level == "refusal"] == ["modality"]
    with pytest.raises(InputRefusedError):
        predictor.heatmap(ct, "opacity")


def test_warnings_come_with_the_score(image: Any) -> None:
    ap = dataclasses.replace(image, meta=dataclasses.replace(image.meta, view_position="AP"))
    prediction = Predictor(loaded()).predict(ap)
    assert [c.name for c in prediction.warnings] == ["view"]
    assert prediction.audit_detail()["warnings"][0]["check"] == "view"


def test_cancel_stops_before_the_forward(image: Any) -> None:
    with pytest.raises(InferenceCancelledError):
        Predictor(loaded()).predict(image, cancel=lambda: True)


def test_heatmap_is_in_image_coordinates(tmp_path: Path) -> None:
    from viewer.dicom import read_image
    from viewer.dicom.synthetic import make_cxr

    path = tmp_path / "wide.dcm"
    make_cxr(2, opacity=True, size=(200, 260)).save_as(path, enforce_file_format=True)
    image = read_image(path)
    predictor = Predictor(loaded())
    heat = predictor.heatmap(image, "opacity")
    assert heat.shape == (200, 260) and heat.dtype == np.float32
    assert heat.min() >= 0.0 and heat.max() <= 1.0
    # the centre crop dropped 30 columns each side: nothing there
    assert (heat[:, :30] == 0).all() and (heat[:, 230:] == 0).all()
    with pytest.raises(Exception, match="no label"):
        predictor.heatmap(image, "pneumothorax")


def test_same_image_same_scores_in_one_process(image: Any) -> None:
    predictor = Predictor(loaded())
    a = [r.score for r in predictor.predict(image).labels]
    b = [r.score for r in predictor.predict(image).labels]
    assert a == b


_CHILD = """
import sys
sys.path.insert(0, {root!r})
from tests.inference.helpers import loaded
from viewer.dicom import read_image
from viewer.inference.predict import Predictor
p = Predictor(loaded(), threads=2).predict(read_image({path!r}))
print(" ".join(repr(r.score) for r in p.labels))
"""


def test_scores_are_bit_identical_in_another_process(cxr_path: Path) -> None:
    from viewer.dicom import read_image

    root = str(Path(__file__).resolve().parents[2])
    here = Predictor(loaded(), threads=2).predict(read_image(cxr_path))
    child = subprocess.run(
        [sys.executable, "-c", _CHILD.format(root=root, path=str(cxr_path))],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    assert child.stdout.split() == [repr(r.score) for r in here.labels]


def test_manifest_helper_threshold_is_applied(image: Any) -> None:
    from tests.inference.helpers import label

    man = manifest(labels=[label("opacity", 0.0), label("effusion", 1.0)])
    prediction = Predictor(loaded(man=man)).predict(image)
    assert [r.positive for r in prediction.labels] == [True, False]


def test_thread_count_is_reapplied_and_recorded(image: Any) -> None:
    import torch

    predictor = Predictor(loaded(), threads=2)
    torch.set_num_threads(1)  # something else in the process changed it
    prediction = predictor.predict(image)
    assert prediction.threads == 2 and torch.get_num_threads() == 2


def test_invalid_thread_count_is_refused() -> None:
    from viewer.errors import InferenceError

    with pytest.raises(InferenceError, match="threads"):
        Predictor(loaded(), threads=0)
