"""``viewer.paths``: the installation's files without the settings' models (issue 19 item 2).

``bedside dicom render`` decides where a PNG may be written from :func:`light_paths` (tomllib on
the site file, no pydantic); these tests prove it is exactly as strict as the loaded settings:
the same paths, every protected one still refused through the command, including when the
site file moves the audit log, the secret, the model store and the trusted keys elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.cli.main import main
from viewer.config import load_settings
from viewer.paths import InstallationPaths, light_paths

ROOT = Path(__file__).resolve().parents[1]


def _moved_site(site_file: Path, tmp_path: Path) -> Path:
    """A site file that moves everything it can move (the site-only path keys)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    site_file.write_text(
        "[audit]\n"
        f'db_path = "{elsewhere / "log" / "a.sqlite"}"\n'
        f'secret_path = "{elsewhere / "secret.bin"}"\n'
        "[models]\n"
        f'store_dir = "{elsewhere / "store"}"\n'
        "[trust]\n"
        f'site_keys_dir = "{elsewhere / "keys"}"\n'
        "allow_user_keys = true\n",
        encoding="utf-8",
    )
    return elsewhere


@pytest.mark.parametrize("site", ["defaults", "moved"])
def test_light_paths_equal_the_settings_paths(site: str, site_file: Path, tmp_path: Path) -> None:
    if site == "moved":
        _moved_site(site_file, tmp_path)
    light = light_paths()
    assert isinstance(light, InstallationPaths)
    assert light == load_settings().paths
    assert light.protected() == load_settings().paths.protected()


def test_the_outboxes_are_protected_with_their_side_files() -> None:
    """What waits to leave the workstation (results for PACS, rows for the department store
    and the ATNA repository): ``dicom render --out DATA/pacs-outbox.sqlite --force`` replaced it
    with a PNG."""
    settings = load_settings()
    files, _ = settings.paths.protected()
    for outbox in (
        settings.pacs_outbox_path,
        settings.central_outbox_path,
        settings.atna_outbox_path,
    ):
        for side in ("", "-wal", "-shm", "-journal"):
            assert outbox.with_name(outbox.name + side) in files


def _every_protected_target(paths: InstallationPaths) -> list[tuple[str, Path]]:
    files, folders = paths.protected()
    targets = [(f"file:{p.name}", p) for p in files]
    targets += [(f"in:{p.name}", p / "x.png") for p in folders]
    return targets


@pytest.mark.parametrize("site", ["defaults", "moved"])
def test_render_refuses_every_protected_path_without_loading_settings(
    site: str,
    site_file: Path,
    tmp_path: Path,
    cxr_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Through the root command (``dicom render`` loads no settings): every file and folder
    of ``InstallationPaths.protected`` is refused, even with --force, and left as it was."""
    if site == "moved":
        _moved_site(site_file, tmp_path)
    paths = load_settings().paths
    targets = _every_protected_target(paths)
    assert len(targets) == (28 if site == "moved" else 27)
    for name, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        before = target.read_bytes() if target.exists() else b"precious"
        target.write_bytes(before)
        status = main(["dicom", "render", str(cxr_path), "--out", str(target), "--force"])
        err = capsys.readouterr().err
        assert status == 1, name
        assert "Refusing to write the PNG there" in err, name
        assert target.read_bytes() == before, name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[audit\n", "is not valid TOML"),
        ("[audit]\ndb_path = 5\n", "key 'audit.db_path'"),
        ("[trust]\nallow_user_keys = 1\n", "key 'trust.allow_user_keys'"),
        ("audit = 3\n", "key 'audit'"),
    ],
    ids=["bad-toml", "int-path", "int-bool", "section-not-table"],
)
def test_unsure_light_paths_leave_the_message_to_the_settings(
    text: str,
    message: str,
    site_file: Path,
    cxr_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A site file the light reader is unsure of: None, and the command stops with the
    settings' own message (nothing written)."""
    site_file.write_text(text, encoding="utf-8")
    assert light_paths() is None
    out = tmp_path / "o.png"
    assert main(["dicom", "render", str(cxr_path), "--out", str(out)]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_missing_named_site_file_and_demo_are_left_to_the_settings(
    site_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site_file.unlink()
    assert light_paths() is None  # BEDSIDE_SITE_CONFIG names a file that is not there
    env = {k: v for k, v in os.environ.items() if k != "BEDSIDE_DATA_DIR"}
    assert light_paths(env, demo=True) is None  # demo mode makes its own data folder
    monkeypatch.delenv("BEDSIDE_SITE_CONFIG")
    assert light_paths() is not None  # no site file at the platform's place: defaults


def test_render_imports_no_settings_models(cxr_path: Path, tmp_path: Path) -> None:
    """CI-cheap (not timed): the render command decides where it may write without pydantic."""
    code = (
        "import sys; from viewer.cli.main import main; "
        f"status = main(['dicom', 'render', {str(cxr_path)!r}, '--out', "
        f"{str(tmp_path / 'o.png')!r}]); "
        "print(status, 'pydantic' in sys.modules, 'viewer.config' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.stdout.split()[-3:] == ["0", "False", "False"], done.stderr
