"""The shortest-path kernel against networkx, on random graphs and hand-made cases."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocity.access.errors import AccessInputError
from cocity.access.kernel import (
    Router,
    arcs_to_csr,
    as_graph,
    facility_coverage,
    isochrone,
    isochrones,
    many_to_many,
    nearest_facility,
    one_to_many,
    reverse,
)
from cocity.access.network import Network

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def graphs(draw: st.DrawFn, exact: bool = True) -> tuple[int, list[tuple[int, int, float]], bool]:
    """Random weighted graphs: zero-weight, parallel and self-loop arcs, isolated nodes.

    ``exact``: weights are multiples of 1/4 (sums are exact in floating point, so cutoffs at a
    path's length compare identically); otherwise arbitrary floats in [0, 10].
    """
    n = draw(st.integers(1, 9))
    weight = (st.integers(0, 20).map(lambda k: k / 4) if exact
              else st.floats(0, 10, allow_nan=False, allow_infinity=False))
    arcs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), weight),
                         max_size=3 * n))
    undirected = draw(st.booleans())
    return n, arcs, undirected


def build(n: int, arcs: list[tuple[int, int, float]], undirected: bool
          ) -> tuple[Router, nx.MultiDiGraph]:
    tail = [a for a, _, _ in arcs]
    head = [b for _, b, _ in arcs]
    w = [c for _, _, c in arcs]
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(n))
    for a, b, c in arcs:
        G.add_edge(a, b, weight=c)
        if undirected:
            G.add_edge(b, a, weight=c)
    if undirected:
        tail, head, w = tail + head, head + tail, w + w
    return Router(arcs_to_csr(n, tail, head, w)), G


cutoffs = st.one_of(st.none(), st.integers(0, 40).map(lambda k: k / 4))


@SETTINGS
@given(graphs(), cutoffs)
def test_one_to_many_and_many_to_many_equal_networkx(g, cutoff):
    n, arcs, undirected = g
    router, G = build(n, arcs, undirected)
    rows = router.many_to_many(np.arange(n), cutoff)
    assert rows.shape == (n, n) and rows.has_sorted_indices
    for s in range(n):
        want = nx.single_source_dijkstra_path_length(G, s, cutoff=cutoff, weight="weight")
        nodes, times = router.one_to_many(s, cutoff)
        assert dict(zip(nodes.tolist(), times.tolist(), strict=True)) == want
        assert times[nodes == s].tolist() == [0.0]
        order = np.lexsort((nodes, times))   # by time, then node
        assert order.tolist() == list(range(len(nodes)))
        row = rows.getrow(s)
        assert dict(zip(row.indices.tolist(), row.data.tolist(), strict=True)) == want


@SETTINGS
@given(graphs(), cutoffs, st.data())
def test_many_to_many_destination_subset_and_repeated_origins(g, cutoff, data):
    n, arcs, undirected = g
    router, G = build(n, arcs, undirected)
    dest = data.draw(st.permutations(range(n)).map(lambda p: p[: max(1, len(p) // 2)]))
    origins = data.draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=12))
    od = router.many_to_many(origins, cutoff, destinations=dest)
    assert od.shape == (len(origins), len(dest))
    dense = np.full(od.shape, np.inf)
    coo = od.tocoo()
    dense[coo.row, coo.col] = coo.data
    for i, s in enumerate(origins):
        want = nx.single_source_dijkstra_path_length(G, s, cutoff=cutoff, weight="weight")
        expect = np.array([want.get(d, np.inf) for d in dest])
        np.testing.assert_array_equal(dense[i], expect)


@SETTINGS
@given(graphs(), cutoffs, st.data())
def test_multi_source_nearest_equals_networkx(g, cutoff, data):
    n, arcs, undirected = g
    router, G = build(n, arcs, undirected)
    sources = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
    for direction, H in (("from", G), ("to", G.reverse(copy=True))):
        res = router.nearest(sources, cutoff, direction=direction)
        dist, _ = nx.multi_source_dijkstra(H, set(sources), cutoff=cutoff, weight="weight")
        expect = np.array([dist.get(v, np.inf) for v in range(n)])
        np.testing.assert_array_equal(res.time, expect)
        reached = np.isfinite(res.time)
        assert np.array_equal(res.source >= 0, reached)
        assert np.array_equal(res.node, np.where(reached, np.asarray(sources)[res.source], -1))
        for v in np.flatnonzero(reached):      # the labelled source is one of the nearest
            d = nx.single_source_dijkstra_path_length(H, int(res.node[v]), weight="weight")
            assert d[v] == res.time[v]


@SETTINGS
@given(graphs(), st.integers(0, 40).map(lambda k: k / 4), st.data())
def test_counts_and_coverage_equal_networkx(g, cutoff, data):
    n, arcs, undirected = g
    router, G = build(n, arcs, undirected)
    types = {name: data.draw(st.lists(st.integers(0, n - 1), max_size=4))
             for name in ("school", "clinic", "market")}
    cov = router.coverage(types, cutoff)
    lengths = dict(nx.all_pairs_dijkstra_path_length(G, weight="weight"))
    for v in range(n):
        for j, facs in enumerate(types.values()):
            times = [lengths[v].get(f, np.inf) for f in facs]
            within = [x for x in times if x <= cutoff]
            assert cov.counts[v, j] == len(within)
            assert cov.nearest[v, j] == (min(within) if within else np.inf)
    assert np.array_equal(cov.covered, cov.counts > 0)
    assert np.array_equal(cov.all_covered, (cov.counts > 0).all(axis=1))


@SETTINGS
@given(graphs(exact=False), st.data())
def test_float_weights_match_networkx_within_tolerance(g, data):
    n, arcs, undirected = g
    router, G = build(n, arcs, undirected)
    od = router.many_to_many(np.arange(n))
    for s in range(n):
        want = nx.single_source_dijkstra_path_length(G, s, weight="weight")
        row = od.getrow(s)
        got = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        assert got.keys() == want.keys()
        assert all(math.isclose(got[k], want[k], rel_tol=0, abs_tol=1e-9) for k in want)
    sources = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3))
    dist, _ = nx.multi_source_dijkstra(G, set(sources), weight="weight")
    res = router.nearest(sources)
    expect = np.array([dist.get(v, np.inf) for v in range(n)])
    np.testing.assert_allclose(res.time, expect, rtol=0, atol=1e-9)


# ----------------------------------------------------------------------------- hand-made cases


def chain() -> Router:
    # 0 → 1 → 2 → 3 (1 minute each), 0 → 2 (5 minutes), 1 → 4 at 0 minutes; 5 isolated
    return Router(arcs_to_csr(6, [0, 1, 2, 0, 1], [1, 2, 3, 2, 4], [1, 1, 1, 5, 0]))


def test_cutoff_zero_returns_the_origin_and_its_zero_time_neighbours():
    r = chain()
    nodes, times = r.one_to_many(0, 0)
    assert nodes.tolist() == [0] and times.tolist() == [0.0]
    nodes, times = r.one_to_many(1, 0)
    assert nodes.tolist() == [1, 4] and times.tolist() == [0.0, 0.0]
    coo = r.many_to_many([0, 5], 0).tocoo()        # stored zeros: "here"
    assert coo.row.tolist() == [0, 1] and coo.col.tolist() == [0, 5]
    assert coo.data.tolist() == [0.0, 0.0]


def test_one_to_many_orders_long_runs_of_equal_times_by_node():
    # a star whose 300 leaves (arcs listed in descending order) are all 1 minute away, each
    # leaf with a zero-time arc to a node further on: one run of 600 equal times after the
    # origin, settled in heap order, returned by node id
    k = 300
    leaves = np.arange(k, 0, -1)
    tail = np.concatenate([np.zeros(k, dtype=np.int64), leaves])
    head = np.concatenate([leaves, leaves + k])
    w = np.concatenate([np.ones(k), np.zeros(k)])
    nodes, times = Router(arcs_to_csr(2 * k + 1, tail, head, w)).one_to_many(0, 5.0)
    assert nodes.tolist() == list(range(2 * k + 1))
    assert times.tolist() == [0.0] + [1.0] * (2 * k)


@pytest.mark.parametrize("bad", [-1, -1e-9, float("nan")])
def test_negative_or_nan_cutoff_raises(bad, english):
    r = chain()
    with pytest.raises(AccessInputError, match="cutoff"):
        r.one_to_many(0, bad)
    with pytest.raises(AccessInputError, match="cutoff"):
        r.many_to_many([0], bad)
    with pytest.raises(AccessInputError, match="cutoff"):
        r.coverage({"a": [1]}, bad)


def test_unreachable_pairs_are_absent_and_unbounded_cutoff_reaches_everything():
    r = chain()
    od = r.many_to_many([0, 3, 5])
    assert od[0].indices.tolist() == [0, 1, 2, 3, 4]
    assert od[0].data.tolist() == [0.0, 1.0, 2.0, 3.0, 1.0]
    assert od[1].indices.tolist() == [3] and od[2].indices.tolist() == [5]
    od = r.many_to_many([0], 1.5)
    assert od[0].indices.tolist() == [0, 1, 4]


def test_output_buffer_overflow_is_retried_and_gives_the_same_matrix():
    rng = np.random.default_rng(3)
    n = 200
    tail, head = rng.integers(0, n, 800), rng.integers(0, n, 800)
    g = arcs_to_csr(n, tail, head, rng.uniform(0, 2, 800))
    full = Router(g).many_to_many(np.arange(n), 3.0)
    small = Router(g, threads=2)
    small._capacity = 5                       # far below one origin's row: forces retries
    again = small.many_to_many(np.arange(n), 3.0)
    assert (full != again).nnz == 0 and full.nnz == again.nnz
    assert np.array_equal(full.indptr, again.indptr) and again.has_sorted_indices
    serial = Router(g, threads=1).many_to_many(np.arange(n), 3.0)
    assert (full != serial).nnz == 0


def test_offsets_start_sources_later():
    r = chain()
    res = r.nearest([0, 3], offsets=[0.0, 2.5], direction="from")
    assert res.time.tolist() == [0.0, 1.0, 2.0, 2.5, 1.0, np.inf]
    assert res.source.tolist() == [0, 0, 0, 1, 0, -1]
    assert res.node.tolist() == [0, 0, 0, 3, 0, -1]
    with pytest.raises(AccessInputError, match=r"起始时间须为每个源点一个有限的非负数（2\ 个），"):
        r.nearest([0, 3], offsets=[0.0, -1.0])
    with pytest.raises(AccessInputError, match=r"起始时间须为每个源点一个有限的非负数（2\ 个），"):
        r.nearest([0, 3], offsets=[0.0])


def test_direction_to_uses_the_reversed_graph():
    r = chain()
    to3 = r.nearest([3], direction="to")
    assert to3.time.tolist() == [3.0, 2.0, 1.0, 0.0, np.inf, np.inf]
    from3 = nearest_facility(r.graph, [3], direction="from")
    assert from3.time.tolist() == [np.inf, np.inf, np.inf, 0.0, np.inf, np.inf]
    rev = reverse(r.graph)
    assert sorted(zip(np.repeat(np.arange(6), np.diff(rev.indptr)).tolist(),
                      rev.indices.tolist(), strict=True)) == [(1, 0), (2, 0), (2, 1), (3, 2),
                                                              (4, 1)]


def test_coverage_counts_duplicates_and_empty_types():
    r = chain()
    cov = r.coverage({"clinic": [3, 3], "park": [], "shop": [4]}, 2.0, origins=[0, 1, 5])
    assert cov.counts.tolist() == [[0, 0, 1], [2, 0, 1], [0, 0, 0]]
    assert cov.nearest[:, 2].tolist() == [1.0, 0.0, np.inf]
    frame = cov.frame()
    assert frame["covered_shop"].tolist() == [True, True, False]
    assert frame["covered_all"].tolist() == [False, False, False]
    assert cov.share()["clinic"] == pytest.approx(1 / 3)
    same = facility_coverage(r.graph, {"clinic": [3, 3], "park": [], "shop": [4]}, 2.0,
                             origins=[0, 1, 5], threads=1)
    assert np.array_equal(same.counts, cov.counts)


def test_coverage_equals_brute_force_on_a_directed_random_graph():
    rng = np.random.default_rng(7)
    n = 150
    g = arcs_to_csr(n, rng.integers(0, n, 600), rng.integers(0, n, 600), rng.uniform(0, 3, 600))
    facs = {f"t{k}": rng.choice(n, 6) for k in range(4)}
    cov = facility_coverage(g, facs, 4.0)
    sp = many_to_many(g, np.arange(n), 4.0).tocoo()
    od = np.full((n, n), np.inf)
    od[sp.row, sp.col] = sp.data
    reach = np.isfinite(od)
    for j, f in enumerate(facs.values()):
        assert np.array_equal(cov.counts[:, j], reach[:, f].sum(axis=1))
        t = np.where(reach[:, f], od[:, f], np.inf).min(axis=1)
        # "to" searches add the arc times from the facility back: rounding may differ
        np.testing.assert_allclose(cov.nearest[:, j], t, rtol=0, atol=1e-9)


def test_bad_graphs_and_nodes_raise(english):
    with pytest.raises(AccessInputError, match="negative or not finite"):
        arcs_to_csr(2, [0], [1], [-1.0])
    with pytest.raises(AccessInputError, match="negative or not finite"):
        arcs_to_csr(2, [0], [1], [np.inf])
    with pytest.raises(AccessInputError, match=r"arcs\ refer\ to\ nodes\ outside\ 0\ …\ 2\ −\ 1"):
        arcs_to_csr(2, [0], [2], [1.0])
    with pytest.raises(AccessInputError, match=r"cannot\ use\ a\ str\ as\ a\ graph:\ give\ a\ Net"):
        as_graph("graph")
    r = chain()
    with pytest.raises(AccessInputError, match="node positions"):
        r.one_to_many(6)
    with pytest.raises(AccessInputError, match="node positions"):
        r.many_to_many([0.5])
    with pytest.raises(AccessInputError, match="distinct"):
        r.many_to_many([0], destinations=[1, 1])
    with pytest.raises(AccessInputError, match="direction"):
        r.nearest([0], direction="out")  # type: ignore[arg-type]
    with pytest.raises(AccessInputError, match="threads"):
        Router(r.graph, threads=0)


def test_as_graph_accepts_scipy_and_triples():
    import scipy.sparse as sp

    m = sp.csr_matrix((np.array([0.0, 2.0]), np.array([1, 2]), np.array([0, 1, 2, 2])),
                      shape=(3, 3))
    nodes, times = one_to_many(m, 0)
    assert nodes.tolist() == [0, 1, 2] and times.tolist() == [0.0, 0.0, 2.0]
    nodes, _ = one_to_many((m.indptr, m.indices, m.data), 1)
    assert nodes.tolist() == [1, 2]


# ----------------------------------------------------------------------------- isochrones


def grid(side: int = 5, spacing: float = 100.0) -> Network:
    ids = np.arange(side * side)
    ii, jj = np.divmod(ids, side)
    u, v = [], []
    for i in range(side):
        for j in range(side):
            if j + 1 < side:
                u.append(i * side + j)
                v.append(i * side + j + 1)
            if i + 1 < side:
                u.append(i * side + j)
                v.append((i + 1) * side + j)
    return Network.from_arrays(ids, jj * spacing, ii * spacing, u, v,
                               np.full(len(u), spacing), profile="walk",
                               speed_kmh=6.0, crs="EPSG:32648")   # 100 m = 1 minute


def test_isochrone_edges_covers_the_reached_network_only():
    net = grid()
    centre = 12                                       # (200, 200)
    poly = isochrone(net, centre, 1.5, buffer=10.0)
    assert poly.geom_type == "Polygon"
    # reached: the centre and its 4 neighbours (1 min), then half-way along the next arcs
    for p in [(200, 200), (300, 200), (200, 100), (350, 200), (300, 250)]:
        assert poly.contains(shapely.Point(p))
    for p in [(400, 200), (300, 300), (200, 380), (100, 100)]:
        assert not poly.contains(shapely.Point(p))
    # one "plus" of 2 × 300 m lines and 4 × 2 × 50 m stubs, each buffered by 10 m
    assert poly.area == pytest.approx((600 + 400) * 20, rel=0.02)


def test_isochrone_hulls_and_zero_minutes():
    net = grid()
    convex = isochrone(net, 12, 1.0, method="convex", buffer=0.0)
    assert convex.area == pytest.approx(2 * 100 * 100)          # a diamond of radius 100 m
    concave = isochrone(net, 12, 2.0, method="concave", buffer=0.0, concave_ratio=1.0)
    assert concave.area == pytest.approx(2 * 200 * 200)
    dot = isochrone(net, 12, 0.0, buffer=20.0)
    assert dot.area == pytest.approx(math.pi * 400, rel=0.02)
    with pytest.raises(AccessInputError, match=r'等时圈方法须为\ "edges"（已达路段缓冲合并）、"co'):
        isochrone(net, 12, 1.0, method="blob")  # type: ignore[arg-type]
    with pytest.raises(AccessInputError, match=r"时间阈值须为非负数（分钟；None\ 表示不设上限），"):
        isochrone(net, 12, -1.0)


def test_isochrones_frame():
    net = grid()
    gdf = isochrones(net, [0, 24], [1.0, 2.0])
    assert len(gdf) == 4 and gdf.crs.to_epsg() == 32648
    assert gdf["minutes"].tolist() == [1.0, 2.0, 1.0, 2.0]
    assert gdf["node_id"].tolist() == [0, 0, 24, 24]
    areas = gdf.geometry.area.to_numpy()
    assert areas[1] > areas[0] and areas[3] > areas[2]


# ----------------------------------------------------------------------------- against scipy


def scipy_case(seed: int) -> tuple[Router, object, float, int]:
    """A random directed graph for the bit-identity checks against scipy's Dijkstra.

    Up to 400 nodes plus an isolated one (so some pairs are unreachable), about three arcs per
    node, a quarter of them zero-time; weights either small integers (many ties between paths)
    or arbitrary floats. scipy adds up parallel arcs in a sparse matrix, so the graph has none.
    The cutoff is one of the shortest times from ``hub`` (the node reaching most others), so
    some nodes lie exactly on it.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    rng = np.random.default_rng(np.random.SeedSequence(16).spawn(40)[seed])
    n = int(rng.integers(2, 400))
    m = int(rng.integers(n, 3 * n + 1))
    tail = rng.integers(0, n, m)
    head = rng.integers(0, n, m)
    w = (rng.integers(0, 4, m).astype(float) if seed % 2 else rng.uniform(0, 10, m))
    w[rng.random(m) < 0.25] = 0.0
    key = np.unique(tail * n + head, return_index=True)[1]       # no parallel arcs
    tail, head, w = tail[key], head[key], w[key]
    mat = sp.csr_matrix((w, (tail, head)), shape=(n + 1, n + 1))
    assert mat.nnz == len(w)              # explicit zeros are kept: they are arcs in scipy
    full = dijkstra(mat, directed=True)
    hub = int(np.argmax((np.isfinite(full) & (full > 0)).sum(axis=1)))
    finite = full[hub][np.isfinite(full[hub]) & (full[hub] > 0)]
    assert len(finite)
    cutoff = float(rng.choice(finite))
    return Router(arcs_to_csr(n + 1, tail, head, w)), mat, cutoff, hub


@pytest.mark.parametrize("seed", range(40))
def test_distances_are_bit_identical_to_scipy(seed):
    from scipy.sparse.csgraph import dijkstra

    router, mat, cutoff, hub = scipy_case(seed)
    n = router.n
    rng = np.random.default_rng(seed)
    origins = np.concatenate([[hub], rng.integers(0, n, min(n, 60))])
    want = dijkstra(mat, directed=True, indices=origins, limit=cutoff)
    assert np.isinf(want).any() and (want == cutoff).any()
    od = router.many_to_many(origins, cutoff)
    got = np.full((len(origins), n), np.inf)
    coo = od.tocoo()
    got[coo.row, coo.col] = coo.data
    np.testing.assert_array_equal(got, want)
    for i in range(min(5, len(origins))):
        nodes, times = router.one_to_many(int(origins[i]), cutoff)
        row = np.full(n, np.inf)
        row[nodes] = times
        np.testing.assert_array_equal(row, want[i])
        assert np.array_equal(np.lexsort((nodes, times)), np.arange(len(nodes)))
    sources = np.unique(rng.integers(0, n, max(1, n // 20)))
    for direction, m in (("from", mat), ("to", mat.T.tocsr())):
        near = router.nearest(sources, cutoff, direction=direction)
        ms = dijkstra(m, directed=True, indices=sources, limit=cutoff, min_only=True)
        np.testing.assert_array_equal(near.time, ms)
        reached = np.isfinite(near.time)
        each = dijkstra(m, directed=True, indices=near.node[reached])
        assert np.array_equal(each[np.arange(reached.sum()), np.flatnonzero(reached)],
                              near.time[reached])      # the labelled source is a nearest one
    counts = router.count_within([sources], cutoff, direction="to")[0]
    to_all = dijkstra(mat, directed=True, indices=np.arange(n), limit=cutoff)
    np.testing.assert_array_equal(counts, np.isfinite(to_all[:, sources]).sum(axis=1))


def test_nearest_with_sources_taking_over_each_other_stays_exact():
    # a one-way path 0 → 1 → … → 299; every source (in node order) reaches all the nodes after
    # it sooner than the sources before it, so the pruned per-source searches would settle
    # ~n²/2 nodes: the kernel drops them for one global search, with the same result
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    n = 300
    graph = arcs_to_csr(n, np.arange(n - 1), np.arange(1, n), np.full(n - 1, 0.5))
    sources = np.arange(0, n, 2)
    near = Router(graph).nearest(sources, 1000.0)
    mat = sp.csr_matrix((np.full(n - 1, 0.5), (np.arange(n - 1), np.arange(1, n))),
                        shape=(n, n))
    np.testing.assert_array_equal(near.time, dijkstra(mat, indices=sources, min_only=True))
    np.testing.assert_array_equal(near.node, np.arange(n) - np.arange(n) % 2)
