"""Guard against a PySide6 6.12 reference-count bug on Python 3.11.

Measured here (PySide6-Essentials 6.12.0, CPython 3.11): every call of a Qt method that returns
``void`` (``QLabel.setText``, ``QTreeWidgetItem.addChild``, ``QTimer.start`` ...) or a null
pointer as ``None`` (``QWidget.parent()``) gives Python a ``None`` it did not add a reference to,
so ``sys.getrefcount(None)`` falls by one per call. From Python 3.12 ``None``, ``True`` and
``False`` are immortal and nothing happens; on 3.11 the count reaches zero after a few thousand
calls and the interpreter aborts ("Fatal Python error: none_dealloc") — a reading workstation
that crashes after minutes of use.

The guard gives these statically allocated singletons a reference count so large (2**40) that no
session can exhaust it, which is what CPython 3.12 does officially (PEP 683). The objects are
never freed in any case, so nothing else changes. It is applied once, before any Qt call, by
every viewer.ui entry point.
"""

from __future__ import annotations

import ctypes
import platform
import sys

_BUMP = 1 << 40
_applied = False


def apply() -> bool:
    """Make None/True/False/Ellipsis/NotImplemented effectively immortal; True if applied."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    for obj in (None, True, False, Ellipsis, NotImplemented):
        # ob_refcnt is the first field of every PyObject in a release build (Include/object.h).
        ctypes.c_ssize_t.from_address(id(obj)).value += _BUMP
    _applied = True
    return True
