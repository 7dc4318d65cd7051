"""Inequality measures: hand-computed cases, PySAL ``inequality`` references, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from inequality.atkinson import atkinson as pysal_atkinson
from inequality.gini import Gini
from inequality.theil import Theil, TheilD, TheilDSim

from cocity.metrics import inequality as I
from cocity.metrics.errors import MetricInputError
from tests.conftest import assert_messages_match


def sample(n: int = 240, k: int = 4, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, k, n)
    y = rng.lognormal(0.2 * g, 0.6)          # groups differ in level
    p = rng.integers(1, 7, n)                # integer populations: replication is exact
    return y, g, p


# ----------------------------------------------------------------------------- Gini


def test_gini_by_hand() -> None:
    # y = 1, 2, 3, 4: ΣΣ|y_i − y_j| = 2·(1+2+3+1+2+1) = 20; G = 20 / (2 · 4² · 2.5) = 0.25
    assert I.gini([1.0, 2.0, 3.0, 4.0]) == pytest.approx(0.25, abs=1e-15)
    # y = 1, 3 with p = 3, 1: P = 4, μ = 6/4 = 1.5; ΣΣ p p |d| = 2·3·1·2 = 12;
    # G = 12 / (2 · 1.5 · 16) = 0.25
    assert I.gini([1.0, 3.0], [3, 1]) == pytest.approx(0.25, abs=1e-15)
    # one rich unit among n: G = (n − 1)/n · … : y = 0, 0, 0, 4 → ΣΣ = 2·3·4 = 24, μ = 1 → 0.75
    assert I.gini([0.0, 0.0, 0.0, 4.0]) == pytest.approx(0.75, abs=1e-15)


def test_gini_matches_pysal_unweighted_and_by_replication() -> None:
    y, _, p = sample()
    assert I.gini(y) == pytest.approx(Gini(y).g, abs=1e-12)
    # population weights = replicating unit i p_i times
    assert I.gini(y, p) == pytest.approx(Gini(np.repeat(y, p)).g, abs=1e-12)
    # and the weights matter: the weighted value differs from PySAL's unit-weighted one
    assert abs(I.gini(y, p) - Gini(y).g) > 1e-4


def test_gini_of_equal_values_is_zero() -> None:
    assert I.gini(np.full(7, 3.3)) == 0.0
    assert I.gini(np.full(5, 1e6 + 0.1), [1, 2, 3, 4, 5]) == 0.0
    assert I.gini([5.0]) == 0.0


# ----------------------------------------------------------------------------- Theil


def test_theil_by_hand() -> None:
    # groups A = {1, 1}, B = {2, 2}: μ = 1.5, within 0;
    # T = ½·(2/3)ln(2/3) + ½·(4/3)ln(4/3); between = s_A ln(s_A/π_A) + s_B ln(s_B/π_B)
    # with s_A = 1/3, s_B = 2/3, π = ½ → the same number.
    y = [1.0, 1.0, 2.0, 2.0]
    expected = 0.5 * (2 / 3) * np.log(2 / 3) + 0.5 * (4 / 3) * np.log(4 / 3)
    d = I.theil_decomposition(y, ["A", "A", "B", "B"])
    assert d.total == pytest.approx(expected, abs=1e-15)
    assert d.between == pytest.approx(1 / 3 * np.log(2 / 3) + 2 / 3 * np.log(4 / 3), abs=1e-15)
    assert d.within == pytest.approx(0.0, abs=1e-15)
    assert d.between_share == pytest.approx(1.0)
    # L: ½ ln(1.5/1) + ½ ln(1.5/2)
    assert I.theil(y, index="L") == pytest.approx(0.5 * np.log(1.5) + 0.5 * np.log(0.75),
                                                  abs=1e-15)


def test_theil_t_matches_pysal() -> None:
    y, _, p = sample()
    assert I.theil(y) == pytest.approx(float(Theil(y).T), abs=1e-12)
    assert I.theil(y, p) == pytest.approx(float(Theil(np.repeat(y, p)).T), abs=1e-12)
    # zeros: 0·ln 0 = 0 here, PySAL adds a tiny number — the same value
    y0 = y.copy()
    y0[:5] = 0.0
    assert I.theil(y0) == pytest.approx(float(Theil(y0).T), abs=1e-12)


def test_theil_decomposition_unit_weighted_is_pysal_theild() -> None:
    y, g, _ = sample()
    d = I.theil_decomposition(y, g)
    ref = TheilD(y, g)
    assert d.weighting == "unit"
    assert d.between == pytest.approx(float(ref.bg[0]), abs=1e-12)
    assert d.within == pytest.approx(float(ref.wg[0]), abs=1e-12)
    assert d.total == pytest.approx(float(ref.T), abs=1e-12)


def test_theil_decomposition_population_weighted_differs_from_pysal_as_documented() -> None:
    # PySAL's TheilD counts units, not people. With population weights the decomposition is
    # that of the replicated data (every person once) — which PySAL gives only if fed the
    # replicated data — and differs from PySAL on the units themselves.
    y, g, p = sample()
    d = I.theil_decomposition(y, g, p)
    rep = TheilD(np.repeat(y, p), np.repeat(g, p))
    assert d.weighting == "population"
    assert d.between == pytest.approx(float(rep.bg[0]), abs=1e-12)
    assert d.within == pytest.approx(float(rep.wg[0]), abs=1e-12)
    unit = TheilD(y, g)
    assert abs(d.between - float(unit.bg[0])) > 1e-4


def test_theil_group_table_sums_and_shares() -> None:
    y, g, p = sample()
    for index in ("T", "L"):
        d = I.theil_decomposition(y, g, p, index=index)
        tab = d.groups
        assert list(tab.index) == [0, 1, 2, 3]
        assert tab["within"].sum() == pytest.approx(d.within, abs=1e-14)
        assert tab["between"].sum() == pytest.approx(d.between, abs=1e-14)
        assert (tab["within_pct"] + tab["between_pct"]).sum() == pytest.approx(100.0)
        assert tab["pop_share"].sum() == pytest.approx(1.0)
        assert tab["income_share"].sum() == pytest.approx(1.0)
        assert d.total == pytest.approx(I.theil(y, p, index=index), abs=1e-13)
        # each group's own index is the index over its members alone
        for label in tab.index:
            members = g == label
            assert tab.loc[label, "theil"] == pytest.approx(
                I.theil(y[members], p[members], index=index), abs=1e-13)


def test_theil_l_weighted_by_replication_and_atkinson_identity() -> None:
    y, g, p = sample()
    d = I.theil_decomposition(y, g, p, index="L")
    rep = I.theil_decomposition(np.repeat(y, p), np.repeat(g, p), index="L")
    assert d.between == pytest.approx(rep.between, abs=1e-12)
    assert d.within == pytest.approx(rep.within, abs=1e-12)
    # A(ε = 1) = 1 − exp(−L), with PySAL's Atkinson as the reference
    assert 1 - np.exp(-I.theil(y, index="L")) == pytest.approx(pysal_atkinson(y, 1), abs=1e-12)


def test_theil_permutation_p_value_equals_pysal_theildsim() -> None:
    y, g, _ = sample(n=80, k=3, seed=11)
    np.random.seed(10)
    ref = TheilDSim(y, g, 199)
    d = I.theil_decomposition(y, g, permutations=199, seed=np.random.RandomState(10))
    assert d.p_value == pytest.approx(float(ref.bg_pvalue[0]), abs=1e-12)
    assert d.permutations == 199


def test_theil_permutation_detects_separated_groups_and_not_random_ones() -> None:
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.lognormal(0, 0.1, 30), rng.lognormal(1, 0.1, 30)])
    g = np.repeat(["low", "high"], 30)
    d = I.theil_decomposition(y, g, rng.integers(1, 5, 60), permutations=99, seed=1)
    assert d.p_value == pytest.approx(1 / 100)
    again = I.theil_decomposition(y, g, rng.integers(1, 5, 60), permutations=99, seed=1)
    assert again.p_value == d.p_value
    noise = I.theil_decomposition(y, rng.permutation(g), permutations=99, seed=1)
    assert noise.p_value is not None and noise.p_value > 0.05


# ----------------------------------------------------------------------------- Dagum


def test_dagum_two_groups_by_hand() -> None:
    # A = {1, 3} (mean 2), B = {2, 6} (mean 4); n = 4, ȳ = 3.
    # All pairs: |1−3|=2 |1−2|=1 |1−6|=5 |3−2|=1 |3−6|=3 |2−6|=4 → Σ=16, ΣΣ = 32
    # G = 32 / (2·16·3) = 1/3.
    # G_AA = 2·2 / (2·2²·2) = 0.25; G_BB = 2·4 / (2·2²·4) = 0.25
    # p_A = p_B = ½; s_A = 2·2/(4·3) = 1/3, s_B = 2/3 → G_w = .25·½·⅓ + .25·½·⅔ = 0.125
    # G_BA = (1 + 5 + 1 + 3) / (2·2·(2+4)) = 10/24 = 5/12
    # d_BA = (1 + 5 + 0 + 3)/4 = 9/4, p_BA = (0 + 0 + 1 + 0)/4 = 1/4 → D_BA = 8/10 = 0.8
    # weight p_B s_A + p_A s_B = ½·⅓ + ½·⅔ = ½
    # G_nb = 5/12 · ½ · 0.8 = 1/6; G_t = 5/12 · ½ · 0.2 = 1/24; total 3/24 + 4/24 + 1/24 = 1/3
    d = I.dagum_decomposition([1.0, 3.0, 2.0, 6.0], ["A", "A", "B", "B"])
    assert d.gini == pytest.approx(1 / 3, abs=1e-15)
    assert d.within == pytest.approx(0.125, abs=1e-15)
    assert d.net_between == pytest.approx(1 / 6, abs=1e-15)
    assert d.transvariation == pytest.approx(1 / 24, abs=1e-15)
    assert d.between == pytest.approx(1 / 6 + 1 / 24, abs=1e-15)
    np.testing.assert_allclose(d.contributions.to_numpy(), [37.5, 50.0, 12.5], atol=1e-12)
    assert list(d.gini_matrix.index) == ["A", "B"]
    np.testing.assert_allclose(d.gini_matrix.to_numpy(), [[0.25, 5 / 12], [5 / 12, 0.25]],
                               atol=1e-15)
    np.testing.assert_allclose(d.affluence.to_numpy(), [[0.0, -0.8], [0.8, 0.0]], atol=1e-15)
    # d_jh off the diagonal; on it the same definition within a group: A: (0 + 2)/4 = ½,
    # B: (0 + 4)/4 = 1
    np.testing.assert_allclose(d.gross_affluence.to_numpy(), [[0.5, 0.25], [2.25, 1.0]],
                               atol=1e-15)


@pytest.mark.usefixtures("english")
def test_dagum_three_groups_with_a_single_member_group_by_hand() -> None:
    # A = {1, 3}, B = {2, 6}, C = {10}: n = 5, ȳ = 22/5 = 4.4.
    # Within double sums 4, 8, 0; cross sums AB 10, AC 9+7 = 16, BC 8+4 = 12
    # ΣΣ = 12 + 2·38 = 88 → G = 88 / (2·25·4.4) = 0.4
    # p = (.4, .4, .2), s = (2/11, 4/11, 5/11); G_CC = 0 (one member: no dispersion)
    # G_w = .25·.4·2/11 + .25·.4·4/11 = 3/55
    # G_BA = 5/12, D = .8, weight .4·2/11 + .4·4/11 = 12/55
    # G_CA = 16/(2·1·12) = 2/3, D = 1, weight .2·2/11 + .4·5/11 = 12/55
    # G_CB = 12/(2·1·14) = 3/7, D = 1, weight .2·4/11 + .4·5/11 = 14/55
    # G_nb = (5/12)(12/55)(.8) + (2/3)(12/55) + (3/7)(14/55) = (4 + 8 + 6)/55 = 18/55
    # G_t = (5/12)(12/55)(.2) = 1/55;  3/55 + 18/55 + 1/55 = 22/55 = 0.4
    y = [10.0, 1.0, 3.0, 2.0, 6.0]
    g = ["C", "A", "A", "B", "B"]
    d = I.dagum_decomposition(y, g)
    assert d.gini == pytest.approx(0.4, abs=1e-15)
    assert d.within == pytest.approx(3 / 55, abs=1e-15)
    assert d.net_between == pytest.approx(18 / 55, abs=1e-15)
    assert d.transvariation == pytest.approx(1 / 55, abs=1e-15)
    assert list(d.groups.index) == ["A", "B", "C"]          # ordered by mean
    np.testing.assert_allclose(d.groups["gini"].to_numpy(), [0.25, 0.25, 0.0], atol=1e-15)
    pairs = d.pairs.set_index(["group_j", "group_h"])
    assert pairs.loc[("C", "A"), "gini"] == pytest.approx(2 / 3, abs=1e-15)
    assert pairs.loc[("C", "B"), "gini"] == pytest.approx(3 / 7, abs=1e-15)
    assert pairs.loc[("C", "B"), "weight"] == pytest.approx(14 / 55, abs=1e-15)
    assert pairs.loc[("C", "A"), "affluence"] == pytest.approx(1.0, abs=1e-15)
    assert pairs["between_pct"].sum() + d.contributions["within"] == pytest.approx(100.0)
    with pytest.raises(MetricInputError, match="group C has 1 member"):
        I.dagum_decomposition(y, g, min_group_size=2)


def naive_dagum(y: np.ndarray, g: np.ndarray) -> dict[str, float]:
    """Dagum's formulas term by term with O(n²) broadcasting (an independent reference)."""
    labels = sorted(set(g.tolist()), key=lambda c: y[g == c].mean())
    n, mu = y.size, y.mean()
    G = np.abs(y[:, None] - y[None, :]).sum() / (2 * n**2 * mu)
    parts = {lab: y[g == lab] for lab in labels}
    p = {lab: v.size / n for lab, v in parts.items()}
    s = {lab: v.size * v.mean() / (n * mu) for lab, v in parts.items()}
    gw = sum(np.abs(v[:, None] - v[None, :]).sum() / (2 * v.size**2 * v.mean())
             * p[lab] * s[lab] for lab, v in parts.items())
    gnb = gt = 0.0
    for a, ja in enumerate(labels):
        for hb in labels[:a]:
            yj, yh = parts[ja], parts[hb]
            diff = yj[:, None] - yh[None, :]
            gjh = np.abs(diff).sum() / (yj.size * yh.size * (yj.mean() + yh.mean()))
            d = np.clip(diff, 0, None).mean()
            q = np.clip(-diff, 0, None).mean()
            D = (d - q) / (d + q)
            w = p[ja] * s[hb] + p[hb] * s[ja]
            gnb += gjh * w * D
            gt += gjh * w * (1 - D)
    return {"G": G, "gw": gw, "gnb": gnb, "gt": gt}


