"""Linkage networks: distances, modified gravity, affiliation, network construction,
centralities (hand-computed and against networkx) and core–periphery structure."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import least_squares

from cocity.metrics.errors import MetricInputError
from cocity.metrics.geodesy import EARTH_RADIUS_KM
from cocity.metrics.network import (
    centralities,
    core_periphery,
    economic_affiliation,
    gravity_linkage,
    great_circle_km,
    linkage_network,
    network_summary,
    total_linkage,
)

# ----------------------------------------------------------------------------- distances


def test_great_circle_by_hand() -> None:
    pts = pd.DataFrame({"lon": [0.0, 1.0, 0.0], "lat": [0.0, 0.0, 90.0]}, index=["o", "e", "n"])
    D = great_circle_km(pts)
    # 1° of the equator = R·π/180; equator to pole = R·π/2.
    assert D.loc["o", "e"] == pytest.approx(EARTH_RADIUS_KM * math.pi / 180, rel=1e-12)
    assert D.loc["o", "n"] == pytest.approx(EARTH_RADIUS_KM * math.pi / 2, rel=1e-12)
    assert D.loc["e", "n"] == pytest.approx(EARTH_RADIUS_KM * math.pi / 2, rel=1e-12)
    np.testing.assert_allclose(D.to_numpy(), D.to_numpy().T)
    assert (np.diag(D.to_numpy()) == 0).all()


def test_great_circle_chengdu_chongqing_is_plausible() -> None:
    from cocity.datasets import open_store

    units = open_store().units(level="prefecture").set_index("code")
    D = great_circle_km(units)
    # Representative points of the two prefecture-level units (Chongqing's is the centre of
    # the whole municipality) are some 390 km apart.
    assert 300 < D.loc["510100", "500100"] < 450


def test_great_circle_bad_points(english: None) -> None:
    with pytest.raises(MetricInputError, match="out-of-range"):
        great_circle_km(pd.DataFrame({"lon": [0.0, 200.0], "lat": [0.0, 0.0]}, index=["a", "b"]))
    with pytest.raises(MetricInputError, match="longitude column x"):
        great_circle_km(pd.DataFrame({"lon": [0.0], "lat": [0.0]}), lon="x")


# ----------------------------------------------------------------------------- gravity

# Three units: P = (4, 1, 9), G = (1, 4, 1), D_AB = 2, D_AC = 3, D_BC = 1, b = 2.
# √(P G) = (2, 2, 3); k_AB = 1/5, k_BA = 4/5, k_AC = k_CA = 1/2, k_BC = 4/5, k_CB = 1/5.
# R_AB = 1/5 · 2·2/4 = 0.2    R_BA = 4/5 · 1 = 0.8
# R_AC = 1/2 · 2·3/9 = 1/3    R_CA = 1/3
# R_BC = 4/5 · 2·3/1 = 4.8    R_CB = 1/5 · 6 = 1.2
U = ["A", "B", "C"]
P3 = pd.Series([4.0, 1.0, 9.0], index=U)
G3 = pd.Series([1.0, 4.0, 1.0], index=U)
D3 = pd.DataFrame([[0.0, 2.0, 3.0], [2.0, 0.0, 1.0], [3.0, 1.0, 0.0]], index=U, columns=U)
R3 = np.array([[0.0, 0.2, 1 / 3], [0.8, 0.0, 4.8], [1 / 3, 1.2, 0.0]])


def test_gravity_linkage_by_hand() -> None:
    R = gravity_linkage(P3, G3, D3)
    np.testing.assert_allclose(R.to_numpy(), R3, rtol=1e-12)
    # b = 1: R_AB = 1/5 · 4/2 = 0.4
    assert gravity_linkage(P3, G3, D3, b=1).loc["A", "B"] == pytest.approx(0.4)
    # R_ij + R_ji is the unmodified gravity value √(P_iG_i)√(P_jG_j)/D²: 1, 2/3, 6.
    sym = R.to_numpy() + R.to_numpy().T
    np.testing.assert_allclose(sym[[0, 0, 1], [1, 2, 2]], [1.0, 2 / 3, 6.0], rtol=1e-12)


def test_gravity_ignores_the_diagonal_and_follows_the_population_order() -> None:
    d = D3.to_numpy().copy()
    np.fill_diagonal(d, np.nan)                   # a unit's distance to itself is not used
    D = pd.DataFrame(d, index=U, columns=U)
    D = D.loc[["C", "A", "B"], ["B", "C", "A"]]   # any order: aligned on the units of P
    np.testing.assert_allclose(gravity_linkage(P3, G3, D).to_numpy(), R3, rtol=1e-12)


def test_gravity_with_an_asymmetric_travel_time_matrix() -> None:
    T = D3.copy()
    T.loc["A", "B"] = 4.0                          # A → B takes twice as long as B → A
    R = gravity_linkage(P3, G3, T)
    assert R.loc["A", "B"] == pytest.approx(0.2 / 4)
    assert R.loc["B", "A"] == pytest.approx(0.8)


def test_gravity_bad_input(english: None) -> None:
    D = D3.copy()
    D.loc["B", "C"] = 0.0
    with pytest.raises(MetricInputError, match="between B and C is 0"):
        gravity_linkage(P3, G3, D)
    with pytest.raises(MetricInputError, match=r"population must be finite and positive.*B"):
        gravity_linkage(P3.replace(1.0, 0.0), G3, D3)
    with pytest.raises(MetricInputError, match="GDP must be"):
        gravity_linkage(P3, -G3, D3)
    with pytest.raises(MetricInputError, match=r"lacks unit.*C"):
        gravity_linkage(P3, G3, D3.loc[["A", "B"], ["A", "B"]])
    with pytest.raises(MetricInputError, match="decay"):
        gravity_linkage(P3, G3, D3, b=-1)
    with pytest.raises(MetricInputError, match="at least 2"):
        gravity_linkage(P3.iloc[:1], G3, D3)


def test_total_linkage_and_affiliation_by_hand() -> None:
    R = gravity_linkage(P3, G3, D3)
    # totals: A 0.2 + 1/3 = 8/15; B 0.8 + 4.8 = 5.6; C 1/3 + 1.2 = 23/15
    np.testing.assert_allclose(total_linkage(R).to_numpy(), [8 / 15, 5.6, 23 / 15], rtol=1e-12)
    F = economic_affiliation(R)
    # F_AB = 0.2/(8/15) = 3/8; F_AC = 5/8; F_BA = 1/7; F_BC = 6/7; F_CA = 5/23; F_CB = 18/23
    np.testing.assert_allclose(
        F.to_numpy(), [[0, 3 / 8, 5 / 8], [1 / 7, 0, 6 / 7], [5 / 23, 18 / 23, 0]], rtol=1e-12)
    np.testing.assert_allclose(F.sum(axis=1).to_numpy(), 1.0)


def test_affiliation_of_an_unlinked_unit_raises(english: None) -> None:
    R = pd.DataFrame(R3, index=U, columns=U)
    R.loc["C", :] = 0.0
    with pytest.raises(MetricInputError, match=r"no linkage.*C"):
        economic_affiliation(R)
    R.loc["C", "A"] = -1.0
    with pytest.raises(MetricInputError, match="non-negative"):
        total_linkage(R)


# ----------------------------------------------------------------------------- network


def _edges(G: nx.Graph) -> dict[tuple[str, str], float]:
    return {tuple(sorted((u, v))): w for u, v, w in G.edges(data="weight")}


def test_linkage_network_construction() -> None:
    R = pd.DataFrame(R3, index=U, columns=U)
    # symmetrised (sum): AB 1, AC 2/3, BC 6
    full = linkage_network(R)
    assert _edges(full) == pytest.approx({("A", "B"): 1.0, ("A", "C"): 2 / 3, ("B", "C"): 6.0})
    assert full.edges["A", "C"]["distance"] == pytest.approx(1.5)
    assert set(_edges(linkage_network(R, threshold=0.9))) == {("A", "B"), ("B", "C")}
    # top-1: A → B (1 > 2/3), B → C, C → B: edges AB, BC
    assert set(_edges(linkage_network(R, top_k=1))) == {("A", "B"), ("B", "C")}
    assert _edges(linkage_network(R, symmetrise="max")) == pytest.approx(
        {("A", "B"): 0.8, ("A", "C"): 1 / 3, ("B", "C"): 4.8})
    assert _edges(linkage_network(R, symmetrise="mean"))[("B", "C")] == pytest.approx(3.0)
    isolated = linkage_network(R, threshold=10.0)
    assert isolated.number_of_nodes() == 3 and isolated.number_of_edges() == 0


def test_linkage_network_bad_options(english: None) -> None:
    R = pd.DataFrame(R3, index=U, columns=U)
    with pytest.raises(MetricInputError, match="not both"):
        linkage_network(R, threshold=1.0, top_k=1)
    with pytest.raises(MetricInputError, match="top_k must be an integer from 1 to 2"):
        linkage_network(R, top_k=3)
    with pytest.raises(MetricInputError, match="symmetrise"):
        linkage_network(R, symmetrise="min")
    with pytest.raises(MetricInputError, match="square"):
        linkage_network(R.iloc[:2])


def _path_graph() -> nx.Graph:
    G = nx.Graph()
    for u, v, w in (("A", "B", 1.0), ("B", "C", 2.0), ("C", "D", 4.0)):
        G.add_edge(u, v, weight=w, distance=1 / w)
    return G


def test_centralities_by_hand_on_a_weighted_path() -> None:
    # Path A–B–C–D, weights 1, 2, 4 → lengths 1, 0.5, 0.25.
    c = centralities(_path_graph())
    assert c["degree"].tolist() == [1, 2, 2, 1]
    np.testing.assert_allclose(c["strength"], [1, 3, 6, 4])
    np.testing.assert_allclose(c["degree_centrality"], [1 / 3, 2 / 3, 2 / 3, 1 / 3])
    # hops: A 3/(1+2+3) = .5, B 3/(1+1+2) = .75
    np.testing.assert_allclose(c["closeness"], [0.5, 0.75, 0.75, 0.5])
    # lengths: A 3/(1+1.5+1.75); B 3/(1+.5+.75); C 3/(1.5+.5+.25); D 3/(1.75+.75+.25)
    np.testing.assert_allclose(c["closeness_weighted"], [3 / 4.25, 3 / 2.25, 3 / 2.25, 3 / 2.75])
    # B lies on A–C and A–D: 2 / ((n−1)(n−2)/2 = 3)
    np.testing.assert_allclose(c["betweenness"], [0, 2 / 3, 2 / 3, 0], atol=1e-15)
    assert (c["component"] == 0).all()


def test_weighted_betweenness_uses_one_over_weight() -> None:
    # Triangle: A–B 1, B–C 1, A–C 0.25 → A–C is 4 long directly, 2 via B.
    G = nx.Graph()
    for u, v, w in (("A", "B", 1.0), ("B", "C", 1.0), ("A", "C", 0.25)):
        G.add_edge(u, v, weight=w, distance=1 / w)
    c = centralities(G)
    assert c.loc["B", "betweenness"] == 0.0            # hops: the direct link is shorter
    assert c.loc["B", "betweenness_weighted"] == pytest.approx(1.0)


def test_disconnected_network_has_documented_values() -> None:
    G = _path_graph()
    G.add_node("E")
    c = centralities(G)
    assert not c.isna().any().any()
    # Wasserman–Faust: A reaches r = 4 of n = 5 nodes: (3/4)·(3/6) = 0.375
    assert c.loc["A", "closeness"] == pytest.approx(0.375)
    assert c.loc["E"].drop("component").tolist() == [0.0] * 7
    assert c["component"].tolist() == [0, 0, 0, 0, 1]
    # normalised by (n−1)(n−2)/2 = 6
    assert c.loc["B", "betweenness"] == pytest.approx(2 / 6)
    s = network_summary(G)
    assert (s["n_nodes"], s["n_edges"], s["n_components"], s["connected"]) == (5, 3, 2, False)
    assert s["density"] == pytest.approx(0.3)
    assert s["largest_component_share"] == pytest.approx(0.8)
    assert s["mean_strength"] == pytest.approx(14 / 5)


def test_centralities_match_networkx_on_a_gravity_network() -> None:
    rng = np.random.default_rng(7)
    n = 12
    units = [f"u{i}" for i in range(n)]
    pts = pd.DataFrame({"lon": rng.uniform(103, 108, n), "lat": rng.uniform(28, 32, n)},
                       index=units)
    P = pd.Series(rng.uniform(1e5, 1e7, n), index=units)
    G_ = pd.Series(rng.uniform(100, 2e4, n), index=units)
    net = linkage_network(gravity_linkage(P, G_, great_circle_km(pts)), top_k=3)
    c = centralities(net)
    # Same graph, networkx called directly, with the 1/w length computed here.
    ref = nx.Graph()
    ref.add_nodes_from(units)
    for u, v, w in net.edges(data="weight"):
        ref.add_edge(u, v, length=1.0 / w, weight=w)
    np.testing.assert_allclose(c["closeness_weighted"],
                               pd.Series(nx.closeness_centrality(ref, distance="length"))[units])
    np.testing.assert_allclose(c["betweenness_weighted"],
                               pd.Series(nx.betweenness_centrality(ref, weight="length"))[units])
    np.testing.assert_allclose(c["betweenness"],
                               pd.Series(nx.betweenness_centrality(ref))[units])
    np.testing.assert_allclose(c["strength"], pd.Series(dict(ref.degree(weight="weight")))[units])
    assert network_summary(net)["density"] == pytest.approx(nx.density(ref))


def test_centralities_reject_bad_graphs(english: None) -> None:
    with pytest.raises(MetricInputError, match="undirected"):
        centralities(nx.DiGraph([("a", "b")]))
    G = nx.Graph()
    G.add_edge("a", "b", weight=0.0)
    with pytest.raises(MetricInputError, match="positive"):
        centralities(G)


# ----------------------------------------------------------------------------- core–periphery


def test_core_periphery_recovers_an_exact_rank_one_pattern() -> None:
    # a_ij = c_i c_j with c = (3, 2, 1, 1): 6, 3, 3, 2, 2, 1 → coreness c/√15, fit 1.
    c = np.array([3.0, 2.0, 1.0, 1.0])
    A = pd.DataFrame(np.outer(c, c), index=list("wxyz"), columns=list("wxyz"))
    res = core_periphery(A)
    np.testing.assert_allclose(res.coreness.to_numpy(), c / math.sqrt(15), rtol=1e-8)
    assert res.fit == pytest.approx(1.0)
    assert res.hub is None
    # Discrete: core {w, x}: core–core 6 ↔ 1, periphery–periphery 1 ↔ 0 → ρ = 1.
    assert res.core == ["w", "x"]
    assert res.discrete_fit == pytest.approx(1.0)


def test_core_periphery_matches_scipy_least_squares() -> None:
    rng = np.random.default_rng(3)
    for n in (6, 15):
        B = rng.uniform(0, 1, (n, n))
        B = (B + B.T) / 2
        np.fill_diagonal(B, 0.0)
        res = core_periphery(pd.DataFrame(B))
        iu, ju = np.triu_indices(n, 1)
        ref = least_squares(lambda c, B=B, iu=iu, ju=ju: B[iu, ju] - c[iu] * c[ju],
                            x0=np.full(n, 0.5), xtol=1e-15, ftol=1e-15, gtol=1e-15).x
        ref = np.abs(ref) / np.linalg.norm(ref)
        np.testing.assert_allclose(res.coreness.to_numpy(), ref, atol=1e-7)
        fitted = ref[iu] * ref[ju]
        assert res.fit == pytest.approx(np.corrcoef(B[iu, ju], fitted)[0, 1], abs=1e-9)


def test_core_periphery_finds_an_ideal_block_core() -> None:
    # Core {0, 1, 2}: linked to everyone; periphery {3 … 7}: linked only to the core.
    G = nx.Graph()
    G.add_nodes_from(range(8))
    G.add_edges_from((i, j) for i in range(3) for j in range(8) if i < j)
    res = core_periphery(G, weight=None)
    assert sorted(res.core) == [0, 1, 2]
    assert res.discrete_fit == pytest.approx(1.0)
    assert res.coreness[[0, 1, 2]].min() > res.coreness[[3, 4, 5, 6, 7]].max()


def test_a_star_gives_the_hub_limit() -> None:
    # No finite c fits a star as well as the limit c_hub → ∞ (criterion 0).
    res = core_periphery(nx.star_graph(5), weight=None)
    assert res.hub == 0
    assert res.coreness.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert res.fit == pytest.approx(1.0)


def test_core_periphery_bad_input(english: None) -> None:
    with pytest.raises(MetricInputError, match="no core–periphery"):
        core_periphery(nx.complete_graph(5), weight=None)
    with pytest.raises(MetricInputError, match="no core–periphery"):
        core_periphery(nx.empty_graph(5))
    with pytest.raises(MetricInputError, match="at least 4"):
        core_periphery(nx.path_graph(3))
    A = pd.DataFrame(np.arange(16.0).reshape(4, 4))
    with pytest.raises(MetricInputError, match="symmetric"):
        core_periphery(A)
