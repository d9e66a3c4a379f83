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
        ('[pacs]\nca-file = "/etc/ca.pem"\n', "unknown key 'pacs.ca-file'"),  # a hyphen typo
    ],
    ids=["bad-value", "unknown-key", "out-of-range", "bad-toml", "lock-site-only", "hyphen-key"],
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


@pytest.mark.parametrize(
    ("text", "said", "unsaid"),
    [
        ('[inference]\nthreads = "many"\n', "key 'inference.threads': ", "constrained"),
        ("[atna]\nconnect_timeout_s = nan\n", "must be a finite number", "less than"),
        ("[audit_central]\ninterval_s = -inf\n", "must be a finite number", "greater than"),
        ("[pacs]\nenabled = true\n", "key 'pacs': enabled is true", "Value error"),
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply", "recursion"),
    ],
    ids=["union-branch-names", "nan", "minus-inf", "validator-prefix", "nesting-5000"],
)
def test_a_site_file_mistake_is_said_in_the_settings_words(
    site_file: Path, text: str, said: str, unsaid: str
) -> None:
    """IT reads the sentence, not pydantic's or Python's internals ("key
    'inference.threads.constrained-int'", "Value error, ...", "maximum recursion depth
    exceeded", a NaN "should be less than or equal to 300")."""
    _write(site_file, text)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert said in str(info.value) and unsaid not in str(info.value), str(info.value)


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


def test_data_dir_the_system_cannot_look_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A name component over 255 bytes: Path.exists raised OSError, a traceback out of every
    command."""
    monkeypatch.setenv("BEDSIDE_DATA_DIR", str(tmp_path / ("d" * 300)))
    with pytest.raises(ConfigError, match=r"data folder \(BEDSIDE_DATA_DIR\).*cannot be looked up"):
        load_settings()


# ------------------------------------------------ hostile paths (issue 12 item 16)

PATH_KEYS = [
    ("trust", "site_keys_dir", True),
    ("audit", "db_path", False),
    ("audit", "secret_path", False),
    ("models", "store_dir", True),
]
HOSTILE = ["device", "fifo", "nul", "wrong-kind", "huge", "link-loop"]


def _hostile_path(kind: str, tmp_path: Path, *, folder: bool) -> str:
    import os

    if kind == "device":
        return "/dev/zero"
    if kind == "fifo":
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        return str(fifo)
    if kind == "nul":
        return str(tmp_path / "a\x00b")
    if kind == "wrong-kind":  # a folder where a file belongs, a file where a folder belongs
        other = tmp_path / "other"
        if folder:
            other.write_text("x")
        else:
            other.mkdir()
        return str(other)
    if kind == "huge":  # sparse: 4 GiB that a plain read would try to hold in memory
        huge = tmp_path / "huge"
        with huge.open("wb") as fh:
            fh.truncate(4 << 30)
        return str(huge)
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop")
    return str(loop)


@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize(("section", "key", "folder"), PATH_KEYS, ids=[k for _, k, _ in PATH_KEYS])
def test_every_path_valued_key_refuses_hostile_paths(
    site_file: Path, tmp_path: Path, section: str, key: str, folder: bool, kind: str
) -> None:
    """A secret at /dev/zero was read whole (MemoryError), a FIFO hung, a NUL byte gave a
    traceback: every path a setting names is a regular file of bounded size or a folder, and the
    message names the file and the key."""
    if kind == "huge" and (section, key) != ("audit", "secret_path"):
        pytest.skip("only the secret has a size bound (an audit log grows)")
    value = _hostile_path(kind, tmp_path, folder=folder)
    escaped = value.replace("\\", "\\\\").replace("\x00", "\\u0000")
    _write(site_file, f'[{section}]\n{key} = "{escaped}"\n')
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert str(site_file) in message and f"'{section}.{key}'" in message
    if kind == "wrong-kind":  # what it is, then what it should be ('/etc/passwd is not a
        # regular file, not a folder' was said of a regular file)
        wanted = "a regular file, not a folder" if folder else "a folder, not a regular file"
        assert f"is {wanted}." in message


@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize("which", ["site", "user"])
def test_settings_files_themselves_refuse_hostile_paths(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path, which: str, kind: str
) -> None:
    """The site file (BEDSIDE_SITE_CONFIG) and the user file (DATA_DIR/settings.toml): a FIFO, a
    device, a folder, a 4 GiB file or a link loop is a clear error, never a hang or a read."""
    import os

    env = dict(os.environ)
    if kind == "nul":  # only through env= (os.environ itself refuses a NUL)
        name = "BEDSIDE_SITE_CONFIG" if which == "site" else "BEDSIDE_DATA_DIR"
        env[name] = str(tmp_path / "a\x00b")
    elif which == "site":
        value = _hostile_path(kind, tmp_path, folder=False)
        if kind == "wrong-kind":
            value = str(tmp_path)
        env["BEDSIDE_SITE_CONFIG"] = value
    else:
        user = data_dir / "settings.toml"
        if kind == "device":
            user.symlink_to("/dev/zero")
        elif kind == "wrong-kind":
            user.mkdir()
        else:
            user.symlink_to(_hostile_path(kind, tmp_path, folder=False))
    with pytest.raises(ConfigError) as info:
        load_settings(env=env)
    message = str(info.value)
    if kind == "nul":
        assert "NUL" in message and ("BEDSIDE_" in message)
    else:
        named = env["BEDSIDE_SITE_CONFIG"] if which == "site" else str(data_dir / "settings.toml")
        assert named in message
