"""Aggregation methods: hand-computed cases, the availability threshold, broadcasting, pymcdm."""

from __future__ import annotations

import numpy as np
import pytest
from pymcdm import normalizations
from pymcdm.methods import TOPSIS

from cocity.index import aggregate as A
from cocity.index.errors import MethodInputError
from cocity.index.registry import get

NAN = np.nan
# Two units, three children; weights 0.5 / 0.25 / 0.25.
Y2 = np.array([[1.0, 2.0, 4.0],
               [4.0, 1.0, 2.0]])
W2 = np.array([0.5, 0.25, 0.25])


# ----------------------------------------------------------------------------- the means


def test_arithmetic_by_hand() -> None:
    # 0.5·1 + 0.25·2 + 0.25·4 = 2 ; 0.5·4 + 0.25·1 + 0.25·2 = 2.75
    np.testing.assert_allclose(A.arithmetic(Y2, W2), [2.0, 2.75])
    # weights are relative: ×10 changes nothing
    np.testing.assert_allclose(A.arithmetic(Y2, W2 * 10), [2.0, 2.75])


def test_geometric_by_hand() -> None:
    # 1^.5 · 2^.25 · 4^.25 = 2^.75 ; 4^.5 · 1^.25 · 2^.25 = 2^1.25
    np.testing.assert_allclose(A.geometric(Y2, W2), [2 ** 0.75, 2 ** 1.25])


def test_harmonic_by_hand() -> None:
    # 1 / (.5/1 + .25/2 + .25/4) = 1/.6875 ; 1 / (.5/4 + .25/1 + .25/2) = 1/.5
    np.testing.assert_allclose(A.harmonic(Y2, W2), [1 / 0.6875, 2.0])


def test_generalised_by_hand_and_special_orders() -> None:
    # p = 2: sqrt(.5·1 + .25·4 + .25·16) = sqrt(5.5) ; sqrt(.5·16 + .25·1 + .25·4) = sqrt(9.25)
    np.testing.assert_allclose(A.generalised(Y2, W2, p=2), [np.sqrt(5.5), np.sqrt(9.25)])
    np.testing.assert_allclose(A.generalised(Y2, W2, p=1), A.arithmetic(Y2, W2))
    np.testing.assert_allclose(A.generalised(Y2, W2, p=0), A.geometric(Y2, W2))
    np.testing.assert_allclose(A.generalised(Y2, W2, p=-1), A.harmonic(Y2, W2))
    # p = 1 accepts negative scores (it is the arithmetic mean): (-1 + 3)/2 = 1
    np.testing.assert_allclose(A.generalised([[-1.0, 3.0]], [1, 1], p=1), [1.0])
    with pytest.raises(MethodInputError, match=r"generalised：需要非负值，但有\ 1\ 个值\ <\ 0（最"):
        A.generalised([[-1.0, 3.0]], [1, 1], p=2)
    with pytest.raises(MethodInputError, match=r"广义均值的阶数\ p\ 须为有限数，实际为\ inf"):
        A.generalised(Y2, W2, p=np.inf)


def test_zeros_in_geometric_and_harmonic_need_a_shift() -> None:
    Y = np.array([[0.0, 3.0], [5.0, 5.0]])
    for f in (A.geometric, A.harmonic):
        with pytest.raises(MethodInputError, match="shift"):
            f(Y, [1, 1])
    # shift 1: exp(.5 ln 1 + .5 ln 4) − 1 = 2 − 1 = 1 ; equal children keep their value
    np.testing.assert_allclose(A.geometric(Y, [1, 1], shift=1.0), [1.0, 5.0])
    # harmonic with shift 1: 1/(.5/1 + .5/4) − 1 = 1.6 − 1 = 0.6
    np.testing.assert_allclose(A.harmonic(Y, [1, 1], shift=1.0), [0.6, 5.0])


def test_english_message(english: None) -> None:
    with pytest.raises(MethodInputError, match="needs positive values"):
        A.geometric([[0.0, 1.0]], [1, 1])


# ----------------------------------------------------------------------------- availability


