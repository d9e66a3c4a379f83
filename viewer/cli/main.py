"""The command line: ``bedside [--demo] COMMAND ...`` over the same core functions as the GUI.

Each command group is a module of this package with ``register(subparsers)``; this module only
builds the root parser, loads settings, and turns every :class:`BedsideError` into one clear line
on stderr and a non-zero exit code, never a traceback.

Start-up (issue 19): every command pays for what this module imports before it does anything, so
it imports nothing heavy. The command groups are a table (:data:`COMMANDS`: name, one-line help,
registration function); the root parser lists every name with its help, and only the chosen
command's module is imported to register its real parser. ``--version`` and ``--help`` import no
command module, no settings (pydantic), no torch, no Qt (``tests/cli/test_startup.py``).
Settings are loaded after parsing, and not at all for commands that do not use them
(:data:`NO_SETTINGS`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from viewer import __version__
from viewer.errors import BedsideError

if TYPE_CHECKING:
    from typing import TypeAlias

    from viewer.config import Settings

Handler = Callable[[argparse.Namespace], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # generic to mypy


def load_settings(*, demo: bool = False) -> Settings:
    """``viewer.config.load_settings``, imported when a command runs (pydantic is not free)."""
    from viewer.config import load_settings as load

    return load(demo=demo)


def _check_display(env: dict[str, str]) -> None:
    """Qt aborts the whole process (no exception) when Linux has no screen; say so instead."""
    if sys.platform.startswith("linux") and not (
        env.get("QT_QPA_PLATFORM") or env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")
    ):
        raise BedsideError(
            "There is no screen to open the viewer window on (neither DISPLAY nor "
            "WAYLAND_DISPLAY is set). Start Bedside from a desktop session, or under xvfb-run "
            "for testing; the command line works without a window (bedside --help)."
        )


def _gui(args: argparse.Namespace) -> int:
    _check_display(dict(os.environ))
    # torch (seconds) starts importing now, beside Qt and the window, not after them (issue 19)
    from viewer.session.prewarm import launch_mark, start_prewarm

    prewarm = start_prewarm(mark=launch_mark)
    # The one import from this face into the other (named in the layers contract's
    # ignore_imports): only the GUI commands load Qt, and only when run.
    try:
        from viewer.ui import app
    except ImportError as exc:
        raise BedsideError(
            f"The viewer window cannot start: {exc}. The command line (bedside --help) works "
            "without it; reinstall Bedside to restore the window."
        ) from exc
    paths: list[Path] = [Path(p) for p in getattr(args, "paths", [])]
    result: int = app.run_gui(
        args.settings, paths=paths, demo_study=getattr(args, "demo_study", False), prewarm=prewarm
    )
    return result


def _demo(args: argparse.Namespace) -> int:
    args.demo_study = not args.paths
    return _gui(args)


GUI_COMMANDS = frozenset({"gui", "open", "demo"})


def _register_dicom(sub: Subparsers) -> None:
    from viewer.cli import dicom

    dicom.register(sub)


def _register_demo_data(sub: Subparsers) -> None:
    from viewer.cli import dicom

    dicom.register_demo_data(sub)


def _register_bundle(sub: Subparsers) -> None:
    from viewer.cli import bundle

    bundle.register(sub)  # both "keys" and "bundle"


def _register_infer(sub: Subparsers) -> None:
    from viewer.cli import infer

    infer.register(sub)


def _register_audit(sub: Subparsers) -> None:
    from viewer.cli import audit

    audit.register(sub)


def _register_monitor(sub: Subparsers) -> None:
    from viewer.cli import monitor

    monitor.register(sub)


def _register_model(sub: Subparsers) -> None:
    from viewer.cli import model

    model.register(sub)


def _register_site(sub: Subparsers) -> None:
    from viewer.cli import site

    site.register(sub)


def _register_pacs(sub: Subparsers) -> None:
    from viewer.cli import pacs

    pacs.register(sub)


def _register_selfcheck(sub: Subparsers) -> None:
    from viewer.cli import selfcheck

    selfcheck.register(sub)


# The headless command groups in --help order: (name, help as the module registers it, the
# function that imports the module and registers its real parser). A test checks this table
# against the modules' own registration, so a new command cannot be forgotten here.
COMMANDS: tuple[tuple[str, str, Callable[[Subparsers], None]], ...] = (
    ("dicom", "inspect, render and index DICOM files", _register_dicom),
    ("keys", "signing keys for model bundles", _register_bundle),
    ("bundle", "create, sign, verify and install model bundles", _register_bundle),
    ("infer", "score DICOM chest X-rays with a trusted model bundle (headless)", _register_infer),
    ("audit", "verify, browse and export the audit log", _register_audit),
    (
        "model",
        "local recalibration (site thresholds) and comparison of model versions",
        _register_model,
    ),
    ("monitor", "site drift monitor: scores, input mix and rates over time", _register_monitor),
    ("pacs", "PACS: connection test, search, retrieve, send, outbox", _register_pacs),
    ("site", "IT: check the site configuration and trusted keys", _register_site),
    (
        "self-check",
        "verify this installation headless (demo bundle, DICOM decode, inference, audit)",
        _register_selfcheck,
    ),
    (
        "demo-data",
        "write synthetic chest X-ray DICOM files (fake patients) for demos and tests",
        _register_demo_data,
    ),
)

# Commands whose numpy work never calls BLAS (no matrix products or linear algebra).
BLAS_FREE = frozenset({"dicom"})

# Commands that read no setting: they run without loading the settings files (and pydantic).
# `site check` also runs without them: the site file it checks may be what stops every command.
# `dicom render` needs only the paths a PNG may never replace (viewer.paths.light_paths).
NO_SETTINGS = frozenset(
    {("dicom", "info"), ("dicom", "scan"), ("dicom", "render"), ("site", "check")}
)


def build_parser(*, layers: bool = True, command: str | None = None) -> argparse.ArgumentParser:
    """The root parser. ``layers=False`` leaves out the layer commands (a faster window start).

    ``command``: register only that command's module for real; every other command is listed
    (name and help, for ``--help`` and usage errors) without importing its module. ``None``
    registers every module (the complete parser, for tests and documentation).
    """
    parser = argparse.ArgumentParser(
        prog="bedside",
        description="Bedside: chest X-ray viewer with a trusted AI second reader.",
    )
    parser.add_argument("--version", action="version", version=f"bedside {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="demo mode: trust the demo model key, use a throwaway data dir "
        "(unless BEDSIDE_DATA_DIR is set); NOT FOR CLINICAL USE",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the viewer window")
    p.add_argument("paths", nargs="*", help="DICOM files, folders or DICOMDIRs to open")
    p.set_defaults(func=_gui)
    p = sub.add_parser("open", help="open DICOM files, folders or DICOMDIRs in the viewer window")
    p.add_argument("paths", nargs="+", help="DICOM files, folders or DICOMDIRs")
    p.set_defaults(func=_gui)
    p = sub.add_parser("demo", help="open the viewer in demo mode on a generated demo study")
    p.add_argument("paths", nargs="*", help="optional files to open instead of the demo study")
    p.set_defaults(func=_demo)

    if layers:
        _register_commands(sub, command=command)
    return parser


def _register_commands(sub: Subparsers, *, command: str | None = None) -> None:
    """The headless command groups; each command sets ``func(args) -> int``."""
    if command is None:
        for register in dict.fromkeys(entry[2] for entry in COMMANDS):
            register(sub)
        return
    chosen = next((entry[2] for entry in COMMANDS if entry[0] == command), None)
    if chosen is not None:
        chosen(sub)
    for name, help_text, _register in COMMANDS:
        if name not in sub.choices:  # listed only: its module is not imported
            sub.add_parser(name, help=help_text)


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a reader that went away


def _silence_closed_stdout() -> None:
    """Point stdout (and stderr, when it is the same closed pipe) at /dev/null, so the
    interpreter's final flush does not raise a second BrokenPipeError while exiting (the
    recipe of Python's ``signal`` documentation, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (BrokenPipeError, ValueError):
                # not a real file (a test's capture): then nothing is flushed at exit
                with contextlib.suppress(OSError, ValueError):
                    os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status.

    A reader that closes the pipe early (``bedside audit show | head -1``) ends the command
    quietly with status 141 (128 + SIGPIPE, as a shell reports a program killed by SIGPIPE),
    never a BrokenPipeError traceback; the output already written stays as it was.
    """
    try:
        try:
            status = _main(argv)
        except SystemExit:  # argparse's --help / --version / usage errors: flush them here
            sys.stdout.flush()
            raise
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _silence_closed_stdout()
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The root options take no value, so the first word is the command.
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in BLAS_FREE and "numpy" not in sys.modules:
        # numpy starts an OpenBLAS thread per core at import; these commands never call BLAS
        # (lookup tables, percentiles), and on a busy 2-core machine the pool costs 50-70 ms of
        # a 0.6 s `dicom render` (issue 19 item 2). A value the user set is kept.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    parser = build_parser(layers=command not in GUI_COMMANDS, command=command or "")
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        args.demo = bool(args.demo) or args.command == "demo"
        group = (args.command, getattr(args, f"{args.command}_command", None))
        args.settings = None if group in NO_SETTINGS else load_settings(demo=args.demo)
        handler: Handler = args.func
        return handler(args)
    except BedsideError as exc:
        print(f"bedside: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bedside: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
