"""Normalisation methods: hand-computed cases, directions, ties, zeros, constant and missing
columns, and broadcasting over leading replication axes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from cocity.i18n import labels
from cocity.index import normalise as N
from cocity.index.errors import MethodInputError
from cocity.index.registry import available, get

nan = np.nan
# 4 units × 2 indicators; column 0 has a tie (2, 2), column 1 a missing value and direction −1.
X = np.array([[1.0, 5.0], [2.0, nan], [2.0, 3.0], [4.0, 1.0]])
D = np.array([1.0, -1.0])

ALL = ["minmax", "zscore", "rank", "percentile", "borda", "distance_max", "distance_target",
       "distance_reference", "goalposts"]
PARAMS: dict[str, dict[str, object]] = {
    "distance_target": {"targets": np.array([12.0, 0.5, 12.0])},
    "distance_reference": {"ref": 0},
    "goalposts": {"lower": np.zeros(3), "upper": np.array([10.0, 10.0, 20.0])},
}


def test_all_registered() -> None:
    assert set(ALL) <= set(available("normalise"))
    assert get("normalise", "minmax") is N.minmax


def test_minmax_hand() -> None:
    # col 0: (x − 1)/(4 − 1) → 0, 1/3, 1/3, 1; col 1 (−1): (5 − x)/(5 − 1) → 0, –, 1/2, 1
    got = N.minmax(X, D)
    want = 100 * np.array([[0, 0], [1 / 3, nan], [1 / 3, 0.5], [1, 1]])
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(N.minmax(X, D, low=1, high=2), 1 + want / 100)


def test_zscore_hand() -> None:
    # col 0: mean 9/4, sd² = (1.25² + .25² + .25² + 1.75²)/3 = 4.75/3
    # col 1: values 5, 3, 1: mean 3, sd 2, direction −1 → −(x − 3)/2 = −1, 0, 1
    sd0 = np.sqrt(4.75 / 3)
    want = np.array([[-1.25 / sd0, -1], [-0.25 / sd0, nan], [-0.25 / sd0, 0], [1.75 / sd0, 1]])
    np.testing.assert_allclose(N.zscore(X, D), want)
    np.testing.assert_allclose(N.zscore(X, D, mean=100, sd=10), 100 + 10 * want)


def test_rank_percentile_borda_ties_and_direction() -> None:
    # col 0: 1 < 2 = 2 < 4 → ranks 1, 2.5, 2.5, 4; col 1 (−1): 5 worst, 1 best → 1, –, 2, 3
    r = N.rank(X, D)
    np.testing.assert_allclose(r, [[1, 1], [2.5, nan], [2.5, 2], [4, 3]])
    # percentile = 100 (r − 1)/(N − 1): col 0 N = 4, col 1 N = 3
    np.testing.assert_allclose(N.percentile(X, D), [[0, 0], [50, nan], [50, 50], [100, 100]])
    # Borda points = units outperformed, half per tie = r − 1
    np.testing.assert_allclose(N.borda(X, D), [[0, 0], [1.5, nan], [1.5, 1], [3, 2]])


def test_percentile_all_tied_and_single() -> None:
    Y = np.array([[3.0, nan], [3.0, 7.0], [3.0, nan]])
    np.testing.assert_allclose(N.percentile(Y, [1, 1]), [[50, nan], [50, 50], [50, nan]])


def test_distance_max_hand_and_zeros() -> None:
    # col 0: x/4 → .25 .5 .5 1; col 1 (−1): min/x = 1/5, –, 1/3, 1
    np.testing.assert_allclose(
        N.distance_max(X, D), 100 * np.array([[0.25, 0.2], [0.5, nan], [0.5, 1 / 3], [1, 1]]))
    np.testing.assert_allclose(N.distance_max([[0.0], [2.0], [4.0]], [1], scale=1),
                               [[0], [0.5], [1]])
    with pytest.raises(MethodInputError, match="0"):
        N.distance_max([[0.0], [2.0]], [-1])
    with pytest.raises(MethodInputError, match=r"distance_max：第\ 0\ 列不是比率尺度（正向指标须"):
        N.distance_max([[-1.0], [2.0]], [1])


def test_distance_target_hand_and_cap() -> None:
    # col 0: (x − 1)/(3 − 1) → 0, .5, .5, 1.5; col 1 (−1): (5 − x)/(5 − 2) → 0, –, 2/3, 4/3
    got = N.distance_target(X, D, targets=[3.0, 2.0], cap=False)
    want = 100 * np.array([[0, 0], [0.5, nan], [0.5, 2 / 3], [1.5, 4 / 3]])
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(N.distance_target(X, D, targets=[3.0, 2.0]),
                               np.minimum(want, 100))
    with pytest.raises(MethodInputError, match="0, 1"):
        N.distance_target(X, D, targets=[1.0, 5.0])


def test_distance_reference_hand() -> None:
    # ref = row 2 (2, 3): col 0 x/2 → .5 1 1 2; col 1 (−1) 3/x → .6 – 1 3
    np.testing.assert_allclose(N.distance_reference(X, D, ref=2),
                               100 * np.array([[0.5, 0.6], [1, nan], [1, 1], [2, 3]]))
    with pytest.raises(MethodInputError, match="1"):
        N.distance_reference(X, D, ref=1)  # reference value missing in column 1
    with pytest.raises(MethodInputError, match=r"distance_reference：参照单元行号\ 7\ 超出范围（"):
        N.distance_reference(X, D, ref=7)


def test_goalposts_hand_clipped() -> None:
    # col 0: x/2 clipped → .5 1 1 1; col 1 (−1): (4 − x)/4 clipped → 0 – .25 .75
    got = N.goalposts(X, D, lower=[0, 0], upper=[2, 4])
    np.testing.assert_allclose(got, 100 * np.array([[0.5, 0], [1, nan], [1, 0.25], [1, 0.75]]))
    with pytest.raises(MethodInputError, match="1"):
        N.goalposts(X, D, lower=[0, 4], upper=[2, 4])


@pytest.mark.parametrize("method", ["minmax", "zscore"])
def test_constant_column_names_the_column(method: str, english: None) -> None:
    Y = np.array([[1.0, 7.0], [2.0, 7.0], [3.0, 7.0]])
    with pytest.raises(MethodInputError, match=r"column\(s\) 1 are constant"):
        get("normalise", method)(Y, [1, 1])
    single = np.array([[1.0, nan], [2.0, 4.0], [3.0, nan]])
    with pytest.raises(MethodInputError, match="1"):
        get("normalise", method)(single, [1, 1])


@pytest.mark.parametrize("method", ALL)
def test_missing_stays_missing_and_no_nan_where_data(method: str) -> None:
    rng = np.random.default_rng(1)
    Y = rng.uniform(1, 10, size=(6, 3))
    Y[rng.random(Y.shape) < 0.2] = nan
    Y[0] = [1.0, 1.0, 1.0]  # keep every column non-constant and observed
    Y[1] = [9.0, 9.0, 9.0]
    Y[:, 2] = nan  # an all-missing column stays all-missing, no error
    out = get("normalise", method)(Y, [1, -1, 1], **PARAMS.get(method, {}))
    assert out.shape == Y.shape
    np.testing.assert_array_equal(np.isnan(out), np.isnan(Y))


@pytest.mark.parametrize("method", ["minmax", "zscore", "rank", "percentile", "borda"])
def test_direction_minus_one_is_the_mirror(method: str) -> None:
    rng = np.random.default_rng(2)
    Y = rng.normal(size=(7, 3))
    f = get("normalise", method)
    np.testing.assert_allclose(f(Y, [-1, 1, -1]), f(Y * [-1, 1, -1], [1, 1, 1]))


@pytest.mark.parametrize("method", ALL)
def test_broadcast_over_replications(method: str) -> None:
    rng = np.random.default_rng(3)
    stack = rng.uniform(1, 10, size=(3, 5, 3))
    stack[1, 2, 0] = nan
    f = get("normalise", method)
    params = PARAMS.get(method, {})
    got = f(stack, [1, -1, 1], **params)
    for r in range(3):
        np.testing.assert_allclose(got[r], f(stack[r], [1, -1, 1], **params))
    np.testing.assert_allclose(f(stack[0][None], [1, -1, 1], **params)[0], got[0])


def test_bad_directions_and_input() -> None:
    with pytest.raises(MethodInputError, match=r"minmax：指标方向只能为\ \+1（越大越好）或\ −1（"):
        N.minmax(X, [1, 0])
    with pytest.raises(MethodInputError, match=r"minmax：参数\ directions\ 的形状\ \(3,\)\ 与指标"):
        N.minmax(X, [1, 1, 1])
    with pytest.raises(MethodInputError, match=r"minmax：数据含无穷大值——缺失值请用\ NaN\ 表示"):
        N.minmax([[1.0, np.inf], [2.0, 3.0]], [1, 1])
    with pytest.raises(MethodInputError, match=r"minmax：数据须为至少\ 2\ 维的数组（最后两维为\ "):
        N.minmax([1.0, 2.0], [1])
    with pytest.raises(MethodInputError, match=r"minmax：目标区间下限\ 1\ 须小于上限\ 1"):
        N.minmax(X, D, low=1, high=1)


def test_input_not_modified() -> None:
    Y = X.copy()
    N.minmax(Y, D)
    np.testing.assert_array_equal(Y, X)


def test_col_rank_matches_scipy() -> None:
    from scipy.stats import rankdata

    rng = np.random.default_rng(4)
    Y = rng.integers(0, 4, size=(2, 9, 3)).astype(float)
    Y[0, 3, 1] = nan
    np.testing.assert_allclose(N.col_rank(Y), rankdata(Y, axis=-2, nan_policy="omit"))


def test_method_messages_exist_in_both_languages() -> None:
    src = Path(N.__file__).parent
    used = set()
    for name in ("impute.py", "treat.py", "normalise.py", "weights.py"):
        used |= set(re.findall(r't\("(index\.m\.[a-z_]+)"', (src / name).read_text("utf-8")))
    assert len(used) > 30
    table = labels()
    for key in sorted(used):
        assert set(table[key]) == {"zh", "en"}, key
    defined = {k for k in table if k.startswith("index.m.")}
    assert defined == used  # no unused message either