def test_availability_threshold_and_renormalised_weights() -> None:
    Y = np.array([[1.0, NAN, 4.0],      # 2 of 3 children
                  [NAN, NAN, 2.0],      # 1 of 3
                  [NAN, NAN, NAN]])     # none
    # unit 0: weights .5/.25 re-normalised to 2/3, 1/3 → 2/3·1 + 1/3·4 = 2
    out = A.arithmetic(Y, W2, min_share=0.5)
    np.testing.assert_allclose(out[0], 2.0)
    assert np.isnan(out[1]) and np.isnan(out[2])
    # the share equal to the threshold passes
    out = A.arithmetic(Y, W2, min_share=1 / 3)
    np.testing.assert_allclose(out[:2], [2.0, 2.0])
    assert np.isnan(out[2])           # no data at all: NaN whatever the threshold
    out = A.arithmetic(Y, W2, min_share=0.0)
    assert np.isnan(out[2])
    with pytest.raises(MethodInputError, match=r"数据可用率阈值\ min_share\ 须在\ 0\ 与\ 1\ 之间"):
        A.arithmetic(Y, W2, min_share=1.5)


def test_zero_weight_child_is_neither_available_nor_missing() -> None:
    Y = np.array([[2.0, NAN, 4.0]])
    # the missing child has weight 0, so the unit has 2 of 2 children: passes min_share = 1
    np.testing.assert_allclose(A.arithmetic(Y, [1, 0, 1], min_share=1.0), [3.0])
    assert np.isnan(A.arithmetic(Y, [1, 1, 1], min_share=1.0)[0])


def test_all_missing_child_column() -> None:
    Y = np.array([[1.0, 3.0, NAN], [2.0, 6.0, NAN]])
    # each unit has 2 of 3 children: mean over the two
    np.testing.assert_allclose(A.arithmetic(Y, [1, 1, 1]), [2.0, 4.0])
    np.testing.assert_allclose(A.geometric(Y, [1, 1, 1]), [np.sqrt(3), np.sqrt(12)])


def test_input_errors() -> None:
    with pytest.raises(MethodInputError, match=r"arithmetic：子项得分须为至少二维的数组（单元\ ×"):
        A.arithmetic([1.0, 2.0], [1, 1])                      # not (n, k)
    with pytest.raises(MethodInputError, match=r"arithmetic：权重形状\ \(2,\)\ 与子项数\ 3\ 不符"):
        A.arithmetic(Y2, [1, 1])                              # wrong weight length
    with pytest.raises(MethodInputError, match="arithmetic：权重须为有限的非负数"):
        A.arithmetic(Y2, [1, -1, 1])                          # negative weight
    with pytest.raises(MethodInputError, match=r"arithmetic：权重全为\ 0，无法汇总"):
        A.arithmetic(Y2, [0, 0, 0])                           # all-zero weights
    with pytest.raises(MethodInputError, match="arithmetic：子项得分含无穷大值"):
        A.arithmetic([[1.0, np.inf, 1.0]], W2)                # infinite score


# ----------------------------------------------------------------------------- Mazziotta–Pareto

# child 0 = (1, 2, 3), child 1 = (3, 2, 1): mean 2, population sd sqrt(2/3), so
# z = 100 ± 10/sqrt(2/3) = 100 ± 12.247449 (12.247449² = 150).
Y_MPI = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])


def test_mpi_by_hand() -> None:
    # unit 0: z = (87.75, 112.25): M = 100, S = 12.247449, S·cv = S²/M = 150/100 = 1.5
    np.testing.assert_allclose(A.mazziotta_pareto(Y_MPI, [1, 1]), [98.5, 100.0, 98.5])
    np.testing.assert_allclose(A.mazziotta_pareto(Y_MPI, [1, 1], penalty_sign=1),
                               [101.5, 100.0, 101.5])


def test_mpi_weighted_by_hand() -> None:
    # w = (.75, .25), unit 0: z = 100 − 12.247449, 100 + 12.247449
    # M = 100 − .5·12.247449 = 93.876276 ; deviations −.25·24.494897, +.75·24.494897
    # S² = .75·.0625·600 + .25·.5625·600 = 112.5 ; MPI = M − S²/M
    M = 100 - 0.5 * np.sqrt(150)
    np.testing.assert_allclose(A.mazziotta_pareto(Y_MPI, [0.75, 0.25])[0], M - 112.5 / M)


