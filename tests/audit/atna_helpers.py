"""For the ATNA tests: a strict RFC 5424 / RFC 5425 parser, a structural check of the DICOM PS3.15
A.5.1 audit message schema, one event of every type, and a real rsyslog with TLS (test CA, server
and client certificates made here with ``cryptography``)."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from xml.etree import ElementTree as ET

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.servers import PORT_TRIES, certificate, free_port, key_pem, listens
from tests.waits import WAIT_S
from viewer.audit import AuditEvent, AuditLog, AuditRecord, EventType, User

RSYSLOGD = Path("/usr/sbin/rsyslogd")
GTLS = Path("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so")
CLINICIAN = User(os_account="dr_sato", name="佐藤 花子", role="Radiologist")
RAW_IDENTIFIERS = ("PAT-4711", "1.2.392.200036.9116.2.5.1.37.2418295482.1", "ACC-99", "1.2.3.4.5.6")

# --------------------------------------------------------------------------- events


def one_event(etype: EventType, *, failure: bool = False, corrects: int = 1) -> AuditEvent:
    """A row of ``etype`` with every field filled, so every part of the mapping runs."""
    signed = etype in (EventType.DECISION, EventType.AMENDMENT)
    return AuditEvent(
        type=etype,
        outcome="failure" if failure else "success",
        user=CLINICIAN,
        meaning="overrode" if signed else None,
        model_id="demo-cxr",
        model_version="1.2.0",
        bundle_digest="ab" * 32,
        threshold=0.5,
        score=0.71,
        ai_finding="opacity",
        clinician_finding="no finding",
        reason="old scar",
        ai_shown="after_read",
        patient_id=RAW_IDENTIFIERS[0],
        study_uid=RAW_IDENTIFIERS[1],
        series_uid=RAW_IDENTIFIERS[1] + ".1",
        sop_uid=RAW_IDENTIFIERS[3],
        accession=RAW_IDENTIFIERS[2],
        corrects=corrects if etype == EventType.AMENDMENT else None,
        detail={"code": "signature", "first_bad_seq": 3, "format": "pdf"} if failure else {},
    )


def every_record(log: AuditLog) -> list[AuditRecord]:
    """One success and one failure row of every event type, in one log."""
    records = []
    for etype in EventType:
        for failure in (False, True):
            records.append(log.append(one_event(etype, failure=failure)))
    return records


# --------------------------------------------------------------------------- RFC 5424

_PRINTUSASCII = r"[\x21-\x7e]"
_SD_NAME = r"[\x21\x23-\x3c\x3e-\x5c\x5e-\x7e]{1,32}"  # printable minus '=', ']', '"', space
_HEADER = re.compile(
    rb"^<(?P<pri>[0-9]{1,3})>(?P<version>[1-9][0-9]{0,2}) "
    rb"(?P<timestamp>-|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    rb"(?:Z|[+-][0-9]{2}:[0-9]{2})) "
    rb"(?P<hostname>" + _PRINTUSASCII.encode() + rb"{1,255}) "
    rb"(?P<app>" + _PRINTUSASCII.encode() + rb"{1,48}) "
    rb"(?P<procid>" + _PRINTUSASCII.encode() + rb"{1,128}) "
    rb"(?P<msgid>" + _PRINTUSASCII.encode() + rb"{1,32}) "
)
_SD_ELEMENT_START = re.compile(rb"\[(" + _SD_NAME.encode() + rb")")
_SD_PARAM = re.compile(rb" (" + _SD_NAME.encode() + rb')="((?:[^"\\\]]|\\["\\\]])*)"')


@dataclass
class SyslogMessage:
    pri: int
    timestamp: str
    hostname: str
    app_name: str
    procid: str
    msgid: str
    sd: dict[str, dict[str, str]] = field(default_factory=dict)
    msg: bytes = b""

    @property
    def facility(self) -> int:
        return self.pri // 8

    @property
    def severity(self) -> int:
        return self.pri % 8


def parse_syslog(data: bytes) -> SyslogMessage:
    """A strict RFC 5424 parser (section 6 ABNF): raises ValueError on any deviation."""
    head = _HEADER.match(data)
    if head is None:
        raise ValueError(f"not an RFC 5424 header: {data[:120]!r}")
    pri = int(head["pri"])
    if pri > 191 or (len(head["pri"]) > 1 and head["pri"].startswith(b"0")):
        raise ValueError(f"PRI out of range: {pri}")
    if head["version"] != b"1":
        raise ValueError("VERSION must be 1")
    if head["timestamp"] != b"-":
        dt.datetime.fromisoformat(head["timestamp"].decode().replace("Z", "+00:00"))
    pos = head.end()
    sd: dict[str, dict[str, str]] = {}
    if data[pos : pos + 1] == b"-":
        pos += 1
    else:
        while data[pos : pos + 1] == b"[":
            start = _SD_ELEMENT_START.match(data, pos)
            if start is None:
                raise ValueError(f"bad SD-ID at {pos}")
            sd_id = start[1].decode()
            if sd_id in sd:
                raise ValueError(f"SD-ID {sd_id} twice")
            params: dict[str, str] = {}
            pos = start.end()
            while True:
                param = _SD_PARAM.match(data, pos)
                if param is None:
                    break
                value = re.sub(rb"\\([\"\\\]])", rb"\1", param[2]).decode("utf-8")
                params[param[1].decode()] = value
                pos = param.end()
            if data[pos : pos + 1] != b"]":
                raise ValueError(f"SD-ELEMENT not closed at {pos}")
            pos += 1
            sd[sd_id] = params
        if not sd:
            raise ValueError("STRUCTURED-DATA is neither '-' nor an SD-ELEMENT")
        for sd_id in sd:
            if "@" not in sd_id and sd_id not in ("timeQuality", "origin", "meta"):
                raise ValueError(f"SD-ID {sd_id}: a private SD-ID needs @enterprise-number")
    msg = b""
    if pos < len(data):
        if data[pos : pos + 1] != b" ":
            raise ValueError(f"no SP before MSG at {pos}")
        msg = data[pos + 1 :]
        if msg.startswith(b"\xef\xbb\xbf"):
            msg[3:].decode("utf-8")  # MSG-UTF8 must be valid UTF-8
    return SyslogMessage(
        pri=pri,
        timestamp=head["timestamp"].decode(),
        hostname=head["hostname"].decode(),
        app_name=head["app"].decode(),
        procid=head["procid"].decode(),
        msgid=head["msgid"].decode(),
        sd=sd,
        msg=msg,
    )


def unframe(stream: bytes) -> list[bytes]:
    """RFC 5425 4.3 octet-counted frames, strictly: MSG-LEN (no leading zero) SP SYSLOG-MSG."""
    out = []
    pos = 0
    while pos < len(stream):
        m = re.compile(rb"[1-9][0-9]{0,8} ").match(stream, pos)
        if m is None:
            raise ValueError(f"no MSG-LEN at {pos}")
        length = int(m[0])
        start = m.end()
        if start + length > len(stream):
            raise ValueError("frame shorter than its MSG-LEN")
        out.append(stream[start : start + length])
        pos = start + length
    return out


# --------------------------------------------------------------------------- PS3.15 A.5.1

_ACTIONS = {"C", "R", "U", "D", "E"}
_OUTCOMES = {"0", "4", "8", "12"}
_DATETIME = re.compile(r"^-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")
EVENT_IDS = {"110100", "110101", "110102", "110103", "110104", "110105", "110106", "110107",
             "110108", "110109", "110110", "110111", "110112", "110113", "110114"}  # fmt: skip


def _check_coded(el: ET.Element, where: str) -> None:
    """CodedValueType: csd-code, codeSystemName, originalText required; displayName optional."""
    allowed = {"csd-code", "codeSystemName", "originalText", "displayName"}
    extra = set(el.attrib) - allowed
    assert not extra, f"{where}: unexpected attributes {extra}"
    for name in ("csd-code", "codeSystemName", "originalText"):
        assert el.get(name, "").strip(), f"{where}: {name} missing"
    assert len(el) == 0 and not (el.text or "").strip(), f"{where}: a code has no content"


def _children(el: ET.Element, order: list[tuple[str, str]], where: str) -> None:
    """Children in ``order`` with cardinalities '1', '?', '*', '+' (a RELAX NG group)."""
    kids = list(el)
    i = 0
    for tag, card in order:
        n = 0
        while i < len(kids) and kids[i].tag == tag:
            n += 1
            i += 1
        if card == "1":
            assert n == 1, f"{where}: {tag} must occur once (found {n})"
        elif card == "?":
            assert n <= 1, f"{where}: {tag} at most once"
        elif card == "+":
            assert n >= 1, f"{where}: {tag} at least once"
    assert i == len(kids), f"{where}: unexpected or misplaced element {kids[i].tag}"


def check_audit_message(xml: bytes) -> ET.Element:
    """Well-formed, and the structure of PS3.15 A.5.1's RELAX NG schema for what we emit."""
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    assert root.tag == "AuditMessage" and not root.attrib
    _children(
        root,
        [("EventIdentification", "1"), ("ActiveParticipant", "+"),
         ("AuditSourceIdentification", "1"), ("ParticipantObjectIdentification", "*")],
        "AuditMessage",
    )  # fmt: skip
    ev = root.find("EventIdentification")
    assert ev is not None
    assert set(ev.attrib) <= {"EventActionCode", "EventDateTime", "EventOutcomeIndicator"}
    assert ev.get("EventActionCode") in _ACTIONS
    assert _DATETIME.match(ev.get("EventDateTime", ""))
    assert ev.get("EventOutcomeIndicator") in _OUTCOMES
    _children(
        ev,
        [("EventID", "1"), ("EventTypeCode", "*"), ("EventOutcomeDescription", "?")],
        "EventIdentification",
    )
    for code in ev.iter():
        if code.tag in ("EventID", "EventTypeCode"):
            _check_coded(code, code.tag)
    event_id = ev.find("EventID")
    assert event_id is not None and event_id.get("codeSystemName") == "DCM"
    assert event_id.get("csd-code") in EVENT_IDS
    for ap in root.findall("ActiveParticipant"):
        allowed = {"UserID", "AlternativeUserID", "UserName", "UserIsRequestor",
                   "NetworkAccessPointID", "NetworkAccessPointTypeCode"}  # fmt: skip
        assert set(ap.attrib) <= allowed, ap.attrib
        assert ap.get("UserID", "").strip()
        assert ap.get("UserIsRequestor") in ("true", "false")
        assert ap.get("NetworkAccessPointTypeCode", "1") in {"1", "2", "3", "4", "5"}
        _children(ap, [("RoleIDCode", "*"), ("MediaIdentifier", "?")], "ActiveParticipant")
        for role in ap.findall("RoleIDCode"):
            _check_coded(role, "RoleIDCode")
        for media in ap.findall("MediaIdentifier"):
            _children(media, [("MediaType", "1")], "MediaIdentifier")
            _check_coded(media[0], "MediaType")
    assert sum(ap.get("UserIsRequestor") == "true" for ap in root.findall("ActiveParticipant")) == 1
    src = root.find("AuditSourceIdentification")
    assert src is not None and src.get("AuditSourceID", "").strip()
    assert set(src.attrib) <= {"AuditSourceID", "AuditEnterpriseSiteID"}
    _children(src, [("AuditSourceTypeCode", "*")], "AuditSourceIdentification")
    for code in src:
        _check_coded(code, "AuditSourceTypeCode")
        assert code.get("csd-code") in {str(n) for n in range(1, 10)}
    for obj in root.findall("ParticipantObjectIdentification"):
        allowed = {"ParticipantObjectID", "ParticipantObjectTypeCode",
                   "ParticipantObjectTypeCodeRole", "ParticipantObjectDataLifeCycle",
                   "ParticipantObjectSensitivity"}  # fmt: skip
        assert set(obj.attrib) <= allowed
        assert obj.get("ParticipantObjectID", "").strip()
        assert obj.get("ParticipantObjectTypeCode") in {"1", "2", "3", "4"}
        assert obj.get("ParticipantObjectTypeCodeRole") in {str(n) for n in range(1, 25)}
        _children(
            obj,
            [("ParticipantObjectIDTypeCode", "1"), ("ParticipantObjectName", "?"),
             ("ParticipantObjectQuery", "?"), ("ParticipantObjectDetail", "*")],
            "ParticipantObjectIdentification",
        )  # fmt: skip
        assert (
            obj.find("ParticipantObjectName") is None or obj.find("ParticipantObjectQuery") is None
        )
        id_type = obj.find("ParticipantObjectIDTypeCode")
        assert id_type is not None
        _check_coded(id_type, "ParticipantObjectIDTypeCode")
        for det in obj.findall("ParticipantObjectDetail"):
            assert set(det.attrib) == {"type", "value"} and det.get("type")
            base64.b64decode(det.get("value", ""), validate=True)
    return root


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path  # a server certificate for localhost signed by another CA
    rogue_key: Path
    misnamed_cert: Path  # signed by the test CA, for another host name only
    misnamed_key: Path


