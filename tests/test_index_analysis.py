"""Analysis: indicator statistics and flags, correlations, alpha, PCA, strengths, removal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cocity.index.aggregate import arithmetic
from cocity.index.analysis import (
    correlations,
    cronbach_alpha,
    indicator_stats,
    pca_summary,
    removal_importance,
    strengths_weaknesses,
)
from cocity.index.errors import MethodInputError

NAN = np.nan


def _frame() -> pd.DataFrame:
    a = np.arange(1.0, 11.0)
    b = 2 * a
    b[-1] = 20.5
    e = 100 + 0.1 * np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, NAN])
    f = np.array([0.0] * 9 + [100.0])
    return pd.DataFrame({"a": a, "b": b, "c": 7.0, "d": NAN, "e": e, "f": f})


def test_indicator_stats_and_flags() -> None:
    s = indicator_stats(_frame())
    # a = 1..10: mean 5.5, sd sqrt(82.5/9), skew 0, excess kurtosis (Excel KURT) −1.2
    assert s.loc["a", "n"] == 10
    assert s.loc["a", "mean"] == pytest.approx(5.5)
    assert s.loc["a", "sd"] == pytest.approx(np.sqrt(82.5 / 9))
    assert s.loc["a", "skew"] == pytest.approx(0.0, abs=1e-12)
    assert s.loc["a", "kurtosis"] == pytest.approx(-1.2)
    # f = nine 0s and one 100: m2 = 900, m3 = 72000, m4 = 6 570 000
    # G1 = (72000/900^1.5)·sqrt(90)/8 = sqrt(10) ; G2 = 9/56·(11·(6.57e6/8.1e5 − 3) + 6) = 10
    assert s.loc["f", "skew"] == pytest.approx(np.sqrt(10))
    assert s.loc["f", "kurtosis"] == pytest.approx(10.0)
    flags = s[["flag_skew_kurt", "flag_constant", "flag_low_variability", "flag_collinear",
               "flag_no_data"]]
    assert flags.loc["f"].tolist() == [True, False, False, False, False]
    assert flags.loc["c"].tolist() == [False, True, True, False, False]
    assert flags.loc["d"].tolist() == [False, False, False, False, True]
    assert flags.loc["e"].tolist() == [False, False, True, False, False]   # cv ≈ 0.0008
    assert flags.loc["a", "flag_collinear"] and s.loc["a", "collinear_with"] == ["b"]
    assert s.loc["b", "collinear_with"] == ["a"]
    assert s.loc["e", "missing_share"] == pytest.approx(0.1)
    assert s.loc["d", "missing_share"] == 1.0 and np.isnan(s.loc["d", "mean"])


def test_correlations_by_hand_and_against_scipy() -> None:
    # x = (1, 2, 3), y = (1, 3, 2): r = .5 ; t = .5/sqrt(.75), df 1 → p = 2/3
    df = pd.DataFrame({"x": [1.0, 2, 3], "y": [1.0, 3, 2], "k": [4.0, 4, 4]})
    res = correlations(df)
    assert res.r.loc["x", "y"] == pytest.approx(0.5)
    assert res.p.loc["x", "y"] == pytest.approx(2 / 3)
    assert np.isnan(res.r.loc["x", "k"])                        # constant: undefined
    assert res.r.loc["x", "x"] == 1.0 and res.n.loc["x", "y"] == 3
    rng = np.random.default_rng(1)
    big = pd.DataFrame(rng.normal(size=(30, 3)), columns=list("pqr"))
    big.iloc[3, 1] = NAN
    sp = correlations(big, method="spearman")
    both = big[["p", "q"]].dropna()
    ref = stats.spearmanr(both["p"], both["q"])
    assert sp.r.loc["p", "q"] == pytest.approx(ref[0])
    assert sp.p.loc["p", "q"] == pytest.approx(ref[1])
    assert sp.n.loc["p", "q"] == 29
    with pytest.raises(MethodInputError, match=r'相关方法须为\ "pearson"\ 或\ "spearman"，实际为'):
        correlations(df, method="kendall")


def test_spearman_sees_monotone_relations() -> None:
    x = np.arange(1.0, 8.0)
    df = pd.DataFrame({"x": x, "cube": x ** 3})
    assert correlations(df, method="spearman").r.loc["x", "cube"] == pytest.approx(1.0)
    assert correlations(df, method="pearson").r.loc["x", "cube"] < 0.99


def test_cronbach_alpha_by_hand() -> None:
    # variances 1 and 7/3, totals (3, 5, 8) variance 19/3 → α = 2·(1 − (10/3)/(19/3)) = 18/19
    df = pd.DataFrame({"i": [1.0, 2, 3, NAN], "j": [2.0, 3, 5, 9]})
    assert cronbach_alpha(df) == pytest.approx(18 / 19)
    with pytest.raises(MethodInputError, match=r"Cronbach\ α\ 系数\ 至少需要\ 2\ 个指标，实际为\ "):
        cronbach_alpha(df[["i"]])
    with pytest.raises(MethodInputError, match=r"Cronbach\ α\ 系数：总分方差为\ 0，无法计算"):
        cronbach_alpha(pd.DataFrame({"i": [1.0, 2], "j": [-1.0, -2]}))   # total constant


def test_pca_by_hand_and_sign_convention() -> None:
    # r(x, y) = .6 → eigenvalues 1.6, .4 ; loadings sqrt(1.6)/√2 = .894427, sqrt(.4)/√2 = .447214
    df = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [2.0, 1, 4, 3]})
    res = pca_summary(df)
    np.testing.assert_allclose(res.eigenvalues, [1.6, 0.4])
    np.testing.assert_allclose(res.explained, [0.8, 0.2])
    np.testing.assert_allclose(res.cumulative, [0.8, 1.0])
    np.testing.assert_allclose(res.loadings["PC1"], [np.sqrt(0.8), np.sqrt(0.8)])
    # PC2 = ±(1, −1): tie on |loading|, the first entry is made positive
    np.testing.assert_allclose(res.loadings["PC2"], [np.sqrt(0.2), -np.sqrt(0.2)])
    # negatively correlated: PC1 = (+, −) with the first (largest, tied) entry positive
    neg = pca_summary(pd.DataFrame({"x": df["x"], "y": -df["y"]}))
    np.testing.assert_allclose(neg.loadings["PC1"], [np.sqrt(0.8), -np.sqrt(0.8)])
    # covariance-based: eigenvalues of [[5/3, 1], [1, 5/3]] = 8/3 and 2/3
    np.testing.assert_allclose(pca_summary(df, standardise=False).eigenvalues, [8 / 3, 2 / 3])
    with pytest.raises(MethodInputError, match=r"主成分分析：第\ \[1\]\ 列（从\ 0\ 起）在各单元间"):
        pca_summary(pd.DataFrame({"x": [1.0, 2, 3], "k": [1.0, 1, 1]}))


def test_pca_largest_loading_is_positive() -> None:
    rng = np.random.default_rng(4)
    res = pca_summary(pd.DataFrame(rng.normal(size=(40, 5)), columns=list("abcde")))
    load = res.loadings.to_numpy()
    pick = load[np.argmax(np.abs(load), axis=0), np.arange(5)]
    assert (pick > 0).all()


def test_strengths_and_weaknesses() -> None:
    df = pd.DataFrame({"p": [3.0, 2, 1], "q": [1.0, 2, 3], "r": [2.0, 2, 1], "s": [NAN, 1, 2]},
                      index=["U1", "U2", "U3"])
    sw = strengths_weaknesses(df, k=2)
    # U1 ranks: p 1, q 3, r 1 → strengths p, r (tie by column order) ; weaknesses q, then p
    u1 = sw[sw["unit"] == "U1"]
    assert u1[u1["kind"] == "strength"]["indicator"].tolist() == ["p", "r"]
    assert u1[u1["kind"] == "weakness"]["indicator"].tolist() == ["q", "p"]
    # U3 ranks: p 3, q 1, r 3, s 1 → strengths q, s ; weaknesses p, r
    u3 = sw[sw["unit"] == "U3"]
    assert u3[u3["kind"] == "strength"]["indicator"].tolist() == ["q", "s"]
    assert u3[u3["kind"] == "weakness"]["indicator"].tolist() == ["p", "r"]
    assert u3[u3["indicator"] == "s"]["value"].tolist() == [2.0]
    # q as "less is better": U1 becomes best on q
    flipped = strengths_weaknesses(df, k=1, directions={"p": 1, "q": -1, "r": 1, "s": 1})
    row = flipped[(flipped["unit"] == "U1") & (flipped["kind"] == "strength")]
    assert row["indicator"].tolist() == ["p"] and row["rank"].tolist() == [1]
    worst = flipped[(flipped["unit"] == "U3") & (flipped["kind"] == "weakness")]
    assert worst["indicator"].tolist() == ["p"]
    with pytest.raises(MethodInputError, match=r"方向须为\ \+1\ 或\ \-1，且覆盖每个指标"):
        strengths_weaknesses(df, directions={"p": 1})


def test_removal_importance_with_an_arithmetic_build() -> None:
    X = np.array([[6.0, 0, 0], [2, 2, 3], [0, 4, 1]])

    def build(mask: np.ndarray) -> np.ndarray:
        return arithmetic(X[:, mask], np.ones(int(mask.sum())))

    imp = removal_importance(build, ["i1", "i2", "i3"])
    # base means 2, 2.333, 1.667 → ranks 2, 1, 3
    # without i1: 0, 2.5, 2.5 → ranks 3, 1, 1 → |Δ| 1, 0, 2 → 1
    # without i2: 3, 2.5, .5  → ranks 1, 2, 3 → |Δ| 1, 1, 0 → 2/3
    # without i3: 3, 2, 2     → ranks 1, 2, 2 → |Δ| 1, 1, 1 → 1
    np.testing.assert_allclose(imp.to_numpy(), [1.0, 2 / 3, 1.0])
    assert imp.index.tolist() == ["i1", "i2", "i3"]


def test_removal_importance_errors() -> None:
    with pytest.raises(MethodInputError, match=r"build\(mask\)\ 返回了\ \(2,\)\ 个得分，基准为\ "):
        removal_importance(lambda m: np.ones(3) if m.all() else np.ones(2), ["a", "b"])
    with pytest.raises(MethodInputError, match=r"去掉\ a\ 后，没有与基准同时有得分的单元"):
        removal_importance(lambda m: np.ones(3) if m.all() else np.full(3, NAN), ["a", "b"])
