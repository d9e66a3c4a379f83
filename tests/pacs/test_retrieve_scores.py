"""A study retrieved from Orthanc (WADO-RS and C-GET) is decoded by the same reader and scored
by the same model exactly like the file that went in: same pixel digest, same scores (issue 17
item 4), for an uncompressed and an RLE-compressed image."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.uid import RLELossless

from tests.pacs.helpers import pacs_site, write_site
from tests.pacs.orthanc import OrthancServer
from viewer.config import load_settings
from viewer.dicom import read_image
from viewer.pacs import dimse, query
from viewer.pacs.connection import PacsTarget
from viewer.pacs.delivery import encode_part10


@pytest.fixture(scope="module")
def predictor() -> Iterator[Any]:
    from viewer.bundle.loader import load_bundle
    from viewer.bundle.resources import DEMO_BUNDLE, resource_path
    from viewer.bundle.trust import TrustStore
    from viewer.inference.predict import Predictor

    path = resource_path(*DEMO_BUNDLE)
    if not path.is_file():
        pytest.skip("resources/demo/demo-cxr.bundle is not built (make demo-bundle)")
    loaded = load_bundle(path, TrustStore.from_settings(load_settings(demo=True)))
    yield Predictor(loaded, threads=1)


def _scores(predictor: Any, path: Path) -> tuple[str, list[tuple[str, float]]]:
    image = read_image(path)
    result = predictor.predict(image)
    return image.pixel_sha256, [(label.label, label.score) for label in result.labels]


@pytest.mark.parametrize("compressed", [False, True], ids=["explicit-le", "rle"])
def test_a_retrieved_study_scores_exactly_like_the_file(
    orthanc: OrthancServer, site_file: Path, tmp_path: Path, predictor: Any, compressed: bool
) -> None:
    from viewer.dicom.synthetic import make_cxr

    source = make_cxr(41, opacity=True, size=(256, 256), patient_index=41)
    if compressed:
        source.compress(RLELossless)
    original = tmp_path / "original.dcm"
    original.write_bytes(encode_part10(source))
    expected = _scores(predictor, original)

    settings = write_site(site_file, pacs_site(orthanc, transport="dimse"))
    dimse.store(PacsTarget.from_settings(settings), [original.read_bytes()])
    for transport in ("dicomweb", "dimse"):
        settings = write_site(site_file, pacs_site(orthanc, query=transport))
        (hit,) = query.search(settings, patient_id=str(source.PatientID))
        files = query.retrieve(settings, hit.study_uid, tmp_path / transport)
        assert len(files) == 1
        # kept as PACS holds it: nothing transcoded on the way
        syntax = dcmread(files[0], stop_before_pixels=True).file_meta.TransferSyntaxUID
        assert syntax == source.file_meta.TransferSyntaxUID, transport
        assert _scores(predictor, files[0]) == expected, transport
