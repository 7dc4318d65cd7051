"""``cocity plan locate`` on the embedded data: the geographic centres (toy cases and
independent recomputation on the region), the models' answers checked by enumeration, the
page and files, and the refusals."""

from __future__ import annotations

import itertools
import json
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point
from typer.testing import CliRunner

from cocity.cli import app
from cocity.datasets import open_store
from cocity.metrics.geodesy import haversine_km
from cocity.outputs import verify_outputs
from cocity.plan.errors import PlanInputError
from cocity.plan.location_centre import reach, weighted_centroid
from cocity.plan.location_run import model_table, read_candidates, run_locate
from cocity.plan.region import load_boundaries
from tests.plan_docs import planning_section

runner = CliRunner()
ENV = {"COLUMNS": "400", "COCITY_LANG": "zh"}


@pytest.fixture(scope="module")
def store():
    return open_store()


@pytest.fixture(scope="module")
def run(store):
    return run_locate(store)


# ---------------------------------------------------------------------- toy cases
def test_centroid_distance_and_reach_by_hand():
    assert weighted_centroid([0, 2, 0], [0, 0, 2], weights=[1, 1, 2]) == (0.5, 1.0)
    # one degree of a great circle is 2πR/360 km
    km = haversine_km([0.0, 10.0], [1.0, 0.0], 0.0, 0.0)
    assert km[0] == pytest.approx(2 * np.pi * 6371.0088 / 360)
    assert km[1] == pytest.approx(10 * 2 * np.pi * 6371.0088 / 360)
    r = reach([0, 30, 100], weights=[1, 1, 2])
    assert r == {"mean_minutes": 57.5, "max_minutes": 100.0, "within_60": 0.5,
                 "within_90": 0.5, "within_120": 1.0}


# ---------------------------------------------------------------------- the default run
def test_geographic_centres_recomputed_independently(store, run):
    region = run.region
    t = region.minutes
    w = region.population
    c = run.centres.set_index("variant")
    median = region.codes[int(np.argmin((w[:, None] * t).sum(axis=0)))]
    centre = region.codes[int(np.argmin(t.max(axis=0)))]
    assert c.at["one_median", "code"] == median
    assert c.at["one_centre", "code"] == centre
    lon = float(np.average(region.units["lon"], weights=w))
    lat = float(np.average(region.units["lat"], weights=w))
    assert (c.at["centroid", "lon"], c.at["centroid", "lat"]) == (round(lon, 5), round(lat, 5))
    geo = load_boundaries(store).set_index("code")
    assert geo.at[c.at["centroid", "code"], "geometry"].contains(Point(lon, lat))
    j = region.codes.index(median)
    assert c.at["one_median", "mean_minutes"] == pytest.approx(t[:, j] @ w / w.sum(), abs=1e-4)
    assert c.at["one_median", "within_90"] == pytest.approx(w[t[:, j] <= 90].sum() / w.sum(),
                                                            abs=1e-4)


def test_models_p1_checked_by_enumeration(run):
    t = run.region.minutes
    w = run.region.population
    assert run.models == ["p-median", "p-centre", "mclp", "lscp"]
    assert all(r.optimal for r in run.results.values())
    assert run.results["p-median"].objective == pytest.approx((w @ t).min())
    assert run.results["p-centre"].objective == pytest.approx(t.max(axis=0).min())
    assert run.results["mclp"].objective == pytest.approx((w @ (t <= 90)).max())
    cover = run.results["lscp"]
    assert (t[:, cover.chosen] <= 90).any(axis=1).all()
    # no smaller set covers: dropping any chosen centre leaves someone uncovered, and the
    # LP bound (the solver's proof) is checked against spopt in test_plan_locate
    for j in cover.chosen:
        rest = [k for k in cover.chosen if k != j]
        assert not (t[:, rest] <= 90).any(axis=1).all()
    table = model_table(run)
    assert table["model"].tolist() == run.models
    assert table.loc[table["model"] == "lscp", "within_radius"].item() == 1.0


def test_prefecture_p2_equals_brute_force(store):
    r = run_locate(store, model="p-median", p=2, level="prefecture")
    t, w = r.cost, r.region.population
    best = min(float(w @ t[:, list(s)].min(axis=1))
               for s in itertools.combinations(range(t.shape[1]), 2))
    assert r.results["p-median"].objective == pytest.approx(best)
    assert list(r.results) == ["p-median"]


