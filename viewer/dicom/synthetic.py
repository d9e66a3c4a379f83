"""Synthetic chest X-rays: real DICOM files with plausible anatomy and obviously fake patients.

Used for the demo study, the demo model's training set, the test suite and the benchmarks, so no
test needs a real patient image. The anatomy is drawn, not sampled from people: lung fields, ribs,
clavicles, spine and mediastinum, heart and diaphragm shadows, detector noise, and on request a
consolidation-like opacity in one lung. Values are deterministic for a seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from viewer.errors import BedsideError

CR_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.1"  # Computed Radiography Image Storage
DX_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage - For Presentation
_UID_ROOT = "1.2.826.0.1.3680043.10.1398."  # pydicom-issued prefix used only for synthetic data

Modality = Literal["CR", "DX"]
Photometric = Literal["MONOCHROME1", "MONOCHROME2"]


def _grid(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = size
    y = np.linspace(0.0, 1.0, rows, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, cols, dtype=np.float32)[None, :]
    return y, x


def _smooth_noise(rng: np.random.Generator, size: tuple[int, int], scale: int) -> np.ndarray:
    """Low-frequency noise: a coarse random grid upsampled bilinearly (cheap at any size)."""
    rows, cols = size
    coarse = rng.standard_normal((scale + 2, scale + 2)).astype(np.float32)
    yi = np.linspace(0, scale, rows, dtype=np.float32)
    xi = np.linspace(0, scale, cols, dtype=np.float32)
    y0 = np.floor(yi).astype(np.int64)
    x0 = np.floor(xi).astype(np.int64)
    fy = (yi - y0)[:, None]
    fx = (xi - x0)[None, :]
    a = coarse[y0][:, x0]
    b = coarse[y0][:, x0 + 1]
    c = coarse[y0 + 1][:, x0]
    d = coarse[y0 + 1][:, x0 + 1]
    out: np.ndarray = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy
    return out


def _soft(inside: np.ndarray, edge: float) -> np.ndarray:
    """Map a signed 'inside' measure (positive inside) to a soft 0..1 mask."""
    result: np.ndarray = np.clip(inside / edge + 0.5, 0.0, 1.0)
    return result


def make_cxr_pixels(rng: np.random.Generator, size: tuple[int, int], opacity: bool) -> np.ndarray:
    """Attenuation image in [0, 1] (1 = dense, shown bright in MONOCHROME2), float32."""
    y, x = _grid(size)
    j = rng.uniform(-1.0, 1.0, 12).astype(np.float32) * 0.03  # per-image anatomical jitter
    edge = 0.02

    body = _soft(1.0 - ((x - 0.5) / (0.47 + j[0])) ** 2 - ((y - 0.55) / 0.62) ** 2, 0.08)
    img = 0.08 + 0.38 * body

    # Lungs: two tilted ellipses; the diaphragm domes cut their lower edge.
    lungs = np.zeros_like(img)
    for side, cx in ((-1, 0.3 + j[1]), (1, 0.7 + j[2])):
        cy = 0.45 + j[3]
        ax, ay = 0.15 + j[4] * 0.5, 0.3 + j[5]
        tilt = side * 0.15
        dx = (x - cx) + tilt * (y - cy)
        lung = _soft(1.0 - (dx / ax) ** 2 - ((y - cy) / ay) ** 2, edge * 6)
        dome = 0.72 + j[6] - 0.1 * np.exp(-(((x - cx) / 0.12) ** 2))
        lung = lung * _soft(dome - y, edge)
        lungs = np.maximum(lungs, lung)
    img = img - 0.3 * lungs

    # Mediastinum and spine: a central vertical band.
    spine = _soft(0.055 - np.abs(x - 0.5 - j[7] * 0.3), 0.02) * _soft(y - 0.05, 0.05)
    img = img + 0.22 * spine
    # Heart: an ellipse low and to the image right (the patient's left on a PA film).
    heart = _soft(1.0 - ((x - 0.56 - j[8]) / 0.16) ** 2 - ((y - 0.63 - j[9]) / 0.13) ** 2, 0.6)
    img = img + 0.18 * heart * (0.5 + 0.5 * lungs)

    # Ribs: posterior arcs across both hemithoraces, brighter where they cross the lungs.
    ribs = np.zeros_like(img)
    for k in range(10):
        base = 0.2 + 0.052 * k + j[10] * 0.5
        lateral = np.abs(x - 0.5) * 2.0
        curve = base + 0.16 * lateral - 0.1 * lateral**2
        thickness = 0.011 + 0.002 * k / 10
        ribs = np.maximum(ribs, _soft(thickness - np.abs(y - curve), 0.006))
    img = img + 0.08 * ribs * (0.25 + 0.75 * lungs) * body * _soft(0.8 - y, 0.1)
    # Clavicles.
    for side in (-1, 1):
        clav = 0.13 + j[11] + 0.08 * np.abs(x - 0.5) - 0.02 * side * (x - 0.5)
        mask = _soft(0.012 - np.abs(y - clav), 0.006) * _soft(0.3 - np.abs(x - 0.5), 0.02)
        img = img + 0.14 * mask

    # Lung texture (vessels and overlap), then optionally a consolidation.
    img = img + 0.03 * _smooth_noise(rng, size, 24) * lungs
    if opacity:
        side_cx = 0.27 if rng.random() < 0.5 else 0.76
        cx = side_cx + rng.uniform(-0.04, 0.04)
        cy = rng.uniform(0.36, 0.56)
        radius = rng.uniform(0.08, 0.13)
        r2 = ((x - cx) ** 2 + (y - cy) ** 2) / radius**2
        blob = np.exp(-r2 * 1.5) * (1.0 + 0.35 * _smooth_noise(rng, size, 16))
        img = img + 0.3 * np.clip(blob, 0.0, None) * lungs

    img = img + 0.012 * rng.standard_normal(size).astype(np.float32)
    result: np.ndarray = np.clip(img, 0.0, 1.0).astype(np.float32)
    return result


def is_synthetic_uid(uid: str) -> bool:
    """True for a UID this module made (the images ``bedside demo-data`` writes): the GUI smoke
    test (``viewer.ui.app``) decides such an image only, never a patient's."""
    return uid.startswith(_UID_ROOT)


