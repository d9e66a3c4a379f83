"""The clinical input corpus (issue 12.4): images that are not chest radiographs get no score.

Generated DICOMs of other body parts, without a Modality, of non-projection modalities (CT, MR,
US, NM), dental (panoramic and intraoral) and colour images are each refused by the shipped demo
bundle (its policy table holds the safe defaults ``bundle create`` writes; a manifest without the
table gets the same, tests/inference/test_checks.py), with a reason naming the tag; real chest
radiographs in ``../shared/samples`` still score (marked ``samples``, skipped where absent). A
property test throws arbitrary Modality and Body Part Examined values at the header checks: only
an accepted modality with an accepted or empty body part is ever scored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset

from tests.inference.helpers import accepted
from viewer.inference.checks import check_input, refusals
from viewer.inference.predict import InputRefusedError, Predictor


@pytest.fixture(scope="module")
def demo_predictor() -> Predictor:
    """The shipped demo bundle, trusted by its own public key (demo mode's trust)."""
    from viewer.bundle.keys import load_public_key
    from viewer.bundle.loader import load_bundle
    from viewer.bundle.resources import DEMO_BUNDLE, resource_path
    from viewer.bundle.signing import TrustedKey
    from viewer.bundle.trust import TrustStore

    public = load_public_key(resource_path("demo", "demo-signing-key.pub.pem"))
    trust = TrustStore.of_keys([TrustedKey.of(public, source="demo")])
    loaded = load_bundle(resource_path(*DEMO_BUNDLE), trust)
    return Predictor(loaded, threads=1)


def _cxr(**changes: Any) -> Dataset:
    from viewer.dicom.synthetic import make_cxr

    ds = make_cxr(11, opacity=True, size=(256, 256))
    for keyword, value in changes.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    return ds


def _colour() -> Dataset:
    ds = _cxr()
    grey = (ds.pixel_array >> 4).astype(np.uint8)
    rgb = np.stack([grey, grey // 2, grey], axis=-1)
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    for keyword in ("WindowCenter", "WindowWidth"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.PixelData = rgb.tobytes()
    return ds


def _coded_species() -> Dataset:
    """A veterinary thorax whose species is only coded (0010,2202), as modalities send it."""
    ds = _cxr()
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "448169003", "SCT"
    code.CodeMeaning = "Felis catus"
    ds.PatientSpeciesCodeSequence = [code]
    return ds


CORPUS: dict[str, tuple[Callable[[], Dataset], str, str]] = {
    # id: (dataset, refusing check, text in its reason)
    "hand": (lambda: _cxr(BodyPartExamined="HAND"), "body_part", "HAND"),
    "extremity": (lambda: _cxr(BodyPartExamined="EXTREMITY"), "body_part", "EXTREMITY"),
    "knee": (lambda: _cxr(BodyPartExamined="KNEE"), "body_part", "KNEE"),
    "skull": (lambda: _cxr(BodyPartExamined="SKULL"), "body_part", "SKULL"),
    "abdomen": (lambda: _cxr(BodyPartExamined="ABDOMEN"), "body_part", "ABDOMEN"),
    "no-modality": (lambda: _cxr(Modality=None), "modality", "(0008,0060) is empty"),
    "empty-modality": (lambda: _cxr(Modality=""), "modality", "(0008,0060) is empty"),
    "ct-slice-without-modality": (
        lambda: _cxr(Modality=None, BodyPartExamined=None, RescaleIntercept=-1024,
                     RescaleSlope=1, ViewPosition=None),
        "modality", "(0008,0060) is empty"),
    "ct": (lambda: _cxr(Modality="CT"), "modality", "CT"),
    "mr": (lambda: _cxr(Modality="MR"), "modality", "MR"),
    "us": (lambda: _cxr(Modality="US"), "modality", "US"),
    "nm": (lambda: _cxr(Modality="NM"), "modality", "NM"),
    "dental-panoramic": (lambda: _cxr(Modality="PX", BodyPartExamined="JAW"), "modality", "PX"),
    "dental-intraoral": (lambda: _cxr(Modality="IO", BodyPartExamined="TOOTH"), "modality",
                         "IO"),
    "dental-as-dx": (lambda: _cxr(Modality="DX", BodyPartExamined="JAW"), "body_part", "JAW"),
    "colour": (_colour, "photometric", "colour"),
    "veterinary-thorax": (lambda: _cxr(PatientSpeciesDescription="Canine"), "species", "Canine"),
    "veterinary-coded": (_coded_species, "species", "Felis catus"),
}  # fmt: skip


@pytest.mark.parametrize(("make", "name", "text"), list(CORPUS.values()), ids=list(CORPUS))
def test_non_chest_images_are_refused_with_a_reason(
    demo_predictor: Predictor,
    tmp_path: Path,
    make: Callable[[], Dataset],
    name: str,
    text: str,
) -> None:
    from viewer.dicom import read_image, read_metadata

    path = tmp_path / "image.dcm"
    make().save_as(path, enforce_file_format=True)
    meta = read_metadata(path)
    with pytest.raises(InputRefusedError) as screened:  # before any decode
        demo_predictor.screen(meta)
    refused = refusals(screened.value.checks)
    assert name in [c.name for c in refused]
    reason = next(c for c in refused if c.name == name)
    assert text in reason.message
    assert reason.code and reason.message in str(screened.value)
    if meta.samples_per_pixel == 1:  # and scoring the decoded image refuses as well
        with pytest.raises(InputRefusedError):
            demo_predictor.predict(read_image(path))


def test_a_generated_chest_radiograph_still_scores(
    demo_predictor: Predictor, tmp_path: Path
) -> None:
    from viewer.dicom import read_image

    human = _cxr(PatientSpeciesDescription="Homo sapiens")
    for name, ds in {"chest": _cxr(), "no-body-part": _cxr(BodyPartExamined=None),
                     "no-view": _cxr(ViewPosition=""), "human-species": human}.items():  # fmt: skip
        path = tmp_path / f"{name}.dcm"
        ds.save_as(path, enforce_file_format=True)
        prediction = demo_predictor.predict(read_image(path))
        assert prediction.labels and not refusals(prediction.checks), name


SAMPLES = ["nih-cxr14-dx-pa.dcm", "wg04-rg1-cr-mono1-j2k.dcm"]


@pytest.mark.samples
@pytest.mark.parametrize("name", SAMPLES, ids=SAMPLES)
def test_real_chest_samples_pass_every_input_check_but_the_reference(
    demo_predictor: Predictor, samples_dir: Path, name: str
) -> None:
    """Header, pixel and model-input checks accept real chest X-rays; only the demo model's
    reference check (issue 15) refuses them, as unlike its synthetic reference images."""
    from viewer.dicom import read_image
    from viewer.inference.predict import InputRefusedError

    path = samples_dir / name
    if not path.is_file():
        pytest.skip(f"{name} is not in the samples folder")
    with pytest.raises(InputRefusedError) as info:
        demo_predictor.predict(read_image(path))
    refusing = refusals(info.value.checks)
    assert [c.code for c in refusing] == ["out_of_distribution"]
    assert "outside the images this model was validated on" in str(info.value)
    assert float(refusing[0].params["distance"]) > float(refusing[0].params["threshold"])


_TAG = st.one_of(
    st.sampled_from(["", "CR", "DX", "DR", "CT", "MR", "US", "PX", "IO", "OT", "CHEST", "HAND",
                     "THORAX", " chest ", "cr"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=16),
)  # fmt: skip


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(modality=_TAG, body_part=_TAG)
def test_header_fuzz_only_an_accepted_modality_and_body_part_score(
    modality: str, body_part: str
) -> None:
    from types import SimpleNamespace

    from viewer.dicom import PixelSpacing

    meta = SimpleNamespace(
        is_image=True, modality=modality, view_position="PA", body_part=body_part,
        photometric="MONOCHROME2", samples_per_pixel=1, number_of_frames=1, bits_stored=12,
        rows=256, columns=256, pixel_spacing=PixelSpacing(0.2, 0.2, "PixelSpacing"),
    )  # fmt: skip
    checks = check_input(meta, accepted())
    scored = not refusals(checks)
    expected = modality.strip().upper() in ("CR", "DX") and body_part.strip().upper() in (
        "",
        "CHEST",
    )
    assert scored == expected, (modality, body_part, [c.message for c in refusals(checks)])


@pytest.mark.parametrize("coded", [False, True], ids=["description", "code-sequence"])
def test_the_species_reaches_the_index_by_both_header_paths(tmp_path: Path, coded: bool) -> None:
    """The study index's fast header reader and pydicom's path agree on a veterinary image."""
    from viewer.dicom import read_metadata, scan

    ds = _coded_species() if coded else _cxr(PatientSpeciesDescription="Canine")
    path = tmp_path / "vet.dcm"
    ds.save_as(path, enforce_file_format=True)
    expected = "Felis catus" if coded else "Canine"
    assert read_metadata(path).patient_species == expected
    (indexed,) = scan([tmp_path]).images()
    assert indexed.patient_species == expected
