"""What-if scenarios (cocity.plan.whatif) on the embedded data: hand-computed changes of the
derived indicators, links, the identity of an empty scenario, nothing written, the published
edition read back, and the errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cocity.access.regional import default_spec
from cocity.datasets import load_into, open_store
from cocity.evaluate.derive import Adjustments, Context, county_minutes, e2sfca
from cocity.evaluate.framework import load_framework
from cocity.evaluate.run import Evaluation, evaluate
from cocity.evaluate.runs import save_run
from cocity.evaluate.tables import csv_frame, read_table, result_tables
from cocity.plan.whatif import (
    BEDS,
    AddBeds,
    AddHospital,
    FasterLink,
    WhatIf,
    WhatIfError,
    what_if,
)
from cocity.report.evaluate_report import document

ZIYANG, YANJIANG, LEZHI, CHENGHUA = "512000", "512002", "512022", "510108"
FUND = 10**11  # 10亿 yuan in fen


@pytest.fixture(scope="module")
def store():
    return open_store()


@pytest.fixture(scope="module")
def fw():
    return load_framework()


@pytest.fixture(scope="module")
def beds_ziyang(store) -> WhatIf:
    """1,000 beds added to Ziyang as a whole (spread like its existing beds)."""
    return what_if(store, changes=[AddBeds("资阳", 1000)], level="prefecture")


def _rates(store, indicator: str, year: int) -> pd.Series:
    obs = store.observations(indicators=[indicator], years=[year])
    return obs.set_index("unit")["value"].astype(float)


def _shortfall(x: pd.Series, p: pd.Series) -> pd.Series:
    """100 · max(0, (r − x)/r), r = Σ p x / Σ p — by hand."""
    r = float((x * p).sum() / p.sum())
    return (100.0 * (r - x) / r).clip(lower=0)


def test_beds_raise_exactly_the_indicators_that_use_beds(store, beds_ziyang: WhatIf) -> None:
    pref = beds_ziyang.levels["prefecture"]
    changed = set(pref.indicators["indicator"])
    assert changed <= {"beds_shortfall", "beds_access"}
    assert "beds_shortfall" in changed
    # the rate of Ziyang rises by 1000 · B / P (census 2020 resident population)
    pop = _rates(store, "pop_total", 2020)
    beds = _rates(store, BEDS, 2019)
    row = beds_ziyang.applied.iloc[0]
    assert row["delta_" + BEDS] == pytest.approx(1000 * 1000 / pop[ZIYANG], rel=1e-12)
    # the shortfall of every prefecture, by hand: weights are the circle's population of each
    # prefecture (the members' sum for a prefecture partly in the circle)
    units = store.units().set_index("code")
    codes = list(pref.units.index)
    weights = pd.Series({c: (pop[units.index[(units["parent"] == c) & (units["level"] == "county")
                                              & units["membership"].isin(["full", "partial"])]
                                 ].sum() if units.at[c, "membership"] == "partial" else pop[c])
                         for c in codes})
    x0 = beds.reindex(codes)
    x1 = x0.copy()
    x1[ZIYANG] += 1000 * 1000 / pop[ZIYANG]
    base = beds_ziyang.baseline.levels["prefecture"].raw["beds_shortfall"]
    scen = beds_ziyang.scenario.levels["prefecture"].raw["beds_shortfall"]
    np.testing.assert_allclose(base.reindex(codes), _shortfall(x0, weights), rtol=1e-12)
    np.testing.assert_allclose(scen.reindex(codes), _shortfall(x1, weights), rtol=1e-12)
    # the circle's level rises with Ziyang's beds: every prefecture short of it falls further
    short = base[base > 0].index.drop(ZIYANG, errors="ignore")
    assert len(short) > 3 and (scen[short] > base[short]).all()
    # the other health rates, schooling, amenities and travel are untouched everywhere
    raw_b = beds_ziyang.baseline.levels["prefecture"].raw
    raw_s = beds_ziyang.scenario.levels["prefecture"].raw
    same = [c for c in raw_b.columns if c not in ("beds_shortfall", "beds_access")]
    pd.testing.assert_frame_equal(raw_b[same], raw_s[same])


def test_beds_sited_at_a_county_are_all_within_reach_and_only_nearby(store, fw) -> None:
    """E2SFCA conserves supply: Σ_i P_i A_i / 1000 over every unit of the network is the
    total of beds, so B beds sited at one county add exactly B; units farther than the 60-min
    catchment from the site see no change."""
    edition = fw.edition(2020)
    spec = default_spec()
    pop = _rates(store, "pop_total", 2020)
    delta = pd.Series({ZIYANG: 1000 * 500 / pop[ZIYANG]})
    params = {"supply": BEDS, "source": "yearbook", "placement": "districts"}
    base = Context(store, edition, spec)
    ids = list(county_minutes(base).index)
    a0 = e2sfca(base, "county", ids, **params)
    moved = Context(store, edition, spec, adjust=Adjustments(
        values={BEDS: delta}, sited={BEDS: pd.Series({LEZHI: 500.0})}))
    a1 = e2sfca(moved, "county", ids, **params)
    p = pop.reindex(ids).fillna(0.0)
    assert float((p * (a1 - a0)).sum() / 1000) == pytest.approx(500.0, rel=1e-9)
    far = county_minutes(base)[LEZHI] > 120  # beyond two catchments of the site
    assert far.sum() > 50
    np.testing.assert_allclose(a1[far], a0[far], rtol=0, atol=1e-12)
    # spread over Ziyang's only district instead, the same 500 beds come back as well
    spread = Context(store, edition, spec, adjust=Adjustments(values={BEDS: delta}))
    a2 = e2sfca(spread, "county", ids, **params)
    assert float((p * (a2 - a0)).sum() / 1000) == pytest.approx(500.0, rel=1e-9)
    assert a2[YANJIANG] > a0[YANJIANG]


def test_hospital_adds_staff_at_the_citys_ratio(store) -> None:
    w = what_if(store, changes=[AddHospital("乐至县", 400)], level="prefecture")
    row = w.applied.iloc[0]
    rates = store.observations(indicators=[BEDS, "doctors_per_1000", "nurses_per_1000"],
                               years=[2019]).pivot_table(index="unit", columns="indicator",
                                                         values="value")
    assert row["prefecture"] == ZIYANG and row["site"] == LEZHI
    assert row["doctors"] == pytest.approx(
        400 * rates.at[ZIYANG, "doctors_per_1000"] / rates.at[ZIYANG, BEDS], rel=1e-12)
    assert row["nurses"] == pytest.approx(
        400 * rates.at[ZIYANG, "nurses_per_1000"] / rates.at[ZIYANG, BEDS], rel=1e-12)
    changed = set(w.levels["prefecture"].indicators["indicator"])
    assert {"beds_shortfall", "doctors_shortfall", "nurses_shortfall"} <= changed
    assert changed <= {"beds_shortfall", "doctors_shortfall", "nurses_shortfall", "beds_access"}
    assert any(n["kind"] == "hospital" and "医院数量" in n["zh"] and "hospitals" in n["en"]
               for n in w.notes)
    given = what_if(store, changes=[AddHospital("乐至县", 400, doctors=0, nurses=10)],
                    level="prefecture")
    assert given.applied.iloc[0]["doctors"] == 0.0
    assert given.applied.iloc[0]["nurses"] == 10.0
    assert "doctors_shortfall" not in set(given.levels["prefecture"].indicators["indicator"])


def test_faster_link_sets_the_minutes_and_a_slower_one_changes_nothing(store) -> None:
    fast = what_if(store, changes=[FasterLink("乐至县", "成华区", 25)], level="county")
    row = fast.applied.iloc[0]
    assert bool(row["applied"]) and row["minutes_before"] > 25
    raw_b = fast.baseline.levels["county"].raw
    raw_s = fast.scenario.levels["county"].raw
    # 成华区 is one of Chengdu's central districts (the core's origins, 0 minutes among them),
    # so the time to the nearest core becomes the link's 25 minutes
    assert 25 < raw_b.at[LEZHI, "core_minutes"] <= row["minutes_before"]
    assert raw_s.at[LEZHI, "core_minutes"] == pytest.approx(25.0, abs=1e-12)
    assert raw_s.at[LEZHI, "beds_access"] > raw_b.at[LEZHI, "beds_access"]
    on_network = raw_b["core_minutes"].notna()  # two units have no boundary
    assert on_network.sum() == len(raw_b) - 2
    assert (raw_s["core_minutes"][on_network] <= raw_b["core_minutes"][on_network]).all()
    assert set(fast.levels["county"].indicators["indicator"]) <= {"core_minutes", "beds_access"}
    slow = what_if(store, changes=[FasterLink("乐至县", "成华区", row["minutes_before"] + 5)],
                   level="county")
    assert not bool(slow.applied.iloc[0]["applied"])
    assert slow.levels["county"].indicators.empty
    pd.testing.assert_frame_equal(slow.baseline.levels["county"].raw,
                                  slow.scenario.levels["county"].raw)
    assert any(n["kind"] == "link" and "未作改变" in n["zh"] for n in slow.notes)


def test_no_change_gives_the_baseline_exactly(store) -> None:
    w = what_if(store, changes=[], fund_fen=FUND)
    for level, res in w.levels.items():
        b, s = w.baseline.levels[level], w.scenario.levels[level]
        pd.testing.assert_frame_equal(b.raw, s.raw)
        pd.testing.assert_frame_equal(b.graded, s.graded)
        assert res.indicators.empty
        assert not res.units["changed"].any()
    assert w.allocation is not None
    assert (w.allocation["diff_scenario"] == 0).all()
    assert w.allocation.loc[w.allocation["unit"] == "*", "amount_baseline"].max() == FUND


def test_allocation_follows_the_scenario(store, beds_ziyang: WhatIf) -> None:
    assert beds_ziyang.allocation is None  # no fund size given: no allocation, said so
    assert any(n["kind"] == "fund" for n in beds_ziyang.notes)
    w = what_if(store, changes=[AddBeds("资阳", 1000)], level="prefecture", fund_fen=FUND)
    assert "county" in w.levels  # the fund's level is evaluated too
    a = w.allocation
    assert a is not None
    total = a[(a["use"] == "total") & (a["unit"] != "*")]
    assert total["amount_scenario"].sum() == total["amount_baseline"].sum() == FUND
    # Ziyang's counties need fewer beds now: their facilities money falls
    ziyang = a[(a["use"] == "facilities") & a["unit"].isin(["512021", LEZHI])]
    assert (ziyang["diff_scenario"] < 0).all()


# ---------------------------------------------------------------------- nothing written
def _tables_only(ev: Evaluation, folder: Path) -> dict[str, Path]:
    paths = {}
    tables = result_tables(ev)
    for name, frame in tables.items():
        path = folder / "tables" / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        csv_frame(frame, ev, name).to_csv(path, index=False, lineterminator="\n")
        paths[f"csv:{name}"] = path
    path = folder / "evaluation.json"
    path.write_text(json.dumps(document(ev, tables), ensure_ascii=False), encoding="utf-8")
    paths["json"] = path
    return paths


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def workspace_and_run(tmp_path_factory, fw):
    from cocity.data.store import Store

    root = tmp_path_factory.mktemp("whatif")
    ws = root / "ws"
    st = Store.open(ws, create=True)
    load_into(st, "chengyu")
    st.close()
    st = open_store(ws, read_only=True)
    ev = evaluate(fw, st, replications=0, levels=["prefecture"])
    record = save_run(ev, root / "runs_root", _tables_only)
    st.close()
    return ws, record


def test_store_and_run_are_not_written_and_published_values_match(workspace_and_run) -> None:
    ws, record = workspace_and_run
    before_ws, before_run = _hashes(ws), _hashes(record.path)
    st = open_store(ws, read_only=True)
    try:
        w = what_if(st, changes=[AddHospital("资阳", 800), FasterLink("成都", "资阳", 35)],
                    run=record.path, level="prefecture")
    finally:
        st.close()
    assert _hashes(ws) == before_ws
    assert _hashes(record.path) == before_run
    # the published edition as its own tables say
    ranking = read_table(record.path / "tables" / "prefecture_ranking.csv").set_index("unit")
    ranking.index = ranking.index.astype(str)
    units = w.levels["prefecture"].units
    np.testing.assert_allclose(units["published_score"], ranking["score"].reindex(units.index),
                               atol=0.005)  # the CSV rounds scores to two decimals
    doc = json.loads((record.path / "evaluation.json").read_text(encoding="utf-8"))
    exact = {r["unit"]: r["score"] for r in doc["levels"][0]["ranking"]}
    assert units["published_score"].to_dict() == pytest.approx(exact, abs=0)
    assert (units["published_grade"] == units["baseline_grade"]).all()
    assert (units["published_rank"] == units["baseline_rank"]).all()
    assert not any(n["kind"] == "published" for n in w.notes)  # the baseline reproduces it
    assert units.at[ZIYANG, "scenario_score"] > units.at[ZIYANG, "baseline_score"]
    # the changed indicators carry the published value, equal to the baseline's derivation
    ind = w.levels["prefecture"].indicators
    assert {"beds_shortfall", "doctors_shortfall", "core_share"} <= set(ind["indicator"])
    np.testing.assert_allclose(ind["published"], ind["baseline"], rtol=1e-9)
    long = read_table(record.path / "tables" / "prefecture_indicators.csv")
    first = ind[ind["indicator"] == "beds_shortfall"].iloc[0]
    row = long[(long["unit"].astype(str) == first["unit"])
               & (long["indicator"] == "beds_shortfall")]
    assert first["published"] == float(row["value"].iloc[0])


def test_an_edited_run_is_refused(workspace_and_run, tmp_path: Path, store) -> None:
    import shutil

    _, record = workspace_and_run
    copy = tmp_path / record.path.name
    shutil.copytree(record.path, copy)
    with (copy / "evaluation.json").open("a", encoding="utf-8") as fh:
        fh.write(" ")
    with pytest.raises(WhatIfError, match=r"evaluation\.json"):
        what_if(store, changes=[], run=copy, level="prefecture")
    with pytest.raises(WhatIfError, match=r"manifest\.json"):
        what_if(store, changes=[], run=tmp_path, level="prefecture")


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(("change", "match"), [
    (AddBeds("不存在市", 10), "不存在市"),
    (AddBeds("资阳", -5), "beds.*-5"),
    (AddBeds("资阳", float("nan")), "beds"),
    (AddHospital("四川", 100), "四川省"),
    (FasterLink("资阳", "资阳市", 30), "同一个单元.*资阳市"),
    (FasterLink("成都", "成华区", 30), "同一个节点.*成华区"),
    (FasterLink("资阳", "成都", 0), "minutes.*0"),
    (FasterLink("资阳", "成都", -3), "minutes"),
    (FasterLink("内江经济开发区", "资阳", 30), "内江经济开发区.*不在区域路网上"),
    (AddBeds("内江经济开发区", 30), "内江经济开发区.*不在区域路网上"),
])
def test_bad_changes_are_refused_naming_them(store, change, match: str) -> None:
    with pytest.raises(WhatIfError, match=match):
        what_if(store, changes=[change], level="prefecture")


def test_errors_are_bilingual(store, english) -> None:
    with pytest.raises(WhatIfError, match=r"same unit, Ziyang"):
        what_if(store, changes=[FasterLink("资阳", "Ziyang", 30)], level="prefecture")
    with pytest.raises(WhatIfError, match="unknown evaluation level: city"):
        what_if(store, changes=[], level="city")


def test_doc_example_runs() -> None:
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "whatif.md").read_text(
        encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "whatif.md", "exec"), namespace)
    w = namespace["w"]
    assert isinstance(w, WhatIf) and w.allocation is not None
