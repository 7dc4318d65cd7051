"""Outlier treatment: the estimators, the |skew| ≥ 2 and kurtosis ≥ 3.5 rule, iterative
winsorisation (ties, side of the skew, limit), log and Box–Cox fallbacks, overrides, the info
record, missing values and replication axes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cocity.index import treat as T
from cocity.index.errors import MethodInputError
from cocity.index.registry import available, get

nan = np.nan


def col(*values: float) -> np.ndarray:
    return np.array(values, dtype=float).reshape(-1, 1)


# COINr's vignette example: the numbers 1…10 and two outliers, 30 and 100.
COINR = col(*range(1, 11), 30, 100)
# 1…15 and two tied outliers 200, 200.
TIES = col(*range(1, 16), 200, 200)


def test_all_registered() -> None:
    assert {"winsorise", "log", "boxcox", "none"} <= set(available("treat"))
    assert get("treat", "winsorise") is T.winsorise


def test_skew_kurtosis_hand() -> None:
    # x = 0, 0, 0, 0, 4: mean .8, m2 = 2.56, m3 = 6.144, m4 = 21.2992
    # g1 = 6.144/2.56^1.5 = 1.5 → G1 = 1.5·√(5·4)/3 = √5
    # g2 = 21.2992/2.56² − 3 = .25 → G2 = ((6·.25 + 6)·4)/(3·2) = 5
    s, k = T.skew_kurtosis(col(0, 0, 0, 0, 4))
    np.testing.assert_allclose([s[0], k[0]], [math.sqrt(5), 5.0])
    # x = 0, 0, 0, 4: g1 = 6/3^1.5 → G1 = g1·√12/2 = 2; g2 = 21/9 − 3 → G2 = (5 g2 + 6)·3/2 = 4
    s, k = T.skew_kurtosis(col(0, 0, 0, 4))
    np.testing.assert_allclose([s[0], k[0]], [2.0, 4.0])


def test_skew_kurtosis_equal_scipy_unbiased_and_ignore_nan() -> None:
    rng = np.random.default_rng(0)
    Y = rng.lognormal(size=(30, 3))
    Y[[2, 5], 1] = nan
    s, k = T.skew_kurtosis(Y)
    for j in range(3):
        x = Y[~np.isnan(Y[:, j]), j]
        assert s[j] == pytest.approx(stats.skew(x, bias=False))
        assert k[j] == pytest.approx(stats.kurtosis(x, bias=False, fisher=True))
    # undefined with fewer than 4 values or no spread
    s, k = T.skew_kurtosis(np.array([[1.0, 2.0], [2.0, 2.0], [9.0, 2.0], [nan, 2.0]]))
    assert np.isnan(s).all() and np.isnan(k).all()


def test_rule_is_inclusive_at_the_thresholds() -> None:
    # 0, 0, 0, 4 has skew exactly 2 and kurtosis exactly 4
    _, info = T.none(col(0, 0, 0, 4))
    assert info["columns"][0]["failed_before"] is True
    _, info = T.none(col(0, 0, 0, 4), kurt_thresh=4.01)
    assert info["columns"][0]["failed_before"] is False


def test_winsorise_coinr_example() -> None:
    # skew 3.06 ≥ 2 and kurtosis 9.74 ≥ 3.5: winsorise the top point 100 → 30 (next value);
    # then 1…10, 30, 30 has skew 1.71 < 2, so one point suffices.
    out, info = T.winsorise(COINR)
    np.testing.assert_allclose(out[:, 0], [*range(1, 11), 30, 30])
    rec = info["columns"][0]
    assert rec["failed_before"] and not rec["failed_after"]
    assert (rec["treatment"], rec["winsorised"], rec["rows"]) == ("winsorise", 1, [11])
    assert rec["winsorised_to"] == [30.0]
    assert rec["skew_before"] == pytest.approx(stats.skew(COINR[:, 0], bias=False))
    assert rec["skew_after"] == pytest.approx(stats.skew(out[:, 0], bias=False))


def test_winsorise_negative_skew_works_from_the_low_end() -> None:
    out, info = T.winsorise(-COINR)
    np.testing.assert_allclose(out[:, 0], -np.array([*range(1, 11), 30, 30]))
    assert info["columns"][0]["rows"] == [11]


def test_tied_extremes_move_together_and_count_each() -> None:
    out, info = T.winsorise(TIES)
    np.testing.assert_allclose(out[:, 0], [*range(1, 16), 15, 15])
    rec = info["columns"][0]
    assert (rec["winsorised"], rec["rows"]) == (2, [15, 16])


def test_limit_reached_falls_back_to_log_of_original() -> None:
    # moving the tied pair would need 2 points > limit 1 → COINr log_CT on the original values:
    # ln(x − min + a), a = 0.01·(200 − 1) = 1.99
    out, info = T.winsorise(TIES, max_winsorised=1)
    np.testing.assert_allclose(out[:, 0], np.log(TIES[:, 0] - 1 + 1.99))
    rec = info["columns"][0]
    assert (rec["treatment"], rec["winsorised"], rec["log_variant"]) == ("log", 0, "ct")
    assert rec["note"] == "winsorisation_failed"
    assert rec["failed_after"] is False


def test_fallback_boxcox_and_none() -> None:
    out, info = T.winsorise(TIES, max_winsorised=1, fallback="boxcox", lam=0.0)
    np.testing.assert_allclose(out[:, 0], np.log(TIES[:, 0] - 1 + 1))  # λ = 0: ln(x − min + 1)
    assert info["columns"][0]["treatment"] == "boxcox" and info["columns"][0]["lambda"] == 0.0
    out, info = T.winsorise(TIES, max_winsorised=1, fallback="none")
    np.testing.assert_array_equal(out, TIES)  # nothing could be winsorised within the limit
    assert info["columns"][0]["failed_after"] is True
    with pytest.raises(MethodInputError, match=r"winsorise：参数\ fallback\ 的值\ \'sqrt\'\ 无效"):
        T.winsorise(TIES, fallback="sqrt")


def test_log_variants() -> None:
    x = TIES[:, 0]
    out, _ = T.log(TIES, log_variant="ct_orig")
    np.testing.assert_allclose(out[:, 0], np.log(x - 1 + 1))
    # ct_plus on negative skew: −ln(max + a − x) with max = −1, a = 1.99
    out, info = T.log(-TIES, log_variant="ct_plus")
    np.testing.assert_allclose(out[:, 0], -np.log(-1 + 1.99 + x))
    assert info["columns"][0]["skew_after"] > info["columns"][0]["skew_before"]
    with pytest.raises(MethodInputError, match=r"log：参数\ log_variant\ 的值\ \'log10\'\ 无效，"):
        T.log(TIES, log_variant="log10")


def test_boxcox_fitted_lambda_matches_scipy() -> None:
    out, info = T.boxcox(TIES)
    values, lam = stats.boxcox(TIES[:, 0] - 1 + 1)
    np.testing.assert_allclose(out[:, 0], values)
    assert info["columns"][0]["lambda"] == pytest.approx(lam)


def test_passing_columns_untouched_and_overrides() -> None:
    normal = np.linspace(0, 1, 17)
    Y = np.column_stack([TIES[:, 0], normal + 1, normal + 2])
    out, info = T.winsorise(Y, overrides={0: "none", 1: "log", 2: "boxcox"})
    np.testing.assert_array_equal(out[:, 0], Y[:, 0])  # failing, but overridden to "none"
    np.testing.assert_allclose(out[:, 1], np.log(normal + 0.01))  # forced log_CT, a = .01
    assert [c["treatment"] for c in info["columns"]] == ["none", "log", "boxcox"]
    assert [c["override"] for c in info["columns"]] == ["none", "log", "boxcox"]
    out, _ = T.winsorise(Y)
    np.testing.assert_array_equal(out[:, 1:], Y[:, 1:])  # the rule passes: untouched
    with pytest.raises(MethodInputError, match=r"winsorise：overrides\ 中的列号\ 3\ 无效（应为\ 0"):
        T.winsorise(Y, overrides={3: "log"})
    with pytest.raises(MethodInputError, match=r"winsorise：参数\ overrides\[0\]\ 的值\ \'cube\'"):
        T.winsorise(Y, overrides={0: "cube"})


def test_missing_values_stay_and_too_few_left_alone() -> None:
    Y = np.column_stack([np.r_[COINR[:, 0], nan], np.r_[1, 2, 3, np.full(10, nan)]])
    out, info = T.winsorise(Y)
    assert np.isnan(out[12, 0]) and np.isnan(out[3:, 1]).all()
    np.testing.assert_allclose(out[:12, 0], [*range(1, 11), 30, 30])
    rec = info["columns"][1]
    assert rec["skew_before"] is None and rec["note"] == "too_few_or_constant"
    np.testing.assert_array_equal(out[:3, 1], [1, 2, 3])
    np.testing.assert_array_equal(np.isnan(out), np.isnan(Y))


def test_constant_column_untreated_but_forced_log_raises() -> None:
    Y = np.full((6, 1), 3.0)
    out, info = T.winsorise(Y)
    np.testing.assert_array_equal(out, Y)
    assert info["columns"][0]["note"] == "too_few_or_constant"
    with pytest.raises(MethodInputError, match="0"):
        T.winsorise(Y, overrides={0: "log"})


def test_replications_loop_and_info() -> None:
    stack = np.stack([np.column_stack([COINR[:, 0], TIES[:12, 0]]),
                      np.column_stack([TIES[:12, 0], -COINR[:, 0]])])
    out, info = T.winsorise(stack)
    assert [r["index"] for r in info["replications"]] == [(0,), (1,)]
    for r in range(2):
        single, sinfo = T.winsorise(stack[r])
        np.testing.assert_allclose(out[r], single)
        assert info["replications"][r]["columns"] == sinfo["columns"]
    assert "columns" not in info


def test_input_not_modified() -> None:
    Y = COINR.copy()
    T.winsorise(Y)
    np.testing.assert_array_equal(Y, COINR)
