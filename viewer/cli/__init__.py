"""Every command of ``bedside``, one module per group (pydicom's own ``cli/`` package is the model).

The commands sit on the same session and core functions as the window (``viewer.session``); none
holds workflow of its own. ``viewer.cli.main`` is the root parser and the console entry point.
"""

from viewer.cli.main import main

__all__ = ["main"]
