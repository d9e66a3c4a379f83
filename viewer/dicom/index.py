"""Study index: patient -> study -> series -> instance, from header-only reads.

``iter_scan`` is a generator so the GUI can show progress on a 1,000-file CD and cancel; the CLI
simply runs it to the end. Inputs may be files, folders (recursive) and DICOMDIRs (PS3.10 /
PS3.3 F.3: the files the directory records reference, resolved inside the DICOMDIR's folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from viewer.dicom.metadata import MEDIA_STORAGE_DIRECTORY, read_metadata
from viewer.dicom.model import ImageMetadata
from viewer.dicom.safe_read import DEFAULT_LIMITS, Limits, read_dataset
from viewer.errors import DicomError

# A CD holds a few thousand files; far more is a mistaken folder (e.g. a whole disk).
MAX_FILES = 200_000


@dataclass(frozen=True)
class ScanError:
    """One file that could not be indexed, and why (human sentence)."""

    path: str
    message: str


@dataclass
class SeriesNode:
    series_instance_uid: str
    series_number: int | None
    modality: str
    description: str
    instances: list[ImageMetadata] = field(default_factory=list)


@dataclass
class StudyNode:
    study_instance_uid: str
    study_date: str
    description: str
    accession_number: str
    series: list[SeriesNode] = field(default_factory=list)


@dataclass
class PatientNode:
    patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    studies: list[StudyNode] = field(default_factory=list)


@dataclass
class StudyIndex:
    """The tree of images, plus non-image objects (SR, PR, KOS ...), errors and skipped files.

    ``skipped`` holds files found while walking a folder that are not DICOM at all (viewer
    programs and autorun files on a CD): not errors, just not ours. ``duplicates`` (an addition
    to the contract, defaulted) holds image files left out because they are the *same* file as
    one already indexed (same resolved path, or byte-identical), each with the reason: an image
    never leaves the index without a message. Two different files sharing a SOP Instance UID
    are both kept and both readable; ``conflicts`` names each such file (not an error: nothing
    failed to read, but a person must check which image belongs to the patient).
    """

    patients: list[PatientNode] = field(default_factory=list)
    non_images: list[ImageMetadata] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    duplicates: list[ScanError] = field(default_factory=list)
    conflicts: list[ScanError] = field(default_factory=list)

    def images(self) -> list[ImageMetadata]:
        """All images in display order (patient, study, series, instance)."""
        return [
            inst
            for patient in self.patients
            for study in patient.studies
            for series in study.series
            for inst in series.instances
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``bedside dicom scan --json``)."""
        return asdict(self)


@dataclass
class ScanProgress:
    """One step of a scan; the last one carries the finished ``index``."""

    done: int
    total: int
    path: str
    index: StudyIndex | None
    errors: list[ScanError]


def _study_sort_key(study: StudyNode) -> tuple[str, str]:
    # Newest study first; undated studies last.
    return ("0" if study.study_date else "1", _invert(study.study_date))


def _invert(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) if c.isdigit() else c for c in text)


#: a file up to this size is compared from memory (the first of its UID kept there); larger ones
#: block by block
_IN_MEMORY = 64 << 20
_BLOCK = 1 << 20


