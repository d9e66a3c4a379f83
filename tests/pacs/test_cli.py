"""``bedside pacs echo|find|get|send|outbox`` against a real Orthanc, and one clear line for
each failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydicom import dcmread

from tests.pacs.helpers import pacs_site, secondary_capture, source_image, text_report, write_site
from tests.pacs.orthanc import OrthancServer
from tests.servers import free_port
from tests.waits import WAIT_S
from viewer.audit import AuditLog
from viewer.cli.main import main
from viewer.config import Settings, load_settings
from viewer.pacs.delivery import encode_part10


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _files(tmp_path: Path, seed: int) -> tuple[list[Path], list[str]]:
    source = source_image(seed=seed)
    paths, uids = [], []
    for i, ds in enumerate((text_report(source), secondary_capture(source))):
        path = tmp_path / f"obj{i}.dcm"
        path.write_bytes(encode_part10(ds))
        paths.append(path)
        uids.append(str(ds.SOPInstanceUID))
    return paths, uids


def test_echo(orthanc: OrthancServer, site_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_site(site_file, pacs_site(orthanc))
    code, out, _ = _run(capsys, "pacs", "echo")
    assert code == 0
    assert out.startswith("PASS C-ECHO") and "PASS QIDO-RS" in out
    code, out, _ = _run(capsys, "pacs", "echo", "--json")
    assert code == 0 and [c["ok"] for c in json.loads(out)] == [True, True]


def test_echo_of_a_pacs_that_is_down(site_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    write_site(
        site_file,
        "[pacs]\nenabled = true\n"
        f'dicomweb_url = "http://127.0.0.1:{port}/dicom-web"\n'
        f'host = "127.0.0.1"\nport = {port}\ncalled_aet = "ORTHANC"\n',
    )
    code, out, _ = _run(capsys, "pacs", "echo")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("FAIL C-ECHO") and "Nothing accepts connections" in lines[0]
    assert lines[1].startswith("FAIL QIDO-RS") and "cannot be reached" in lines[1]


def test_pacs_off_is_one_sentence(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _run(capsys, "pacs", "find", "--patient-id", "X")
    assert code == 1 and out == ""
    assert err.strip().endswith("the PACS address in the site file (docs/pacs.md).")
    assert len(err.strip().splitlines()) == 1
    code, _, err = _run(capsys, "pacs", "send", str(tmp_path / "missing.dcm"))
    assert code == 1 and "cannot be read" in err


def test_find_and_get(
    orthanc: OrthancServer, site_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_site(site_file, pacs_site(orthanc, query="dimse"))
    source = source_image(seed=31)
    orthanc.upload(encode_part10(source))
    code, out, _ = _run(capsys, "pacs", "find", "--patient-id", source.PatientID, "--json")
    assert code == 0
    hits = json.loads(out)
    assert [h["study_uid"] for h in hits] == [source.StudyInstanceUID]
    code, out, _ = _run(capsys, "pacs", "find", "--accession", source.AccessionNumber)
    assert code == 0 and source.StudyInstanceUID in out and out.strip().endswith("1 study.")
    code, out, err = _run(capsys, "pacs", "find", "--modality", "CR")
    assert code == 1 and "a search of all of PACS is not allowed" in err

    code, out, _ = _run(
        capsys, "pacs", "get", source.StudyInstanceUID, "--out", str(tmp_path / "g"), "--json"
    )
    assert code == 0
    files = json.loads(out)["files"]
    assert len(files) == 1 and dcmread(files[0]).PixelData == source.PixelData
    log = AuditLog.open(load_settings())
    try:
        rows = log.records(types=("pacs_retrieved",))
    finally:
        log.close()
    assert [(r.outcome, r.detail["instances"]) for r in rows] == [("success", 1)]
    code, _, err = _run(capsys, "pacs", "get", "1.2.3.4.5", "--out", str(tmp_path / "none"))
    assert code == 1
    assert err.startswith("bedside: error: PACS at ORTHANC@127.0.0.1:")
    assert err.strip().endswith("is the Study Instance UID right?")
    write_site(site_file, pacs_site(orthanc, query="dicomweb"))
    code, _, err = _run(capsys, "pacs", "get", "1.2.3.4.5", "--out", str(tmp_path / "none"))
    assert code == 1 and err.strip().endswith("has no study with this UID (HTTP 404).")


def test_send_and_resend(
    orthanc: OrthancServer, site_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_site(site_file, pacs_site(orthanc, transport="both"))
    paths, uids = _files(tmp_path, seed=32)
    code, out, _ = _run(capsys, "pacs", "send", *map(str, paths), "--json")
    assert code == 0
    answer = json.loads(out)
    assert (answer["queued"], answer["sent"], answer["pending"]) == (4, 4, 0)
    assert answer["status"].startswith("Sent to PACS ")
    code, out, _ = _run(capsys, "pacs", "send", *map(str, paths))
    assert code == 0 and out.startswith("Queued 0 new object(s)")
    assert sorted(orthanc.sop_instance_uids()) == sorted(uids)


def test_send_to_an_unreachable_pacs_waits_in_the_outbox(
    site_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    server = OrthancServer(tmp_path / "later")
    body = pacs_site(server, transport="dimse")
    write_site(site_file, body)
    paths, uids = _files(tmp_path, seed=33)
    code, _, err = _run(capsys, "pacs", "send", *map(str, paths), "--wait", "0")
    assert code == 1
    assert "Not sent yet (2 waiting, 0 refused): Nothing accepts connections" in err
    code, out, _ = _run(capsys, "pacs", "outbox", "list", "--json")
    listing = json.loads(out)
    assert (listing["pending"], listing["held"]) == (2, 0)
    assert listing["status"].startswith("Waiting: PACS unreachable since ")
    assert listing["oldest_waiting"] and listing["failing_since"]
    assert all("Nothing accepts connections" in row["last_error"] for row in listing["waiting"])
    code, out, _ = _run(capsys, "pacs", "outbox", "list")
    assert ": 2 waiting, 0 held, 0 sent (last -)" in out and "Waiting: PACS unreachable" in out

    server.start()  # the PACS comes back on the same port
    try:
        code, out, _ = _run(capsys, "pacs", "outbox", "retry")
        assert code == 0 and out.startswith("2 waiting object(s) are due now")
        code, out, _ = _run(capsys, "pacs", "outbox", "drain", "--json")
        drained = json.loads(out)
        assert code == 0 and (drained["sent"], drained["pending"]) == (2, 0)
        assert sorted(server.sop_instance_uids()) == sorted(uids)
        code, out, _ = _run(capsys, "pacs", "outbox", "drain")
        assert code == 0 and out.startswith("Sent 0, failed 0")
    finally:
        server.remove()


def test_send_refuses_a_file_that_is_not_dicom(
    orthanc: OrthancServer, site_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_site(site_file, pacs_site(orthanc))
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not a dicom file")
    code, out, err = _run(capsys, "pacs", "send", str(junk))
    assert code == 1 and out == ""
    assert err.strip().endswith("is not a DICOM file (Part 10).")


def test_send_while_another_process_holds_the_outbox(
    orthanc: OrthancServer, site_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One sender at a time: while another drainer holds the outbox, `pacs send` queues the
    files, says they were not tried yet, and the holder sends them."""
    import threading

    from viewer.outbox import Outbox, OutboxItem

    settings = write_site(site_file, pacs_site(orthanc, transport="dimse"))
    paths, uids = _files(tmp_path, seed=34)
    holder = Outbox(settings.pacs_outbox_path)
    holder.put("dimse:placeholder", b"", kind="other")
    inside, release = threading.Event(), threading.Event()

    def slow(_item: OutboxItem) -> None:
        inside.set()
        release.wait(WAIT_S)

    thread = threading.Thread(
        target=holder.drain, args=(slow,), kwargs={"ordered": False, "limit": 1}
    )
    thread.start()
    try:
        assert inside.wait(WAIT_S)
        code, _, err = _run(capsys, "pacs", "send", *map(str, paths), "--wait", "0")
        assert code == 1
        assert "Not sent yet (2 waiting, 0 refused): not tried yet (another Bedside" in err
    finally:
        release.set()
        thread.join(WAIT_S)
        holder.close()
    code, out, _ = _run(capsys, "pacs", "outbox", "drain", "--json")
    assert json.loads(out)["sent"] == 2
    assert sorted(orthanc.sop_instance_uids()) == sorted(uids)
