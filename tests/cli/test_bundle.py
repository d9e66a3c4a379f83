"""``bedside keys ...`` and ``bedside bundle ...`` end to end through argparse."""

from __future__ import annotations

import argparse
import json
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.bundle.conftest import KeyPair, random_state, template
from viewer.cli import bundle as cli
from viewer.errors import BundleError


def run(argv: list[str], *, demo: bool = False) -> int:
    from viewer.config import load_settings

    parser = argparse.ArgumentParser(prog="bedside")
    sub = parser.add_subparsers(dest="command")
    cli.register(sub)
    args = parser.parse_args(argv)
    args.demo = demo
    args.settings = load_settings(demo=demo)
    result: int = args.func(args)
    return result


def test_keys_generate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["keys", "generate", "--out", str(tmp_path / "k")]) == 0
    out = capsys.readouterr().out
    assert "fingerprint:" in out
    assert stat.S_IMODE((tmp_path / "k" / "signing-key.pem").stat().st_mode) == 0o600


def test_keys_generate_passphrase_without_tty_needs_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BEDSIDE_KEY_PASSPHRASE", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(BundleError, match="BEDSIDE_KEY_PASSPHRASE"):
        run(["keys", "generate", "--out", str(tmp_path / "k"), "--passphrase"])
    monkeypatch.setenv("BEDSIDE_KEY_PASSPHRASE", "s3cret")
    assert run(["keys", "generate", "--out", str(tmp_path / "k2"), "--passphrase"]) == 0
    assert b"ENCRYPTED" in (tmp_path / "k2" / "signing-key.pem").read_bytes()


