"""An anonymised image (no Patient ID) decided in an earlier run is found in the log on reopening,
so the next act is an amendment (review finding; fixed by looking the image up by its SOP
Instance UID pseudonym when there is no patient to narrow the search)."""

from __future__ import annotations

from tests.session.fakes import make_desk as _desk
from tests.session.fakes import read as _read
from viewer.audit import AuditLog
from viewer.config import Settings


def test_an_image_without_patient_id_decided_in_an_earlier_run_is_amended(
    settings: Settings, log: AuditLog
) -> None:
    """Anonymised images often carry no Patient ID; the SOP Instance UID and the pixels still
    identify the image, so reopening it next day must offer an amendment."""
    earlier = _read(_desk(settings, log), patient_id="").decide("confirmed", "")
    assert earlier.record is not None
    later = _read(_desk(settings, log), patient_id="")
    assert later.decision is not None and later.decision.seq == earlier.record.seq
    amended = later.decide("overrode", "second look")
    assert amended.record is not None and amended.record.type == "amendment"
