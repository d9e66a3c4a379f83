"""``bedside pacs`` options a script may get wrong: refused by the parser in words (exit 2)
before anything reaches PACS, never a traceback, a misleading PACS error or an endless wait."""

from __future__ import annotations

import pytest

from viewer.cli.main import main


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "1e308", "soon"])
@pytest.mark.parametrize(
    "argv",
    [
        ["pacs", "echo", "--timeout"],
        ["pacs", "find", "--patient-id", "X", "--timeout"],
        ["pacs", "send", "missing.dcm", "--wait"],
    ],
    ids=["echo", "find", "send"],
)
def test_a_timeout_that_is_not_a_finite_positive_time_is_refused(
    capsys: pytest.CaptureFixture[str], argv: list[str], value: str
) -> None:
    if argv[1] == "send" and value == "0":
        pytest.skip("--wait 0 is a valid 'do not wait'")
    with pytest.raises(SystemExit) as stop:
        main([*argv, value])
    out, err = capsys.readouterr()
    assert stop.value.code == 2 and out == ""
    assert "Traceback" not in err
    assert "seconds" in err.splitlines()[-1]
