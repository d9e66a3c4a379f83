"""The PACS line when this workstation will not connect (its CA file can be changed by other
accounts): it names the reason, in red, where "PACS unreachable" would have sent IT looking at
the network; the command line's words (``viewer.pacs.state.state_text``) are the same."""

from __future__ import annotations

import datetime as dt
from typing import Any

from viewer.pacs.state import PacsState, state_text

WHY = (
    "The CA file in pacs.ca_file (/etc/bedside/pacs-ca.pem) is writable by other users (every "
    "account on this computer, mode 0666): it is not trusted until IT fixes its permissions "
    "(run: chmod o-w /etc/bedside/pacs-ca.pem)."
)


def test_a_blocked_line_says_why_in_red(qtbot: Any) -> None:
    from viewer.ui.qt_pacs import QtPacsStatus

    label = QtPacsStatus()
    qtbot.addWidget(label)
    state = PacsState("blocked", dt.datetime.now(dt.UTC), 2, WHY)
    label.set_state(state)
    assert (
        label.text()
        == state_text(state)
        == f"Not sent to PACS (2 waiting): {WHY} They are kept and go out once this is fixed."
    )
    assert not label.isHidden()
    assert "#b00020" in label.styleSheet()
