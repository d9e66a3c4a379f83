"""``bedside pacs`` options a script may get wrong: refused by the parser in words (exit 2)
before anything reaches PACS, never a traceback, a misleading PACS error or an endless wait."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pacs.helpers import write_site
from viewer.cli.main import main

BEDSIDE = Path(sys.executable).with_name("bedside")


_BAD = ["-1", "nan", "inf", "1e308", "soon"]


@pytest.mark.parametrize(
    "argv",
    [
        *(["pacs", "echo", "--timeout", v] for v in [*_BAD, "0"]),
        *(["pacs", "find", "--patient-id", "X", "--timeout", v] for v in [*_BAD, "0"]),
        *(["pacs", "send", "missing.dcm", "--wait", v] for v in _BAD),  # --wait 0: do not wait
    ],
    ids=lambda argv: f"{argv[1]}{argv[-1]}",
)
def test_a_timeout_that_is_not_a_finite_positive_time_is_refused(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    out, err = capsys.readouterr()
    assert stop.value.code == 2 and out == ""
    assert "Traceback" not in err
    assert "seconds" in err.splitlines()[-1]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_send_refuses_a_device_a_fifo_and_a_folder_unread(tmp_path: Path, site_file: Path) -> None:
    """In a process of its own with a timeout: before, /dev/zero was read without end (memory
    grew until the machine swapped) and a FIFO waited for ever for a writer."""
    write_site(site_file, '[pacs]\nenabled = true\ndicomweb_url = "http://127.0.0.1:9/x"\n')
    fifo = tmp_path / "fifo.dcm"
    os.mkfifo(fifo)
    env = {**os.environ, "BEDSIDE_DATA_DIR": str(tmp_path / "data")}
    for path in ("/dev/zero", str(fifo), str(tmp_path)):
        try:
            done = subprocess.run(
                [str(BEDSIDE), "pacs", "send", path, "--wait", "0"],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"bedside pacs send {path} did not finish")
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.strip() == (
            f"bedside: error: {path} cannot be read: it is a folder, a device or a pipe, not a "
            "DICOM file."
        )


@pytest.mark.parametrize(
    "url",
    [
        "http://bob:S3cretPw@127.0.0.1:9/dicom-web",
        "https://S3cretPw@pacs.example/dicom-web",
        "https://pacs.example/dicom-web?access_token=S3cretPw",
        "https://pacs.example/dicom-web#S3cretPw",
    ],
)
def test_a_secret_in_the_dicomweb_address_is_refused_and_never_shown(
    site_file: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    """The address is in every PACS message and in each failed send's audit row."""
    site_file.write_text(f'[pacs]\nenabled = true\ndicomweb_url = "{url}"\n', encoding="utf-8")
    code = main(["pacs", "echo"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert "must not hold a user name, password or token" in err
    assert "S3cretPw" not in err
    assert main(["site", "check"]) == 1
    assert "S3cretPw" not in "".join(capsys.readouterr())
