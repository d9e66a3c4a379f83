"""DeLong against a published worked example with published variances: the aSAH data set
(113 patients after aneurysmal subarachnoid haemorrhage, 41 with a poor outcome; Turck et al.,
Crit Care 2010) that ships with pROC (Robin et al., BMC Bioinformatics 2011;12:77), and pROC's
published results on it: the DeLong variances of the WFNS score, S100B and NDKA (var.roc), the
paired DeLong test WFNS vs S100B (roc.test: Z = 2.209, p = 0.0272, as in pROC's manual) and the
DeLong interval of NDKA's AUC (ci.auc). Poor outcome is the positive class; higher is abnormal.
"""

from __future__ import annotations

import numpy as np
import pytest

from viewer.evaluation.stats import auc_delong, delong_paired


def _column(text: str) -> list[str]:
    return text.split()


# one column per variable, patients in pROC's row order
OUTCOME = _column(
    """
G G G G P P G P G G P G P P G G P G P P P G P G G G G G G G G G P G G P P G P P G G G G
G G G G G P P G G G P G G G P G P G G P P P G P P G P P P P G G G P P G P G G G G G G P
G G G G G G G G G G G G P P P P P P G G G P G G G
"""
)

WFNS = _column(
    """
1 1 1 1 3 2 5 4 1 2 5 2 5 5 1 2 5 2 2 5 2 1 1 1 1 2 1 2 1 1 3 4 2 1 4 5 4 1 4 2 5 5 1 1
2 4 1 1 2 5 5 2 1 2 5 1 2 2 2 1 5 1 1 2 5 2 1 4 5 2 4 4 1 4 1 2 1 4 2 1 2 3 2 4 2 1 4 5
1 1 5 4 2 2 1 1 1 3 1 2 5 2 2 5 5 5 2 4 4 5 1 1 1
"""
)

S100B = _column(
    """
0.13 0.14 0.1 0.04 0.13 0.1 0.47 0.16 0.18 0.1 0.12 0.1 0.44 0.71 0.04 0.08 0.49 0.04
0.07 0.33 0.09 0.09 0.07 0.11 0.07 0.17 0.07 0.11 0.13 0.19 0.05 0.16 0.41 0.14 0.34
0.35 0.48 0.09 0.96 0.25 0.5 0.46 0.16 0.07 0.43 0.45 0.11 0.08 0.09 0.86 0.52 0.08 0.06
0.13 2.07 0.1 0.14 0.15 0.07 0.06 0.77 0.05 0.09 0.3 0.03 0.09 0.04 0.23 0.7 0.09 0.27
0.71 0.08 0.26 0.08 0.16 0.09 0.13 0.1 0.08 0.11 0.33 0.11 0.28 0.07 0.1 0.32 0.22 0.07
0.05 0.24 0.38 0.1 0.15 0.08 0.14 0.1 0.07 0.04 0.19 0.56 0.14 0.58 0.32 0.82 0.74 0.15
0.47 0.17 0.44 0.15 0.5 0.48
"""
)

NDKA = _column(
    """
3.01 8.54 8.09 10.42 17.4 12.75 6.0 13.2 15.54 6.01 15.96 17.86 5.18 8.9 13.41 20.75
11.6 16.11 32.37 54.82 32.41 49.94 40.34 9.47 6.29 12.53 6.54 6.3 80.3 12.8 9.8 9.81
9.85 18.21 5.03 14.04 21.93 8.02 7.42 8.38 6.59 9.63 13.12 7.96 14.34 41.43 7.63 7.06
12.59 13.56 3.87 9.44 7.66 12.98 419.19 27.19 22.27 9.95 21.22 11.73 10.4 58.83 6.39
11.09 12.22 13.67 17.21 22.63 12.9 9.7 21.57 8.23 72.57 15.54 10.51 10.6 14.57 5.19 9.63
4.61 21.48 17.3 12.71 9.44 11.07 19.46 10.83 5.37 11.97 7.75 9.83 10.55 28.49 8.53 12.57
12.9 46.83 11.68 12.67 9.01 9.57 34.06 11.72 14.26 47.61 11.67 24.58 10.33 13.87 15.89
22.43 6.79 13.45
"""
)


TRUTH = np.array([o == "P" for o in OUTCOME])
MARKERS = {
    "wfns": np.array(WFNS, dtype=float),
    "s100b": np.array(S100B, dtype=float),
    "ndka": np.array(NDKA, dtype=float),
}


def test_the_data_set_is_the_published_one() -> None:
    assert len(TRUTH) == 113 and int(TRUTH.sum()) == 41
    assert all(len(v) == 113 for v in MARKERS.values())


@pytest.mark.parametrize(
    ("marker", "auc", "variance"),
    [
        ("wfns", 0.823678861788618, 0.00146991470882363),
        ("ndka", 0.611957994579946, 0.0031908105493913),
        ("s100b", None, 0.00266868245717244),
    ],
    ids=["wfns", "ndka", "s100b"],
)
def test_auc_and_delong_variance_equal_proc(
    marker: str, auc: float | None, variance: float
) -> None:
    got = auc_delong(TRUTH, MARKERS[marker])
    assert got is not None
    assert (got.positives, got.negatives) == (41, 72)
    if auc is not None:
        assert got.auc == pytest.approx(auc, rel=1e-12)
    assert got.variance == pytest.approx(variance, rel=1e-10)


def test_delong_interval_equals_proc_ci_auc() -> None:
    got = auc_delong(TRUTH, MARKERS["ndka"])
    assert got is not None
    assert (got.ci_low, got.ci_high) == pytest.approx(
        (0.501244999271703, 0.722670989888189), rel=1e-9
    )


@pytest.mark.parametrize(
    ("first", "second", "z", "p", "ci"),
    [
        (
            "wfns",
            "s100b",
            2.20898359144091,
            0.0271757822291882,
            (0.0104061769564846, 0.174214419249478),
        ),
        (
            "wfns",
            "ndka",
            2.79777591868904,
            0.00514557970691098,
            (0.0634011709339876, 0.3600405634833566),
        ),
        (
            "ndka",
            "s100b",
            -1.39077002573558,
            0.164295175223054,
            (-0.2876917446341914, 0.0488706064228094),
        ),
    ],
    ids=["wfns-s100b", "wfns-ndka", "ndka-s100b"],
)
def test_paired_delong_equals_proc_roc_test(
    first: str, second: str, z: float, p: float, ci: tuple[float, float]
) -> None:
    got = delong_paired(TRUTH, MARKERS[first], MARKERS[second])
    assert got is not None and got.z is not None and got.p is not None
    assert got.z == pytest.approx(z, rel=1e-9)
    assert got.p == pytest.approx(p, rel=1e-8)
    assert (got.ci_low, got.ci_high) == pytest.approx(ci, rel=1e-8)
