"""Imputation methods: hand-computed fills, observed values never change, imputed cells are
reported, all-missing columns and empty groups raise, panels, broadcasting."""

from __future__ import annotations

import numpy as np
import pytest

from cocity.index import impute as I
from cocity.index.errors import MethodInputError
from cocity.index.registry import available, get

nan = np.nan
X = np.array([[1.0, 10.0], [nan, 20.0], [3.0, nan], [5.0, 40.0]])


def test_all_registered() -> None:
    names = {"mean", "median", "group_mean", "group_median", "dimension_mean", "latest",
             "linear", "callable"}
    assert names <= set(available("impute"))
    assert get("impute", "callable") is I.callable_


def test_mean_and_median_hand() -> None:
    # col 0 observed 1, 3, 5: mean = median = 3; col 1 observed 10, 20, 40: mean 70/3, median 20
    np.testing.assert_allclose(I.mean(X), [[1, 10], [3, 20], [3, 70 / 3], [5, 40]])
    np.testing.assert_allclose(I.median(X), [[1, 10], [3, 20], [3, 20], [5, 40]])
    # even count: median of 1, 2, 4, 10 = (2 + 4)/2 = 3
    np.testing.assert_allclose(I.median([[1.0], [2.0], [nan], [4.0], [10.0]])[2], [3.0])


@pytest.mark.parametrize("method", ["mean", "median"])
def test_all_missing_column_raises_naming_it(method: str, english: None) -> None:
    Y = np.array([[1.0, nan], [2.0, nan]])
    with pytest.raises(MethodInputError, match=r"column\(s\) 1 have no observed value"):
        get("impute", method)(Y)


def test_group_mean_and_median_hand() -> None:
    groups = np.array(["a", "a", "b", "b"])
    # row 1 col 0 (group a: only 1 observed) → 1; row 2 col 1 (group b: only 40) → 40
    np.testing.assert_allclose(I.group_mean(X, groups=groups),
                               [[1, 10], [1, 20], [3, 40], [5, 40]])
    Y = np.array([[1.0], [2.0], [6.0], [nan], [10.0], [20.0], [nan]])
    g = np.array([1, 1, 1, 1, 2, 2, 2])
    # group 1 observed 1, 2, 6: mean 3, median 2; group 2 observed 10, 20: both 15
    np.testing.assert_allclose(I.group_mean(Y, groups=g)[[3, 6], 0], [3, 15])
    np.testing.assert_allclose(I.group_median(Y, groups=g)[[3, 6], 0], [2, 15])


def test_group_without_data_raises_or_falls_back(english: None) -> None:
    groups = np.array(["a", "b", "a", "c"])  # row 1 is alone in group b and misses column 0
    with pytest.raises(MethodInputError, match=r"group 'b'.*column\(s\) 0"):
        I.group_mean(X, groups=groups)
    out = I.group_mean(X, groups=groups, fallback="mean")
    assert out[1, 0] == 3.0  # overall column mean
    out = I.group_median(X, groups=groups, fallback="median")
    assert out[1, 0] == 3.0
    with pytest.raises(MethodInputError, match=r"group_mean:\ group\ labels\ have\ shape\ \(3,\),"):
        I.group_mean(X, groups=groups[:3])


def test_dimension_mean_hand() -> None:
    # dimension d = columns 0, 1; dimension e = column 2 alone.
    # col 0 observed 1, 3, 2: mean 2, sd 1 → z(row 0) = −1, z(row 1) = +1, z(row 2) = 0
    # col 1 observed 10, 20, 30: mean 20, sd 10 → z(row 0) = −1, z(row 2) = 0, z(row 3) = +1
    # row 1 misses col 1: its z on col 0 is +1 → 20 + 10·1 = 30
    # row 3 misses col 0: its z on col 1 is +1 → 2 + 1·1 = 3
    # row 2 misses col 2, the only indicator of dimension e → error, or fallback mean 19/3
    Y = np.array([[1.0, 10.0, 5.0], [3.0, nan, 6.0], [2.0, 20.0, nan], [nan, 30.0, 8.0]])
    dims = np.array(["d", "d", "e"])
    with pytest.raises(MethodInputError, match="2"):
        I.dimension_mean(Y, dimension=dims)
    out = I.dimension_mean(Y, dimension=dims, fallback="mean")
    np.testing.assert_allclose(out[1, 1], 30.0)
    np.testing.assert_allclose(out[3, 0], 3.0)
    np.testing.assert_allclose(out[2, 2], 19 / 3)


def test_dimension_mean_constant_donor_counts_as_mean() -> None:
    # col 1 is constant (sd 0): its values count as z = 0, so row 2 gets col 0's mean 2
    Y = np.array([[1.0, 4.0], [3.0, 4.0], [nan, 4.0]])
    np.testing.assert_allclose(I.dimension_mean(Y, dimension=[0, 0])[2, 0], 2.0)


def test_latest_carries_forward() -> None:
    # (T=4, n=2, m=1): unit 0 = 1, –, –, 4 ; unit 1 = –, 2, –, –
    P = np.array([[1.0, nan], [nan, 2.0], [nan, nan], [4.0, nan]])[..., None]
    out = I.latest(P)[..., 0]
    np.testing.assert_allclose(out, [[1, nan], [1, 2], [1, 2], [4, 2]])
    out = I.latest(P, backfill=True)[..., 0]
    np.testing.assert_allclose(out[:, 1], [2, 2, 2, 2])


