"""The command line: ``bedside [--demo] COMMAND ...`` over the same core functions as the GUI.

Each command group is a module of this package with ``register(subparsers)``; this module only
builds the root parser, loads settings, and turns every :class:`BedsideError` into one clear line
on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from viewer import __version__
from viewer.config import load_settings
from viewer.errors import BedsideError

Handler = Callable[[argparse.Namespace], int]


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
        args.settings, paths=paths, demo_study=getattr(args, "demo_study", False)
    )
    return result


def _demo(args: argparse.Namespace) -> int:
    args.demo_study = not args.paths
    return _gui(args)


GUI_COMMANDS = frozenset({"gui", "open", "demo"})


def build_parser(*, layers: bool = True) -> argparse.ArgumentParser:
    """The root parser; ``layers=False`` leaves out the layer commands (a faster window start)."""
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
        _register_commands(sub)
    return parser


def _register_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The headless command groups; each command sets ``func(args) -> int``."""
    from viewer.cli import audit, bundle, dicom, infer, selfcheck

    dicom.register(sub)
    bundle.register(sub)
    infer.register(sub)
    audit.register(sub)
    selfcheck.register(sub)
    dicom.register_demo_data(sub)


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
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(layers=command not in GUI_COMMANDS)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        args.demo = bool(args.demo) or args.command == "demo"
        args.settings = load_settings(demo=args.demo)
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
