"""The syslog side of an ATNA message, by a strict RFC 5424 / RFC 5425 parser of our own."""

from __future__ import annotations

import pytest

from tests.audit.atna_helpers import check_audit_message, every_record, parse_syslog, unframe
from viewer.audit import AuditLog, EventType
from viewer.audit.atna import MAPPING, AtnaSource
from viewer.audit.atna_transport import BOM, MSGID, SD_ID, frame, syslog_message

SOURCE = AtnaSource(source_id="ws-1", app_name="bedside")


@pytest.mark.parametrize("facility", ["authpriv", "log_audit"])
def test_every_row_is_a_strict_rfc5424_message(log: AuditLog, facility: str) -> None:
    records = every_record(log)
    stream = b"".join(
        frame(syslog_message(r, SOURCE, log_id=log.log_id, facility=facility)) for r in records
    )
    messages = unframe(stream)
    assert len(messages) == len(records)
    for record, data in zip(records, messages, strict=True):
        msg = parse_syslog(data)
        assert msg.facility == {"authpriv": 10, "log_audit": 13}[facility]
        serious = MAPPING[EventType(record.type)].event_id[0] == "110113"
        expected = 5 if record.outcome == "success" else (3 if serious else 4)
        assert msg.severity == expected
        assert msg.timestamp == record.time
        assert msg.hostname == record.host
        assert (msg.app_name, msg.procid, msg.msgid) == ("bedside", "-", MSGID)
        assert msg.sd == {SD_ID: {"log": log.log_id, "seq": str(record.seq), "hash": record.hash}}
        assert msg.msg.startswith(BOM)
        check_audit_message(msg.msg[len(BOM) :])


def test_header_fields_stay_printable_ascii_and_sd_values_are_escaped(log: AuditLog) -> None:
    record = every_record(log)[0]
    odd = AtnaSource(source_id="ws 1", app_name="bed side")
    msg = parse_syslog(syslog_message(record, odd, log_id='a"b]c\\d'))
    assert msg.app_name == "bed_side"
    assert msg.sd[SD_ID]["log"] == 'a"b]c\\d'


def test_the_parser_refuses_what_rfc5424_refuses() -> None:
    good = b'<85>1 2026-01-01T00:00:00.123456Z h app - ID [x@1 a="1"] \xef\xbb\xbfhi'
    parse_syslog(good)
    for bad in (
        b"<192>1 2026-01-01T00:00:00Z h app - ID - x",  # PRI > 191
        b"<85>2 2026-01-01T00:00:00Z h app - ID - x",  # VERSION
        b"<85>1 2026-01-01 00:00:00 h app - ID - x",  # TIMESTAMP
        b"<85>1 2026-01-01T00:00:00.1234567Z h app - ID - x",  # 7 fraction digits
        b'<85>1 2026-01-01T00:00:00Z h app - ID [x@1 a="1" - x',  # SD not closed
        b'<85>1 2026-01-01T00:00:00Z h app - ID [x@1 a="1"]x',  # no SP before MSG
        b'<85>1 2026-01-01T00:00:00Z h app - ID [private a="1"] x',  # private SD-ID needs @
        b"<85>1 2026-01-01T00:00:00Z h " + b"a" * 49 + b" - ID - x",  # APP-NAME > 48
    ):
        with pytest.raises(ValueError):
            parse_syslog(bad)
    with pytest.raises(ValueError):
        unframe(b"05 hello")  # leading zero
    with pytest.raises(ValueError):
        unframe(b"9 short")
