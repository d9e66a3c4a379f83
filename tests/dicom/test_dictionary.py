"""``viewer/dicom/dictionary.py`` is pydicom's own dictionary, regenerated (it cannot drift).

The header fast path takes its tags, VRs and SOP class names from that generated module so that
``bedside dicom info``/``scan`` need not import pydicom (issue 19); this test regenerates it with
the installed pydicom and compares the text.
"""

from __future__ import annotations

from pathlib import Path

from pydicom._uid_dict import UID_dictionary
from pydicom.datadict import dictionary_VR, keyword_for_tag

from tests.packaging_modules import dicom_dictionary
from viewer.dicom import dictionary

ROOT = Path(__file__).resolve().parents[2]


def test_module_is_up_to_date() -> None:
    module = dicom_dictionary()
    text = (ROOT / "viewer" / "dicom" / "dictionary.py").read_text(encoding="utf-8")
    assert text == module.render(), "run .venv/bin/python packaging/write_dicom_dictionary.py"


def test_tags_and_names_are_pydicoms() -> None:
    for tag, (keyword, vr) in {**dictionary.HEADER_TAGS, **dictionary.GREY_TAGS}.items():
        assert keyword_for_tag(tag) == keyword
        assert dictionary_VR(tag) == vr
    storage = {
        uid: entry[0] for uid, entry in UID_dictionary.items() if "Image Storage" in entry[0]
    }
    assert storage == dictionary.IMAGE_STORAGE_NAMES
    assert dictionary.IMAGE_STORAGE_NAMES["1.2.840.10008.5.1.4.1.1.1.1"] == (
        "Digital X-Ray Image Storage - For Presentation"
    )