def test_dagum_matches_naive_formulas_pysal_gini_and_identity() -> None:
    y, g, _ = sample(n=300, k=5, seed=3)
    d = I.dagum_decomposition(y, g)
    ref = naive_dagum(y, g)
    assert d.gini == pytest.approx(Gini(y).g, abs=1e-12)
    assert d.gini == pytest.approx(d.within + d.net_between + d.transvariation, abs=1e-12)
    assert d.within == pytest.approx(ref["gw"], abs=1e-12)
    assert d.net_between == pytest.approx(ref["gnb"], abs=1e-12)
    assert d.transvariation == pytest.approx(ref["gt"], abs=1e-12)
    assert d.contributions.sum() == pytest.approx(100.0, abs=1e-10)
    means = d.groups["mean"].to_numpy()
    assert np.all(np.diff(means) >= 0)
    D = d.affluence.to_numpy()
    np.testing.assert_allclose(D, -D.T, atol=1e-15)
    assert np.all(D[np.tril_indices(5, -1)] >= 0) and np.all(D <= 1)
    np.testing.assert_allclose(d.gini_matrix.to_numpy(), d.gini_matrix.to_numpy().T, atol=1e-15)
    # d_jh − p_jh = ȳ_j − ȳ_h
    dd = d.gross_affluence.to_numpy()
    np.testing.assert_allclose(dd - dd.T, means[:, None] - means[None, :], atol=1e-12)
    # G_nb is the Gini of the group means weighted by group sizes
    gm = d.groups
    pairs = np.abs(means[:, None] - means[None, :])
    w = gm["pop_share"].to_numpy()
    assert d.net_between == pytest.approx((w[:, None] * w[None, :] * pairs).sum()
                                          / (2 * np.dot(w, means)), abs=1e-12)


