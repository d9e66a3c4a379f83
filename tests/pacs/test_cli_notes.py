"""``bedside pacs`` never prints pydicom's raw warnings: values PACS wrote wrongly are one note
on stderr naming their VRs, without the values (a patient's name, control characters) and
without pydicom's file and line. The real command in a process of its own, against a C-FIND
SCP of the test's own answering with such values."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pacs.helpers import c_find_scp, dimse_site, raw_answer, write_site
from viewer.cli.pacs import value_note

BEDSIDE = Path(sys.executable).with_name("bedside")


@pytest.fixture
def careless_pacs() -> Iterator[int]:
    """A C-FIND SCP answering with one study whose name and count are not valid DICOM."""
    answer = raw_answer(
        StudyInstanceUID=("UI", b"1.2.3\x00"),
        StudyDate=("DA", b"20260101"),
        NumberOfStudyRelatedInstances=("IS", b"abc "),
        PatientName=("PN", b"Yamada^" + b"T" * 90),
    )
    with c_find_scp([answer]) as port:
        yield port


@pytest.mark.parametrize("json_out", [False, True], ids=["text", "json"])
def test_find_says_in_one_note_what_pydicom_warned(
    tmp_path: Path, site_file: Path, careless_pacs: int, json_out: bool
) -> None:
    write_site(site_file, dimse_site(careless_pacs))
    env = {**os.environ, "BEDSIDE_DATA_DIR": str(tmp_path / "data")}
    argv = [str(BEDSIDE), "pacs", "find", "--patient-id", "X", *(["--json"] if json_out else [])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SCP's own pydicom writing the raw values
        done = subprocess.run(
            argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr
    assert "1.2.3" in done.stdout
    assert done.stderr.splitlines() == [
        "Note: PACS answered with 2 value(s) that are not valid DICOM (VR IS, PN); they were "
        "read as far as possible and are kept as written."
    ]


def test_the_note_names_vrs_never_values() -> None:
    messages = [
        "Invalid value for VR UI: '1.2.\\x1b[2J'.",
        "The value length (40) exceeds the maximum length of 16 allowed for VR CS.",
        'Value "x" is not valid for elements with a VR of DS',
        "'datetime.time' doesn't allow a value of '60' for the seconds component",
    ]
    note = value_note(messages, "PACS sent")
    assert note == (
        "Note: PACS sent 4 value(s) that are not valid DICOM (VR CS, DS, UI); they were read as "
        "far as possible and are kept as written."
    )
    assert value_note([], "PACS sent") is None
