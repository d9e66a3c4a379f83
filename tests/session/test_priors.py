"""Open the prior (issue 14 item 1): the same patient's earlier studies, newest first."""

from __future__ import annotations

from pathlib import Path

from viewer.dicom import read_metadata
from viewer.dicom.model import ImageMetadata
from viewer.dicom.synthetic import make_cxr
from viewer.session.priors import find_priors, same_patient, study_date_text


def write_study(
    out_dir: Path, *, seed: int, date: str, patient_index: int = 3, view: str = "PA"
) -> Path:
    """One generated chest X-ray of ``patient_index`` dated ``date`` (its own study)."""
    ds = make_cxr(seed, opacity=False, patient_index=patient_index, view=view)
    ds.StudyDate = date
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"p{patient_index}-{date}-{seed}-{view}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def _metas(paths: list[Path]) -> list[ImageMetadata]:
    return [read_metadata(p) for p in paths]


def test_priors_are_earlier_studies_of_the_same_patient_newest_first(tmp_path: Path) -> None:
    current = write_study(tmp_path, seed=1, date="20260301")
    old = write_study(tmp_path, seed=2, date="20240302")
    newer = write_study(tmp_path, seed=3, date="20250115")
    later = write_study(tmp_path, seed=4, date="20260601")  # after the current: not a prior
    other = write_study(tmp_path, seed=5, date="20250101", patient_index=4)  # someone else
    metas = _metas([current, old, newer, later, other])
    priors = find_priors(metas[0], metas)
    assert [p.study_date for p in priors] == ["20250115", "20240302"]
    assert priors[0].first_image().path == str(newer)
    assert study_date_text(priors[1].study_date) == "2024-03-02"


def test_the_prior_image_prefers_the_same_view_position(tmp_path: Path) -> None:
    current = write_study(tmp_path, seed=1, date="20260301")
    lateral = write_study(tmp_path / "a", seed=2, date="20250115", view="LL")
    pa = write_study(tmp_path / "b", seed=2, date="20250115", view="PA")
    metas = _metas([current, lateral, pa])
    (prior,) = find_priors(metas[0], metas)
    assert prior.first_image("PA").path == str(pa)
    assert prior.first_image("AP").path in {str(lateral), str(pa)}


def test_no_prior_without_dates_or_patient_id(tmp_path: Path) -> None:
    current = write_study(tmp_path, seed=1, date="20260301")
    meta = read_metadata(current)
    assert find_priors(meta, [meta]) == []
    undated = ImageMetadata(**{**meta.__dict__, "study_date": ""})
    assert find_priors(undated, [meta]) == []
    anonymous = ImageMetadata(**{**meta.__dict__, "patient_id": ""})
    assert not same_patient(anonymous, anonymous)
    reused = ImageMetadata(**{**meta.__dict__, "patient_birth_date": "19000101"})
    assert not same_patient(meta, reused)
