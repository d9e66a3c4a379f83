"""Benchmark of viewer.dicom against native references (dcmtk, OpenJPEG) on this machine.

Run: ``.venv/bin/python bench/bench_dicom.py`` (a few minutes). Writes bench/results/dicom.md.

What is measured, for a generated 3000 x 3000 12-bit chest X-ray stored uncompressed, as JPEG
lossless (SV1) and as JPEG 2000 lossless:
- open-to-display-buffer: ``read_image`` + ``DisplayRenderer(image).render()`` (file on disk to
  the uint8 buffer the GUI paints), median of N runs in this process;
- re-window: ``renderer.render(window)`` with a new window each time (the LUT is rebuilt);
- peak memory: max RSS of a child process that opens the image, minus the same child opening a
  tiny image (so the interpreter and imports cancel out); the same method for the native tool;
- index rate: ``scan()`` (header-only reads) over 1,000 generated files.

Native references and how process start-up is left out:
- ``dcmj2pnm`` (dcmtk) takes one file per invocation: N invocations on the big file minus N
  invocations on a tiny 8 x 8 file of the same syntax, divided by N. dcmtk in Debian cannot
  decode JPEG 2000, so that row uses OpenJPEG;
- ``opj_decompress`` (OpenJPEG) decodes a whole folder in one invocation (``-ImgDir``): a batch of
  N codestreams minus a batch of N tiny codestreams, divided by N;
- ``dcmdump`` reads many files in one invocation: 1,000 files in one run (``-M``, stop before
  Pixel Data) minus one run on a single tiny file, divided by 1,000.
The native tools also write their output (PGM to a tmpfs-like temp dir); we only fill memory.
File caches are warm on both sides (each file is read once before timing).
"""

from __future__ import annotations

import copy
import datetime
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import imagecodecs  # noqa: E402
import pydicom  # noqa: E402
from pydicom import uid  # noqa: E402
from pydicom.encaps import encapsulate, generate_frames  # noqa: E402
from pydicom.pixels.processing import apply_modality_lut, apply_voi_lut  # noqa: E402

from viewer.dicom import DisplayRenderer, Window, read_image, scan  # noqa: E402
from viewer.dicom.synthetic import make_cxr  # noqa: E402

SIZE = (3000, 3000)
RESULTS = ROOT / "bench" / "results" / "dicom.md"


Timing = tuple[float, float]  # (wall ms, CPU ms)


def measure(fn, n: int) -> Timing:  # type: ignore[no-untyped-def]
    """Medians of wall time and of this process's CPU time (all threads) over n calls."""
    walls, cpus = [], []
    for _ in range(n):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - w)
    return 1000 * statistics.median(walls), 1000 * statistics.median(cpus)


def write_variants(out: Path, size: tuple[int, int], tag: str) -> dict[str, Path]:
    ds = make_cxr(7, opacity=True, modality="CR", photometric="MONOCHROME1", size=size)
    paths = {}
    raw = out / f"{tag}-uncompressed.dcm"
    ds.save_as(raw, enforce_file_format=True)
    paths["uncompressed"] = raw
    arr = ds.pixel_array
    frames = {
        "JPEG lossless": (uid.JPEGLosslessSV1, imagecodecs.ljpeg_encode(arr, bitspersample=12)),
        "JPEG 2000": (
            uid.JPEG2000Lossless,
            imagecodecs.jpeg2k_encode(
                arr, level=0, reversible=True, codecformat="J2K", bitspersample=12
            ),
        ),
    }
    for name, (tsyntax, frame) in frames.items():
        enc = copy.deepcopy(ds)
        enc.file_meta.TransferSyntaxUID = tsyntax
        enc.PixelData = encapsulate([frame])
        enc["PixelData"].VR = "OB"
        paths[name] = out / f"{tag}-{tsyntax}.dcm"
        enc.save_as(paths[name], enforce_file_format=True)
    return paths


def write_index_folder(folder: Path, n: int = 1000) -> Path:
    """``n`` generated 128 x 128 CR files of one series (the index benchmarks' folder)."""
    folder.mkdir()
    base = make_cxr(1, opacity=False, size=(128, 128))
    for i in range(n):
        base.SOPInstanceUID = f"1.2.826.0.1.3680043.10.1398.9.{i + 1}"
        base.file_meta.MediaStorageSOPInstanceUID = base.SOPInstanceUID
        base.InstanceNumber = i + 1
        base.save_as(folder / f"IM{i:04d}.dcm", enforce_file_format=True)
    return folder


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_batch(cmds: list[list[str]]) -> Timing:
    """Wall and children's CPU seconds for running ``cmds`` one after the other."""
    w, c = time.perf_counter(), _children_cpu()
    for cmd in cmds:
        subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - w, _children_cpu() - c