def test_mpi_without_standardisation() -> None:
    # (90, 110): M = 100, S = 10, cv = .1 → 100 − 1 = 99
    np.testing.assert_allclose(A.mazziotta_pareto([[90.0, 110.0]], [1, 1], standardise=False),
                               [99.0])
    with pytest.raises(MethodInputError, match=r"Mazziotta–Pareto\ 指数需要各单元的均值\ >\ 0（变"):
        A.mazziotta_pareto([[-5.0, 1.0]], [1, 1], standardise=False)   # mean ≤ 0


def test_mpi_constant_child_and_bad_sign() -> None:
    with pytest.raises(MethodInputError, match=r"mazziotta_pareto：第\ \[1\]\ 列（从\ 0\ 起）在各"):
        A.mazziotta_pareto([[1.0, 5.0], [2.0, 5.0]], [1, 1])
    with pytest.raises(MethodInputError, match=r"penalty_sign\ 须为\ \-1（均值减惩罚）或\ \+1（均"):
        A.mazziotta_pareto(Y_MPI, [1, 1], penalty_sign=0)


# ----------------------------------------------------------------------------- OWA


def test_owa_by_hand() -> None:
    Y = np.array([[3.0, 1.0, 2.0]])
    # sorted 3, 2, 1 with v = (.5, .3, .2): 1.5 + .6 + .2 = 2.3
    np.testing.assert_allclose(A.owa(Y, [1, 1, 1], order_weights=[0.5, 0.3, 0.2]), [2.3])
    np.testing.assert_allclose(A.owa(Y, [1, 1, 1], orness=1.0), [3.0])     # max
    np.testing.assert_allclose(A.owa(Y, [1, 1, 1], orness=0.0), [1.0])     # min
    np.testing.assert_allclose(A.owa(Y, [1, 1, 1], orness=0.5), [2.0])     # mean


def test_wowa_with_importance_weights_by_hand() -> None:
    Y = np.array([[3.0, 1.0, 2.0]])
    w = [0.5, 0.25, 0.25]
    # equal order weights: the weighted mean 1.5 + .25 + .5 = 2.25
    np.testing.assert_allclose(A.owa(Y, w, orness=0.5), [2.25])
    # v = (.5, .3, .2): W through (0,0) (1/3,.5) (2/3,.8) (1,1); sorted 3 (p .5), 2 (.25), 1 (.25)
    # cumulated p .5, .75, 1 → W = .65, .85, 1 → ω = .65, .20, .15 → 1.95 + .4 + .15 = 2.5
    np.testing.assert_allclose(A.owa(Y, w, order_weights=[0.5, 0.3, 0.2]), [2.5])


def test_owa_ties_do_not_depend_on_order() -> None:
    v = [0.5, 0.3, 0.2]
    # (2, 2, 1) with p (.5, .25, .25): ω .65, .2, .15 → 1.3 + .4 + .15 = 1.85
    a = A.owa([[2.0, 2.0, 1.0]], [0.5, 0.25, 0.25], order_weights=v)
    # the tied children swapped: ω .375, .475, .15 → 2·.85 + .15 = 1.85
    b = A.owa([[2.0, 2.0, 1.0]], [0.25, 0.5, 0.25], order_weights=v)
    np.testing.assert_allclose(a, [1.85])
    np.testing.assert_allclose(b, [1.85])


def test_owa_missing_child() -> None:
    # available 3 and 1 with p = .5, .5: W(.5) = .65 → .65·3 + .35·1 = 2.3
    np.testing.assert_allclose(
        A.owa([[3.0, NAN, 1.0]], [1, 1, 1], order_weights=[0.5, 0.3, 0.2]), [2.3])


def test_orness_and_maximum_entropy_weights() -> None:
    np.testing.assert_allclose(A.owa_weights_from_orness(3, 0.5), [1 / 3] * 3)
    # for k = 2 the orness is v_1 itself
    np.testing.assert_allclose(A.owa_weights_from_orness(2, 0.7), [0.7, 0.3])
    for a in (0.05, 0.3, 0.9):
        v = A.owa_weights_from_orness(5, a)
        assert A.orness(v) == pytest.approx(a, abs=1e-10)
        assert v.sum() == pytest.approx(1.0)
    assert A.orness([1, 0, 0]) == 1.0 and A.orness([0, 0, 1]) == 0.0


