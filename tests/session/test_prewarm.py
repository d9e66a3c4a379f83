"""The start-up import of torch (viewer.session.prewarm, issue 19 item 4).

Each check runs in a fresh interpreter, as ``bedside gui`` starts: in the test process torch is
already imported, so nothing about an import could be seen there.
"""

from __future__ import annotations

import json
import subprocess
import sys

from viewer.session.prewarm import Prewarm

RUN_S = 180  # a cold torch import on a busy CI machine; never a hang


def _run(code: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=RUN_S, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_prewarm_imports_torch_and_the_model_code_in_its_own_thread() -> None:
    got = _run(
        "import gc, json, sys, threading\n"
        "from viewer.session.prewarm import GUI_MODULES, MODEL_MODULES, start_prewarm\n"
        "marks = []\n"
        "p = start_prewarm(mark=lambda name: marks.append((name, threading.get_ident())))\n"
        "ok = p.wait(170)\n"
        "main = threading.get_ident()\n"
        "print(json.dumps({'ok': ok, 'error': repr(p.error), 'marks': [m for m, _ in marks],\n"
        "  'collector': gc.isenabled(), 'frozen': gc.get_freeze_count() > 100_000,\n"
        "  'threads': sorted({t != main for _, t in marks}),\n"
        "  'missing': [m for m in ('torch', *GUI_MODULES, *MODEL_MODULES)\n"
        "  if m not in sys.modules]}))\n"
    )
    assert got == {
        "ok": True,
        "error": "None",
        "marks": ["prewarm_linked", "prewarm_torch", "prewarm_done"],
        "threads": [True],  # every mark from the prewarm's thread, none from the caller's
        "missing": [],
        "collector": True,  # off during the imports only
        "frozen": True,  # torch's objects are out of the collector's full passes
    }


def test_torch_works_after_its_library_was_mapped_ahead() -> None:
    # libtorch_cpu mapped through ctypes first (GIL released), then torch imported on top: the
    # same library, once, and torch computes as usual
    got = _run(
        "import json\n"
        "from viewer.session.prewarm import _preload_libtorch\n"
        "_preload_libtorch()\n"
        "maps = open('/proc/self/maps').read()\n"
        "early = 'libtorch_cpu.so' in maps and 'libtorch_python.so' not in maps\n"
        "import torch\n"
        "paths = {l.split()[-1] for l in open('/proc/self/maps') if 'libtorch_cpu.so' in l}\n"
        "y = torch.nn.functional.conv2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3))\n"
        "print(json.dumps({'early': early, 'copies': len(paths), 'sum': float(y.sum())}))\n"
    )
    assert got == {"early": True, "copies": 1, "sum": 36.0}


def _missing_module(_mark: object) -> None:
    import viewer.no_such_module  # type: ignore[import-not-found]  # noqa: F401


def test_a_failed_import_is_kept_for_the_load_job_never_raised() -> None:
    p = Prewarm(models=_missing_module).start()
    assert p.wait(RUN_S)
    assert p.done
    assert isinstance(p.error, ModuleNotFoundError)
    assert "viewer.no_such_module" in str(p.error)


def test_waiting_stops_when_cancelled_or_timed_out() -> None:
    p = Prewarm()  # never started: it would never finish
    assert not p.wait(RUN_S, cancelled=lambda: True)  # a hang here is the timeout's to catch
    assert not p.wait(0.1)
    assert not p.done


def test_the_modules_imported_before_torch_do_not_import_it() -> None:
    # they go first so the GUI thread finds them imported; pulling torch in would put the whole
    # torch import in front of them (and of the GUI thread waiting for their module locks)
    got = _run(
        "import json, sys\n"
        "from viewer.session.prewarm import GUI_MODULES\n"
        "for name in GUI_MODULES: __import__(name)\n"
        "print(json.dumps({'torch': 'torch' in sys.modules}))\n"
    )
    assert got == {"torch": False}
