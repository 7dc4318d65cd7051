"""``cocity access measure``: the 2SFCA family and friends on user files, through the command
line — a hand-computed case, every method against the library, costs routed on a network,
and the rejected inputs (exit 2, nothing written)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import cocity.cli.access  # noqa: F401  (registers `cocity access`)
from cocity.access import decay, measures
from cocity.outputs import verify_outputs
from tests.test_access_cli import (  # noqa: F401  (_wide_terminal: autouse fixture)
    _wide_terminal,
    assert_self_contained,
    invoke,
)
from tests.test_access_life_circles import STEP, grid

# Three demand points, two supply points. Hand-computed 2SFCA, catchment 15:
#   S1 is reached by A (5) and B (10): R1 = 10 / (100 + 200) = 1/30
#   S2 is reached by B (8) only (A at 20 is beyond): R2 = 5 / 200 = 1/40
#   A = R1 = 0.0333…, B = R1 + R2 = 0.058333…, C reaches nothing: 0
DEMAND = pd.DataFrame({"id": ["A", "B", "C"], "population": [100.0, 200.0, 50.0],
                       "x": [0.0, 1000.0, 5000.0], "y": [0.0, 0.0, 5000.0]})
SUPPLY = pd.DataFrame({"id": ["S1", "S2"], "capacity": [10.0, 5.0],
                       "x": [200.0, 900.0], "y": [0.0, 100.0]})
COST = pd.DataFrame({"origin": ["A", "A", "B", "B"], "destination": ["S1", "S2", "S1", "S2"],
                     "cost": [5.0, 20.0, 10.0, 8.0]})


def write_case(folder: Path, demand: pd.DataFrame = DEMAND, supply: pd.DataFrame = SUPPLY,
               cost: pd.DataFrame = COST) -> dict[str, Path]:
    paths = {"demand": folder / "demand.csv", "supply": folder / "supply.csv",
             "cost": folder / "cost.csv"}
    demand.to_csv(paths["demand"], index=False)
    supply.to_csv(paths["supply"], index=False)
    cost.to_csv(paths["cost"], index=False)
    return paths


def base_args(p: dict[str, Path], out: Path) -> list[str]:
    return ["access", "measure", "--demand", str(p["demand"]), "--supply", str(p["supply"]),
            "--cost", str(p["cost"]), "--out", str(out)]


def test_two_step_fca_hand_computed(tmp_path: Path) -> None:
    p = write_case(tmp_path)
    out = tmp_path / "out"
    code, output = invoke(*base_args(p, out), "--threshold", "15")
    assert code == 0, output
    table = pd.read_csv(out / "measure.csv")
    assert table["id"].tolist() == ["A", "B", "C"]
    np.testing.assert_allclose(table["access"], [1 / 30, 1 / 30 + 1 / 40, 0.0])
    np.testing.assert_allclose(table["demand"], [100.0, 200.0, 50.0])
    supply = pd.read_csv(out / "measure_supply.csv")
    np.testing.assert_allclose(supply["ratio"], [1 / 30, 1 / 40])
    np.testing.assert_allclose(supply["catchment_demand"], [300.0, 200.0])
    assert supply["status"].tolist() == ["ok", "ok"]
    xlsx = pd.read_excel(out / "measure.xlsx", sheet_name=None)
    assert set(xlsx) == {"demand", "supply", "summary"}
    np.testing.assert_allclose(xlsx["demand"]["access"], table["access"])
    man = json.loads((out / "measure.json").read_text(encoding="utf-8"))
    assert man["kind"] == "access measure" and verify_outputs(man, out) == []
    assert man["coverage"]["en"] == f"3 demand points, 2 supply points, {man['pairs']} " \
                                    "reachable pairs"
    assert man["parameters"]["method"] == "two_step_fca"
    assert man["parameters"]["threshold"] == 15.0
    assert man["inputs"]["cost"]["sha256"] == hashlib.sha256(p["cost"].read_bytes()).hexdigest()
    assert man["pairs"] == 4 and man["cost_source"] == "table"
    weighted = (100 / 30 + 200 * (1 / 30 + 1 / 40)) / 350
    assert man["summary"]["weighted_mean"] == pytest.approx(weighted)
    assert man["summary"]["no_supply"] == 1
    assert set(man["outputs"]) == {"csv", "csv_supply", "xlsx", "html"}
    page = (out / "measure.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert 'id="fig-hist"' in page and 'id="fig-points"' in page
    assert "两步移动搜索法" in page and "Two-step floating catchment area" in page
    # terminal: the statistics and the note on the demand point without supply
    assert "需求加权均值" in output and f"{weighted:.6g}" in output
    assert "1 个需求点（需求合计 50）在阈值内没有供给" in output
    assert "measure.html" in output


def random_case(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    dem = pd.DataFrame({"id": [f"d{i}" for i in range(12)],
                        "population": rng.integers(0, 500, 12).astype(float)})
    sup = pd.DataFrame({"id": [f"s{j}" for j in range(5)],
                        "capacity": rng.integers(0, 20, 5).astype(float)})
    pairs = [(i, j) for i in range(12) for j in range(5) if rng.random() < 0.7]
    cost = pd.DataFrame({"origin": [f"d{i}" for i, _ in pairs],
                         "destination": [f"s{j}" for _, j in pairs],
                         "cost": rng.uniform(0, 40, len(pairs)).round(2)})
    return dem, sup, cost.sample(frac=1.0, random_state=1)  # rows in no particular order


def csr_of(cost: pd.DataFrame, rows: pd.Series, cols: pd.Series) -> sparse.csr_matrix:
    r = pd.Index(rows).get_indexer(cost["origin"])
    c = pd.Index(cols).get_indexer(cost["destination"])
    m = sparse.coo_matrix((cost["cost"].to_numpy(float), (r, c)),
                          shape=(len(rows), len(cols))).tocsr()  # pairs are distinct here
    return m


@pytest.mark.parametrize(("method", "extra"), [
    ("gravity", ["--decay", "exponential", "--beta", "0.1"]),
    ("cumulative_opportunities", ["--threshold", "25"]),
    ("nearest_k", ["--k", "2", "--how", "mean", "--threshold", "30"]),
    ("two_step_fca", ["--threshold", "25", "--decay", "linear"]),
    ("enhanced_2sfca", ["--breaks", "10,20,30", "--weights", "1,0.5,0.2"]),
    ("gaussian_2sfca", ["--threshold", "25", "--spar", "demand"]),
    ("three_step_fca", ["--threshold", "25", "--decay", "gaussian"]),
])
def test_every_method_equals_the_library(tmp_path: Path, method: str,
                                         extra: list[str]) -> None:
    dem, sup, cost = random_case()
    p = write_case(tmp_path, dem, sup, cost)
    out = tmp_path / "out"
    code, output = invoke(*base_args(p, out), "--method", method, *extra)
    assert code == 0, output
    got = pd.read_csv(out / "measure.csv")
    c = csr_of(cost, dem["id"], sup["id"])
    pop, cap = dem["population"].to_numpy(), sup["capacity"].to_numpy()
    ratio = None
    if method == "gravity":
        expected = measures.gravity(c, cap, decay=decay.get("exponential", beta=0.1))
    elif method == "cumulative_opportunities":
        expected = measures.cumulative_opportunities(c, cap, cutoff=25)
    elif method == "nearest_k":
        expected = measures.nearest_k(c, k=2, how="mean", supply=cap, cutoff=30)
    elif method == "two_step_fca":
        res = measures.two_step_fca(c, pop, cap, cutoff=25, decay=decay.get("linear", d0=25))
        expected, ratio = res.access, res.ratio
    elif method == "enhanced_2sfca":
        res = measures.enhanced_2sfca(c, pop, cap, breaks=[10, 20, 30], weights=[1, 0.5, 0.2])
        expected, ratio = res.access, res.ratio
    elif method == "gaussian_2sfca":
        res = measures.gaussian_2sfca(c, pop, cap, cutoff=25)
        expected, ratio = res.access, res.ratio
        spar = measures.spatial_access_ratio(res, weights=pop)
        np.testing.assert_allclose(got["spar"], np.asarray(spar, dtype=float))
    else:
        res = measures.three_step_fca(c, pop, cap, cutoff=25, decay=decay.get("gaussian", d0=25))
        expected, ratio = res.access, res.ratio
    np.testing.assert_allclose(got["access"].to_numpy(float), np.asarray(expected, dtype=float))
    if ratio is not None:
        supply = pd.read_csv(out / "measure_supply.csv")
        np.testing.assert_allclose(supply["ratio"].to_numpy(float),
                                   np.asarray(ratio, dtype=float))
    else:
        assert not (out / "measure_supply.csv").exists()


def test_fca_ratio_with_demand_costs(tmp_path: Path) -> None:
    dem, sup, cost = random_case(3)
    p = write_case(tmp_path, dem, sup, cost)
    rng = np.random.default_rng(5)
    dd = pd.DataFrame([(a, b, 0.0 if a == b else round(float(rng.uniform(0, 40)), 2))
                       for a in dem["id"] for b in dem["id"] if a == b or rng.random() < 0.5],
                      columns=["origin", "destination", "cost"])
    dd.to_csv(tmp_path / "dd.csv", index=False)
    out = tmp_path / "out"
    code, output = invoke(*base_args(p, out), "--method", "fca_ratio", "--threshold", "20",
                          "--demand-cost", str(tmp_path / "dd.csv"))
    assert code == 0, output
    expected = measures.fca_ratio(csr_of(cost, dem["id"], sup["id"]),
                                  csr_of(dd, dem["id"], dem["id"]),
                                  dem["population"].to_numpy(), sup["capacity"].to_numpy(),
                                  cutoff=20)
    got = pd.read_csv(out / "measure.csv")
    np.testing.assert_allclose(got["access"].to_numpy(float), np.asarray(expected, dtype=float))
    man = json.loads((out / "measure.json").read_text(encoding="utf-8"))
    assert man["inputs"]["demand_cost"]["file"] == str(tmp_path / "dd.csv")


def test_costs_routed_on_a_network(tmp_path: Path) -> None:
    """On the 9 × 9 grid (100 m blocks) network distances are Manhattan distances; a point off
    the grid adds its straight leg to the nearest node (h4: 50 m)."""
    net = grid()
    arcs = net.arcs_frame()
    arcs = arcs[arcs["u"] < arcs["v"]][["u", "v", "length_m"]].rename(
        columns={"length_m": "length"})
    arcs.to_csv(tmp_path / "edges.csv", index=False)
    net.nodes_frame().to_csv(tmp_path / "nodes.csv", index=False)
    dem = pd.DataFrame({"id": ["h1", "h2", "h3", "h4"], "population": [100.0, 300.0, 50.0, 25.0],
                        "x": [0.0, 400.0, 800.0, 230.0], "y": [0.0, 400.0, 800.0, 40.0]})
    sup = pd.DataFrame({"id": ["c1", "c2"], "capacity": [3.0, 6.0],
                        "x": [100.0, 400.0], "y": [0.0, 300.0]})
    dem.to_csv(tmp_path / "demand.csv", index=False)
    sup.to_csv(tmp_path / "supply.csv", index=False)
    node = {"h1": (0, 0), "h2": (400, 400), "h3": (800, 800), "h4": (200, 0)}
    leg = {"h4": 50.0}
    pairs = [(h, c, abs(node[h][0] - cx) + abs(node[h][1] - cy) + leg.get(h, 0.0))
             for h in dem["id"] for c, cx, cy in zip(sup["id"], sup["x"], sup["y"], strict=True)]
    cost = pd.DataFrame(pairs, columns=["origin", "destination", "cost"])
    cost = cost[cost["cost"] <= 600]
    expected = measures.two_step_fca(csr_of(cost, dem["id"], sup["id"]),
                                     dem["population"].to_numpy(), sup["capacity"].to_numpy(),
                                     cutoff=600)
    out = tmp_path / "out"
    code, output = invoke("access", "measure", "--demand", str(tmp_path / "demand.csv"),
                          "--supply", str(tmp_path / "supply.csv"), "--network",
                          str(tmp_path / "edges.csv"), "--nodes", str(tmp_path / "nodes.csv"),
                          "--network-cost", "metres", "--threshold", "600", "--out", str(out))
    assert code == 0, output
    got = pd.read_csv(out / "measure.csv")
    np.testing.assert_allclose(got["access"], np.asarray(expected.access, dtype=float))
    assert got["access"].iloc[2] == 0.0  # h3 is 1,100 m from c2
    np.testing.assert_allclose(got["snap_m"], [0.0, 0.0, 0.0, 50.0])
    man = json.loads((out / "measure.json").read_text(encoding="utf-8"))
    assert man["cost_source"] == "network" and man["cost_unit"] == "metres"
    assert set(man["inputs"]) == {"demand", "supply", "network", "nodes"}
    # walking minutes at 4.5 km/h (75 m a minute): 600 m = 8 minutes
    code, output = invoke("access", "measure", "--demand", str(tmp_path / "demand.csv"),
                          "--supply", str(tmp_path / "supply.csv"), "-n",
                          str(tmp_path / "edges.csv"), "--nodes", str(tmp_path / "nodes.csv"),
                          "--threshold", "8", "--out", str(tmp_path / "minutes"))
    assert code == 0, output
    minutes = pd.read_csv(tmp_path / "minutes" / "measure.csv")
    np.testing.assert_allclose(minutes["access"], got["access"])


def test_lonlat_points_and_names_of_columns(tmp_path: Path) -> None:
    dem = DEMAND.drop(columns=["x", "y"]).rename(columns={"id": "code", "population": "pop"})
    dem = dem.assign(lon=[104.0, 104.01, 104.2], lat=[30.6, 30.6, 30.7])
    sup = SUPPLY.drop(columns=["x", "y"]).rename(columns={"capacity": "beds"})
    sup = sup.assign(lon=[104.002, 104.009], lat=[30.6, 30.601])
    cost = COST.rename(columns={"origin": "from", "destination": "to", "cost": "minutes"})
    p = write_case(tmp_path, dem, sup, cost)
    out = tmp_path / "out"
    code, output = invoke("--lang", "en", "access", "measure", "--demand", str(p["demand"]),
                          "--supply", str(p["supply"]), "--cost", str(p["cost"]),
                          "--demand-id", "code", "--demand-col", "pop", "--capacity-col", "beds",
                          "--origin-col", "from", "--destination-col", "to", "--cost-col",
                          "minutes", "--threshold", "15", "--out", str(out))
    assert code == 0, output
    table = pd.read_csv(out / "measure.csv")
    np.testing.assert_allclose(table["access"], [1 / 30, 1 / 30 + 1 / 40, 0.0])
    page = (out / "measure.html").read_text(encoding="utf-8")
    assert 'id="fig-points"' in page and "Demand-weighted mean" in output


def test_without_coordinates_there_is_no_map(tmp_path: Path) -> None:
    p = write_case(tmp_path, DEMAND.drop(columns=["x", "y"]), SUPPLY.drop(columns=["x", "y"]))
    code, output = invoke(*base_args(p, tmp_path / "out"), "--threshold", "15")
    assert code == 0, output
    page = (tmp_path / "out" / "measure.html").read_text(encoding="utf-8")
    assert 'id="fig-hist"' in page and 'id="fig-points"' not in page


@pytest.mark.parametrize(("case", "args", "zh", "en"), [
    ("unknown_ids", ["--threshold", "15"], "“X9” (3)", "ids not among the demand points"),
    ("negative_capacity", ["--threshold", "15"], "第 3 行（S2：-5.0）", "row 3 (S2: -5.0)"),
    ("zero_threshold", ["--threshold", "0"], "--threshold 须为正数",
     "--threshold must be positive"),
    ("missing_column", ["--threshold", "15"], "缺少列 population", "has no column population"),
    ("missing_cost_column", ["--threshold", "15"], "缺少列 cost", "has no column cost"),
    ("duplicate_pair", ["--threshold", "15"], "同一点对出现多次", "lists a pair more than once"),
    ("no_threshold", [], "two_step_fca 需要 --threshold", "two_step_fca needs --threshold"),
    ("decay_param", ["--threshold", "15", "--decay", "power"], "power 衰减需要 --beta",
     "the power decay needs --beta"),
    ("unused_decay", ["--method", "gaussian_2sfca", "--threshold", "15", "--decay", "linear"],
     "不接受 --decay", "takes no --decay"),
    ("method", ["--method", "magic"], "未知的指标 'magic'", "unknown measure 'magic'"),
    ("network_and_cost", ["--threshold", "15"], "之一", "give either --cost"),
])
def test_errors_exit_2_and_write_nothing(tmp_path: Path, case: str, args: list[str], zh: str,
                                         en: str) -> None:
    demand, supply, cost = DEMAND, SUPPLY, COST
    if case == "unknown_ids":
        cost = COST.assign(origin=["A", "X9", "B", "B"])
    elif case == "negative_capacity":
        supply = SUPPLY.assign(capacity=[10.0, -5.0])
    elif case == "missing_column":
        demand = DEMAND.drop(columns="population")
    elif case == "missing_cost_column":
        cost = COST.drop(columns="cost")
    elif case == "duplicate_pair":
        cost = pd.concat([COST, COST.iloc[[1]]])
    p = write_case(tmp_path, demand, supply, cost)
    out = tmp_path / "out"
    argv = base_args(p, out) + args
    if case == "network_and_cost":
        argv += ["--network", str(p["cost"])]
    code, output = invoke(*argv)
    assert code == 2 and "错误" in output and zh in output, output
    code, output = invoke("--lang", "en", *argv)
    assert code == 2 and "Error" in output and en in output, output
    assert not out.exists()


def test_network_points_far_from_the_streets_are_noted(tmp_path: Path) -> None:
    net = grid()
    arcs = net.arcs_frame()
    arcs[arcs["u"] < arcs["v"]][["u", "v", "length_m"]].rename(
        columns={"length_m": "length"}).to_csv(tmp_path / "edges.csv", index=False)
    net.nodes_frame().to_csv(tmp_path / "nodes.csv", index=False)
    pd.DataFrame({"id": ["a", "far"], "population": [10.0, 5.0], "x": [0.0, 9000.0],
                  "y": [0.0, 0.0]}).to_csv(tmp_path / "demand.csv", index=False)
    pd.DataFrame({"id": ["s"], "capacity": [1.0], "x": [STEP], "y": [0.0]}).to_csv(
        tmp_path / "supply.csv", index=False)
    code, output = invoke("--lang", "en", "access", "measure", "--demand",
                          str(tmp_path / "demand.csv"), "--supply", str(tmp_path / "supply.csv"),
                          "-n", str(tmp_path / "edges.csv"), "--nodes",
                          str(tmp_path / "nodes.csv"), "--method", "cumulative_opportunities",
                          "--threshold", "5", "--out", str(tmp_path / "o"))
    assert code == 0, output
    assert "1 demand point(s) lie more than 500 m from the network" in output
    table = pd.read_csv(tmp_path / "o" / "measure.csv")
    assert table["access"].tolist() == [1.0, 0.0]
    assert table["snapped"].tolist() == [True, False]