def make_pki(folder: Path) -> Pki:
    """A test CA; a server certificate for localhost/127.0.0.1; a client certificate; and a
    second CA with its own 'localhost' server certificate (untrusted by the first)."""
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, data: bytes) -> Path:
        path = folder / name
        path.write_bytes(data)
        path.chmod(0o600)
        return path

    pem = serialization.Encoding.PEM
    server, client = [ExtendedKeyUsageOID.SERVER_AUTH], [ExtendedKeyUsageOID.CLIENT_AUTH]
    local = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("Bedside Test CA", ca_key, None, ca=True)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = certificate("Another CA", other_key, None, ca=True)

    def leaf(
        stem: str,
        name: str,
        issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
        names: list[x509.GeneralName],
        usage: list[x509.ObjectIdentifier],
    ) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = certificate(name, key, (issuer[0].subject, issuer[1]), names=names, usage=usage)
        return write(f"{stem}.pem", cert.public_bytes(pem)), write(f"{stem}-key.pem", key_pem(key))

    signed = (ca, ca_key)
    server_cert, server_key = leaf("server", "localhost", signed, local, server)
    client_cert, client_key = leaf(
        "client", "workstation-1", signed, [x509.DNSName("workstation-1")], client
    )
    rogue_cert, rogue_key = leaf("rogue", "localhost", (other, other_key), local, server)
    misnamed_cert, misnamed_key = leaf(
        "misnamed", "audit.example.org", signed, [x509.DNSName("audit.example.org")], server
    )
    return Pki(
        ca=write("ca.pem", ca.public_bytes(pem)),
        server_cert=server_cert,
        server_key=server_key,
        client_cert=client_cert,
        client_key=client_key,
        rogue_cert=rogue_cert,
        rogue_key=rogue_key,
        misnamed_cert=misnamed_cert,
        misnamed_key=misnamed_key,
    )


