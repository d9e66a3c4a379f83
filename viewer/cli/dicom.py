"""``bedside dicom info|render|scan``: the DICOM layer on the command line.

Same core functions as the GUI. ``bedside demo-data OUT_DIR`` (synthetic chest X-rays with fake
patients) lives here too: it writes DICOM files. ``info`` and ``scan`` load neither numpy nor
pydicom for ordinary files (the header fast path, viewer.dicom.header); the pixel pipeline is
imported by ``render`` only (issue 19: start-up as a user's script meets it).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from viewer.dicom.index import StudyIndex, scan
from viewer.dicom.metadata import read_metadata
from viewer.dicom.model import VOI_FUNCTIONS, ImageMetadata, Window
from viewer.errors import DicomError, printable, printable_json

if TYPE_CHECKING:
    from viewer.config import Settings
    from viewer.paths import InstallationPaths


# zlib level 1: a 3000 x 3000 PNG in about a fifth of Pillow's default (6) time, a little larger
PNG_COMPRESS_LEVEL = 1


def _compress_level(text: str) -> int:
    try:
        level = int(text)
    except ValueError:
        level = -1
    if not 0 <= level <= 9:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 9, not {text!r}")
    return level


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``dicom`` command group to the root parser."""
    parser = sub.add_parser("dicom", help="inspect, render and index DICOM files")
    dsub = parser.add_subparsers(dest="dicom_command", metavar="SUBCOMMAND", required=True)

    p = dsub.add_parser("info", help="print the header metadata of DICOM files")
    p.add_argument("paths", nargs="+", metavar="PATH", help="DICOM files")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(func=_info)

    p = dsub.add_parser("render", help="write the display buffer of an image as an 8-bit PNG")
    p.add_argument("path", metavar="PATH", help="DICOM image file")
    p.add_argument("--out", required=True, metavar="FILE.png", help="PNG file to write")
    p.add_argument("--force", action="store_true", help="replace FILE.png if it already exists")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--window",
        nargs=2,
        type=float,
        metavar=("CENTER", "WIDTH"),
        help="explicit window (in modality units, after Rescale Slope/Intercept)",
    )
    group.add_argument(
        "--preset",
        type=int,
        metavar="N",
        help="stored preset N (1 = first; see `bedside dicom render PATH --list-presets`)",
    )
    group.add_argument("--auto", action="store_true", help="the automatic window from the data")
    p.add_argument(
        "--function",
        choices=VOI_FUNCTIONS,
        default="LINEAR",
        help="VOI LUT Function for --window (PS3.3 C.11.2.1.2; default LINEAR)",
    )
    p.add_argument("--invert", action="store_true", help="invert the grey scale on top")
    p.add_argument("--list-presets", action="store_true", help="list the presets and exit")
    p.add_argument(
        "--compress",
        type=_compress_level,
        default=PNG_COMPRESS_LEVEL,
        metavar="0-9",
        help=f"PNG (zlib) compression level: 0 none, 9 smallest and slowest; the pixels are the "
        f"same at every level (default {PNG_COMPRESS_LEVEL}, fast)",
    )
    p.set_defaults(func=_render)

    p = dsub.add_parser("scan", help="index files, folders and DICOMDIRs (patient/study/series)")
    p.add_argument("paths", nargs="+", metavar="DIR", help="folders, DICOMDIRs or files")
    p.add_argument("--json", action="store_true", help="the index as JSON on stdout")
    p.set_defaults(func=_scan)


def _meta_dict(meta: ImageMetadata) -> dict[str, Any]:
    return asdict(meta)


def _info(args: argparse.Namespace) -> int:
    results: list[dict[str, Any]] = []
    failed = 0
    for raw in args.paths:
        try:
            meta = read_metadata(raw, check_pixels=True)  # as scan and render judge it
        except DicomError as exc:
            failed += 1
            results.append({"path": str(raw), "error": exc.message})
            if not args.json:
                print(f"{printable(raw)}: error: {exc.message}", file=sys.stderr)
            continue
        results.append(_meta_dict(meta))
        if not args.json:
            _print_meta(meta)
    if args.json:
        print(printable_json(json.dumps(results, indent=2, ensure_ascii=False)))
    return 1 if failed else 0


def _print_meta(meta: ImageMetadata) -> None:
    """Header values are file text: each through :func:`printable` (no terminal escapes)."""
    print(printable(meta.path))
    for key, value in _meta_dict(meta).items():
        if key == "path":
            continue
        if key == "pixel_spacing" and value is not None:
            value = f"{value['row_mm']:g} x {value['col_mm']:g} mm ({value['source']})"
        print(f"  {key}: {'' if value is None else printable(value)}")


def _window_from_args(args: argparse.Namespace, windows: tuple[Window, ...]) -> Window | None:
    from viewer.dicom.pipeline import check_window

    if args.window is not None:
        center, width = args.window
        win = Window(center=center, width=width, function=args.function, explanation="command line")
        check_window(win)
        return win
    if args.preset is not None:
        if not 1 <= args.preset <= len(windows):
            listing = ", ".join(f"{i}: {w.label()}" for i, w in enumerate(windows, 1))
            raise DicomError(
                f"has no preset {args.preset} (presets: {listing or 'none stored'})",
                path=args.path,
            )
        preset: Window = windows[args.preset - 1]
        return preset
    return None