def _uid(*parts: object) -> UID:
    return generate_uid(prefix=_UID_ROOT, entropy_srcs=[str(p) for p in parts])


def make_cxr(
    seed: int,
    *,
    opacity: bool,
    modality: Modality = "CR",
    photometric: Photometric = "MONOCHROME2",
    size: tuple[int, int] = (512, 512),
    bits_stored: int = 12,
    view: str = "PA",
    pixel_spacing: float = 0.2,
    patient_index: int = 0,
) -> Dataset:
    """A complete, writable DICOM dataset of a synthetic chest X-ray.

    Stored values use ``bits_stored`` bits (unsigned); MONOCHROME1 stores the inverse, so after the
    standard display pipeline both look the same. A stored window (0028,1050)/(0028,1051) covers
    the anatomy; pixel spacing goes to (0028,0030) for CR and to (0018,1164) Imager Pixel
    Spacing for DX.
    """
    if not 8 <= bits_stored <= 16:
        raise ValueError("bits_stored must be between 8 and 16")
    rng = np.random.default_rng(seed)
    pixels = make_cxr_pixels(rng, size, opacity)
    max_value = (1 << bits_stored) - 1
    stored = np.round(pixels * max_value).astype(np.uint16 if bits_stored > 8 else np.uint8)
    if photometric == "MONOCHROME1":
        stored = (max_value - stored).astype(stored.dtype)

    sop_class = UID(CR_SOP_CLASS if modality == "CR" else DX_SOP_CLASS)
    study_uid = _uid("study", patient_index, seed)
    series_uid = _uid("series", patient_index, seed, modality)
    sop_uid = _uid("instance", patient_index, seed, modality, photometric, opacity, size)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID(_UID_ROOT + "1")
    meta.ImplementationVersionName = "BEDSIDE_SYNTH"

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = f"2026{1 + patient_index % 12:02d}{1 + seed % 28:02d}"
    ds.StudyTime = "101500"
    ds.ContentDate = ds.StudyDate
    ds.ContentTime = ds.StudyTime
    ds.AccessionNumber = f"SYNACC{patient_index:04d}{seed % 10000:04d}"
    ds.Modality = modality
    ds.Manufacturer = "Bedside Synthetic"
    ds.ManufacturerModelName = "Synthetic CXR Generator"
    ds.InstitutionName = "Synthetic Demo Hospital"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "SYNTHETIC CHEST X-RAY (DEMO)"
    ds.SeriesDescription = f"CHEST {view} ({modality}, synthetic)"
    ds.PatientName = f"SYNTHETIC^DEMO PATIENT {patient_index:02d}"
    ds.PatientID = f"SYN-{patient_index:04d}"
    ds.PatientBirthDate = f"19{50 + patient_index % 40:02d}0101"
    ds.PatientSex = "F" if patient_index % 2 else "M"
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = view
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = f"S{patient_index:04d}"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientOrientation = ["L", "F"]
    ds.Laterality = ""
    if modality == "DX":
        ds.ImagerPixelSpacing = [pixel_spacing, pixel_spacing]
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.RescaleIntercept = 0
        ds.RescaleSlope = 1
        ds.RescaleType = "US"
    else:
        ds.PixelSpacing = [pixel_spacing, pixel_spacing]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = 16 if bits_stored > 8 else 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    # Stored window over the anatomy: attenuation 0.07..0.77 of the range. The window applies to
    # stored values (PS3.3 C.11.2), which MONOCHROME1 keeps inverted, so its centre mirrors.
    centre = 0.42 if photometric == "MONOCHROME2" else 0.58
    ds.WindowCenter = [round(centre * max_value, 1), round(0.5 * max_value, 1)]
    ds.WindowWidth = [round(0.7 * max_value, 1), float(max_value + 1)]
    ds.WindowCenterWidthExplanation = ["CHEST", "FULL RANGE"]
    ds.PixelData = stored.tobytes()
    return ds