def test_owa_parameter_errors() -> None:
    Y = np.array([[3.0, 1.0, 2.0]])
    with pytest.raises(MethodInputError, match=r"OWA\ 需要且只需要\ order_weights\ 与\ orness\ 之"):
        A.owa(Y, [1, 1, 1])                                    # neither
    with pytest.raises(MethodInputError, match=r"OWA\ 需要且只需要\ order_weights\ 与\ orness\ 之"):
        A.owa(Y, [1, 1, 1], order_weights=[1, 0, 0], orness=0.5)
    with pytest.raises(MethodInputError, match=r"OWA\ 顺序权重须为\ 3\ 个非负数且和为\ 1"):
        A.owa(Y, [1, 1, 1], order_weights=[0.5, 0.5])          # wrong length
    with pytest.raises(MethodInputError, match=r"orness\ 须在\ 0\ 与\ 1\ 之间，实际为\ 1\.5"):
        A.owa(Y, [1, 1, 1], orness=1.5)


# ----------------------------------------------------------------------------- Copeland

# A = (3, 1, 2), B = (2, 2, 2), C = (1, 3, 1)
Y_COP = np.array([[3.0, 1.0, 2.0], [2.0, 2.0, 2.0], [1.0, 3.0, 1.0]])


def test_copeland_equal_weights_by_hand() -> None:
    # A–B: 1/3 + ½·1/3 = .5 tie ; A–C: 2/3 win ; B–C: 2/3 win
    # A: 1 − 0 = 1 ; B: 1 − 0 = 1 ; C: 0 − 2 = −2
    np.testing.assert_allclose(A.copeland(Y_COP, [1, 1, 1]), [1.0, 1.0, -2.0])


def test_copeland_weighted_by_hand() -> None:
    # w = (.5, .25, .25): A–B .5 + ½·.25 = .625 win ; A–C .75 ; B–C .75
    np.testing.assert_allclose(A.copeland(Y_COP, [0.5, 0.25, 0.25]), [2.0, 0.0, -2.0])


def test_copeland_missing_units_and_pairs() -> None:
    Y = np.vstack([Y_COP, [[NAN, NAN, NAN]]])
    out = A.copeland(Y, [1, 1, 1])
    np.testing.assert_allclose(out[:3], [1.0, 1.0, -2.0])     # the empty unit is not counted
    assert np.isnan(out[3])
    # two units with no child in common: a tie
    np.testing.assert_allclose(A.copeland([[1.0, NAN], [NAN, 2.0]], [1, 1]), [0.0, 0.0])


# ----------------------------------------------------------------------------- TOPSIS


def test_topsis_by_hand() -> None:
    # columns have norm √2; v = .5·Y/√2; ideal (.354, .354), anti-ideal (0, 0)
    # units 0 and 1: d+ = d− = .354 → .5 ; unit 2 is the ideal → 1
    Y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(A.topsis(Y, [1, 1]), [0.5, 0.5, 1.0])
    np.testing.assert_allclose(A.topsis(Y, [1, 1], normalise="none"), [0.5, 0.5, 1.0])


