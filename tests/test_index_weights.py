"""Weighting methods: hand-computed cases, agreement with pymcdm where the conventions coincide,
Saaty's textbook AHP example, PCA and optimised weights on constructed data, combination and
effective weights, broadcasting over replications."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pymcdm.weights import critic_weights, entropy_weights
from pymcdm.weights.subjective import AHP

from cocity.index import weights as W
from cocity.index.errors import ConsistencyError, MethodInputError
from cocity.index.registry import available, get

nan = np.nan
# Orthogonal, centred vectors of equal norm: columns built from them have known correlations.
U = np.array([1.0, 1.0, -1.0, -1.0])
V = np.array([1.0, -1.0, 1.0, -1.0])
S = np.array([1.0, -1.0, -1.0, 1.0])

# Saaty (1990), "How to make a decision: the analytic hierarchy process", EJOR 48, 9–26:
# the house example, 8 criteria; published λmax = 9.669, CI = 0.238, CR = 0.169 and priorities
# .173 .054 .188 .018 .031 .036 .167 .333.
HOUSE = np.array([
    [1, 5, 3, 7, 6, 6, 1 / 3, 1 / 4],
    [1 / 5, 1, 1 / 3, 5, 3, 3, 1 / 5, 1 / 7],
    [1 / 3, 3, 1, 6, 3, 4, 6, 1 / 5],
    [1 / 7, 1 / 5, 1 / 6, 1, 1 / 3, 1 / 4, 1 / 7, 1 / 8],
    [1 / 6, 1 / 3, 1 / 3, 3, 1, 1 / 2, 1 / 5, 1 / 6],
    [1 / 6, 1 / 3, 1 / 4, 4, 2, 1, 1 / 5, 1 / 6],
    [3, 5, 1 / 6, 7, 5, 5, 1, 1 / 2],
    [4, 7, 5, 8, 6, 6, 2, 1],
])
B3 = np.array([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])


def test_all_registered() -> None:
    names = {"equal", "manual", "entropy", "critic", "ahp", "pca", "optimised", "combine"}
    assert names <= set(available("weight"))
    assert get("weight", "entropy") is W.entropy


def test_equal_and_manual() -> None:
    Y = np.zeros((2, 5, 4))
    np.testing.assert_allclose(W.equal(Y), np.full((2, 4), 0.25))
    np.testing.assert_allclose(W.manual(Y[0, :, :3], w=[2, 1, 1]), [0.5, 0.25, 0.25])
    per_rep = W.manual(Y[:, :, :2], w=[[1, 1], [3, 1]])
    np.testing.assert_allclose(per_rep, [[0.5, 0.5], [0.75, 0.25]])
    for bad, message in (([1, -1, 1], "权重不能为负数"), ([0, 0, 0], "权重之和为 0"),
                         ([1, 1], r"参数 w 的形状 \(2,\) 与指标数 3 不符"),
                         ([1, nan, 1], "参数 w 须全部为有限数值")):
        with pytest.raises(MethodInputError, match=f"manual：{message}"):
            W.manual(Y[0, :, :3], w=bad)


# ---------------------------------------------------------------------------- entropy


def _e(values: list[float]) -> float:
    p = np.array(values) / sum(values)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / math.log(len(values)))


def test_entropy_hand_raw() -> None:
    # col 0 = 1, 1, 2: p = ¼ ¼ ½, e0 = (2·¼ ln 4 + ½ ln 2)/ln 3 = 0.94639
    # col 1 = 1, 2, 3: p = ⅙ ⅓ ½, e1 = (⅙ ln 6 + ⅓ ln 3 + ½ ln 2)/ln 3 = 0.92062
    # w = (1 − e)/Σ(1 − e) = 0.0536/0.1330, 0.0794/0.1330
    e0 = (0.5 * math.log(4) + 0.5 * math.log(2)) / math.log(3)
    e1 = (math.log(6) / 6 + math.log(3) / 3 + math.log(2) / 2) / math.log(3)
    assert e0 == pytest.approx(0.94639, abs=1e-5) and e1 == pytest.approx(0.92062, abs=1e-5)
    d = np.array([1 - e0, 1 - e1])
    Y = np.array([[1.0, 1.0], [1.0, 2.0], [2.0, 3.0]])
    np.testing.assert_allclose(W.entropy(Y, standardise=False, shift=0), d / d.sum())


def test_entropy_standardised_with_shift_and_zero() -> None:
    # col 0 = 0, 5, 10 → z = 0, .5, 1 (+1e-4); col 1 = 3, 3, 6 → z = 0, 0, 1 (+1e-4)
    Y = np.array([[0.0, 3.0], [5.0, 3.0], [10.0, 6.0]])
    e0, e1 = _e([1e-4, 0.5 + 1e-4, 1 + 1e-4]), _e([1e-4, 1e-4, 1 + 1e-4])
    d = np.array([1 - e0, 1 - e1])
    np.testing.assert_allclose(W.entropy(Y), d / d.sum())
    # shift 0: zeros handled by 0·ln 0 = 0 → e0 = e(0, .5, 1), e1 = e(0, 0, 1) = 0
    d = np.array([1 - _e([0.5, 1.0]) * math.log(2) / math.log(3), 1.0])
    np.testing.assert_allclose(W.entropy(Y, shift=0), d / d.sum())


def test_entropy_constant_missing_direction_panel() -> None:
    Y = np.array([[1.0, 4.0, 1.0], [2.0, 4.0, 1.0], [4.0, 4.0, 2.0], [nan, 4.0, 3.0]])
    w = W.entropy(Y, standardise=False, shift=0)
    assert w[1] == 0.0  # constant indicator: e = 1, weight 0 (documented)
    # column 0 uses its 3 observed units: e = e(1, 2, 4) with ln 3
    d0, d2 = 1 - _e([1, 2, 4]), 1 - _e([1, 1, 2, 3])
    np.testing.assert_allclose(w[[0, 2]], np.array([d0, d2]) / (d0 + d2))
    with pytest.raises(MethodInputError, match="entropy：所有指标都没有差异（或彼此完全相关），无"):
        W.entropy(np.array([[1.0, 4.0], [2.0, 4.0]])[:, [1]])  # all constant
    with pytest.raises(MethodInputError, match="1"):
        W.entropy(np.array([[1.0, nan], [2.0, 5.0], [3.0, nan]]))  # one observed value
    # direction −1 on raw data = direction +1 on the mirrored column
    R = np.random.default_rng(0).uniform(1, 9, size=(6, 3))
    np.testing.assert_allclose(W.entropy(R, directions=[1, -1, 1]), W.entropy(R * [1, -1, 1]))
    with pytest.raises(MethodInputError, match="熵值法：不做标准化（standardise=False）时无法处理"):
        W.entropy(R, directions=[1, -1, 1], standardise=False)
    # panel: (T, n, m) pooled into T·n rows; with a replication axis the year axis is 1
    P = np.random.default_rng(1).uniform(1, 9, size=(3, 4, 2))
    np.testing.assert_allclose(W.entropy(P, panel_axis=0), W.entropy(P.reshape(12, 2)))
    stack = np.stack([P, P[::-1] ** 2])
    got = W.entropy(stack, panel_axis=1)
    assert got.shape == (2, 2)
    np.testing.assert_allclose(got[1], W.entropy((P[::-1] ** 2).reshape(12, 2)))
    with pytest.raises(MethodInputError, match=r"entropy：panel_axis\ =\ 1\ 不是数据（3\ 维）的前"):
        W.entropy(P, panel_axis=1)  # the unit axis is not a year axis


def test_entropy_agrees_with_pymcdm() -> None:
    """pymcdm's ``entropy_weights`` uses sum normalisation of the raw matrix, with no min–max
    standardisation and no shift. The conventions coincide (a) on strictly positive raw data
    with ``standardise=False, shift=0``, and (b) when pymcdm is given our standardised and
    shifted matrix. They differ on zeros: pymcdm's sum normalisation refuses any value ≤ 0
    (ValueError; its e_j = 0 branch for zero shares is unreachable), while we use the
    0·ln 0 = 0 limit — and our default min–max step always creates a zero, hence the shift."""
    X = np.random.default_rng(2).uniform(1, 10, size=(9, 4))
    np.testing.assert_allclose(W.entropy(X, standardise=False, shift=0), entropy_weights(X))
    Z = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0)) + 1e-4
    np.testing.assert_allclose(W.entropy(X), entropy_weights(Z))
    Xz = X.copy()
    Xz[0, 0] = 0.0
    with pytest.raises(ValueError, match=r"sum_normalization\ requires\ all\ positive\ values\."):
        entropy_weights(Xz)  # the documented difference
    d = np.array([1 - _e(list(Xz[:, j])) for j in range(4)])  # the zero share contributes 0
    np.testing.assert_allclose(W.entropy(Xz, standardise=False, shift=0), d / d.sum())


# ---------------------------------------------------------------------------- CRITIC


def test_critic_hand() -> None:
    # z0 = 0, .5, 1 (σ .5); z1 = 0, 0, 1 (σ = √(1/3)); z2 = 1, .5, 0 (σ .5)
    # r01 = √3/2, r02 = −1, r12 = −√3/2
    # C0 = .5(1 − √3/2 + 2), C1 = √(1/3)(1 − √3/2 + 1 + √3/2) = 2/√3, C2 = .5(2 + 1 + √3/2)
    Y = np.array([[0.0, 0.0, 2.0], [1.0, 0.0, 1.0], [2.0, 4.0, 0.0]])
    h = math.sqrt(3) / 2
    c = np.array([0.5 * (3 - h), 2 / math.sqrt(3), 0.5 * (3 + h)])
    np.testing.assert_allclose(W.critic(Y), c / c.sum())


def test_critic_agrees_with_pymcdm() -> None:
    """pymcdm's ``critic_weights`` min–max normalises every column as a benefit criterion
    (it ignores criterion types), uses the sample sd (n − 1) and Pearson correlation: exactly
    our convention for ``directions=None``. With cost indicators ours equals pymcdm on the
    oriented (negated) columns, since reversing a column flips the sign of its correlations.
    On a constant column pymcdm returns NaN weights; ours raises."""
    X = np.random.default_rng(3).normal(size=(12, 5))
    np.testing.assert_allclose(W.critic(X), critic_weights(X))
    d = np.array([1, -1, 1, -1, 1])
    np.testing.assert_allclose(W.critic(X, directions=d), critic_weights(X * d))
    assert not np.allclose(W.critic(X, directions=d), critic_weights(X))


def test_critic_missing_pairwise_and_constant(english: None) -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(10, 3))
    X[[1, 4], 0] = nan
    X[7, 2] = nan
    z = (X - np.nanmin(X, axis=0)) / (np.nanmax(X, axis=0) - np.nanmin(X, axis=0))
    df = pd.DataFrame(z)
    c = df.std(ddof=1).to_numpy() * (1 - df.corr().to_numpy()).sum(axis=1)  # pairwise-complete
    np.testing.assert_allclose(W.critic(X), c / c.sum())
    X[:, 1] = 2.0
    with pytest.raises(MethodInputError, match=r"column\(s\) 1 are constant"):
        W.critic(X)
    disjoint = np.array([[1.0, nan], [2.0, nan], [nan, 1.0], [nan, 3.0], [3.0, 2.0]])
    with pytest.raises(MethodInputError, match="share too few observations"):
        W.critic(disjoint)  # one common row: no correlation
    with pytest.raises(MethodInputError, match="no indicator varies"):
        W.critic(np.column_stack([U, 2 * U + 1]))  # perfectly correlated: every C_j = 0


# ---------------------------------------------------------------------------- AHP


def test_ahp_saaty_house_example(english: None) -> None:
    cons = W.ahp_consistency(HOUSE)
    assert cons.lambda_max == pytest.approx(9.669, abs=5e-4)
    assert cons.ci == pytest.approx(0.238, abs=5e-4)
    assert (cons.ri, round(cons.cr, 3)) == (1.41, 0.169)
    with pytest.raises(ConsistencyError, match=r"CR = 0\.169"):
        W.ahp(np.zeros((3, 8)), A=HOUSE)
    w = W.ahp(np.zeros((3, 8)), A=HOUSE, allow_inconsistent=True)
    np.testing.assert_allclose(w, [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333],
                               atol=5e-4)


def test_ahp_three_methods_hand() -> None:
    # geometric: row products 15, 1, 1/15 → cube roots 2.4662, 1, 0.4055, normalised
    g = np.array([15 ** (1 / 3), 1.0, (1 / 15) ** (1 / 3)])
    np.testing.assert_allclose(W.ahp_weights(B3, method="geometric"), g / g.sum())
    # arithmetic: column sums 23/15, 13/3, 9; row means of the normalised columns
    cs = np.array([23 / 15, 13 / 3, 9.0])
    np.testing.assert_allclose(W.ahp_weights(B3, method="arithmetic"), (B3 / cs).mean(axis=1))
    assert W.ahp_weights(B3, method="arithmetic")[0] == pytest.approx(0.6333, abs=1e-4)
    # eigen: the textbook 0.637, 0.258, 0.105; λmax = 3.0385, CR = 0.0193/0.58 = 0.033
    np.testing.assert_allclose(W.ahp_weights(B3), [0.637, 0.258, 0.105], atol=5e-4)
    assert W.ahp_consistency(B3).cr == pytest.approx(0.0332, abs=1e-4)
    # a fully consistent matrix a_ij = w_i/w_j: every method recovers w and CR = 0
    w = np.array([0.5, 0.3, 0.2])
    A = w[:, None] / w[None, :]
    for method in ("eigen", "geometric", "arithmetic"):
        np.testing.assert_allclose(W.ahp(np.zeros((2, 3)), A=A, method=method), w)
    assert W.ahp_consistency(A).cr == pytest.approx(0.0, abs=1e-12)
    assert W.ahp_consistency([[1, 4], [0.25, 1]]).cr == 0.0


def test_ahp_input_errors() -> None:
    with pytest.raises(MethodInputError, match=r"AHP：判断矩阵须为方阵，实际形状\ \(2,\ 3\)"):
        W.ahp_weights(np.ones((2, 3)))
    with pytest.raises(MethodInputError, match=r"AHP：判断矩阵不满足互反性：a\[0,1\]\ =\ 3，a\[1,"):
        W.ahp_weights([[1, 3], [3, 1]])  # not reciprocal
    with pytest.raises(MethodInputError, match="AHP：判断矩阵的元素须全部为正的有限数"):
        W.ahp_weights([[1, -1], [-1, 1]])
    with pytest.raises(MethodInputError, match=r"AHP：判断矩阵为\ 3\ 阶，但有\ 4\ 个指标"):
        W.ahp(np.zeros((2, 4)), A=B3)  # 3 judgements for 4 indicators
    with pytest.raises(MethodInputError, match=r"ahp：参数\ method\ 的值\ \'median\'\ 无效，可选"):
        W.ahp_weights(B3, method="median")
    with pytest.raises(MethodInputError, match=r"AHP：判断矩阵阶数\ 16\ 超过\ Saaty\ 随机一致性指"):
        W.ahp_consistency(np.ones((16, 16)))
    # entered to two decimals (0.33 for 1/3, 0.13 for 1/8) is accepted
    W.ahp_weights([[1, 3, 8], [0.33, 1, 1], [0.13, 1, 1]])


def test_ahp_agrees_with_pymcdm() -> None:
    """pymcdm's AHP takes the principal eigenvector, as our ``eigen``; its CR uses the RI of
    Tummala & Ling (1998) (0.5799, 0.8921, 1.1159, …, 1.3952 for k = 8) instead of Saaty's
    (0.58, 0.90, 1.12, …, 1.41), so the CIs agree and the CRs differ by the ratio of the RIs."""
    for A in (B3, HOUSE):
        ahp = AHP(matrix=A)
        np.testing.assert_allclose(W.ahp_weights(A), ahp(), atol=1e-12)
        k = A.shape[0]
        ours = W.ahp_consistency(A)
        assert ours.cr * ours.ri == pytest.approx(ahp.get_cr() * AHP.RI_M[k - 1])


# ---------------------------------------------------------------------------- PCA


def _pca_data() -> np.ndarray:
    # corr(a, b) = .5, c uncorrelated with both: eigenvalues 1.5, 1, .5
    return np.column_stack([U, 0.5 * U + math.sqrt(3) / 2 * V, S])


def test_pca_weights_hand() -> None:
    # 60 % needs k = 2 (1.5/3 = 50 %, 2.5/3 = 83 %). Loadings: component 1 = (√.75, √.75, 0),
    # component 2 = (0, 0, 1). Scaled squared loadings .5, .5 | 1; variance shares 1.5/2.5, 1/2.5
    # → w = (.5·.6, .5·.6, 1·.4) = (.3, .3, .4); with k = 1: (.5, .5, 0).
    X = _pca_data()
    for rotation in ("varimax", "none"):
        np.testing.assert_allclose(W.pca(X, rotation=rotation), [0.3, 0.3, 0.4], atol=1e-9)
    np.testing.assert_allclose(W.pca(X, k=1), [0.5, 0.5, 0.0], atol=1e-9)
    res = W.pca_loadings(X, rotation="none")
    np.testing.assert_allclose(res.eigenvalues, [1.5, 1.0, 0.5])
    np.testing.assert_allclose(res.explained, [0.5, 1 / 3])


def test_pca_sign_convention_and_reconstruction() -> None:
    X = np.random.default_rng(5).normal(size=(20, 4)) @ np.random.default_rng(6).normal(
        size=(4, 4))
    for rotation in ("none", "varimax"):
        L = W.pca_loadings(-X, k=4, rotation=rotation).loadings
        top = L[np.argmax(np.abs(L), axis=0), np.arange(4)]
        assert (top > 0).all()
        np.testing.assert_allclose(L @ L.T, np.corrcoef(X, rowvar=False), atol=1e-9)
    np.testing.assert_allclose(W.pca_loadings(X, k=2, rotation="none").loadings,
                               W.pca_loadings(-X, k=2, rotation="none").loadings)


def test_pca_errors_and_broadcast() -> None:
    X = _pca_data()
    with pytest.raises(MethodInputError, match=r"pca：第\ 0,\ 1,\ 2\ 列有缺失值——该方法需要完整数"):
        W.pca(np.where(np.eye(4, 3) == 1, nan, X))
    with pytest.raises(MethodInputError, match="2"):
        W.pca(np.column_stack([U, V, np.ones(4)]))
    stack = np.random.default_rng(7).normal(size=(3, 8, 4))
    got = W.pca(stack)
    for r in range(3):
        np.testing.assert_allclose(got[r], W.pca(stack[r]))


# ---------------------------------------------------------------------------- optimised


def test_optimised_balances_correlations_hand() -> None:
    # x1 = 2u, x2 = v: uncorrelated, variances 4 : 1. r1 = 2 w1/√(4 w1² + w2²),
    # r2 = w2/√(…): equal when w2 = 2 w1 → (1/3, 2/3); targets 1 : 2 need w2 = 4 w1 → (.2, .8).
    X = np.column_stack([2 * U, V])
    np.testing.assert_allclose(W.optimised(X), [1 / 3, 2 / 3], atol=1e-5)
    np.testing.assert_allclose(W.optimised(X, targets=[1, 2]), [0.2, 0.8], atol=1e-5)
    # infomax: maximise (2 w1 + w2)/√(4 w1² + w2²), largest when 2 w1 = w2 (Cauchy–Schwarz)
    np.testing.assert_allclose(W.optimised(X, objective="infomax"), [1 / 3, 2 / 3], atol=1e-4)
    stack = np.stack([X, X[:, ::-1]])
    np.testing.assert_allclose(W.optimised(stack), [[1 / 3, 2 / 3], [2 / 3, 1 / 3]], atol=1e-5)
    with pytest.raises(MethodInputError, match=r"optimised：第\ 1\ 列指标为常数（或只有一个观测值"):
        W.optimised(np.column_stack([U, np.ones(4)]))


# ---------------------------------------------------------------------------- combine, effective


def test_combine_linear_multiplicative_and_by_name() -> None:
    X = np.random.default_rng(8).uniform(1, 9, size=(6, 3))
    w1, w2 = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.2, 0.6])
    np.testing.assert_allclose(W.combine(X, w1=w1, w2=w2, alpha=0.25),
                               [0.275, 0.225, 0.5])
    # products .10 .06 .12 → / .28
    np.testing.assert_allclose(W.combine(X, w1=w1, w2=w2, how="multiplicative"),
                               np.array([0.10, 0.06, 0.12]) / 0.28)
    got = W.combine(X, w1="ahp", params1={"A": B3}, w2="entropy")
    np.testing.assert_allclose(got, 0.5 * W.ahp_weights(B3) + 0.5 * W.entropy(X))
    with pytest.raises(MethodInputError, match=r"combine：参数\ alpha\ 的值\ 1\.5\ 无效，可选：\["):
        W.combine(X, w1=w1, w2=w2, alpha=1.5)
    with pytest.raises(MethodInputError, match=r"combine：权重之和为\ 0，无法归一化"):
        W.combine(X, w1=[1, 0, 0], w2=[0, 1, 0], how="multiplicative")
    with pytest.raises(MethodInputError, match=r"combine：参数\ how\ 的值\ \'max\'\ 无效，可选：l"):
        W.combine(X, w1=w1, w2=w2, how="max")


def test_effective_weights_hand() -> None:
    X = np.column_stack([2 * U, V])  # variances 4 : 1, uncorrelated
    # equal weights: shares w_j² var_j / Σ = (.25·4, .25·1)/1.25 = (.8, .2)
    np.testing.assert_allclose(W.effective_weights(X, [0.5, 0.5]), [0.8, 0.2])
    # the balanced weights (1/3, 2/3) give equal shares
    np.testing.assert_allclose(W.effective_weights(X, [1 / 3, 2 / 3]), [0.5, 0.5])
    # correlations: w_j var_j/(sd_j sd_I) = (.5·4/(2·√1.25), .5/√1.25)
    np.testing.assert_allclose(W.effective_weights(X, [0.5, 0.5], measure="correlation"),
                               [1 / math.sqrt(1.25), 0.5 / math.sqrt(1.25)])


def test_effective_weights_sum_to_one_and_broadcast() -> None:
    stack = np.random.default_rng(9).normal(size=(3, 10, 4))
    stack[0, 2, 1] = nan  # that row is left out
    w = np.array([0.1, 0.2, 0.3, 0.4])
    got = W.effective_weights(stack, w)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0)
    np.testing.assert_allclose(got[0], W.effective_weights(np.delete(stack[0], 2, axis=0), w))
    np.testing.assert_allclose(got[1], W.effective_weights(stack[1], w))


# ---------------------------------------------------------------------------- broadcasting


@pytest.mark.parametrize("method", ["entropy", "critic", "equal"])
def test_objective_broadcast_over_replications(method: str) -> None:
    stack = np.random.default_rng(10).uniform(0, 10, size=(4, 7, 3))
    stack[2, 1, 1] = nan
    f = get("weight", method)
    got = f(stack)
    assert got.shape == (4, 3)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0)
    for r in range(4):
        np.testing.assert_allclose(got[r], f(stack[r]))
    np.testing.assert_allclose(f(stack[0][None])[0], got[0])
