"""``bedside dicom info|render|scan`` (run through the group's own parser)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from viewer.cli.main import main
from viewer.dicom import DisplayRenderer, Window, read_image


def test_info_json(cxr_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dicom", "info", str(cxr_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 1
    assert data[0]["modality"] == "CR" and data[0]["is_image"] is True
    assert data[0]["rows"] == 256 and data[0]["pixel_spacing"]["source"]


def test_info_text_and_failure_exit_code(
    cxr_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"not dicom")
    assert main(["dicom", "info", str(cxr_path), str(bad)]) == 1
    out, err = capsys.readouterr()
    assert "modality: CR" in out
    assert f"{bad}: error: is not a DICOM file" in err
    assert "Traceback" not in err


def test_info_json_reports_errors_per_file(
    cxr_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"")
    assert main(["dicom", "info", str(bad), str(cxr_path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert "is not a DICOM file" in data[0]["error"] and data[1]["modality"] == "CR"


def _png(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.mode == "L"
        return np.asarray(im)


def test_render_default_window(cxr_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.png"
    assert main(["dicom", "render", str(cxr_path), "--out", str(out)]) == 0
    assert np.array_equal(_png(out), DisplayRenderer(read_image(cxr_path)).render())


def test_render_explicit_window_and_function(cxr_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.png"
    argv = ["dicom", "render", str(cxr_path), "--out", str(out), "--window", "1500", "800"]
    assert main([*argv, "--function", "SIGMOID"]) == 0
    expected = DisplayRenderer(read_image(cxr_path)).render(Window(1500, 800, "SIGMOID"))
    assert np.array_equal(_png(out), expected)


def test_render_preset_and_errors(
    cxr_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.png"
    image = read_image(cxr_path)
    assert image.windows, "the synthetic image carries a stored window"
    assert main(["dicom", "render", str(cxr_path), "--out", str(out), "--preset", "1"]) == 0
    assert np.array_equal(_png(out), DisplayRenderer(image).render(image.windows[0]))
    capsys.readouterr()
    assert (
        main(["dicom", "render", str(cxr_path), "--out", str(out), "--force", "--preset", "9"]) == 1
    )
    assert "has no preset 9 (presets: 1:" in capsys.readouterr().err
    assert (
        main(["dicom", "render", str(cxr_path), "--out", str(out), "--force", "--window", "0", "0"])
        == 1
    )
    assert "must be >= 1 for LINEAR" in capsys.readouterr().err
    missing = tmp_path / "missing.dcm"
    assert main(["dicom", "render", str(missing), "--out", str(out), "--force"]) == 1
    assert "is not a file" in capsys.readouterr().err


def test_render_list_presets(
    cxr_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.png"
    assert main(["dicom", "render", str(cxr_path), "--out", str(out), "--list-presets"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("1: ") and "auto: automatic" in text
    assert not out.exists()


def test_scan_text_and_json(cxr_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dicom", "scan", str(cxr_dir)]) == 0
    text = capsys.readouterr().out
    n = len([p for p in cxr_dir.rglob("*") if p.is_file()])
    assert f"{n} image(s), 0 non-image object(s), 0 error(s)" in text
    assert main(["dicom", "scan", str(cxr_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (
        sum(
            len(se["instances"])
            for p in data["patients"]
            for st in p["studies"]
            for se in st["series"]
        )
        == n
    )


def test_scan_with_errors_exits_1(tmp_path: Path, cxr_path: Path) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(cxr_path.read_bytes()[:400])
    assert main(["dicom", "scan", str(bad), str(cxr_path)]) == 1


def _special_target(kind: str, tmp_path: Path) -> Path:
    import os

    if kind == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    elif kind == "device":
        target = Path("/dev/null")
    else:  # folder
        target = tmp_path / "folder.png"
        target.mkdir()
    return target


@pytest.mark.parametrize(
    ("kind", "message"),
    [("fifo", "is a special file"), ("device", "is a special file"), ("folder", "is a folder")],
)
def test_render_refuses_special_targets(
    cxr_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, message: str
) -> None:
    target = _special_target(kind, tmp_path)
    before = target.stat()
    for extra in ([], ["--force"]):
        assert main(["dicom", "render", str(cxr_path), "--out", str(target), *extra]) == 1
        err = capsys.readouterr().err
        assert f"{target}: {message}" in err and "Traceback" not in err
    after = target.stat()
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert not list(target.parent.glob(f".{target.name}.*.tmp"))


def test_render_does_not_overwrite_without_force(
    cxr_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = tmp_path / "audit.sqlite"
    precious.write_bytes(b"SQLite format 3\x00 the tamper-evident log")
    assert main(["dicom", "render", str(cxr_path), "--out", str(precious)]) == 1
    err = capsys.readouterr().err
    assert f"{precious}: already exists; add --force to replace it" in err
    assert precious.read_bytes().startswith(b"SQLite format 3")
    assert main(["dicom", "render", str(cxr_path), "--out", str(precious), "--force"]) == 0
    assert _png(precious).shape == (256, 256)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_render_write_is_atomic(
    cxr_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while writing leaves the old file intact and no temporary file behind."""
    import viewer.outputs

    out = tmp_path / "o.png"
    out.write_bytes(b"old")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(viewer.outputs.os, "fsync", full_disk)
    assert main(["dicom", "render", str(cxr_path), "--out", str(out), "--force"]) == 1
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    "target",
    ["audit.sqlite", "audit.sqlite-wal", "site-secret", "models/x.png"],
)
def test_render_never_writes_into_the_data_folder(
    cxr_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    """Through the root CLI (settings loaded), even --force cannot replace the audit log, its
    -wal, the secret or anything in the model store (one policy with audit export)."""
    from viewer.cli.main import main as root_main

    out = data_dir / target
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"precious")
    assert root_main(["dicom", "render", str(cxr_path), "--out", str(out), "--force"]) == 1
    assert "Refusing to write the PNG there" in capsys.readouterr().err
    assert out.read_bytes() == b"precious"


