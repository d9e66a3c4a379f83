"""What the ``pacs_not_queued`` audit row says when a reading cannot go to PACS: the reason is
forwarded to the department store and ATNA, so it never quotes a header value or a library's
words about one (the log holds patients and studies only as pseudonyms)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.session.fakes import make_desk
from viewer.audit import AuditLog
from viewer.config import Settings, load_settings
from viewer.dicom import DisplayRenderer, read_image
from viewer.session.pacs_link import PacsLink, source_header
from viewer.session.reading import score_image

SECRET = "19450815"


@pytest.fixture
def log(site_file: Path) -> Iterator[AuditLog]:
    site_file.write_text(
        '[pacs]\nenabled = true\nsend = ["sr", "sc"]\n'
        'dicomweb_url = "http://127.0.0.1:9/dicom-web"\n',
        encoding="utf-8",
    )
    with AuditLog.open(load_settings(demo=False)) as opened:
        yield opened


def _not_queued_reason(settings: Settings, log: AuditLog, path: Path, **kw: Any) -> str:
    desk = make_desk(settings, log)
    image = read_image(str(path))
    session = desk.open(str(path))
    session.opened(image.meta, pixel_sha256=image.pixel_sha256)
    assert desk.scorer is not None
    session.scored(score_image(desk.scorer, image.meta, image=image))
    header = source_header(image.header)
    for keyword, value in kw.pop("header", {}).items():
        setattr(header, keyword, value)
    display = kw.pop("display", DisplayRenderer(image).render(image.default_window))
    outcome = session.decide("confirmed", "")
    queued = PacsLink(settings, desk.trail).after_decision(
        session, outcome, source=header, display=display
    )
    assert queued is not None and not queued.ok
    (row,) = [r for r in log.records() if r.type == "pacs_not_queued"]
    assert row.reason == queued.error
    return str(row.reason)


def test_a_malformed_birth_date_is_not_written_into_the_audit_row(
    log: AuditLog, cxr_path: Path
) -> None:
    settings = load_settings(demo=False)
    with pytest.warns(UserWarning):  # pydicom's own word on the value, as on reading the file
        reason = _not_queued_reason(
            settings, log, cxr_path, header={"PatientBirthDate": "1945-08-15"}
        )
    assert "PatientBirthDate" in reason
    assert "1945" not in reason


def test_a_library_failure_is_recorded_by_its_kind_not_its_words(
    log: AuditLog, cxr_path: Path
) -> None:
    def display() -> Any:
        raise ValueError(f"cannot render Smith^John born {SECRET}")

    reason = _not_queued_reason(load_settings(demo=False), log, cxr_path, display=display)
    assert reason == "The objects for PACS could not be made or queued (ValueError)."
