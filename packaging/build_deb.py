"""Build the Debian package of the frozen app (``make deb``) from ``dist/bedside``.

Usage: ``.venv/bin/python packaging/build_deb.py [--app-dir dist/bedside] [--revision 1]``. It
does not freeze: ``make deb`` runs ``make freeze`` first only when the frozen app is older than
the sources. The package holds the program in ``/opt/bedside``, ``/usr/bin/bedside`` (a link),
the desktop entry and icon, and ``/etc/bedside`` (a commented ``site.toml``, a conffile, and an
empty ``trusted-keys/``); its maintainer scripts (``packaging/deb/``) touch no user data. The
file is named ``bedside_<version>-<revision>_<arch>.deb`` and ``SHA256SUMS`` beside it lists every
such file in the folder (``sha256sum -c SHA256SUMS``). docs/it-guide.md is the reader's side.

The app is about 850 MB, so the staging folder hard-links the frozen files where it can, and the
default compression is gzip level 1 (``--compress``): CI builds the package twice.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEB = ROOT / "packaging" / "deb"
PACKAGE = "bedside"
SITE_DIR = "etc/bedside"
CONFFILES = ("/etc/bedside/site.toml",)
SCRIPTS = ("postinst", "prerm", "postrm")
COMPRESSORS = {"gzip": ["-Zgzip", "-z1"], "zstd": ["-Zzstd", "-z3"], "xz": ["-Zxz", "-z6"]}
_REVISION = re.compile(r"[0-9A-Za-z.+~]+")


def app_version() -> str:
    """``viewer.__version__``, read from the file (this script runs without importing the app)."""
    text = (ROOT / "viewer" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise SystemExit("viewer/__init__.py has no __version__")
    return match.group(1)


def architecture() -> str:
    try:
        out = subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "amd64"
    return out.stdout.strip() or "amd64"


def depends() -> str:
    lines = (DEB / "depends.txt").read_text(encoding="utf-8").splitlines()
    return ", ".join(s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#"))


def _link_or_copy(src: str, dst: str) -> None:
    """Hard link (same file system: no 850 MB copy), else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _tree_kib(path: Path) -> int:
    total = sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())
    return (total + 1023) // 1024


def _md5sums(root: Path) -> str:
    """DEBIAN/md5sums: what ``dpkg --verify bedside`` compares (a support request's first look)."""
    lines = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("DEBIAN/") or path.is_symlink() or not path.is_file():
            continue
        if "/" + rel in CONFFILES:
            continue  # conffiles are checked by their own md5 in dpkg's database
        digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
        lines.append(f"{digest}  {rel}\n")
    return "".join(lines)


def stage(app_dir: Path, staging: Path, version: str, arch: str) -> None:
    """The package's file tree under ``staging`` (emptied first: a rebuild starts clean)."""
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(app_dir, staging / "opt" / PACKAGE, symlinks=True, copy_function=_link_or_copy)
    bindir = staging / "usr" / "bin"
    bindir.mkdir(parents=True)
    # a link, not a copy: PyInstaller's bootloader finds _internal/ beside the link's target
    (bindir / PACKAGE).symlink_to(f"/opt/{PACKAGE}/{PACKAGE}")
    apps = staging / "usr" / "share" / "applications"
    icons = staging / "usr" / "share" / "icons" / "hicolor" / "scalable" / "apps"
    docs = staging / "usr" / "share" / "doc" / PACKAGE
    for folder in (apps, icons, docs):
        folder.mkdir(parents=True)
    shutil.copy2(DEB / "bedside.desktop", apps / "bedside.desktop")
    shutil.copy2(DEB / "bedside.svg", icons / "bedside.svg")
    shutil.copy2(ROOT / "LICENSE", docs / "copyright")
    for page in sorted((ROOT / "docs").glob("*.md")):  # the IT guide and the pages it links
        shutil.copy2(page, docs / page.name)
    site = staging / SITE_DIR
    (site / "trusted-keys").mkdir(parents=True)
    shutil.copy2(DEB / "site.toml", site / "site.toml")
    for path in [staging, *staging.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    (site / "site.toml").chmod(0o644)

    control_dir = staging / "DEBIAN"
    control_dir.mkdir()
    control = (DEB / "control.in").read_text(encoding="utf-8")
    for name, value in (
        ("VERSION", version),
        ("ARCH", arch),
        ("INSTALLED_SIZE", str(_tree_kib(staging))),
        ("DEPENDS", depends()),
    ):
        control = control.replace(f"@{name}@", value)
    (control_dir / "control").write_text(control, encoding="utf-8")
    (control_dir / "conffiles").write_text("".join(f"{c}\n" for c in CONFFILES), "utf-8")
    (control_dir / "md5sums").write_text(_md5sums(staging), encoding="utf-8")
    for script in SCRIPTS:
        shutil.copy2(DEB / script, control_dir / script)
        (control_dir / script).chmod(0o755)


def write_sums(out_dir: Path) -> Path:
    """SHA256SUMS for every package file in ``out_dir`` (``sha256sum -c`` reads it)."""
    lines = []
    for deb in sorted(out_dir.glob(f"{PACKAGE}_*.deb")):
        digest = hashlib.sha256()
        with deb.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        lines.append(f"{digest.hexdigest()}  {deb.name}\n")
    sums = out_dir / "SHA256SUMS"
    sums.write_text("".join(lines), encoding="utf-8")
    return sums


def build(
    app_dir: Path, out_dir: Path, *, version: str, revision: str, arch: str, compress: str
) -> Path:
    """Stage, build with dpkg-deb, refresh SHA256SUMS; returns the .deb's path."""
    if not (app_dir / PACKAGE).is_file():
        raise SystemExit(f"{app_dir / PACKAGE} is missing: run 'make freeze' first")
    if not _REVISION.fullmatch(revision):
        raise SystemExit(f"revision {revision!r}: use digits, letters and . + ~ only")
    full = f"{version}-{revision}"
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir / f".staging-{PACKAGE}_{full}_{arch}"  # beside the output: hard links work
    stage(app_dir, staging, full, arch)
    deb = out_dir / f"{PACKAGE}_{full}_{arch}.deb"
    cmd = ["dpkg-deb", "--root-owner-group", *COMPRESSORS[compress], "--build"]
    subprocess.run([*cmd, str(staging), str(deb)], check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(staging)
    write_sums(out_dir)
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, default=ROOT / "dist" / PACKAGE)
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "deb")
    parser.add_argument("--version", default=app_version(), help="upstream version")
    parser.add_argument("--revision", default="1", help="Debian revision (1, 2, ...)")
    parser.add_argument("--arch", default=None, help="default: dpkg --print-architecture")
    parser.add_argument("--compress", choices=sorted(COMPRESSORS), default="gzip")
    args = parser.parse_args(argv)
    if shutil.which("dpkg-deb") is None:
        print("build_deb: dpkg-deb is not installed (Debian's dpkg package)", file=sys.stderr)
        return 1
    start = time.perf_counter()
    deb = build(
        args.app_dir.resolve(),
        args.out.resolve(),
        version=args.version,
        revision=args.revision,
        arch=args.arch or architecture(),
        compress=args.compress,
    )
    size_mb = deb.stat().st_size / 1e6
    took = time.perf_counter() - start
    print(f"package: {deb} ({size_mb:.0f} MB, {args.compress}) built in {took:.0f} s")
    print(f"checksums: {deb.parent / 'SHA256SUMS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