def test_dagum_population_weighted_equals_replicated_data() -> None:
    y, g, p = sample(n=150, k=3, seed=5)
    d = I.dagum_decomposition(y, g, p)
    rep = I.dagum_decomposition(np.repeat(y, p), np.repeat(g, p))
    assert d.weighting == "population" and rep.weighting == "unit"
    for attr in ("gini", "within", "net_between", "transvariation"):
        assert getattr(d, attr) == pytest.approx(getattr(rep, attr), abs=1e-12)
    np.testing.assert_allclose(d.gini_matrix.to_numpy(), rep.gini_matrix.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(d.affluence.to_numpy(), rep.affluence.to_numpy(), atol=1e-12)
    assert d.gini == pytest.approx(Gini(np.repeat(y, p)).g, abs=1e-12)
    assert d.gini == pytest.approx(d.within + d.net_between + d.transvariation, abs=1e-12)


def test_dagum_permutation_p_value() -> None:
    rng = np.random.default_rng(2)
    y = np.concatenate([rng.lognormal(0, 0.2, 20), rng.lognormal(1, 0.2, 20),
                        rng.lognormal(2, 0.2, 20)])
    g = np.repeat([1, 2, 3], 20)
    d = I.dagum_decomposition(y, g, permutations=199, seed=4)
    assert d.p_value == pytest.approx(1 / 200)
    noise = I.dagum_decomposition(y, rng.permutation(g), permutations=199, seed=4)
    assert noise.p_value is not None and noise.p_value > 0.05
    same = I.dagum_decomposition(y, rng.permutation(g), permutations=0)
    assert same.p_value is None and same.permutations == 0


def test_dagum_all_equal_values_give_zero_everywhere() -> None:
    d = I.dagum_decomposition(np.full(6, 2.5), [1, 1, 2, 2, 3, 3])
    assert d.gini == d.within == d.net_between == d.transvariation == 0.0
    assert d.contributions.tolist() == [0.0, 0.0, 0.0]
    assert not d.affluence.isna().any().any() and not d.gini_matrix.isna().any().any()
    assert (d.affluence.to_numpy() == 0).all()


# ----------------------------------------------------------------------------- CV, Atkinson


def test_cv_and_williamson() -> None:
    # y = 2, 4, 6: mean 4, population sd √(8/3)
    assert I.coefficient_of_variation([2.0, 4.0, 6.0]) == pytest.approx(np.sqrt(8 / 3) / 4)
    assert I.coefficient_of_variation([2.0, 4.0, 6.0], ddof=1) == pytest.approx(0.5)
    # Williamson: y = 1, 3 with p = 3, 1 → ȳ = 1.5, var = (3·0.25 + 1·2.25)/4 = 0.75
    assert I.williamson_cv([1.0, 3.0], [3, 1]) == pytest.approx(np.sqrt(0.75) / 1.5)
    y, _, p = sample()
    assert I.williamson_cv(y, p) == pytest.approx(
        I.coefficient_of_variation(np.repeat(y, p)), abs=1e-12)
    assert I.coefficient_of_variation(np.full(4, 9.0)) == 0.0
    assert I.williamson_cv(np.full(4, 9.0), [1, 2, 3, 4]) == 0.0


def test_atkinson_matches_pysal() -> None:
    y, _, p = sample()
    for eps in (0.5, 1.0, 2.0, 3.5):
        assert I.atkinson(y, eps) == pytest.approx(pysal_atkinson(y, eps), abs=1e-12)
        assert I.atkinson(y, eps, p) == pytest.approx(pysal_atkinson(np.repeat(y, p), eps),
                                                      abs=1e-12)
    assert I.atkinson(y, 0) == 0.0
    assert I.atkinson(np.full(5, 3.0), 2) == pytest.approx(0.0, abs=1e-15)
    # zeros are fine below ε = 1 (PySAL rejects them): y = 0, 4, ε = ½ → EDE = (½·2)² = 1
    assert I.atkinson([0.0, 4.0], 0.5) == pytest.approx(1 - 1 / 2)


def test_gap_ratio() -> None:
    urban = pd.Series([40.0, 30.0, 25.0], index=["a", "b", "c"])
    rural = pd.Series([12.5, 20.0, 10.0], index=["c", "a", "b"])
    ratio = I.gap_ratio(urban, rural)
    assert isinstance(ratio, pd.Series)
    assert ratio.to_dict() == {"a": 2.0, "b": 3.0, "c": 2.0}
    assert I.gap_ratio(urban, rural, kind="difference").to_dict() == {"a": 20, "b": 20,
                                                                      "c": 12.5}
    np.testing.assert_allclose(I.gap_ratio([4.0, 9.0], [2.0, 3.0], kind="relative"), [1, 2])
    np.testing.assert_allclose(I.gap_ratio([4.0], [2.0], kind="log_ratio"), [np.log(2)])
    with pytest.raises(MetricInputError, match=r"gap ratio：需要取对数或负幂，要求全部为正值，但"):
        I.gap_ratio([1.0, 2.0], [0.0, 1.0])
    with pytest.raises(MetricInputError, match=r"差距比：两个序列的索引须包含相同且不重复的单元"):
        I.gap_ratio(urban, rural.rename({"c": "d"}))
    with pytest.raises(MetricInputError, match=r"gap ratio：a 含 1 个缺失值（NaN）；请先处理缺失"):
        I.gap_ratio([1.0, np.nan], [1.0, 1.0])
    np.testing.assert_allclose(I.gap_ratio([1.0, np.nan], [1.0, 1.0], dropna=True), [1.0])
    with pytest.raises(MetricInputError, match=r'未知差距类型 .share.；可选 "ratio"、"difference"'):
        I.gap_ratio([1.0], [1.0], kind="share")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- bad input


@pytest.mark.usefixtures("english")
def test_missing_values_raise_unless_dropna() -> None:
    y = np.array([1.0, 2.0, np.nan, 4.0])
    with pytest.raises(MetricInputError, match=r"y has 1 missing value.*dropna=True"):
        I.gini(y)
    assert I.gini(y, dropna=True) == pytest.approx(I.gini([1.0, 2.0, 4.0]))
    g = np.array(["a", None, "b", "b"], dtype=object)
    with pytest.raises(MetricInputError, match="groups has 1 missing"):
        I.theil_decomposition([1.0, 2.0, 3.0, 4.0], g)
    d = I.theil_decomposition(y, g, dropna=True)          # drops units 1 and 2
    assert d.groups["n"].tolist() == [1, 1]
    with pytest.raises(MetricInputError, match="p has 1 missing"):
        I.atkinson([1.0, 2.0], 1, [1.0, np.nan])


@pytest.mark.usefixtures("english")
def test_logs_need_positive_values() -> None:
    with pytest.raises(MetricInputError, match=r"Theil L takes logarithms.*1 value\(s\) are ≤ 0"):
        I.theil([0.0, 1.0, 2.0], index="L")
    with pytest.raises(MetricInputError, match="Theil L"):
        I.theil_decomposition([1.0, -1.0, 2.0], [1, 1, 2], index="L")
    with pytest.raises(MetricInputError, match="Atkinson takes logarithms"):
        I.atkinson([0.0, 1.0], 1.0)
    with pytest.raises(MetricInputError, match="Atkinson"):
        I.atkinson([1.0, 2.0], -0.5)


@pytest.mark.usefixtures("english")
def test_negative_values_zero_means_and_bad_weights() -> None:
    with pytest.raises(MetricInputError, match="Gini needs non-negative values"):
        I.gini([-1.0, 2.0])
    with pytest.raises(MetricInputError, match="Dagum needs non-negative"):
        I.dagum_decomposition([-1.0, 2.0, 3.0], [1, 2, 2])
    with pytest.raises(MetricInputError, match="the mean is 0"):
        I.theil([0.0, 0.0])
    with pytest.raises(MetricInputError, match="the mean is 0"):
        I.coefficient_of_variation([0.0, 0.0])
    with pytest.raises(MetricInputError, match="group 1 has a total of 0"):
        I.theil_decomposition([0.0, 0.0, 1.0, 2.0], [1, 1, 2, 2])
    with pytest.raises(MetricInputError, match="group 1 has a mean of 0"):
        I.dagum_decomposition([0.0, 0.0, 1.0, 2.0], [1, 1, 2, 2])
    with pytest.raises(MetricInputError, match="weights p must be finite and positive"):
        I.gini([1.0, 2.0], [1.0, 0.0])
    with pytest.raises(MetricInputError, match="infinite"):
        I.gini([1.0, np.inf])
    with pytest.raises(MetricInputError, match="p has 1 values but y has 2"):
        I.gini([1.0, 2.0], [1.0])
    with pytest.raises(MetricInputError, match="one-dimensional"):
        I.gini(np.ones((2, 2)))
    with pytest.raises(MetricInputError, match="no observations"):
        I.gini([])
    with pytest.raises(MetricInputError, match="at least 2 groups"):
        I.dagum_decomposition([1.0, 2.0], ["a", "a"])
    with pytest.raises(MetricInputError, match="permutations"):
        I.theil_decomposition([1.0, 2.0], [1, 2], permutations=-1)
    with pytest.raises(MetricInputError, match="unknown Theil index"):
        I.theil([1.0, 2.0], index="X")  # type: ignore[arg-type]
    with pytest.raises(MetricInputError, match="ddof"):
        I.coefficient_of_variation([1.0, 2.0], ddof=2)


def test_all_equal_values_documented_results() -> None:
    y = np.full(6, 4.0)
    g = [1, 1, 2, 2, 3, 3]
    for index in ("T", "L"):
        d = I.theil_decomposition(y, g, index=index)
        assert (d.total, d.between, d.within, d.between_share) == (0.0, 0.0, 0.0, 0.0)
        assert not d.groups.isna().any().any()
    assert I.theil(y) == 0.0


def test_messages_exist_in_both_languages_with_the_same_fields() -> None:
    src = Path(I.__file__).parent
    used = assert_messages_match("metrics.ineq.", src / "inequality.py", src / "convergence.py")
    assert len(used) > 40