DEMO_SIZES = (64, 4096)  # pixels a side: the model's minimum .. a large detector's
MAX_DEMO_IMAGES = 10_000  # SYN0000 .. SYN9999


def write_demo_set(
    out_dir: Path | str, n: int = 8, seed: int = 0, size: tuple[int, int] = (512, 512)
) -> list[Path]:
    """Write ``n`` synthetic chest X-rays: CR and DX, some MONOCHROME1, half with an opacity.

    Sizes and counts are checked before a file is written: 65535 pixels a side asked numpy for
    16 GiB, a negative size gave numpy's words, 0 wrote 0 x 0 images, and 10**11 images ran for
    ever; the model takes 64 pixels a side at least (inference.checks)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BedsideError(f"Cannot write demo images into {out}: it is a file, not a folder.")
    if not all(DEMO_SIZES[0] <= side <= DEMO_SIZES[1] for side in size):
        raise BedsideError(
            f"The demo image size must be {DEMO_SIZES[0]} to {DEMO_SIZES[1]} pixels a side, "
            f"not {size[0]} x {size[1]}."
        )
    if not 1 <= n <= MAX_DEMO_IMAGES:
        raise BedsideError(f"The number of demo images must be 1 to {MAX_DEMO_IMAGES}, not {n}.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BedsideError(f"Cannot create the folder {out}: {exc.strerror}.") from exc
    paths: list[Path] = []
    for i in range(n):
        modality: Modality = "CR" if i % 2 == 0 else "DX"
        photometric: Photometric = "MONOCHROME1" if i % 4 == 2 else "MONOCHROME2"
        ds = make_cxr(
            seed * 1000 + i,
            opacity=i % 2 == 1 if i % 4 < 2 else i % 2 == 0,
            modality=modality,
            photometric=photometric,
            size=size,
            patient_index=i,
        )
        path = out / f"SYN{i:04d}.dcm"
        try:
            ds.save_as(path, enforce_file_format=True)
        except OSError as exc:
            raise BedsideError(f"Cannot write {path}: {exc.strerror}.") from exc
        paths.append(path)
    return paths