def test_topsis_missing_child_by_hand() -> None:
    # child 1 is constant over the units that have it (contributes nothing);
    # unit 0 is measured on child 0 alone (weight 1): at the ideal → 1
    # unit 1: d+ = .5·(1/√2), d− = 0 → 0 ; unit 2: d+ = 0 → 1
    Y = np.array([[1.0, NAN], [0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(A.topsis(Y, [1, 1]), [1.0, 0.0, 1.0])


def test_topsis_agrees_with_pymcdm() -> None:
    """cocity TOPSIS equals pymcdm's where the conventions coincide.

    They coincide for benefit criteria (cocity receives scores already oriented by the
    normalisation step, so every child is a benefit criterion), complete data and weights
    summing to 1: ``normalise="vector"`` is pymcdm's ``vector_normalization``;
    ``normalise="none"`` on min–max scores is pymcdm's default (min–max) TOPSIS.
    They differ (i) for cost criteria: pymcdm orients inside TOPSIS (``1 − x/‖x‖`` for the
    vector normalisation) while cocity orients once, before, in the normalisation step, so a
    raw cost column reaches cocity's TOPSIS already transformed; (ii) with missing values,
    which pymcdm does not accept and cocity handles with re-normalised weights; (iii) for
    weights not summing to 1, which pymcdm warns about and cocity re-scales (the closeness is
    unchanged either way).
    """
    rng = np.random.default_rng(7)
    X = rng.uniform(1, 10, size=(8, 4))
    w = np.array([0.4, 0.3, 0.2, 0.1])
    types = np.ones(4)
    ref_vec = TOPSIS(normalizations.vector_normalization)(X, w, types)
    np.testing.assert_allclose(A.topsis(X, w, normalise="vector"), ref_vec, rtol=1e-12)
    ref_mm = TOPSIS()(X, w, types)
    mm = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))
    np.testing.assert_allclose(A.topsis(mm, w, normalise="none"), ref_mm, rtol=1e-12)


def test_topsis_errors() -> None:
    with pytest.raises(MethodInputError, match=r"topsis：某单元的全部可用子项在各单元间取值相同，"):
        A.topsis([[1.0, 2.0], [1.0, 2.0]], [1, 1])            # every child constant
    with pytest.raises(MethodInputError, match=r"topsis：需要非负值，但有\ 1\ 个值\ <\ 0（最小\ "):
        A.topsis([[-1.0, 2.0], [1.0, 3.0]], [1, 1])           # negative for vector norm
    with pytest.raises(MethodInputError, match=r'TOPSIS\ 的\ normalise\ 须为\ "vector"\ 或\ "none'):
        A.topsis(Y2, W2, normalise="max")


def test_entropy_topsis_is_topsis_with_entropy_weights() -> None:
    rng = np.random.default_rng(3)
    X = rng.uniform(0, 1, size=(10, 3))
    entropy = get("weight", "entropy")
    e = entropy(X)
    np.testing.assert_allclose(A.entropy_topsis(X, [1, 1, 1]), A.topsis(X, e), rtol=1e-12)
    ref = TOPSIS(normalizations.vector_normalization)(X, e, np.ones(3))
    np.testing.assert_allclose(A.entropy_topsis(X, [1, 1, 1]), ref, rtol=1e-12)
    # a child with weight 0 is left out: same as entropy-TOPSIS without that column
    np.testing.assert_allclose(A.entropy_topsis(X, [1, 0, 1]),
                               A.entropy_topsis(X[:, [0, 2]], [1, 1]), rtol=1e-12)


# ---------------------------------------------------------------- registry, broadcasting

CASES = [
    ("arithmetic", {}),
    ("geometric", {}),
    ("harmonic", {}),
    ("generalised", {"p": 0.5}),
    ("mazziotta_pareto", {}),
    ("owa", {"orness": 0.7}),
    ("copeland", {}),
    ("topsis", {}),
    ("entropy_topsis", {}),
]


def test_registered_under_their_names() -> None:
    for name, _ in CASES:
        assert get("aggregate", name) is getattr(A, name)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_stacked_replications_equal_separate_calls(name: str, params: dict[str, float]) -> None:
    f = get("aggregate", name)
    rng = np.random.default_rng(11)
    Y = rng.uniform(1, 100, size=(3, 7, 4))
    Y[0, 2, 1] = NAN
    Y[1, 4, :3] = NAN                      # below the threshold in replication 1
    W = rng.uniform(0.1, 1, size=(3, 4))
    stacked = f(Y, W, **params)
    assert stacked.shape == (3, 7)
    for r in range(3):
        np.testing.assert_allclose(stacked[r], f(Y[r], W[r], **params), rtol=1e-12)
    assert np.isnan(stacked[1, 4]) and np.isfinite(stacked[0]).all()
    # one data set, several weight vectors: weights alone carry the replication axis
    many_w = f(Y[0], W, **params)
    for r in range(3):
        np.testing.assert_allclose(many_w[r], f(Y[0], W[r], **params), rtol=1e-12)
