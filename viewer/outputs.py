"""Where Bedside may write a file a person asked for (a rendered PNG, an audit report).

One policy for every command that takes ``--out``: never a device, pipe or socket (renaming over
``/dev/full`` as root replaces the device node), never a folder, never a file this installation
needs (the audit log and its -wal/-shm, the pseudonym secret, the installation key pair and
state, the site file and the user settings, anything in the model store or a trusted-key folder
— also through a symlink or hard link), and an existing file only when the caller says so
(``--force``). Files are written atomically: a temporary file in the same folder, flushed,
checked again, renamed.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from viewer.errors import BedsideError
from viewer.paths import InstallationPaths

if TYPE_CHECKING:  # the settings' models (pydantic) are not loaded to check a path (issue 19)
    from viewer.config import Settings


def protected_paths(settings: Settings | InstallationPaths) -> tuple[list[Path], list[Path]]:
    """(files, folders) no output may replace or enter (``InstallationPaths.protected``: the
    same list whether it comes from the loaded settings or from ``viewer.paths.light_paths``)."""
    paths = settings if isinstance(settings, InstallationPaths) else settings.paths
    return paths.protected()


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: compare as written
        return path.absolute()


def _same_file(other: Path, real: Path, st: os.stat_result | None) -> bool:
    """``other`` is the output ``real`` (stat ``st``): the same path or, existing, the same
    inode (a symlink or hard link)."""
    if _resolved(other) == real:
        return True
    if st is None:
        return False
    try:
        ost = other.stat()
    except OSError:
        return False
    return (ost.st_dev, ost.st_ino) == (st.st_dev, st.st_ino)


def check_output_path(
    path: Path,
    *,
    settings: Settings | InstallationPaths | None,
    overwrite: bool,
    what: str = "file",
    error: type[BedsideError] = BedsideError,
    sources: tuple[Path, ...] = (),
) -> None:
    """Raise ``error`` (naming ``path``) unless ``path`` is a file we may write ``what`` to.

    ``sources`` are the files ``what`` is made from: never replaced, even with ``overwrite``
    (``dicom render X --out X --force`` turned the DICOM file into its PNG)."""
    real = _resolved(path)
    try:
        st: os.stat_result | None = real.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise error(f"cannot write the {what} here: {exc.strerror or exc}.", path=path) from exc
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise error(f"is a folder; give a file name for the {what}.", path=path)
        if not stat.S_ISREG(st.st_mode):
            raise error(
                "is a special file (a device, pipe or socket); refusing to write to it.", path=path
            )
    if settings is not None:
        files, folders = protected_paths(settings)
        for protected in files:
            if _same_file(protected, real, st):
                raise error(
                    f"Refusing to write the {what} there: that is {protected.name}, which this "
                    "installation needs (the audit log, its pseudonym secret, its keys or its "
                    "site or user settings). Choose another file name.",
                    path=path,
                )
        for folder in folders:
            if real.is_relative_to(_resolved(folder)):
                raise error(
                    f"Refusing to write the {what} there: it is inside {folder}, which holds the "
                    "installed models or trusted keys. Choose another folder.",
                    path=path,
                )
    for source in sources:
        if _same_file(source, real, st):
            raise error(
                f"is the file the {what} is made from; refusing to replace it. Choose another "
                "file name.",
                path=path,
            )
    if st is not None and not overwrite:
        raise error("already exists; add --force to replace it.", path=path)
    if not real.parent.is_dir():
        raise error(f"cannot write the {what}: its folder does not exist.", path=path)


def write_atomically(
    path: Path,
    write: Callable[[BinaryIO], None],
    *,
    settings: Settings | InstallationPaths | None,
    overwrite: bool,
    what: str = "file",
    error: type[BedsideError] = BedsideError,
    sources: tuple[Path, ...] = (),
) -> None:
    """Check ``path``, let ``write`` fill a temporary file beside it, check again, rename."""

    def check() -> None:
        check_output_path(
            path, settings=settings, overwrite=overwrite, what=what, error=error, sources=sources
        )

    check()
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        tmp = Path(name)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        check()
        tmp.replace(path)
        tmp = None
    except OSError as exc:
        raise error(f"cannot write the {what}: {exc.strerror or exc}.", path=path) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (reports and weights files can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
