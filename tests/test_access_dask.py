"""Accessibility searches as jobs (:mod:`cocity.access.blocks`): many-to-many in blocks of
origins and nearest facility by groups give, serially, on a process pool and on a Dask
LocalCluster, exactly what one call of the router gives; ``cocity access measure`` and
``cocity access lifecircle`` with ``--scheduler`` write the same tables as serial runs."""

from __future__ import annotations

import itertools
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import LocalCluster
from scipy import sparse

from cocity.access import blocks
from cocity.access.errors import AccessInputError
from cocity.access.kernel import CSRGraph, Router, arcs_to_csr
from cocity.access.life_circles import life_circles
from cocity.access.measures import cumulative_opportunities
from tests.conftest import dask_clients
from tests.test_access_cli import (
    _wide_terminal,  # noqa: F401  (autouse fixture)
    invoke,
    write_inputs,
)
from tests.test_access_life_circles import FACILITIES, HOMES, SPEC, grid


def random_graph(n: int = 900, seed: int = 3) -> CSRGraph:
    """A 30 × 30 lattice with random one-way and two-way links, weights with many ties."""
    rng = np.random.default_rng(seed)
    side = int(np.sqrt(n))
    node = np.arange(side * side).reshape(side, side)
    pairs = np.vstack([np.column_stack([node[:, :-1].ravel(), node[:, 1:].ravel()]),
                       np.column_stack([node[:-1, :].ravel(), node[1:, :].ravel()])])
    both = rng.random(len(pairs)) < 0.8
    tail = np.concatenate([pairs[:, 0], pairs[both, 1]])
    head = np.concatenate([pairs[:, 1], pairs[both, 0]])
    weights = rng.integers(1, 4, len(tail)).astype(float) / 2
    return arcs_to_csr(side * side, tail, head, weights)


def assert_same_csr(a: sparse.csr_matrix, b: sparse.csr_matrix) -> None:
    assert a.shape == b.shape
    for name in ("data", "indices", "indptr"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y)


def test_many_to_many_in_blocks_is_identical_on_every_executor(
        cluster: LocalCluster) -> None:
    g = random_graph()
    rng = np.random.default_rng(7)
    origins = rng.integers(0, g.n, 230)  # repeated origins too
    dest = rng.choice(g.n, 150, replace=False)
    one = Router(g).many_to_many(origins, 6.0, destinations=dest)
    assert one.nnz > 1000 and len(blocks.origin_blocks(len(origins), 40)) == 6
    seen: list[tuple[int, int]] = []
    runs = {
        "serial": blocks.many_to_many(g, origins, 6.0, destinations=dest, block=40),
        "processes": blocks.many_to_many(g, origins, 6.0, destinations=dest, block=40,
                                         executor="processes", workers=2),
        "dask": blocks.many_to_many(g, origins, 6.0, destinations=dest, block=40,
                                    scheduler=cluster.scheduler_address,
                                    progress=lambda done, total: seen.append((done, total))),
    }
    for got in runs.values():
        assert_same_csr(one, got)
    # the progress follows the six futures up to every origin
    assert len(seen) == 6 and seen[-1] == (230, 230)
    assert all(a[0] < b[0] for a, b in itertools.pairwise(seen))
    # every node as destination, one block, and no origin at all
    assert_same_csr(Router(g).many_to_many(origins[:50], 4.0),
                    blocks.many_to_many(g, origins[:50], 4.0, block=1000))
    assert_same_csr(Router(g).many_to_many([], 4.0), blocks.many_to_many(g, [], 4.0))


def test_cumulative_opportunities_summed_on_the_workers_are_identical(
        cluster: LocalCluster) -> None:
    g = random_graph()
    rng = np.random.default_rng(8)
    origins = rng.integers(0, g.n, 300)
    jobs = rng.poisson(3.0, g.n).astype(float) * rng.random(g.n)
    expected = cumulative_opportunities(Router(g).many_to_many(origins, 5.0), jobs,
                                        cutoff=5.0).to_numpy(float)
    assert (expected > 0).all() and len(np.unique(expected)) > 100
    serial = blocks.opportunities_within(g, origins, 5.0, opportunities=jobs, block=64)
    dask = blocks.opportunities_within(g, origins, 5.0, opportunities=jobs, block=64,
                                       executor="dask", scheduler=cluster.scheduler_address)
    np.testing.assert_array_equal(serial, expected)
    np.testing.assert_array_equal(dask, expected)