class _SameFile:
    """Whether two paths are one file (same resolved path) or byte-identical copies.

    By content, because a copy holds the same SOP Instance UID: every byte compared, stopping
    at the first difference, into buffers read again and again rather than made per file. A
    folder of copies compares each with the first, so the last file compared against stays in
    memory. (A SHA-256 of both files, as before, took 8x longer: bench/bench_cli_parity.py.)
    Identity by one stat of each file (device and inode, as ``Path.samefile``; the first
    file's kept with its bytes): resolving both paths, as before, cost a system call per path
    component per pair. Proving the copies on threads beside the header pass (reading and a
    ctypes memcmp release the GIL) was measured interleaved against this and lost on the
    shared 2 cores, 1,000 real-size copies: at load 6-7, 410 against 345 ms in process and 874
    against 815 ms whole process; at load 2, 268 against 218 ms and 461 against 447 ms. So the
    proof stays here, after the header pass."""

    def __init__(self) -> None:
        self._kept: tuple[str, bytes] | None = None
        self._first: tuple[str, os.stat_result] | None = None  # the file compared against
        self._buffer = bytearray()

    def __call__(self, a: str, b: str) -> bool:
        pa, pb = Path(a), Path(b)
        try:
            if self._first is None or self._first[0] != a:
                self._first, self._kept = (a, pa.stat()), None
            sa, sb = self._first[1], pb.stat()  # resolve() took a stat per path component
            if (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino):
                return True  # one file reached twice (a link, a bind mount)
            size = sa.st_size
            if size != sb.st_size:
                return False
            if size > _IN_MEMORY:
                return _same_blocks(pa, pb)
            if self._kept is None or self._kept[0] != a:
                self._kept = (a, pa.read_bytes())
                if len(self._kept[1]) != size:
                    self._first = None  # it changed since its stat: compare afresh next time
                    return False
            if len(self._buffer) != size:
                self._buffer = bytearray(size)
            view = memoryview(self._buffer)
            with pb.open("rb", buffering=0) as fb:
                got = 0
                while got < size:
                    n = fb.readinto(view[got:])
                    if not n:
                        return False  # it shrank meanwhile
                    got += n
                if fb.read(1):
                    return False  # it grew meanwhile
            return self._buffer == self._kept[1]  # bytes against bytes: one memcmp
        except OSError:
            return False  # cannot prove they are the same: keep both


def _same_blocks(pa: Path, pb: Path) -> bool:
    """Two large files compared block by block."""
    one, two = bytearray(_BLOCK), bytearray(_BLOCK)
    with pa.open("rb", buffering=0) as fa, pb.open("rb", buffering=0) as fb:
        while True:
            n, m = fa.readinto(one), fb.readinto(two)
            if n != m or (n == _BLOCK and one != two) or (n < _BLOCK and one[:n] != two[:n]):
                return False
            if not n:
                return True


def build_index(
    metas: Iterable[ImageMetadata],
    errors: Iterable[ScanError] = (),
    skipped: Iterable[str] = (),
    duplicates: Iterable[ScanError] = (),
) -> StudyIndex:
    """Group and sort: patients by name then ID, studies newest first, series by number,
    instances by Instance Number (0020,0013) then path.

    SOP Instance UID (0008,0018) identifies one image (PS3.3 C.12.1.1.1). A second file with
    the same UID is left out only when it is provably the same file (folder + DICOMDIR, or a
    byte-identical copy), and then listed in ``duplicates``; a *different* file with the same
    UID (another patient, other pixels) is kept and listed in ``conflicts`` naming both files,
    because dropping it would hide an image from the clinician; each stays separately readable
    and decidable (a reading is keyed by the file and its pixel data, not by the UID alone).
    """
    index = StudyIndex(errors=list(errors), skipped=list(skipped), duplicates=list(duplicates))
    patients: dict[tuple[str, str], PatientNode] = {}
    studies: dict[tuple[tuple[str, str], str], StudyNode] = {}
    series_map: dict[tuple[tuple[str, str], str, str], SeriesNode] = {}
    seen: dict[str, list[str]] = {}
    same_file = _SameFile()
    for meta in metas:
        if not meta.is_image:
            index.non_images.append(meta)
            continue
        uid_ = meta.sop_instance_uid
        if uid_:
            earlier = seen.setdefault(uid_, [])
            same = next((other for other in earlier if same_file(other, meta.path)), None)
            if same is not None:
                index.duplicates.append(
                    ScanError(meta.path, f"is the same file as {same}; listed once")
                )
                continue
            if earlier:
                index.conflicts.append(
                    ScanError(
                        meta.path,
                        f"has the same SOP Instance UID (0008,0018) as {earlier[0]} but "
                        "different content; both images are listed: check which one belongs "
                        "to the patient",
                    )
                )
            earlier.append(meta.path)
        pkey = (meta.patient_id, meta.patient_name)
        patient = patients.get(pkey)
        if patient is None:
            patient = PatientNode(
                meta.patient_id, meta.patient_name, meta.patient_birth_date, meta.patient_sex
            )
            patients[pkey] = patient
        skey = (pkey, meta.study_instance_uid)
        study = studies.get(skey)
        if study is None:
            study = StudyNode(
                meta.study_instance_uid,
                meta.study_date,
                meta.study_description,
                meta.accession_number,
            )
            studies[skey] = study
            patient.studies.append(study)
        sekey = (pkey, meta.study_instance_uid, meta.series_instance_uid)
        series = series_map.get(sekey)
        if series is None:
            series = SeriesNode(
                meta.series_instance_uid,
                meta.series_number,
                meta.modality,
                meta.series_description,
            )
            series_map[sekey] = series
            study.series.append(series)
        series.instances.append(meta)
    for patient in patients.values():
        patient.studies.sort(key=_study_sort_key)
        for study in patient.studies:
            study.series.sort(
                key=lambda s: (s.series_number is None, s.series_number or 0, s.description)
            )
            for series in study.series:
                series.instances.sort(
                    key=lambda m: (m.instance_number is None, m.instance_number or 0, m.path)
                )
    index.patients = sorted(patients.values(), key=lambda p: (p.patient_name.lower(), p.patient_id))
    index.non_images.sort(key=lambda m: m.path)
    return index