def test_create_sign_verify_inspect_install_flow(
    tmp_path: Path,
    cxr_path: Path,
    key: KeyPair,
    site_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import safetensors.torch

    weights = tmp_path / "w.safetensors"
    safetensors.torch.save_file(
        random_state("demo-cnn", in_channels=1, num_labels=1, seed=0), str(weights)
    )
    tmpl = tmp_path / "template.json"
    tmpl.write_text(json.dumps(template()))
    out = tmp_path / "m.bundle"
    argv = ["bundle", "create", "--arch", "demo-cnn", "--weights", str(weights)]
    argv += ["--manifest", str(tmpl), "--sample", str(cxr_path), "--out", str(out)]
    assert run(argv) == 0
    assert "NOT SIGNED" in capsys.readouterr().out

    # unsigned -> refused, JSON says why
    assert run(["bundle", "verify", str(out), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and result["code"] == "signature"

    # the ML team signs with its key
    assert run(["bundle", "sign", str(out), "--key", str(key.private_path)]) == 0
    capsys.readouterr()

    # not trusted by this installation yet
    assert run(["bundle", "verify", str(out), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["code"] == "untrusted"
    # the ML team checks with its own public key
    assert run(["bundle", "verify", str(out), "--json", "--trust-key", str(key.public_path)]) == 0
    ok = json.loads(capsys.readouterr().out)
    assert ok["ok"] and ok["key_fingerprint"] == key.fingerprint and ok["selftest"]["passed"]

    with pytest.raises(BundleError, match=r"NOT VERIFIED \(untrusted\).*--unverified"):
        run(["bundle", "inspect", str(out)])
    assert capsys.readouterr().out == ""
    assert run(["bundle", "inspect", str(out), "--unverified"]) == 1
    card = capsys.readouterr().out
    assert card.startswith("!!!!") and card.splitlines()[1].startswith("NOT VERIFIED (untrusted)")
    assert "## Intended use" in card and "opacity" in card

    # IT trusts the key at site level, then installs
    keys_dir = site_file.parent / "trusted-keys"
    keys_dir.mkdir(parents=True)
    shutil.copy(key.public_path, keys_dir / "ml-team.pem")
    assert run(["bundle", "inspect", str(out)]) == 0
    assert capsys.readouterr().out.startswith("VERIFIED")
    assert run(["bundle", "install", str(out)]) == 0
    assert "active version of test-cxr: 1.0.0" in capsys.readouterr().out
    assert run(["bundle", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["version"], r["active"]) for r in rows] == [("test-cxr", "1.0.0", True)]
    with pytest.raises(BundleError, match="no earlier active version"):
        run(["bundle", "rollback", "test-cxr"])
    assert run(["bundle", "activate", "test-cxr", "1.0.0"]) == 0
    assert run(["keys", "list"]) == 0
    assert "site" in capsys.readouterr().out


def test_encrypted_key_for_signing(
    tmp_path: Path, build_bundle: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewer.bundle.keys import generate_keypair

    gen = generate_keypair(tmp_path / "enc", passphrase=b"pw")
    unsigned = build_bundle(signer=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    monkeypatch.delenv("BEDSIDE_KEY_PASSPHRASE", raising=False)
    with pytest.raises(BundleError, match="passphrase is needed"):
        run(["bundle", "sign", str(unsigned), "--key", str(gen.private_path)])
    monkeypatch.setenv("BEDSIDE_KEY_PASSPHRASE", "pw")
    assert run(["bundle", "sign", str(unsigned), "--key", str(gen.private_path)]) == 0


def test_create_from_pth_state_dict(
    tmp_path: Path, cxr_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    state = random_state("demo-cnn", in_channels=1, num_labels=1, seed=0)
    weights = tmp_path / "w.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, weights)
    tmpl = tmp_path / "template.json"
    tmpl.write_text(json.dumps(template()))
    out = tmp_path / "m.bundle"
    argv = ["bundle", "create", "--arch", "demo-cnn", "--weights", str(weights)]
    argv += ["--manifest", str(tmpl), "--sample", str(cxr_path), "--out", str(out)]
    assert run(argv) == 0
    assert out.is_file()


def test_create_with_a_reference_set_says_what_it_refuses(
    tmp_path: Path, cxr_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np
    import safetensors.torch

    weights = tmp_path / "w.safetensors"
    state = random_state("demo-cnn", in_channels=1, num_labels=1, seed=0)
    safetensors.torch.save_file(state, str(weights))
    tmpl = tmp_path / "template.json"
    tmpl.write_text(json.dumps(template()))
    npz = tmp_path / "features.npz"
    np.savez(npz, features=np.random.default_rng(0).normal(size=(200, 48)))
    base = ["bundle", "create", "--arch", "demo-cnn", "--weights", str(weights)]
    base += ["--manifest", str(tmpl), "--sample", str(cxr_path)]
    argv = [*base, "--out", str(tmp_path / "r.bundle"), "--reference", str(npz)]
    assert run([*argv, "--reference-quantile", "0.98"]) == 0
    out = capsys.readouterr().out
    assert "reference profile: 200 images (0 refused by the input checks)" in out
    assert "(the 98th percentile) are refused" in out
    assert run([*base, "--out", str(tmp_path / "plain.bundle")]) == 0
    assert "no reference profile" in capsys.readouterr().out


def test_create_refuses_mismatched_weights(tmp_path: Path, cxr_path: Path) -> None:
    import safetensors.torch

    weights = tmp_path / "w.safetensors"
    safetensors.torch.save_file(
        random_state("resnet18", in_channels=1, num_labels=1, seed=0), str(weights)
    )
    tmpl = tmp_path / "template.json"
    tmpl.write_text(json.dumps(template()))
    argv = ["bundle", "create", "--arch", "demo-cnn", "--weights", str(weights)]
    argv += ["--manifest", str(tmpl), "--sample", str(cxr_path), "--out", str(tmp_path / "o")]
    with pytest.raises(BundleError, match="do not fit 'demo-cnn'") as info:
        run(argv)
    assert info.value.code == "weights"


def test_demo_bundle_via_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from viewer.bundle.resources import DEMO_BUNDLE, resource_path

    demo = str(resource_path(*DEMO_BUNDLE))
    assert run(["bundle", "verify", demo, "--json"], demo=True) == 0
    assert json.loads(capsys.readouterr().out)["key_source"] == "demo"
    assert run(["bundle", "verify", demo, "--json"], demo=False) == 1
    assert json.loads(capsys.readouterr().out)["code"] == "untrusted"


def _forged(good: Path, tmp_path: Path) -> Path:
    """The hostile tester's recrc_threshold: the manifest's threshold edited, zip CRCs redone."""
    from tests.bundle.conftest import read_members, write_members

    members = read_members(good)
    manifest = json.loads(members["manifest.json"])
    manifest["labels"][0]["threshold"] = 0.01
    members["manifest.json"] = json.dumps(manifest).encode()
    return write_members(tmp_path / "forged.bundle", members)


def test_inspect_verifies_first(
    build_bundle: Callable[..., Path],
    key: KeyPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Hostile finding 17: `inspect --json` printed a forged manifest with exit 0, unmarked."""
    good = build_bundle()
    forged = str(_forged(good, tmp_path))
    trust = ["--trust-key", str(key.public_path)]

    assert run(["bundle", "inspect", forged, "--json", *trust]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["verified"] is False and result["code"] == "signature"
    assert "manifest" not in result
    with pytest.raises(BundleError, match=r"NOT VERIFIED \(signature\)") as info:
        run(["bundle", "inspect", forged, *trust])
    assert info.value.code == "signature"
    assert capsys.readouterr().out == ""

    assert run(["bundle", "inspect", forged, "--json", "--unverified", *trust]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["verified"] is False and result["warning"].startswith("NOT VERIFIED (signature)")
    assert result["manifest"]["labels"][0]["threshold"] == 0.01
    assert run(["bundle", "inspect", forged, "--unverified", *trust]) == 1
    text = capsys.readouterr().out
    assert text.splitlines()[1].startswith("NOT VERIFIED (signature)")
    assert text.count("NOT VERIFIED (signature)") == 2  # above and below the card

    assert run(["bundle", "inspect", str(good), "--json", *trust]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["verified"] is True and result["key_fingerprint"] == key.fingerprint
    assert result["manifest"]["labels"][0]["threshold"] == 0.5
    assert run(["bundle", "inspect", str(good), "--unverified", *trust]) == 0
    assert capsys.readouterr().out.startswith("VERIFIED")


@pytest.mark.parametrize("target", ["file", "under-a-file", "device"])
def test_keys_generate_out_not_a_folder(tmp_path: Path, target: str) -> None:
    """Hostile finding 15: `keys generate --out /dev/full` raised FileExistsError."""
    a_file = tmp_path / "plain.txt"
    a_file.write_text("keep me")
    out = {"file": a_file, "under-a-file": a_file / "k", "device": Path("/dev/null")}[target]
    if target == "device" and not out.exists():
        pytest.skip("no /dev/null here")
    with pytest.raises(BundleError, match=r"not a folder|cannot be written") as info:
        run(["keys", "generate", "--out", str(out)])
    assert info.value.code == "signature"
    assert a_file.read_text() == "keep me"


def test_keys_generate_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "k"
    assert run(["keys", "generate", "--out", str(out)]) == 0
    first = (out / "signing-key.pem").read_bytes()
    with pytest.raises(BundleError, match=r"already exists.*--force"):
        run(["keys", "generate", "--out", str(out)])
    assert (out / "signing-key.pem").read_bytes() == first
    capsys.readouterr()
    assert run(["keys", "generate", "--out", str(out), "--force"]) == 0
    assert (out / "signing-key.pem").read_bytes() != first
    assert stat.S_IMODE((out / "signing-key.pem").stat().st_mode) == 0o600
    from viewer.bundle.keys import load_private_key
    from viewer.keyprint import fingerprint, format_fingerprint

    new_fp = fingerprint(load_private_key(out / "signing-key.pem").public_key())
    assert f"fingerprint: {format_fingerprint(new_fp)}" in capsys.readouterr().out
    (out / "signing-key.pem").unlink()
    (out / "signing-key.pem").mkdir()  # not a key file: not replaced even with --force
    with pytest.raises(BundleError, match="other than a key file"):
        run(["keys", "generate", "--out", str(out), "--force"])


def test_demo_install_into_a_named_data_dir_is_refused(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12 item 10 through the root CLI: `--demo bundle install` with BEDSIDE_DATA_DIR."""
    from viewer.bundle.resources import DEMO_BUNDLE, resource_path
    from viewer.cli.main import main

    demo = resource_path(*DEMO_BUNDLE)
    if not demo.is_file():
        pytest.skip("resources/demo/demo-cxr.bundle is not built (make demo-bundle)")
    assert main(["--demo", "bundle", "install", str(demo)]) == 1
    assert "never put into a real model store" in capsys.readouterr().err
    assert main(["bundle", "list"]) == 0
    assert "No models installed." in capsys.readouterr().out