def test_user_candidates_by_name_and_file(store, tmp_path):
    path = tmp_path / "cands.csv"
    path.write_text("unit,note\n成都市,a\nChongqing,b\n510700,c\n", encoding="utf-8")
    names = read_candidates(path)
    assert names == ["成都市", "Chongqing", "510700"]
    r = run_locate(store, model="p-centre", p=2, level="prefecture", candidates=names)
    assert r.candidates == ["510100", "500100", "510700"]
    t = r.cost
    best = min(float(t[:, list(s)].min(axis=1).max())
               for s in itertools.combinations(range(3), 2))
    assert r.results["p-centre"].objective == pytest.approx(best)
    bad = tmp_path / "bad.csv"
    bad.write_text("unit\n成都市\n\n不存在市\n", encoding="utf-8")
    with pytest.raises(PlanInputError, match="第 3 行"):
        read_candidates(bad)
    with pytest.raises(PlanInputError, match="第 2 项“不存在市”"):
        run_locate(store, level="prefecture", candidates=["成都市", "不存在市"])


def test_all_models_skip_an_infeasible_lscp_but_lscp_alone_refuses(store):
    r = run_locate(store, level="prefecture", candidates=["成都市", "重庆市"], radius=60)
    assert "lscp" not in r.results and "泸州市" in r.skipped["lscp"][0]
    assert "Luzhou" in r.skipped["lscp"][1]
    with pytest.raises(PlanInputError, match="泸州市"):
        run_locate(store, model="lscp", level="prefecture", candidates=["成都市", "重庆市"],
                   radius=60)


# ---------------------------------------------------------------------- the command
def test_cli_default_run_writes_the_page(tmp_path):
    out = tmp_path / "locate"
    result = runner.invoke(app, ["plan", "locate", "--out", str(out)], env=ENV)
    assert result.exit_code == 0, result.output
    assert "沙坪坝区" in result.output and "p-median" in result.output
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert doc["kind"] == "cocity plan locate"
    assert verify_outputs(doc, out) == []
    assert doc["config"]["p"] == 1 and doc["config"]["radius"] == 90.0
    assert doc["provenance"] is not None
    page = (out / "locate.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in page and "区域公共服务中心" in page
    assert "模型估算" in page  # the modelled road times are said
    layers = json.loads((out / "layers.geojson").read_text(encoding="utf-8"))
    keys = {f["properties"]["layer"] for f in layers["features"]}
    assert keys == {"assignment", "centres_p-median", "centres_p-centre", "centres_mclp",
                    "centres_lscp", "geographic_centres"}
    centres = pd.read_csv(out / "centres.csv")
    assert centres["variant"].tolist() == ["centroid", "one_median", "one_centre"]


@pytest.mark.parametrize(("args", "message"), [
    (["--p", "0"], "--p = 0"),
    (["--p", "143"], "--p = 143"),
    (["--model", "lscp", "--radius", "5", "--level", "prefecture"], "5 分钟"),
    (["--model", "nearest"], "nearest"),
    (["--radius", "-3"], "radius = -3"),
    (["--candidates", "成都市,火星市", "--level", "prefecture"], "火星市"),
    (["--candidates", "missing.csv"], "missing.csv"),
])
def test_cli_refusals_write_nothing(tmp_path, args, message):
    out = tmp_path / "refused"
    result = runner.invoke(app, ["plan", "locate", "--out", str(out), *args], env=ENV)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not Path(out).exists()


def test_the_documented_examples_run(tmp_path):
    text = planning_section("locate")
    namespace: dict[str, object] = {}
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        exec(compile(block, "planning.md", "exec"), namespace)
    (tmp_path / "candidates.csv").write_text(
        re.search(r"```csv\n(.*?)```", text, flags=re.S).group(1), encoding="utf-8")
    lines = [x for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)
             for x in b.splitlines() if x.startswith("cocity ")]
    assert len(lines) == 4
    for line in lines:
        args = [str(tmp_path / a) if a.startswith("out/") or a == "candidates.csv" else a
                for a in shlex.split(line)[1:]]
        result = runner.invoke(app, args, env=ENV)
        assert result.exit_code == 0, (line, result.output)
