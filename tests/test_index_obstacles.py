"""Obstacle degree (障碍度): hand-computed cases, dimensions, top-k, broadcasting."""

from __future__ import annotations

import numpy as np
import pytest

from cocity.index.errors import MethodInputError
from cocity.index.obstacles import dimension_obstacles, obstacle_degree, top_obstacles

NAN = np.nan
X = np.array([[0.2, 0.5, 1.0],
              [1.0, 1.0, 1.0],
              [0.0, NAN, 0.5],
              [NAN, NAN, NAN]])
W = np.array([0.5, 0.3, 0.2])


def test_obstacle_degree_by_hand() -> None:
    obs_deg = obstacle_degree(X, W)
    # unit 0: F·I = .5·.8 = .4, .3·.5 = .15, .2·0 = 0 ; total .55
    np.testing.assert_allclose(obs_deg[0], [40 / 0.55, 15 / 0.55, 0.0])
    # unit 1: no deviation anywhere: no obstacle
    np.testing.assert_allclose(obs_deg[1], [0.0, 0.0, 0.0])
    # unit 2: .5·1 = .5, missing, .2·.5 = .1 ; total .6
    np.testing.assert_allclose(obs_deg[2, [0, 2]], [50 / 0.6, 10 / 0.6])
    assert np.isnan(obs_deg[2, 1])
    assert np.isnan(obs_deg[3]).all()                                # no data
    np.testing.assert_allclose(np.nansum(obs_deg[[0, 2]], axis=1), [100.0, 100.0])
    # F_j on any scale: ×10 changes nothing
    np.testing.assert_allclose(obstacle_degree(X, W * 10), obs_deg)


def test_dimension_obstacles_by_hand() -> None:
    obs_deg = obstacle_degree(X, W)
    res = dimension_obstacles(obs_deg, ["econ", "social", "econ"])
    assert res.labels == ["econ", "social"]
    np.testing.assert_allclose(res.values[0], [40 / 0.55, 15 / 0.55])
    np.testing.assert_allclose(res.values[1], [0.0, 0.0])
    assert res.values[2, 0] == pytest.approx(100.0)
    assert np.isnan(res.values[2, 1])                          # its only indicator is missing
    with pytest.raises(MethodInputError, match=r"维度标签数\ 2\ 与指标数\ 3\ 不符"):
        dimension_obstacles(obs_deg, ["econ", "social"])


def test_top_obstacles() -> None:
    top = top_obstacles(obstacle_degree(X, W), k=2)
    assert top.index.tolist() == [[0, 1], [-1, -1], [0, 2], [-1, -1]]
    np.testing.assert_allclose(top.value[0], [40 / 0.55, 15 / 0.55])
    assert np.isnan(top.value[1]).all()


def test_top_obstacles_ties_by_column_order_and_padding() -> None:
    obs_deg = np.array([[25.0, 50.0, 25.0]])
    assert top_obstacles(obs_deg, k=3).index.tolist() == [[1, 0, 2]]
    top = top_obstacles(obs_deg, k=4)
    assert top.index.tolist() == [[1, 0, 2, -1]]
    assert np.isnan(top.value[0, 3])
    with pytest.raises(MethodInputError, match=r"k\ 须为正整数，实际为\ 0"):
        top_obstacles(obs_deg, k=0)


def test_errors() -> None:
    with pytest.raises(MethodInputError, match=r"障碍度需要\ \[0,\ 1\]\ 内的标准化值（最小\ 0\.5"):
        obstacle_degree([[0.5, 1.5]], [1, 1])                  # not normalised to [0, 1]
    with pytest.raises(MethodInputError, match=r"障碍度的指标权重须为\ 2\ 个有限非负数"):
        obstacle_degree([[0.5, 0.5]], [1, -1])
    with pytest.raises(MethodInputError, match=r"障碍度的指标权重须为\ 2\ 个有限非负数"):
        obstacle_degree([[0.5, 0.5]], [1, 1, 1])


def test_stacked_replications_equal_separate_calls() -> None:
    rng = np.random.default_rng(2)
    Xs = rng.uniform(0, 1, size=(3, 5, 4))
    Ws = rng.uniform(0.1, 1, size=(3, 4))
    obs_deg = obstacle_degree(Xs, Ws)
    top = top_obstacles(obs_deg, k=2)
    for r in range(3):
        one = obstacle_degree(Xs[r], Ws[r])
        np.testing.assert_allclose(obs_deg[r], one, rtol=1e-12)
        assert top.index[r].tolist() == top_obstacles(one, k=2).index.tolist()
