"""A source header whose identifying values are malformed: the sentence that refuses it becomes
the reason of the ``pacs_not_queued`` audit row (forwarded to the department store and ATNA),
so it names the attribute and never its value: the audit log holds patients and studies only
as pseudonyms."""

from __future__ import annotations

import copy
import warnings
from dataclasses import replace
from typing import Any

import pytest
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag

from tests.pacs.reports import make_report
from viewer.pacs.model import AiReport, PacsObjectError
from viewer.pacs.objects import build_objects

SECRET = "19450815"


def _with(report: AiReport, **values: Any) -> AiReport:
    source = copy.deepcopy(report.source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns on assignment and keeps the value
        for keyword, value in values.items():
            setattr(source, keyword, value)
    return replace(report, source=source)


@pytest.mark.parametrize(
    "values",
    [
        {"PatientBirthDate": f"{SECRET[:4]}-{SECRET[4:6]}-{SECRET[6:]}"},
        {"PatientBirthDate": SECRET + "x"},
        {"StudyInstanceUID": f"1.2.{SECRET}.x"},
        {"StudyDate": SECRET + "0"},
        {"PatientSex": f"m{SECRET}"},
    ],
    ids=["birth-date-with-dashes", "birth-date-letter", "study-uid", "study-date", "sex"],
)
def test_the_refusal_names_the_attribute_not_its_value(values: dict[str, Any]) -> None:
    with pytest.raises(PacsObjectError, match=r"is not a valid (DA|UI|CS) value") as caught:
        build_objects(_with(make_report(), **values))
    assert SECRET not in str(caught.value)


def test_an_unreadable_element_is_named_without_pydicoms_words_about_its_value() -> None:
    report = make_report()
    source = copy.deepcopy(report.source)
    tag = Tag("PatientBirthDate")
    value = f"{SECRET}\\{SECRET}".encode()
    source[tag] = RawDataElement(tag, "US", len(value), value, 0, False, True)
    with pytest.raises(PacsObjectError) as caught:
        build_objects(replace(report, source=source))
    assert "PatientBirthDate" in str(caught.value) and SECRET not in str(caught.value)