def per_item_ms(big: Timing, small: Timing, n: int) -> Timing:
    return 1000 * (big[0] - small[0]) / n, 1000 * (big[1] - small[1]) / n


def dcmj2pnm_per_image(big: Path, tiny: Path, out: Path, n: int, window: Window) -> Timing:
    opts = ["+Ww", f"{window.center:.3f}", f"{window.width:.3f}"]
    run_batch([["dcmj2pnm", *opts, str(big), str(out)]])  # warm
    t_big = run_batch([["dcmj2pnm", *opts, str(big), str(out)] for _ in range(n)])
    t_tiny = run_batch([["dcmj2pnm", *opts, str(tiny), str(out)] for _ in range(n)])
    return per_item_ms(t_big, t_tiny, n)


def codestream(path: Path) -> bytes:
    ds = pydicom.dcmread(path)
    return next(generate_frames(ds.PixelData, number_of_frames=1))


def opj_per_image(big: Path, tiny: Path, work: Path, n: int) -> Timing:
    """One ``opj_decompress -ImgDir`` batch of n codestreams (outputs land beside them)."""

    def batch(src: Path, name: str) -> Timing:
        folder = work / f"opj-{name}"
        folder.mkdir(exist_ok=True)
        data = codestream(src)
        for i in range(n):
            (folder / f"{i:03d}.j2k").write_bytes(data)
        cmd = ["opj_decompress", "-ImgDir", str(folder), "-OutFor", "PGM"]
        run_batch([cmd])  # warm
        for produced in folder.glob("*.p?m"):
            produced.unlink()
        return run_batch([cmd])

    return per_item_ms(batch(big, "big"), batch(tiny, "tiny"), n)


# VmHWM (peak RSS of this process image), not ru_maxrss: Linux keeps ru_maxrss across execve,
# so a child of this (large) benchmark process would report the parent's peak.
CHILD = """
import sys
sys.path.insert(0, {root!r})
from viewer.dicom import DisplayRenderer, read_image
image = read_image(sys.argv[1])
DisplayRenderer(image).render()
status = open("/proc/self/status").read().split()
print(status[status.index("VmHWM:") + 1])
"""


def child_rss_kib(path: Path) -> int:
    code = CHILD.format(root=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def native_rss_kib(cmd: list[str]) -> int:
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd], check=True, capture_output=True, text=True
    )
    return int(out.stderr.strip().splitlines()[-1])