def _installation_paths(args: argparse.Namespace) -> InstallationPaths:
    """The files a PNG may never replace, without the settings' models when the site file is
    plain (viewer.paths.light_paths); otherwise the settings, whose message stops the command."""
    from viewer.paths import light_paths

    settings: Settings | None = getattr(args, "settings", None)
    if settings is not None:
        return settings.paths
    paths = light_paths(demo=bool(getattr(args, "demo", False)))
    if paths is None:
        from viewer.config import load_settings

        paths = load_settings(demo=bool(getattr(args, "demo", False))).paths
    return paths


def _render(args: argparse.Namespace) -> int:
    from viewer.dicom.direct import read_display  # numpy (pydicom only when a file needs it)
    from viewer.dicom.pipeline import DisplayRenderer
    from viewer.outputs import check_output_path

    paths = None
    if not args.list_presets:
        paths = _installation_paths(args)
        check_output_path(
            Path(args.out),
            settings=paths,
            overwrite=args.force,
            what="PNG",
            sources=(Path(args.path),),
        )
    image = read_display(args.path)
    if args.list_presets:
        for i, win in enumerate(image.windows, 1):
            print(f"{i}: {printable(win.label())}")
        print(f"auto: {printable(image.auto_window.label())}")
        return 0
    window = image.auto_window if args.auto else _window_from_args(args, image.windows)
    buffer = DisplayRenderer(image).render(window, invert=args.invert)
    write_png(
        buffer,
        Path(args.out),
        force=args.force,
        settings=paths,
        compress_level=args.compress,
        sources=(Path(args.path),),
    )
    used = window or image.default_window
    shape = f"{buffer.shape[1]} x {buffer.shape[0]}"
    print(f"{printable(args.out)}: {shape}, window {printable(used.label())}")
    return 0


def write_png(
    buffer: Any,
    out: Path,
    *,
    force: bool = False,
    settings: Settings | InstallationPaths | None = None,
    compress_level: int = PNG_COMPRESS_LEVEL,
    sources: tuple[Path, ...] = (),
) -> None:
    """Save a 2-D uint8 buffer as an 8-bit greyscale PNG (viewer.dicom.png, no Pillow),
    atomically and only where :func:`viewer.outputs.check_output_path` allows (never over the
    installation's own files).

    ``compress_level`` is zlib's 0-9: it changes the file's size and the time, never a pixel;
    ``sources`` (the DICOM file rendered) are never replaced."""
    from viewer.dicom.png import grey_png
    from viewer.outputs import write_atomically

    data = grey_png(buffer, level=compress_level)

    def save(fh: BinaryIO) -> None:
        fh.write(data)

    write_atomically(out, save, settings=settings, overwrite=force, what="PNG", sources=sources)


def _scan(args: argparse.Namespace) -> int:
    index = scan(args.paths)
    if args.json:
        print(printable_json(json.dumps(index.to_dict(), indent=2, ensure_ascii=False)))
    else:
        _print_index(index)
    return 1 if index.errors else 0


def _print_index(index: StudyIndex) -> None:
    """The index as text; names, descriptions and paths are file text (:func:`printable`)."""
    p = printable
    for patient in index.patients:
        print(f"{p(patient.patient_name or '(no name)')}  [{p(patient.patient_id or 'no ID')}]")
        for study in patient.studies:
            print(f"  study {p(study.study_date or '(no date)')} {p(study.description)}".rstrip())
            for series in study.series:
                number = "" if series.series_number is None else f"#{series.series_number} "
                print(
                    f"    series {number}{p(series.modality)} {p(series.description)} "
                    f"({len(series.instances)} image(s))"
                )
                for inst in series.instances:
                    print(f"      {p(inst.path)}")
    for meta in index.non_images:
        print(f"non-image ({p(meta.modality or meta.sop_class_uid)}): {p(meta.path)}")
    for err in index.errors:
        print(f"error: {p(err.path)}: {p(err.message)}", file=sys.stderr)
    for dup in index.duplicates:
        print(f"note: {p(dup.path)}: {p(dup.message)}", file=sys.stderr)
    for clash in index.conflicts:
        print(f"warning: {p(clash.path)}: {p(clash.message)}", file=sys.stderr)
    images = len(index.images())
    print(
        f"{images} image(s), {len(index.non_images)} non-image object(s), "
        f"{len(index.errors)} error(s), {len(index.skipped)} non-DICOM file(s) skipped, "
        f"{len(index.duplicates)} duplicate file(s) listed once, "
        f"{len(index.conflicts)} file(s) sharing another image's SOP Instance UID"
    )


def _cmd_demo_data(args: argparse.Namespace) -> int:
    size = (args.size, args.size)
    from viewer.dicom.synthetic import write_demo_set

    paths = write_demo_set(args.out_dir, n=args.count, seed=args.seed, size=size)
    for path in paths:
        print(printable(path))
    return 0


def register_demo_data(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo-data",
        help="write synthetic chest X-ray DICOM files (fake patients) for demos and tests",
    )
    p.add_argument("out_dir", type=Path, help="folder to write into (created if missing)")
    p.add_argument("--count", type=int, default=8, help="number of images (default 8)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--size", type=int, default=512, help="rows and columns (default 512)")
    p.set_defaults(func=_cmd_demo_data)
