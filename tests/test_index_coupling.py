"""Coupling coordination degree: traditional and corrected C, T, D, and grade tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cocity.index.coupling import (
    coupling_coordination,
    coupling_degree,
    development_index,
    grade,
    load_grade_table,
)
from cocity.index.errors import MethodInputError
from cocity.spec import SpecError

NAN = np.nan


def test_two_subsystems_by_hand() -> None:
    U = np.array([[0.4, 0.6]])
    # traditional: 2·sqrt(.24)/(.4 + .6) = .9797959 ; T = .5 ; D = sqrt(.4898979) = .6999271
    res = coupling_coordination(U)
    np.testing.assert_allclose(res.C, [2 * np.sqrt(0.24)], rtol=1e-12)
    np.testing.assert_allclose(res.T, [0.5])
    np.testing.assert_allclose(res.D, [0.6999271], atol=1e-7)
    # corrected: sqrt[(1 − |.4 − .6|) · .4/.6] = sqrt(.8 · 2/3) = .7302967 ; D = .6042751
    res = coupling_coordination(U, variant="corrected")
    np.testing.assert_allclose(res.C, [np.sqrt(0.8 * 2 / 3)], rtol=1e-12)
    np.testing.assert_allclose(res.D, [0.6042751], atol=1e-7)


def test_three_subsystems_by_hand() -> None:
    U = np.array([[0.2, 0.4, 0.8]])
    # traditional: 3 · (.064)^(1/3) / 1.4 = 3·.4/1.4 = 6/7 ; T = 1.4/3 ; D = sqrt(.4)
    res = coupling_coordination(U)
    np.testing.assert_allclose(res.C, [6 / 7], rtol=1e-12)
    np.testing.assert_allclose(res.T, [1.4 / 3], rtol=1e-12)
    np.testing.assert_allclose(res.D, [np.sqrt(0.4)], rtol=1e-12)
    # corrected: pair differences .2, .6, .4 → sqrt(.04 + .36 + .16)/3 = .7483315/3 = .2494438
    # ratios to the max: .25 · .5 · 1 = .125, ^(1/2) = .3535534
    # C = sqrt(.7505562 · .3535534) = sqrt(.2653617) = .5151327
    C = coupling_degree(U, variant="corrected")
    np.testing.assert_allclose(C, [np.sqrt((1 - np.sqrt(0.56) / 3) * np.sqrt(0.125))],
                               rtol=1e-12)
    np.testing.assert_allclose(C, [0.5151327], atol=1e-7)


def test_published_two_system_pairs_fit_the_ratio_reading() -> None:
    """王淑佳 et al. (2021), Table 8: traditional vs corrected C of 京津冀 cities.

    For n = 2 the two formulas give ``r = min/max`` from the traditional C and then the gap
    ``d = max − min`` from the corrected C; the scores that reproduce a published pair must lie
    in [0, 1]. With the ``U_i / max U`` reading they do (and both C values are reproduced by
    this module); with the ``Π U_i / max U`` reading the 承德 2008 pair has no solution.
    """
    for c_trad, c_corr in ((0.9989, 0.9404), (0.6101, 0.2700), (0.8868, 0.5440)):
        s = (2 - np.sqrt(4 - 4 * c_trad ** 2)) / (2 * c_trad)     # 2s/(1 + s²) = C_trad
        r = s ** 2
        d = 1 - c_corr ** 2 / r
        top = d / (1 - r)
        U = np.array([[top * r, top]])
        assert U.min() >= 0 and U.max() <= 1
        np.testing.assert_allclose(coupling_degree(U), [c_trad], atol=1e-9)
        np.testing.assert_allclose(coupling_degree(U, variant="corrected"), [c_corr], atol=1e-9)
    # the other reading for 承德 2008: (1 − (1 − r)·top)·r·top = C_corr² has no real root
    s = (2 - np.sqrt(4 - 4 * 0.6101 ** 2)) / (2 * 0.6101)
    r = s ** 2
    a, b, c = (1 - r) * r, -r, 0.27 ** 2
    assert b * b - 4 * a * c < 0


def test_weights_alpha() -> None:
    U = np.array([[0.2, 0.4, 0.8]])
    # .5·.2 + .3·.4 + .2·.8 = .38
    np.testing.assert_allclose(development_index(U, alpha=[0.5, 0.3, 0.2]), [0.38])
    with pytest.raises(MethodInputError, match=r"子系统权重\ α\ 须为\ 3\ 个非负数且和为\ 1"):
        development_index(U, alpha=[0.5, 0.3, 0.3])
    with pytest.raises(MethodInputError, match=r"子系统权重\ α\ 须为\ 3\ 个非负数且和为\ 1"):
        development_index(U, alpha=[0.5, 0.5])


def test_equal_zero_and_missing_subsystems() -> None:
    U = np.array([[0.5, 0.5], [0.0, 0.5], [0.0, 0.0], [NAN, 0.3], [0.3, 0.7]])
    for variant in ("traditional", "corrected"):
        res = coupling_coordination(U, variant=variant)
        np.testing.assert_allclose(res.C[:3], [1.0, 0.0, 0.0])
        np.testing.assert_allclose(res.D[2], 0.0)
        assert np.isnan(res.C[3]) and np.isnan(res.T[3]) and np.isnan(res.D[3])
        assert np.isfinite(res.D[4])


def test_input_errors() -> None:
    with pytest.raises(MethodInputError, match=r"子系统综合得分\ U\ 须在\ \[0,\ 1\]\ 内（最小\ 0"):
        coupling_degree([[0.5, 1.2]])
    with pytest.raises(MethodInputError, match=r"耦合协调度至少需要\ 2\ 个子系统，实际为\ 1"):
        coupling_degree([[0.5], [0.4]])                          # one subsystem
    with pytest.raises(MethodInputError, match=r'未知耦合度公式\ \'improved\'；可选\ "traditional'):
        coupling_degree([[0.5, 0.4]], variant="improved")


def test_corrected_spreads_where_traditional_crowds() -> None:
    # low but similar levels: traditional C ≈ 1, corrected C clearly lower
    U = np.array([[0.05, 0.08]])
    assert coupling_degree(U)[0] > 0.97
    assert coupling_degree(U, variant="corrected")[0] < 0.8


def test_stacked_replications_equal_separate_calls() -> None:
    rng = np.random.default_rng(5)
    U = rng.uniform(0, 1, size=(4, 6, 3))
    alpha = rng.dirichlet(np.ones(3), size=4)
    for variant in ("traditional", "corrected"):
        res = coupling_coordination(U, alpha=alpha, variant=variant)
        assert res.D.shape == (4, 6)
        for r in range(4):
            one = coupling_coordination(U[r], alpha=alpha[r], variant=variant)
            np.testing.assert_allclose(res.D[r], one.D, rtol=1e-12)
            np.testing.assert_allclose(res.C[r], one.C, rtol=1e-12)


# ----------------------------------------------------------------------------- grades


def test_default_grade_boundaries() -> None:
    D = np.array([0.0, 0.0999, 0.1, 0.5, 0.8999, 0.9, 0.95, 1.0, 1.0 + 1e-12, NAN])
    g = grade(D, lang="zh")
    assert g.index.tolist() == [0, 0, 1, 5, 8, 9, 9, 9, 9, -1]
    assert g.label.tolist() == ["极度失调", "极度失调", "严重失调", "勉强协调", "良好协调",
                                "优质协调", "优质协调", "优质协调", "优质协调", "无数据"]
    assert grade([0.1, 0.9], lang="en").label.tolist() == ["Serious disorder",
                                                           "High-quality coordination"]
    assert grade(np.full((2, 3), 0.35)).index.shape == (2, 3)


def test_default_table_lists_the_ten_grades() -> None:
    tab = load_grade_table()
    assert [tab.label(i, "zh") for i in range(10)] == [
        "极度失调", "严重失调", "中度失调", "轻度失调", "濒临失调",
        "勉强协调", "初级协调", "中级协调", "良好协调", "优质协调"]
    assert tab.edges == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])


def test_grade_out_of_range() -> None:
    with pytest.raises(MethodInputError, match=r"待分级的值须在\ \[0,\ 1\]\ 内（实际最小\ 1\.1，"):
        grade([1.1])
    with pytest.raises(MethodInputError, match=r"待分级的值须在\ \[0,\ 1\]\ 内（实际最小\ \-0\.1"):
        grade([-0.1])


def test_custom_table_closed_right_and_from_file(tmp_path: Path) -> None:
    table = {"name": "two", "closed": "right", "lower": 0.0, "upper": 1.0,
             "grades": [{"upper": 0.5, "zh": "低", "en": "Low"},
                        {"upper": 1.0, "zh": "高", "en": "High"}]}
    g = grade([0.0, 0.5, 0.7], table=table, lang="en")
    assert g.index.tolist() == [0, 0, 1]
    assert g.label.tolist() == ["Low", "Low", "High"]
    path = tmp_path / "two.yaml"
    path.write_text("name: two\nclosed: left\ngrades:\n"
                    "  - {upper: 0.5, zh: 低, en: Low}\n  - {upper: 1.0, zh: 高, en: High}\n",
                    encoding="utf-8")
    assert grade([0.5], table=path).index.tolist() == [1]


@pytest.mark.parametrize(("table", "message"), [
    ({"grades": []}, r"key grades: needs at least 1 item"),
    ({"grades": [{"upper": 0.5, "zh": "a", "en": "a"}, {"upper": 0.4, "zh": "b", "en": "b"}]},
     "grade bounds must increase strictly"),
    ({"grades": [{"upper": 1.0}]}, r"key grades\[0\]: each grade needs `label`"),
    ({"grades": [{"upper": 1.0, "label": "index.a.grade.no_such"}]},
     r"grades\[0\]: no label key index.a.grade.no_such"),
    ({"closed": "both", "grades": [{"upper": 1.0, "zh": "a", "en": "a"}]},
     r"key closed: 'both' is not one of 'left' or 'right'"),
    ({"upper": 1.0, "grades": [{"upper": 0.9, "zh": "a", "en": "a"}]},
     "the last grade must end at `upper`"),
    ({"closed": "up", "grades": [{"uper": 1.0, "zh": "a", "en": "a"}]},
     r"(?s)key closed: .*key grades\[0\]\.upper: required key missing.*"
     r"key grades\[0\]\.uper: unknown key"),
])
def test_invalid_tables(table: dict, message: str, english: None) -> None:  # type: ignore[type-arg]
    with pytest.raises(SpecError, match=message):
        load_grade_table(table)


def test_unknown_table_names_the_shipped_ones(tmp_path: Path, english: None) -> None:
    with pytest.raises(MethodInputError, match=r"no_such_table .*\(coupling_default\)"):
        load_grade_table("no_such_table")
    with pytest.raises(SpecError, match="file not found"):
        load_grade_table(tmp_path / "missing.yaml")