@pytest.mark.parametrize(
    "target",
    ["site", "site-link", "user-settings", "site-keys", "user-keys"],
)
def test_render_never_replaces_site_or_user_settings_or_trusted_keys(
    cxr_path: Path,
    data_dir: Path,
    site_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    target: str,
) -> None:
    """Issue 12 item 17: ``dicom render --out site.toml --force`` replaced IT's site file."""
    from viewer.cli.main import main as root_main

    out = {
        "site": site_file,
        "site-link": tmp_path / "innocent.png",
        "user-settings": data_dir / "settings.toml",
        "site-keys": site_file.parent / "trusted-keys" / "ml-team.pub.pem",
        "user-keys": data_dir / "trusted-keys" / "mine.pub.pem",  # not yet allowed by the site
    }[target]
    out.parent.mkdir(parents=True, exist_ok=True)
    if target == "site-link":
        out.symlink_to(site_file)
        precious = site_file.read_bytes()
    else:
        precious = b'[user]\nname = "Dr A"\n' if target == "user-settings" else b"# precious\n"
        out.write_bytes(precious)
    assert root_main(["dicom", "render", str(cxr_path), "--out", str(out), "--force"]) == 1
    assert "Refusing to write the PNG there" in capsys.readouterr().err
    assert out.read_bytes() == precious


def _idat_zlib_header(path: Path) -> bytes:
    """The first two bytes of the first IDAT chunk: zlib's header, whose FLEVEL bits say how
    hard the encoder tried (0x01 fastest, 0x9c default, 0xda best; RFC 1950)."""
    data = path.read_bytes()
    at = data.index(b"IDAT")
    return data[at + 4 : at + 6]


def test_render_compress_levels_keep_every_pixel(cxr_path: Path, tmp_path: Path) -> None:
    """Issue 19: a fast zlib level by default, ``--compress 0-9`` to choose; the pixels are
    the same at every level and each file is a valid PNG."""
    expected = DisplayRenderer(read_image(cxr_path)).render()
    sizes = {}
    for level in (None, 0, 1, 6, 9):
        out = tmp_path / f"o-{level}.png"
        extra = [] if level is None else ["--compress", str(level)]
        assert main(["dicom", "render", str(cxr_path), "--out", str(out), *extra]) == 0
        with Image.open(out) as im:
            im.verify()
        assert np.array_equal(_png(out), expected), level
        sizes[level] = out.stat().st_size
    assert _idat_zlib_header(tmp_path / "o-None.png") == b"\x78\x01"  # level 1 by default
    assert sizes[None] == sizes[1]
    assert sizes[0] > sizes[1] >= sizes[9]


@pytest.mark.parametrize("level", ["10", "-1", "fast", "1.5"])
def test_render_compress_refuses_other_levels(
    cxr_path: Path, tmp_path: Path, level: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.png"
    with pytest.raises(SystemExit) as exc:
        main(["dicom", "render", str(cxr_path), "--out", str(out), "--compress", level])
    assert exc.value.code == 2
    assert "0 to 9" in capsys.readouterr().err
    assert not out.exists()