def float_pipeline_ms(path: Path, n: int) -> Timing:
    """The pydicom float pipeline per re-window (what we avoid): modality, VOI, scale to 8 bits."""
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array

    def once() -> None:
        mod = apply_modality_lut(arr, ds)
        voi = apply_voi_lut(mod, ds)
        lo, hi = 0.0, float(2**ds.BitsStored - 1)
        np.clip((voi - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)

    return measure(once, n)


def main() -> int:
    have = {
        tool: shutil.which(tool) is not None for tool in ("dcmj2pnm", "dcmdump", "opj_decompress")
    }
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("generating files ...", flush=True)
        big = write_variants(work, SIZE, "big")
        tiny = write_variants(work, (8, 8), "tiny")
        counts = {"uncompressed": 15, "JPEG lossless": 5, "JPEG 2000": 3}
        results: dict[str, dict[str, Any]] = {}
        window = Window(2000, 3000)
        for name, path in big.items():
            read_image(path)  # warm caches and imports
            n = counts[name]
            ours = measure(lambda p=path: DisplayRenderer(read_image(p)).render(), n)
            renderer = DisplayRenderer(read_image(path))

            def rewindow(r: DisplayRenderer = renderer, k: list[int] = [0]) -> None:  # noqa: B006
                k[0] += 1  # a new window (and table) every call
                r.render(Window(1500 + k[0], 2500 + k[0]))

            rew = measure(rewindow, 30)
            rss_ours = (child_rss_kib(path) - child_rss_kib(tiny[name])) / 1024
            nan = float("nan")
            native_name, native_ms, rss_native = "-", (nan, nan), nan
            out = work / "out.pgm"
            if name in ("uncompressed", "JPEG lossless") and have["dcmj2pnm"]:
                native_name = "dcmj2pnm"
                native_ms = dcmj2pnm_per_image(path, tiny[name], out, n, window)
                opts = ["+Ww", "2000", "3000"]
                rss_native = (
                    native_rss_kib(["dcmj2pnm", *opts, str(path), str(out)])
                    - native_rss_kib(["dcmj2pnm", *opts, str(tiny[name]), str(out)])
                ) / 1024
            elif name == "JPEG 2000" and have["opj_decompress"]:
                native_name = "opj_decompress"
                native_ms = opj_per_image(path, tiny[name], work, 4)
                cs_big, cs_tiny = work / "one.j2k", work / "tiny.j2k"
                cs_big.write_bytes(codestream(path))
                cs_tiny.write_bytes(codestream(tiny[name]))
                rss_native = (
                    native_rss_kib(["opj_decompress", "-i", str(cs_big), "-o", str(out)])
                    - native_rss_kib(["opj_decompress", "-i", str(cs_tiny), "-o", str(out)])
                ) / 1024
            results[name] = {
                "ours": ours,
                "rewindow": rew,
                "rss": rss_ours,
                "native": native_name,
                "native_ms": native_ms,
                "native_rss": rss_native,
            }
            print(name, results[name], flush=True)
        float_ms = float_pipeline_ms(big["uncompressed"], 5)

        print("index: generating 1000 files ...", flush=True)
        folder = write_index_folder(work / "index")
        scan([folder])  # warm
        t_scan = measure(lambda: scan([folder]), 3)
        index_rate = (1e6 / t_scan[0], 1e6 / t_scan[1])  # files/s by wall and by CPU
        native_index = (float("nan"), float("nan"))
        if have["dcmdump"]:
            files = sorted(str(p) for p in folder.iterdir())
            cmd = ["dcmdump", "-q", "-M", "+sb", "7fe0,0010"]
            run_batch([[*cmd, *files]])
            t_all = run_batch([[*cmd, *files]])
            t_one = run_batch([[*cmd, files[0]]])
            per_file = per_item_ms(t_all, t_one, 999)
            native_index = (1000 / per_file[0], 1000 / per_file[1])

    lines = [
        "## viewer.dicom",
        "",
        f"Machine: {os.cpu_count()} cores (load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after: other sessions share these cores), "
        f"{platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, pydicom {pydicom.__version__}; "
        f"run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. "
        "Generated 3000 x 3000 12-bit MONOCHROME1 CR. Medians; native per-image times with "
        "process start-up subtracted (method in bench/bench_dicom.py).",
        "",
        "Each time cell is **wall** / CPU ms (CPU = this process's threads, or the native "
        "child's user+sys); ratios are ours / native. With other sessions loading the machine, "
        "the CPU figures are the steadier comparison.",
        "",
        "These are in-process library figures with the native tools' start-up subtracted, ours "
        "and native measured one after the other (not interleaved): what a user meets running "
        "the commands, start-up included and interleaved, is the `bedside dicom render|scan` vs "
        "dcmtk section (bench/bench_cli_parity.py).",
        "",
        "| file | open to display buffer | native reference | native | ratio wall | ratio CPU "
        "| re-window | peak memory ours (MiB) | peak memory native (MiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(t: Timing) -> str:
        return f"**{t[0]:.0f}** / {t[1]:.0f}"

    for name, r in results.items():
        ours, native = r["ours"], r["native_ms"]
        lines.append(
            f"| {name} | {cell(ours)} | {r['native']} | {cell(native)} | "
            f"{ours[0] / native[0]:.2f} | {ours[1] / native[1]:.2f} | "
            f"**{r['rewindow'][0]:.1f}** / {r['rewindow'][1]:.1f} | {r['rss']:.0f} | "
            f"{r['native_rss']:.0f} |"
        )
    rew = results["uncompressed"]["rewindow"]
    lines += [
        "",
        f"Re-window reference: pydicom's float pipeline (apply_modality_lut + apply_voi_lut + "
        f"scaling to 8 bits) on the same uncompressed image: {cell(float_ms)} ms per window; "
        f"ours is a uint8 table lookup ({cell(rew)} ms, {float_ms[0] / rew[0]:.0f}x less wall "
        "time).",
        "",
        f"Index (header-only reads, 1,000 files of 128 x 128): **{index_rate[0]:.0f} files/s** "
        f"wall ({index_rate[1]:.0f} files/s of CPU); dcmdump on the same files in one "
        f"invocation (stop before Pixel Data): {native_index[0]:.0f} files/s wall "
        f"({native_index[1]:.0f} of CPU); ratio ours/native time "
        f"{native_index[0] / index_rate[0]:.2f} wall, {native_index[1] / index_rate[1]:.2f} CPU.",
        "",
        "Targets: uncompressed open-to-buffer <= 100 ms, re-window <= 15 ms, index >= 1,000 "
        "files/s, no row slower than 2x its native reference.",
        "",
    ]
    text = "\n".join(lines)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
