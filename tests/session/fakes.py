"""A fake predictor for the session's tests: the reading rules are tested without torch or Qt.

It has the surface the session uses of ``viewer.inference.Predictor`` (``manifest``, ``screen``,
``predict``) and returns real ``Prediction`` objects, so the audit rows are the ones the window and
``bedside infer`` write.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from viewer.dicom.model import ImageMetadata
from viewer.inference.checks import CheckResult, make_check
from viewer.inference.postprocess import LabelResult
from viewer.inference.predict import InputRefusedError, Prediction

DIGEST = "ab" * 32


@dataclass
class FakePredictor:
    """Scores every image ``score``; refuses images whose modality is in ``refuse``."""

    score: float = 0.8
    threshold: float = 0.5
    refuse: frozenset[str] = frozenset({"CT"})
    predict_error: Exception | None = None
    manifest: Any = field(
        default_factory=lambda: SimpleNamespace(
            id="fake-cxr",
            version="1.2.3",
            labels=[SimpleNamespace(name="opacity", display_name="Opacity")],
        )
    )
    calls: list[str] = field(default_factory=list)

    def screen(self, meta: Any) -> list[CheckResult]:
        if meta.modality in self.refuse:
            check = make_check(
                "modality", "refusal", "modality_refused", value=meta.modality, allowed="CR, DX"
            )
            raise InputRefusedError(f"No score: {check.message}", checks=[check], path=meta.path)
        return []

    def predict(self, image: Any, *, cancel: Any = None) -> Prediction:
        self.calls.append(image.meta.path)
        if self.predict_error is not None:
            raise self.predict_error
        warn = make_check("view", "warning", "view_missing", allowed="PA, AP")
        return Prediction(
            labels=[
                LabelResult(
                    label="opacity",
                    score=self.score,
                    threshold=self.threshold,
                    positive=self.score >= self.threshold,
                    operating_point="sensitivity 0.90",
                    display_name="Opacity",
                )
            ],
            checks=[warn],
            model_id=self.manifest.id,
            model_version=self.manifest.version,
            bundle_digest=DIGEST,
            threads=1,
            timings_ms={"total": 1.0},
            positive_labels=["opacity"] if self.score >= self.threshold else [],
        )


def meta(path: str | Path = "/data/img1.dcm", *, modality: str = "CR", **kw: Any) -> ImageMetadata:
    """Header of a chest X-ray (identifiers made up; the SOP Instance UID follows the path)."""
    values: dict[str, Any] = {
        "path": str(path),
        "sop_class_uid": "1.2.840.10008.5.1.4.1.1.1",
        "sop_instance_uid": "1.2.3."
        + str(int(hashlib.sha256(str(path).encode()).hexdigest(), 16) % 10**12),
        "study_instance_uid": "1.2.3.100",
        "series_instance_uid": "1.2.3.200",
        "accession_number": "ACC1",
        "patient_id": "PAT-0001",
        "patient_name": "Doe^Jane",
        "patient_birth_date": "",
        "patient_sex": "",
        "study_date": "",
        "study_description": "",
        "series_description": "",
        "series_number": None,
        "instance_number": None,
        "modality": modality,
        "view_position": "PA",
        "laterality": "",
        "body_part": "CHEST",
        "patient_orientation": "",
        "photometric": "MONOCHROME2",
        "bits_stored": 12,
        "bits_allocated": 16,
        "pixel_representation": 0,
        "rows": 64,
        "columns": 64,
        "samples_per_pixel": 1,
        "number_of_frames": 1,
        "pixel_spacing": None,
        "manufacturer": "",
        "model_name": "",
        "transfer_syntax_uid": "1.2.840.10008.1.2.1",
        "is_image": True,
    }
    values.update(kw)
    return ImageMetadata(**values)


@dataclass(frozen=True)
class FakeImage:
    """What the session and the fake predictor need of a decoded image."""

    meta: ImageMetadata
    pixel_sha256: str = "0" * 64


@dataclass
class MultiLabelPredictor(FakePredictor):
    """Several labels (e.g. an imported TorchXRayVision model): ``scores`` by label, each with
    its own threshold."""

    scores: dict[str, float] = field(
        default_factory=lambda: {"Effusion": 0.9, "Atelectasis": 0.7, "Nodule": 0.2, "Mass": 0.1}
    )
    thresholds: dict[str, float] = field(
        default_factory=lambda: {"Effusion": 0.5, "Atelectasis": 0.6, "Nodule": 0.5, "Mass": 0.4}
    )

    def predict(self, image: Any, *, cancel: Any = None) -> Prediction:
        self.calls.append(image.meta.path)
        labels = [
            LabelResult(
                label=name,
                score=score,
                threshold=self.thresholds[name],
                positive=score >= self.thresholds[name],
                operating_point="sensitivity 0.90",
                display_name=name,
            )
            for name, score in self.scores.items()
        ]
        return Prediction(
            labels=labels,
            checks=[],
            model_id="fake-multi",
            model_version="2.0.0",
            bundle_digest=DIGEST,
            threads=1,
            timings_ms={"total": 1.0},
            positive_labels=[r.label for r in labels if r.positive],
        )


def make_desk(settings: Any, log: Any, *, order: str = "ai_first") -> Any:
    """A reading desk on ``log`` (None: still opening) with a named reader and a fake model."""
    from viewer.config import save_user_settings
    from viewer.session.reading import ReadingDesk
    from viewer.session.trail import AuditTrail

    settings = save_user_settings(
        settings, {"reading.order": order, "user.name": "Dr Test", "user.role": "radiologist"}
    )
    desk = ReadingDesk(settings, AuditTrail(settings, log))
    desk.set_model(FakePredictor(), DIGEST)
    return desk


def read(
    desk: Any,
    path: str = "/data/img1.dcm",
    modality: str = "CR",
    *,
    pixels: str = "0" * 64,
    **header_fields: Any,
) -> Any:
    """Open an image and score it as the window does (decode first, then the same scoring)."""
    from viewer.session.reading import score_image

    session = desk.open(path)
    header = meta(path, modality=modality, **header_fields)
    session.opened(header, pixel_sha256=pixels)
    assert desk.scorer is not None
    session.scored(score_image(desk.scorer, header, image=FakeImage(header, pixels)))
    return session