def _resolve_reference(base: Path, parts: list[str]) -> Path | None:
    """A DICOMDIR Referenced File ID, kept inside ``base``; tolerant of CD case changes."""
    if not parts or any(p in ("", ".", "..") or "/" in p or "\\" in p for p in parts):
        return None
    candidate = base.joinpath(*parts)
    if not candidate.exists():
        # ISO 9660 mounts may lower-case names, and the other way round.
        current = base
        for part in parts:
            try:
                names = {n.name.lower(): n.name for n in current.iterdir()}
            except OSError:
                return candidate
            current = current / names.get(part.lower(), part)
        candidate = current
    try:
        candidate.resolve().relative_to(base.resolve())
    except ValueError:
        return None
    return candidate


def dicomdir_references(
    path: str | Path, *, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[Path], list[ScanError]]:
    """Files referenced by a DICOMDIR's directory records (0004,1500), in record order."""
    p = Path(path)
    ds = read_dataset(p, header_only=False, limits=limits)
    meta_sop = str(getattr(ds, "file_meta", {}).get("MediaStorageSOPClassUID", "") or "")
    if "DirectoryRecordSequence" not in ds and meta_sop != MEDIA_STORAGE_DIRECTORY:
        raise DicomError("is not a DICOMDIR (no Directory Record Sequence)", path=p)
    files: list[Path] = []
    errors: list[ScanError] = []
    try:
        records = list(ds.get("DirectoryRecordSequence") or [])
    except Exception as exc:
        raise DicomError(f"has an unreadable Directory Record Sequence: {exc}", path=p) from exc
    for record in records:
        try:
            ref = record.get("ReferencedFileID")
        except Exception as exc:
            errors.append(ScanError(str(p), f"a directory record is unreadable: {exc}"))
            continue
        if ref is None or ref == "":
            continue
        parts = [str(ref)] if isinstance(ref, str) else [str(x) for x in ref]
        target = _resolve_reference(p.parent, parts)
        if target is None:
            errors.append(
                ScanError(str(p), f"DICOMDIR references {'/'.join(parts)!r} outside its folder")
            )
            continue
        if not target.is_file():
            errors.append(
                ScanError(str(target), "referenced by the DICOMDIR but missing on the medium")
            )
            continue
        if _points_to(target, p):
            errors.append(
                ScanError(
                    str(p), f"DICOMDIR record {'/'.join(parts)!r} references the DICOMDIR itself"
                )
            )
            continue
        files.append(target)
    if not files and not errors:
        errors.append(ScanError(str(p), "DICOMDIR references no image files"))
    elif not files:
        errors.append(ScanError(str(p), "DICOMDIR references no usable image file"))
    return files, errors


