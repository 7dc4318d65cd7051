"""Tiled (out-of-core) OD matrices (cocity.access.od_tiles) and the measures reading them.

The tiled matrix must equal the one ``Router.many_to_many`` builds in memory, and every measure
on it must equal the same measure on the in-memory matrix — to the bit (``assert_array_equal``,
stronger than the ``rtol=1e-12`` asked for: step 1's sums keep scipy's order across tiles).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from cocity import outputs
from cocity.access import decay as D
from cocity.access import measures as M
from cocity.access import od_tiles as T
from cocity.access.errors import AccessInputError
from cocity.access.kernel import Router, arcs_to_csr
from tests.conftest import assert_messages_match


@pytest.fixture(autouse=True)
def _english(english: None) -> None:
    """Messages in English, so that the tests can match them (Chinese is the default)."""


class CountingRouter(Router):
    """A router that counts its many-to-many calls (which tiles a build computes)."""

    calls = 0

    def many_to_many(self, *args: Any, **kwargs: Any) -> sp.csr_matrix:
        self.calls += 1
        return super().many_to_many(*args, **kwargs)


def random_graph(seed: int = 3, n: int = 500) -> Any:
    """Points in a 10 × 10 km square joined to their 4 nearest neighbours (both ways), times
    in minutes at 5 km/h with random detours; the last 10 nodes have no arc (isolated)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 10, (n, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    near = np.argsort(d, axis=1)[:, :4]
    tail = np.repeat(np.arange(n), 4)
    head = near.ravel()
    keep = (tail < n - 10) & (head < n - 10)
    tail, head = tail[keep], head[keep]
    minutes = d[tail, head] * 12.0 * rng.uniform(1.0, 1.3, len(tail))
    return arcs_to_csr(n, np.r_[tail, head], np.r_[head, tail], np.r_[minutes, minutes])


@pytest.fixture(scope="module")
def case() -> dict[str, Any]:
    rng = np.random.default_rng(11)
    graph = random_graph()
    n = graph.n
    origins = np.r_[rng.integers(0, n - 10, 150), n - 6, n - 5, n - 4, n - 3]   # repeats; isolated
    # the isolated node n − 1 is reached by no origin, n − 3 only by itself (demand 0)
    dest = np.r_[rng.permutation(n - 10)[:58], n - 1, n - 3]
    o_leg = rng.uniform(0, 3, len(origins))
    d_leg = rng.uniform(0, 3, len(dest))
    router = Router(graph)
    m = router.many_to_many(origins, 25.0, destinations=dest).tocoo()
    cost = sp.csr_matrix((m.data + o_leg[m.row] + d_leg[m.col], (m.row, m.col)), shape=m.shape)
    demand = pd.Series(rng.integers(0, 3000, len(origins)).astype(float),
                       index=[f"o{i}" for i in range(len(origins))])
    demand.iloc[:5] = 0.0
    demand.iloc[-1] = 0.0
    supply = pd.DataFrame({"doc": rng.integers(1, 20, len(dest)).astype(float),
                           "bed": rng.integers(0, 60, len(dest)).astype(float)},
                          index=[f"s{j}" for j in range(len(dest))])
    return {"graph": graph, "origins": origins, "dest": dest, "o_leg": o_leg, "d_leg": d_leg,
            "cost": cost, "demand": demand, "supply": supply}


def build(case: dict[str, Any], folder: Path, tile_rows: int, **kw: Any) -> T.TiledOD:
    return T.build_od_tiles(kw.pop("router", case["graph"]), case["origins"], case["dest"],
                            folder, cutoff=25.0, tile_rows=tile_rows, origin_legs=case["o_leg"],
                            destination_legs=case["d_leg"], **kw)


def same_csr(a: sp.csr_matrix, b: sp.csr_matrix) -> None:
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("tile_rows", [1, 7, 64, 153, 1000])
def test_tiles_equal_the_matrix_in_memory(case: dict[str, Any], tmp_path: Path,
                                          tile_rows: int) -> None:
    od = build(case, tmp_path / "od", tile_rows)
    n = len(case["origins"])
    assert od.shape == (n, len(case["dest"]))
    assert len(od.tiles) == -(-n // tile_rows)
    assert [(x.start, x.stop) for x in od.tiles][-1][1] == n
    assert od.nnz == case["cost"].nnz
    same_csr(od.to_csr(), case["cost"])
    for start, block in od.blocks():
        same_csr(block, case["cost"][start:start + block.shape[0]])
    doc = json.loads((tmp_path / "od" / T.MANIFEST).read_text())
    assert doc["cutoff"] == 25.0 and doc["units"] == "minutes"
    assert doc["versions"]["cocity"]
    assert not (tmp_path / "od" / T.JOURNAL).exists()
    table = pq.read_table(tmp_path / "od" / od.tiles[0].file)
    assert [str(x) for x in table.schema.types] == ["int64", "int32", "double"]


@pytest.mark.parametrize("which", ["every node", "sorted subset", "one"])
def test_destination_orders_give_the_kernels_matrix(case: dict[str, Any], tmp_path: Path,
                                                    which: str) -> None:
    # destinations in increasing order take the column-map path, the others the kernel's
    # ``destinations``: both must give what many_to_many(destinations=...) gives
    n = case["graph"].n
    dest = {"every node": np.arange(n), "sorted subset": np.sort(case["dest"]),
            "one": np.array([7])}[which]
    od = T.build_od_tiles(case["graph"], case["origins"], dest, tmp_path / "od", cutoff=25.0,
                          tile_rows=40)
    want = Router(case["graph"]).many_to_many(case["origins"], 25.0, destinations=dest)
    same_csr(od.to_csr(), want)
    assert want.nnz > 0


def test_empty_tiles(case: dict[str, Any], tmp_path: Path) -> None:
    # the isolated origins n − 6 and n − 5 (rows 150, 151) reach no destination: with tiles
    # of 2, the tile of rows 150–151 stores nothing
    od = build(case, tmp_path / "od", 2)
    empty = od.tiles[75]
    assert (empty.start, empty.stop, empty.nnz) == (150, 152, 0)
    block = od.block(75)
    assert block.shape == (2, len(case["dest"])) and block.nnz == 0
    r_mem = M.two_step_fca(case["cost"], case["demand"], case["supply"], cutoff=20.0)
    r_tile = M.two_step_fca(od, case["demand"], case["supply"], cutoff=20.0)
    assert (r_tile.access.iloc[-4:] == 0).all().all()
    pd.testing.assert_frame_equal(r_tile.access, r_mem.access, check_exact=True)


MEASURES = {
    "2sfca": lambda c, d, s: M.two_step_fca(c, d, s, cutoff=20.0),
    "2sfca_decay": lambda c, d, s: M.two_step_fca(c, d, s, cutoff=20.0,
                                                  decay=D.get("power", beta=1.5)),
    "e2sfca": lambda c, d, s: M.enhanced_2sfca(c, d, s, breaks=(5, 12, 20),
                                               weights=(1, 0.6, 0.2)),
    "g2sfca": lambda c, d, s: M.gaussian_2sfca(c, d, s, cutoff=18.0),
    "3sfca": lambda c, d, s: M.three_step_fca(c, d, s, cutoff=20.0,
                                              decay=D.get("gaussian", d0=20.0),
                                              selection_decay=D.get("exponential", beta=0.2)),
    "3sfca_plain": lambda c, d, s: M.three_step_fca(c, d, s, cutoff=15.0),
}


@pytest.mark.parametrize("tile_rows", [1, 10, 1000])
@pytest.mark.parametrize("measure", sorted(MEASURES))
def test_catchment_measures_tiled_equal_in_memory(case: dict[str, Any], tmp_path: Path,
                                                  measure: str, tile_rows: int) -> None:
    od = build(case, tmp_path / "od", tile_rows)
    fn = MEASURES[measure]
    for supply in (case["supply"], case["supply"]["doc"]):
        mem = fn(case["cost"], case["demand"], supply)
        tiled = fn(od, case["demand"], supply)
        np.testing.assert_array_equal(tiled.access.to_numpy(), mem.access.to_numpy())
        np.testing.assert_array_equal(tiled.ratio.to_numpy(), mem.ratio.to_numpy())
        np.testing.assert_array_equal(tiled.catchment_demand.to_numpy(),
                                      mem.catchment_demand.to_numpy())
        assert tiled.unreached == mem.unreached and tiled.zero_demand == mem.zero_demand
        assert tiled.access.index.equals(mem.access.index)
        assert np.all(np.isfinite(tiled.access.to_numpy()))
    assert mem.unreached == ["s58"] and mem.zero_demand == ["s59"]


@pytest.mark.parametrize("tile_rows", [1, 10, 1000])
def test_row_measures_tiled_equal_in_memory(case: dict[str, Any], tmp_path: Path,
                                            tile_rows: int) -> None:
    od = build(case, tmp_path / "od", tile_rows)
    s = case["supply"]
    calls = [
        lambda c: M.gravity(c, s, decay=D.get("exponential", beta=0.1), cutoff=20.0),
        lambda c: M.cumulative_opportunities(c, s["doc"], cutoff=12.0),
        lambda c: M.nearest_k(c, k=2, how="kth"),
        lambda c: M.nearest_k(c, k=3, how="mean", supply=s["bed"], cutoff=20.0),
    ]
    for fn in calls:
        mem, tiled = fn(case["cost"]), fn(od)
        np.testing.assert_array_equal(np.asarray(tiled), np.asarray(mem))


@pytest.mark.parametrize("cut", [1, 7, 100, 400])
def test_column_sums_over_blocks_keep_scipys_order(cut: int) -> None:
    # the accumulation over blocks of rows must give the bits of the sparse product Wᵀ P
    # that the measures compute on a matrix in memory
    # (summing each block apart, then adding the block sums, would not: the test can tell)
    rng = np.random.default_rng(5)
    naive_differs = False
    for _ in range(20):
        W = sp.random(400, 30, density=0.4, format="csr", random_state=rng,
                      data_rvs=lambda k: rng.uniform(0, 1, k) * rng.choice([1e-8, 1, 1e8], k))
        p = rng.uniform(0, 1e4, 400) * rng.choice([1e-3, 1.0, 1e3], 400)
        out, naive = np.zeros(30), np.zeros(30)
        for a in range(0, 400, cut):
            block = W[a:a + cut]
            T.add_column_sums(out, block, block.data, p[a:a + cut])
            naive += block.T @ p[a:a + cut]
        np.testing.assert_array_equal(out, W.T @ p)
        naive_differs |= not np.array_equal(naive, W.T @ p)
    assert naive_differs == (1 < cut < 400)   # one row per block: the same adds


def test_half_written_folder_is_refused_and_resumed(case: dict[str, Any],
                                                    tmp_path: Path) -> None:
    folder = tmp_path / "od"

    def stop_after_four(done: int, total: int) -> None:
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build(case, folder, 20, on_tile=stop_after_four)
    assert not (folder / T.MANIFEST).exists()
    with pytest.raises(T.ODTilesError, match=r"not finished \(4 of 8 tiles written"):
        T.TiledOD.open(folder)
    # a damaged tile is recomputed, the three good ones are kept
    (folder / T.tile_name(1)).write_bytes(b"garbage")
    router = CountingRouter(case["graph"])
    od = build(case, folder, 20, router=router)
    assert router.calls == 8 - 3
    same_csr(od.to_csr(), case["cost"])
    # a finished folder of the same inputs is opened, nothing computed
    again = CountingRouter(case["graph"])
    build(case, folder, 20, router=again)
    assert again.calls == 0


def test_refusals(case: dict[str, Any], tmp_path: Path) -> None:
    folder = tmp_path / "od"
    with pytest.raises(T.ODTilesError, match="no tiled OD matrix here"):
        T.TiledOD.open(folder)
    od = build(case, folder, 50)
    with pytest.raises(T.ODTilesError, match="built from other inputs"):
        T.build_od_tiles(case["graph"], case["origins"], case["dest"], folder, cutoff=20.0,
                         tile_rows=50)
    with pytest.raises(T.ODTilesError, match="built from other inputs"):
        build(case, folder, 51)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    with pytest.raises(T.ODTilesError, match="neither empty nor a tiled OD matrix"):
        build(case, other, 50)
    with pytest.raises(AccessInputError, match="destination nodes must be distinct"):
        T.build_od_tiles(case["graph"], case["origins"], [3, 9, 3], tmp_path / "z",
                         cutoff=20.0, tile_rows=5)
    with pytest.raises(T.ODTilesError, match="integer ≥ 1; got 0"):
        build(case, tmp_path / "z", 0)
    with pytest.raises(T.ODTilesError, match="origin_legs must be 154 finite numbers"):
        T.build_od_tiles(case["graph"], case["origins"], case["dest"], tmp_path / "z",
                         cutoff=20.0, tile_rows=5, origin_legs=np.full(154, -1.0))
    with pytest.raises(AccessInputError, match=r"must be a scipy\.sparse CSR matrix"):
        M.fca_ratio(od, case["cost"], case["demand"], case["supply"], cutoff=20.0)
    # a changed tile is refused when read
    path = folder / od.tiles[1].file
    path.write_bytes(path.read_bytes()[:-1] + b"\0")
    with pytest.raises(T.ODTilesError, match=r"SHA-256 of the tile .* differs"):
        M.two_step_fca(od, case["demand"], case["supply"], cutoff=20.0)
    path.unlink()
    with pytest.raises(T.ODTilesError, match="1 tile file"):
        T.TiledOD.open(folder)
    (folder / T.MANIFEST).write_text('{"format": "something else"}')
    with pytest.raises(T.ODTilesError, match="manifest of the tiled OD matrix is not valid"):
        T.TiledOD.open(folder)


def _rewrite_tile(od: T.TiledOD, k: int, cost: np.ndarray, column: int = 2) -> T.TiledOD:
    """Replace a column of tile ``k`` (as another writer could) and re-sign it in the
    manifest."""
    path = od.folder / od.tiles[k].file
    table = pq.read_table(path)
    table = table.set_column(column, table.schema.names[column], [cost])
    pq.write_table(table, path)
    doc = json.loads((od.folder / T.MANIFEST).read_text())
    doc["tiles"][k]["sha256"] = outputs.sha256_file(path)
    outputs.write_json(doc, od.folder / T.MANIFEST)
    return T.TiledOD.open(od.folder)


def test_costs_are_validated_per_tile_with_the_same_messages(case: dict[str, Any],
                                                             tmp_path: Path) -> None:
    od = build(case, tmp_path / "od", 40)
    k = 2
    n = od.tiles[k].nnz
    bad = _rewrite_tile(od, k, np.r_[np.nan, np.ones(n - 1)])
    with pytest.raises(AccessInputError, match="2sfca: the cost matrix stores 1 missing"):
        M.two_step_fca(bad, case["demand"], case["supply"], cutoff=20.0)
    bad = _rewrite_tile(od, k, np.r_[-2.0, np.ones(n - 1)])
    with pytest.raises(AccessInputError, match="gravity: the cost matrix stores 1 negative"):
        M.gravity(bad, case["supply"], decay=D.get("binary", d0=20.0))


def test_messages_exist_in_both_languages_with_the_same_fields() -> None:
    assert_messages_match("access.odt.", Path(T.__file__))


LAYOUT = r"breaks the layout \(rows or columns out of range or unsorted\)"


def test_tiles_breaking_the_layout_are_refused(case: dict[str, Any], tmp_path: Path) -> None:
    od = build(case, tmp_path / "od", 40)
    rows = pq.read_table(od.folder / od.tiles[1].file).column("row").to_numpy()
    bad = _rewrite_tile(od, 1, rows[::-1].copy(), column=0)
    with pytest.raises(T.ODTilesError, match=LAYOUT):
        bad.block(1)
    bad = _rewrite_tile(od, 1, rows + 40, column=0)
    with pytest.raises(T.ODTilesError, match=LAYOUT):
        list(bad.blocks())