# --------------------------------------------------------------------------- rsyslog


def rsyslog_missing() -> str | None:
    """Why the real-rsyslog tests cannot run here, or None."""
    if not RSYSLOGD.exists():
        return "rsyslogd is not installed (Debian package rsyslog)"
    if not GTLS.exists() and not list(Path("/usr/lib").rglob("lmnsd_gtls.so")):
        return "rsyslog's GnuTLS driver is not installed (Debian package rsyslog-gnutls)"
    return None


_CONFIG = """\
global(
  workDirectory="{work}"
  maxMessageSize="64k"
  parser.escapeControlCharactersOnReceive="off"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="{ca}"
  defaultNetstreamDriverCertFile="{cert}"
  defaultNetstreamDriverKeyFile="{key}"
)
main_queue(queue.type="Direct")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1"
       streamDriver.authMode="x509/certvalid" maxSessions="50")
input(type="imtcp" port="{port}" address="127.0.0.1")
template(name="raw" type="string" string="{stamp}%rawmsg%\\n")
if $inputname == "imtcp" then action(type="omfile" file="{out}" template="raw")
"""


class Rsyslog:
    """A real rsyslogd on a loopback port: TLS (gtls, mode 1), client certificates required
    (``x509/certvalid``: signed by the test CA), every raw message one line of ``out``."""

    def __init__(
        self,
        folder: Path,
        pki: Pki,
        *,
        port: int | None = None,
        server: Literal["good", "rogue", "misnamed"] = "good",
        stamped: bool = False,
    ) -> None:
        self.folder = folder
        self.port = port or free_port()
        self._may_move = port is None  # a port of our own pick moves if taken at the first start
        self.out = folder / "received.log"
        self.pidfile = folder / "rsyslogd.pid"
        self.conf = folder / "rsyslog.conf"
        self._stderr = folder / "rsyslogd.stderr"
        self._work = folder / "work"
        self._work.mkdir(parents=True, exist_ok=True)
        self._pki = pki
        self._server = server
        self._stamped = stamped
        self._write_conf()
        self.proc: subprocess.Popen[bytes] | None = None

    def _write_conf(self) -> None:
        pki, server = self._pki, self._server
        self.conf.write_text(
            _CONFIG.format(
                work=self._work,
                ca=pki.ca,
                cert={
                    "good": pki.server_cert,
                    "rogue": pki.rogue_cert,
                    "misnamed": pki.misnamed_cert,
                }[server],
                key={"good": pki.server_key, "rogue": pki.rogue_key, "misnamed": pki.misnamed_key}[
                    server
                ],
                port=self.port,
                out=self.out,
                # rsyslog's receive time (µs) before the message, for the lag bench
                stamp="%timegenerated:::date-rfc3339% " if self._stamped else "",
            )
        )

    def start(self, timeout: float = WAIT_S) -> None:
        """Start rsyslogd; returns once its own listener is up. rsyslogd does not exit when its
        port is taken (it logs "Could not create tcp listener" and runs on), and a probe would
        reach whoever holds the port: at the first start a port of our own pick moves to a
        fresh one (a restart keeps its port: the test's settings name it)."""
        for _ in range(PORT_TRIES):
            if self._start_once(timeout):
                self._may_move = False
                return
            if not self._may_move:
                raise RuntimeError(f"rsyslogd: port {self.port} is taken by another process")
            self.port = free_port()
            self._write_conf()
        raise RuntimeError(f"rsyslogd: {PORT_TRIES} free ports in a row were taken")

    def _start_once(self, timeout: float) -> bool:
        """True once it listens; False when its port was taken (it is stopped then)."""
        seen = self._stderr.stat().st_size if self._stderr.exists() else 0
        with open(self._stderr, "ab") as stderr:  # the child keeps its copy
            self.proc = subprocess.Popen(
                [str(RSYSLOGD), "-n", "-f", str(self.conf), "-i", str(self.pidfile)],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        taken = f"ignoring port {self.port} "
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rsyslogd exited: {self._stderr.read_text()[-2000:]}")
            if listens(self.proc.pid, self.port):
                return True
            with open(self._stderr, "rb") as said:
                said.seek(seen)
                if taken in said.read().decode("utf-8", "replace"):
                    self.stop()
                    return False
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"rsyslogd did not listen in time: {self._stderr.read_text()[-2000:]}")

    def stop(self, timeout: float = WAIT_S) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        self.pidfile.unlink(missing_ok=True)

    def lines(self) -> list[bytes]:
        if not self.out.exists():
            return []
        return [line for line in self.out.read_bytes().split(b"\n") if line]

    def wait_for(self, count: int, timeout: float = WAIT_S) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.lines()
            if len(got) >= count:
                return got
            time.sleep(0.05)
        return self.lines()


BOM_LEN = 3