def _points_to(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or a.samefile(b)
    except OSError:
        return False


_DICOM_SUFFIXES = frozenset({".dcm", ".dicom", ".dic"})


def _looks_like_an_image_file(path: Path) -> str:
    """Why a non-DICOM file met in a folder is still worth an error ("" when it is not): one
    named as DICOM, or an empty file (a failed copy or CD burn), may be a lost image."""
    if path.suffix.lower() in _DICOM_SUFFIXES:
        return "it is named as a DICOM file: a damaged or mislabelled image?"
    try:
        empty = path.stat().st_size == 0
    except OSError:
        return ""
    if empty and not path.name.startswith("."):
        return "the file is empty: an incomplete copy?"
    return ""


def _is_dicomdir_name(path: Path) -> bool:
    return path.name.upper() == "DICOMDIR"


def iter_scan(
    paths: Iterable[str | Path],
    *,
    cancel: Callable[[], bool] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[ScanProgress]:
    """Index files, folders and DICOMDIRs with header-only reads.

    A file cut short (inside its header, its Pixel Data element or encapsulated fragments) or
    with less Pixel Data than its image size declares is an error in the words opening it
    uses (metadata.pixel_data_problem), never a listed image or a same-UID conflict.

    Yields one :class:`ScanProgress` per file; the last one has ``index`` set. If ``cancel()``
    returns True (checked before every file) the generator stops without an index; closing the
    generator cancels too.
    """
    explicit: list[Path] = []
    walked: list[Path] = []
    errors: list[ScanError] = []
    for raw in paths:
        path = Path(raw)
        if cancel is not None and cancel():
            return
        if path.is_dir():

            def unreadable(exc: OSError, top: Path = path) -> None:
                where = str(exc.filename or top)
                errors.append(
                    ScanError(where, f"folder cannot be read: {exc.strerror or exc}; skipped")
                )

            for root, dirs, names in os.walk(path, onerror=unreadable):
                dirs.sort()
                for name in sorted(names):
                    walked.append(Path(root) / name)
                if len(walked) > MAX_FILES:
                    raise DicomError(
                        f"holds more than {MAX_FILES} files; choose the study folder", path=path
                    )
                if cancel is not None and cancel():
                    return
        elif _is_dicomdir_name(path) and path.is_file():
            try:
                refs, ref_errors = dicomdir_references(path, limits=limits)
            except DicomError as exc:
                errors.append(ScanError(str(path), exc.message))
                continue
            explicit.extend(refs)
            errors.extend(ref_errors)
        else:
            explicit.append(path)
    todo: list[tuple[Path, bool]] = []
    seen: dict[str, Path] = {}
    duplicates: list[ScanError] = []
    for path, was_walked in [(p, False) for p in explicit] + [(p, True) for p in walked]:
        key = os.path.normcase(str(path.absolute()))
        if key in seen:
            duplicates.append(ScanError(str(path), f"is the same file as {seen[key]}; listed once"))
        else:
            seen[key] = path
            todo.append((path, was_walked))
    metas: list[ImageMetadata] = []
    skipped: list[str] = []
    total = len(todo)
    for done, (path, was_walked) in enumerate(todo, start=1):
        if cancel is not None and cancel():
            return
        try:
            meta = read_metadata(path, limits=limits, check_pixels=True)
        except DicomError as exc:
            if was_walked and "is not a DICOM file" in exc.message:
                looks_dicom = _looks_like_an_image_file(path)
                if looks_dicom:
                    errors.append(ScanError(str(path), f"{exc.message}; {looks_dicom}"))
                else:
                    skipped.append(str(path))
            else:
                errors.append(ScanError(str(path), exc.message))
        except Exception as exc:  # pragma: no cover - metadata_from_dataset is defensive
            errors.append(ScanError(str(path), f"unreadable header: {exc}"))
        else:
            if meta.sop_class_uid != MEDIA_STORAGE_DIRECTORY:
                metas.append(meta)
            elif not was_walked and not _is_dicomdir_name(path):
                # A named file (or a DICOMDIR record) that is itself a DICOMDIR: say so.
                errors.append(
                    ScanError(str(path), "is a DICOMDIR, not an image; open its folder instead")
                )
        if done < total:
            yield ScanProgress(done, total, str(path), None, errors)
    index = build_index(metas, errors, skipped, duplicates)
    yield ScanProgress(total, total, "", index, index.errors)


def scan(paths: Iterable[str | Path], *, limits: Limits = DEFAULT_LIMITS) -> StudyIndex:
    """Run :func:`iter_scan` to the end (CLI, tests)."""
    index: StudyIndex | None = None
    for step in iter_scan(paths, limits=limits):
        index = step.index
    if index is None:  # pragma: no cover - iter_scan always ends with an index
        raise DicomError("the scan ended without an index")
    return index
