"""Settings precedence: defaults < site file < user file, with site-only and locked keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from viewer.config import load_settings, save_user_settings
from viewer.errors import ConfigError


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_with_empty_site_file(data_dir: Path, site_file: Path) -> None:
    s = load_settings()
    assert s.values.reading.order == "ai_first"
    assert s.data_dir == data_dir
    assert s.audit_db_path == data_dir / "audit.sqlite"
    assert s.model_store_dir == data_dir / "models"
    assert s.user_keys_dir is None
    assert s.site_file == site_file


def test_site_then_user_precedence(site_file: Path, data_dir: Path) -> None:
    _write(site_file, '[reading]\norder = "read_first"\n[ui]\nlanguage = "ja"\n')
    _write(data_dir / "settings.toml", '[ui]\nlanguage = "en"\n[user]\nname = "Dr Test"\n')
    s = load_settings()
    assert s.values.reading.order == "read_first"  # from the site
    assert s.values.ui.language == "en"  # the user overrides an unlocked site default
    assert s.values.user.name == "Dr Test"
    assert s.site_file == site_file


def test_locked_key_ignores_user_value(site_file: Path, data_dir: Path) -> None:
    _write(site_file, 'locked = ["reading.order"]\n[reading]\norder = "read_first"\n')
    _write(data_dir / "settings.toml", '[reading]\norder = "ai_first"\n')
    s = load_settings()
    assert s.values.reading.order == "read_first"
    assert s.is_locked("reading.order")
    assert not s.is_locked("user.name")
    with pytest.raises(ConfigError, match="set by the site"):
        save_user_settings(s, {"reading.order": "ai_first"})


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[reading]\norder = "sideways"\n', "reading.order"),
        ("[colour]\nscheme = 1\n", "unknown key 'colour'"),
        ("[inference]\nthreads = 0\n", "inference.threads"),
        ("[trust\n", "not valid TOML"),
        ('locked = ["audit.db_path"]\n', "not a user setting"),
    ],
    ids=["bad-value", "unknown-key", "out-of-range", "bad-toml", "lock-site-only"],
)
def test_bad_site_file_names_file_and_key(site_file: Path, text: str, fragment: str) -> None:
    _write(site_file, text)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(site_file) in str(info.value)
    assert fragment in str(info.value)


def test_user_file_cannot_set_site_only_keys(data_dir: Path) -> None:
    _write(data_dir / "settings.toml", "[trust]\nallow_user_keys = true\n")
    with pytest.raises(ConfigError, match="only be set by the site"):
        load_settings()


def test_missing_site_file_named_by_env_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BEDSIDE_SITE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()


def test_save_user_settings_round_trip(data_dir: Path) -> None:
    s = save_user_settings(
        load_settings(), {"user.name": 'Dr "Q" 山田', "user.role": "Radiologist"}
    )
    assert s.values.user.name == 'Dr "Q" 山田'
    assert load_settings().values.user.role == "Radiologist"


def test_demo_mode_uses_throwaway_dir_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEDSIDE_DATA_DIR")
    s = load_settings(demo=True)
    assert s.demo
    assert "bedside-demo-" in s.data_dir.name
    s.data_dir.rmdir()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "not valid TOML"),
        ("[inference]\nthreads = " + "9" * 5000 + "\n", "not valid TOML"),
        ('[trust]\nallow_user_keys = "yes"\n', "trust.allow_user_keys"),
        ("[trust]\nallow_user_keys = 1\n", "trust.allow_user_keys"),
    ],
    ids=["deep-nesting", "huge-integer", "string-as-bool", "int-as-bool"],
)
def test_hostile_site_file_values(site_file: Path, text: str, fragment: str) -> None:
    _write(site_file, text)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert fragment in str(info.value)


def test_site_config_that_is_a_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BEDSIDE_SITE_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match="not a regular file"):
        load_settings()


def test_data_dir_that_is_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("BEDSIDE_DATA_DIR", str(blocker))
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        load_settings()