def test_linear_interpolates_without_extrapolating() -> None:
    # unit 0 = 1, –, –, 4 → 1, 2, 3, 4 ; unit 1 = –, 2, –, 6 → –, 2, 4, 6
    P = np.array([[1.0, nan], [nan, 2.0], [nan, nan], [4.0, 6.0]])[..., None]
    out = I.linear(P)[..., 0]
    np.testing.assert_allclose(out, [[1, nan], [2, 2], [3, 4], [4, 6]])
    # uneven years 2010, 2011, 2015, 2016: 1 + 3·1/6 = 1.5, 1 + 3·5/6 = 3.5; 2 + 4·4/5 = 5.2
    out = I.linear(P, years=[2010, 2011, 2015, 2016])[..., 0]
    np.testing.assert_allclose(out, [[1, nan], [1.5, 2], [3.5, 5.2], [4, 6]])
    out = I.linear(P, extrapolate="nearest")[..., 0]
    assert out[0, 1] == 2.0
    trailing = np.array([[nan], [2.0], [nan], [nan]])[..., None]
    np.testing.assert_allclose(I.linear(trailing)[..., 0, 0], [nan, 2, nan, nan])
    np.testing.assert_allclose(I.linear(trailing, extrapolate="nearest")[..., 0, 0], [2] * 4)


def test_panel_input_checks() -> None:
    with pytest.raises(MethodInputError, match=r"latest：数据须为至少\ 3\ 维的数组（最后两维为\ "):
        I.latest(X)  # 2-D: no year axis
    P = np.ones((3, 2, 1))
    with pytest.raises(MethodInputError, match=r"linear：years\ 须为长度\ 3、严格递增的年份序列"):
        I.linear(P, years=[2010, 2010, 2011])
    with pytest.raises(MethodInputError, match=r"linear：参数\ extrapolate\ 的值\ \'trend\'\ 无效"):
        I.linear(P, extrapolate="trend")


def _random_with_gaps(shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    Y = rng.normal(size=shape)
    Y[rng.random(shape) < 0.25] = nan
    Y[..., 0, :] = 1.0  # every column has data in every replication
    Y[..., 1, :] = 2.0
    return Y


CROSS = {
    "mean": {},
    "median": {},
    "group_mean": {"groups": np.array([0, 0, 1, 1, 1, 0]), "fallback": "mean"},
    "group_median": {"groups": np.array([0, 0, 1, 1, 1, 0]), "fallback": "median"},
    "dimension_mean": {"dimension": np.array([0, 0, 1, 1]), "fallback": "mean"},
}


@pytest.mark.parametrize("method", list(CROSS))
def test_observed_never_change_and_mask(method: str) -> None:
    Y = _random_with_gaps((6, 4), 5)
    out = get("impute", method)(Y, **CROSS[method])
    obs = ~np.isnan(Y)
    np.testing.assert_array_equal(out[obs], Y[obs])
    np.testing.assert_array_equal(I.imputed_mask(Y, out), np.isnan(Y))
    assert not np.isnan(out).any()


@pytest.mark.parametrize("method", list(CROSS))
def test_cross_section_broadcasts(method: str) -> None:
    stack = _random_with_gaps((3, 6, 4), 6)
    f = get("impute", method)
    got = f(stack, **CROSS[method])
    for r in range(3):
        np.testing.assert_allclose(got[r], f(stack[r], **CROSS[method]))


@pytest.mark.parametrize("method", ["latest", "linear"])
def test_panel_broadcasts_and_keeps_observed(method: str) -> None:
    stack = _random_with_gaps((2, 5, 3, 2), 7)  # (R, T, n, m)
    f = get("impute", method)
    got = f(stack)
    for r in range(2):
        np.testing.assert_allclose(got[r], f(stack[r]))
    obs = ~np.isnan(stack)
    np.testing.assert_array_equal(got[obs], stack[obs])


def test_impute_with_user_callable(english: None) -> None:
    filled = I.impute_with(lambda a: np.where(np.isnan(a), 0.0, a), X)
    np.testing.assert_allclose(filled, np.nan_to_num(X))
    out = get("impute", "callable")(X, fn=lambda a, value: np.where(np.isnan(a), value, a),
                                   value=7.0)
    assert out[1, 0] == 7.0 and out[2, 1] == 7.0
    with pytest.raises(MethodInputError, match="changed 1 observed"):
        I.impute_with(lambda a: np.where(np.isnan(a), 0.0, a) + (a == 5.0), X)
    with pytest.raises(MethodInputError, match="shape"):
        I.impute_with(lambda a: a[:2], X)


def test_imputed_mask_shape_check() -> None:
    with pytest.raises(MethodInputError, match=r"imputed_mask：数组形状由\ \(4,\ 2\)\ 变为\ \(2,"):
        I.imputed_mask(X, X[:2])


def test_input_not_modified() -> None:
    Y = X.copy()
    I.mean(Y)
    np.testing.assert_array_equal(Y, X)
