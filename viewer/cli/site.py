"""``bedside site check``: IT's look at a site folder (``site.toml`` and ``trusted-keys/``).

It runs without loading the settings (``NO_SETTINGS`` in :mod:`viewer.cli.main`): the file it
checks may be the one that stops every other command. The findings come from
:func:`viewer.session.site_check.check_site`; this module prints them and exits 1 on any error.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from viewer.errors import printable, printable_json

SITE_FILE_NAME = "site.toml"


def site_file_for(site_dir: str | None, env: dict[str, str]) -> Path:
    """The file the app would read: DIR/site.toml, else as the app finds it
    ($BEDSIDE_SITE_CONFIG, else the default)."""
    if site_dir:
        return Path(site_dir) / SITE_FILE_NAME
    from viewer.paths import locate

    return locate(env, demo=False).site_file


def data_dir_for(env: dict[str, str]) -> Path:
    """This account's data folder, as the app finds it (BEDSIDE_DATA_DIR, else the default):
    where its audit rows wait for the department store and ATNA."""
    from viewer.paths import locate

    return locate(env, demo=False).data_dir


def cmd_check(args: argparse.Namespace) -> int:
    from viewer.keyprint import format_fingerprint
    from viewer.session.forwarding_status import state_text
    from viewer.session.site_check import check_site

    env = dict(os.environ)
    report = check_site(site_file_for(args.site_dir, env), data_dir=data_dir_for(env))
    if args.json:
        print(printable_json(json.dumps(report.as_json(), indent=2, ensure_ascii=False)))
        return 0 if report.ok else 1
    print(f"Site file:           {printable(report.site_file)}")
    print(f"Trusted-keys folder: {printable(report.keys_dir)}")
    for key, value in sorted(report.site_values.items()):
        print(f"  {key} = {printable(json.dumps(value, ensure_ascii=False))}")
    print(f"Trusted keys: {len(report.keys)}")
    for k in report.keys:
        print(f"  {printable(Path(k.path).name)}  {format_fingerprint(k.fingerprint)}")
    if report.forwarding:
        print(f"Audit forwarding from this account ({printable(report.data_dir)}):")
        for state in report.forwarding:
            print(f"  {printable(state_text(state))}")
    for f in report.findings:
        print(f"{f.level.upper():8} {printable(f.message)}")
    errors = len(report.errors)
    warnings = sum(1 for f in report.findings if f.level == "warning")
    verdict = "site folder OK" if report.ok else "site folder NOT OK"
    print(f"{verdict}: {errors} error(s), {warnings} warning(s).")
    return 0 if report.ok else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    site = sub.add_parser("site", help="IT: check the site configuration and trusted keys")
    ssub = site.add_subparsers(dest="site_command", metavar="ACTION", required=True)
    p = ssub.add_parser(
        "check",
        help="validate site.toml (schema, unknown and locked keys, paths, permissions) and the "
        "trusted keys (each parses, fingerprints, duplicates), and where this account's audit "
        "rows stand on their way to the department store and ATNA; exit 1 on any error",
    )
    p.add_argument(
        "--site-dir",
        metavar="DIR",
        help="the site folder to check (default: where this installation reads site.toml)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_check)