def test_nearest_by_groups_is_identical_on_dask_and_life_circles_too(
        cluster: LocalCluster) -> None:
    g = random_graph()
    rng = np.random.default_rng(9)
    groups = [rng.choice(g.n, k, replace=False) for k in (12, 40, 1, 0, 25)]
    offsets = [rng.random(len(s)) for s in groups]
    cutoffs = [4.0, 6.0, 4.0, 6.0, 4.0]
    at = rng.integers(0, g.n, 200)
    router = Router(g)
    expected = [router.nearest_groups([s], c, offsets=[o], direction="to")[0].time[at]
                for s, o, c in zip(groups, offsets, cutoffs, strict=True)]
    assert blocks.group_jobs(cutoffs, 2) == [[0, 2], [4], [1, 3]]
    for kwargs in ({}, {"per_job": 2}, {"executor": "dask",
                                         "scheduler": cluster.scheduler_address}):
        got = blocks.nearest_times(g, groups, cutoffs, offsets=offsets, direction="to", at=at,
                                   **kwargs)
        for want, have in zip(expected, got, strict=True):
            np.testing.assert_array_equal(want, have)
    net = grid()
    serial = life_circles(net, HOMES, FACILITIES, spec=SPEC)
    dask = life_circles(net, HOMES, FACILITIES, spec=SPEC, executor="dask",
                        scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(serial.homes, dask.homes)
    pd.testing.assert_frame_equal(serial.by_unit, dask.by_unit)
    assert np.isfinite(serial.homes.filter(like="dist_").to_numpy()).any()


def test_shared_graph_travels_without_its_router_and_runs_single_threaded() -> None:
    g = random_graph(100)
    shared = blocks.SharedGraph(g, threads=1, router=Router(g), cutoff=3.0)
    copy = pickle.loads(pickle.dumps(shared))
    assert copy.data == {"cutoff": 3.0} and copy.threads == 1
    assert copy.router() is not shared.router() and copy.router() is copy.router()
    assert copy.router().threads == 1
    np.testing.assert_array_equal(copy.graph.weights, g.weights)


def test_bad_blocks_and_groups_are_refused() -> None:
    g = random_graph(100)
    with pytest.raises(AccessInputError, match="须为正整数，收到 0"):
        blocks.many_to_many(g, [1, 2], 3.0, block=0)
    with pytest.raises(AccessInputError, match="源点组数为 2，但给出了 1 个搜索上限"):
        blocks.nearest_times(g, [[1], [2]], [3.0])
    with pytest.raises(AccessInputError, match="float64"):  # not truncated to integers
        blocks.many_to_many(g, [1.5, 2.0], 3.0, block=1)


def _csv_tables(folder: Path) -> dict[str, bytes]:
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.csv")}
    assert files
    return files


def test_cli_runs_the_searches_on_the_scheduler_given(
        cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``access measure`` (in blocks of 5 origins) and ``access lifecircle`` with
    ``--scheduler`` write the same tables as serial runs; ``--executor threads`` is refused
    before any work (exit 2, nothing written)."""
    monkeypatch.setattr(blocks, "ORIGIN_BLOCK", 5)
    net = grid()
    p = write_inputs(tmp_path, net)
    rng = np.random.default_rng(4)
    demand = pd.DataFrame({"id": [f"d{i}" for i in range(40)],
                           "population": rng.integers(10, 500, 40).astype(float),
                           "x": rng.uniform(0, 800, 40), "y": rng.uniform(0, 800, 40)})
    demand.to_csv(tmp_path / "demand.csv", index=False)
    FACILITIES.assign(capacity=3.0).to_csv(
        tmp_path / "supply.csv", index=False)
    measure = ["access", "measure", "--demand", str(tmp_path / "demand.csv"), "--supply",
               str(tmp_path / "supply.csv"), "--network", str(p["edges"]), "--nodes",
               str(p["nodes"]), "--network-cost", "metres", "--threshold", "400",
               "--method", "fca_ratio", "--decay", "linear"]
    lifecircle = ["access", "lifecircle", "-n", str(p["edges"]), "--nodes", str(p["nodes"]),
                  "--homes", str(p["homes"]), "--facilities", str(p["facilities"]),
                  "--spec", str(p["spec"])]
    before = dask_clients(cluster)
    for name, args in (("measure", measure), ("lifecircle", lifecircle)):
        code, output = invoke(*args, "--out", str(tmp_path / f"{name}-serial"))
        assert code == 0, output
        assert dask_clients(cluster) == before
        code, output = invoke(*args, "--scheduler", cluster.scheduler_address,
                              "--out", str(tmp_path / f"{name}-dask"))
        assert code == 0, output
        assert dask_clients(cluster) > before
        before = dask_clients(cluster)
        assert _csv_tables(tmp_path / f"{name}-serial") == _csv_tables(tmp_path / f"{name}-dask")
    served = pd.read_csv(tmp_path / "measure-dask" / "measure.csv")
    assert (served["access"] > 0).sum() > 10
    for args in (measure, lifecircle):
        code, output = invoke("--lang", "en", *args, "--executor", "threads",
                              "--out", str(tmp_path / "bad"))
        assert code == 2
        assert "unknown executor “threads”" in output
        assert not (tmp_path / "bad").exists()


def test_runs_report_the_searches_progress(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """``run_measure`` and ``run_lifecircle`` pass ``progress`` to the searches: it is called
    once per block / type group, counting up to the total."""
    from cocity.access.lifecircle_run import run_lifecircle
    from cocity.access.measure_run import MeasureFiles, MeasureParams, run_measure

    monkeypatch.setattr(blocks, "ORIGIN_BLOCK", 5)
    p = write_inputs(tmp_path, grid())
    rng = np.random.default_rng(4)
    pd.DataFrame({"id": [f"d{i}" for i in range(23)],
                  "population": rng.integers(10, 500, 23).astype(float),
                  "x": rng.uniform(0, 800, 23), "y": rng.uniform(0, 800, 23)}
                 ).to_csv(tmp_path / "demand.csv", index=False)
    FACILITIES.assign(capacity=3.0).to_csv(tmp_path / "supply.csv", index=False)
    calls: list[tuple[int, int]] = []
    run_measure(MeasureParams("cumulative_opportunities", 400.0, None, {}),
                MeasureFiles(tmp_path / "demand.csv", tmp_path / "supply.csv",
                             network=p["edges"], nodes=p["nodes"]),
                network_cost="metres", progress=lambda d, n: calls.append((d, n)))
    totals = {n for _, n in calls}
    assert len(totals) == 1 and len(calls) == -(-totals.pop() // 5)  # one call per block
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and calls[-1][0] == calls[-1][1]
    calls.clear()
    run_lifecircle(p["edges"], p["homes"], p["facilities"], nodes=p["nodes"], spec=p["spec"],
                   progress=lambda d, n: calls.append((d, n)))
    assert calls and calls[-1][0] == calls[-1][1]
