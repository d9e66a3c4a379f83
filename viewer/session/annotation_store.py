"""Where a reading's annotations are kept between runs: one small JSON file per image.

Why a sidecar file and not the decision row: the audit log is append-only and hash-chained and
must never hold PHI, while a text annotation is whatever the reader typed (it may name the
patient). So the log's decision rows carry only counts by kind (``detail.annotations``, which
the audit report lists), and the annotations themselves go to
``<data dir>/annotations/<SOP Instance pseudonym>.json``: named by the keyed pseudonym the log
uses (HMAC-SHA256 with the site secret, never the UID itself), holding the pixel digest so a
different image that claims the same UID does not inherit them, written atomically when a
decision is saved. A file that cannot be read is ignored with a reason, never a crash.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, BinaryIO

from viewer.config import Settings
from viewer.dicom.annotations import Annotation, from_plain, to_plain
from viewer.errors import BedsideError
from viewer.outputs import write_atomically

FOLDER = "annotations"
FORMAT = 1
MAX_BYTES = 1 << 20  # a file larger than this is not ours
_NAME = re.compile(r"^[0-9a-zA-Z_-]{8,128}$")


def sidecar_path(settings: Settings, sop_pseudonym: str) -> Path:
    if not _NAME.match(sop_pseudonym):
        raise BedsideError("not a pseudonym", path=None)
    return settings.data_dir / FOLDER / f"{sop_pseudonym}.json"


def save(
    settings: Settings, sop_pseudonym: str, pixel_sha256: str | None, items: list[Annotation]
) -> Path | None:
    """Write the image's annotations (an empty list only replaces an earlier file)."""
    path = sidecar_path(settings, sop_pseudonym)
    if not items and not path.exists():
        return None
    body = {"format": FORMAT, "pixel_sha256": pixel_sha256, "annotations": to_plain(items)}
    data = json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BedsideError(f"cannot make the annotations folder: {exc}", path=path) from exc

    def write(fh: BinaryIO) -> None:
        fh.write(data)

    write_atomically(path, write, settings=settings, overwrite=True, what="annotations")
    return path


def load(settings: Settings, sop_pseudonym: str, pixel_sha256: str | None) -> list[Annotation]:
    """The annotations saved for this image (same pixels), [] if none; BedsideError if the
    file is there but unusable."""
    path = sidecar_path(settings, sop_pseudonym)
    try:
        if not path.is_file():
            return []
        if path.stat().st_size > MAX_BYTES:
            raise BedsideError("the annotations file is too large to be ours", path=path)
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BedsideError(f"the annotations file cannot be read: {exc}", path=path) from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BedsideError("the annotations file is not in a known format", path=path)
    theirs = raw.get("pixel_sha256")
    if theirs is not None and pixel_sha256 is not None and theirs != pixel_sha256:
        return []  # another image under the same UID
    return from_plain(raw.get("annotations"))
