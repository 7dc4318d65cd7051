"""The public-service evaluation: framework file, derived indicators, a run, versioned runs."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cocity.access.regional import default_spec
from cocity.data.store import Store
from cocity.datasets import open_store
from cocity.evaluate import derive
from cocity.evaluate.derive import Context, Edition
from cocity.evaluate.errors import EvaluationError
from cocity.evaluate.framework import EvalFramework, load_framework
from cocity.evaluate.run import Evaluation, evaluate
from cocity.evaluate.runs import latest, previous_run, registry, run_id, save_run
from cocity.evaluate.survey import simulate_survey
from cocity.evaluate.tables import csv_frame, result_tables
from cocity.i18n import use_lang
from cocity.report.evaluate_report import document
from cocity.spec import SpecError

AMENITIES = ["hh_piped_water_share", "hh_kitchen_share", "hh_toilet_share", "hh_bath_share"]


@pytest.fixture(scope="module")
def store() -> Store:
    return open_store()


@pytest.fixture(scope="module")
def ctx(store: Store) -> Context:
    return Context(store, Edition(2020, {"census": 2020, "yearbook": 2019, "survey": 2020}),
                   default_spec())


@pytest.fixture(scope="module")
def run2020(store: Store) -> Evaluation:
    fw = load_framework()
    return evaluate(fw, store, replications=600, seed=3)


def _units(store: Store, level: str) -> list[str]:
    u = store.units(level=level)
    return sorted(u.loc[u["membership"].isin(["full", "partial"]), "code"])


def _default_doc() -> dict:
    return copy.deepcopy(load_framework().doc)


def _write(doc: dict, tmp_path: Path) -> Path:
    path = tmp_path / "fw.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


# ---------------------------------------------------------------------- framework file
def test_default_framework_has_three_dimensions_at_both_levels() -> None:
    fw = load_framework()
    for level in ("prefecture", "county"):
        tree = fw.for_level(level)
        names = [tree.nodes[d].name_zh for d in tree.children(tree.root)]
        assert names == ["公平性", "便捷性", "满意度"]
        assert all(tree.children(d) for d in tree.children(tree.root))
    assert "school_theil" in fw.for_level("prefecture").indicators
    assert "school_theil" not in fw.for_level("county").indicators


def test_framework_problems_are_reported_together(tmp_path: Path) -> None:
    doc = _default_doc()
    leaves = [n for n in doc["nodes"] if "measure" in n]
    leaves[0]["measure"] = {"kind": "telepathy"}
    leaves[1]["measure"]["colour"] = "blue"
    del leaves[2]["measure"]
    leaves[3]["measure"]["source"] = "gazette"
    with pytest.raises(SpecError, match="telepathy") as err:
        load_framework(_write(doc, tmp_path))
    text = str(err.value)
    assert len(err.value.issues) == 4
    for piece in ("telepathy", "colour", leaves[2]["code"], "gazette"):
        assert piece in text
    keys = {i.key for i in err.value.issues}
    assert {k.rsplit(".", 1)[-1] for k in keys} == {"kind", "colour", "measure", "source"}


def test_pipeline_methods_and_unknown_keys_are_framework_errors(tmp_path: Path) -> None:
    doc = _default_doc()
    doc["pipeline"] = [{"impute": {"method": "median"}}, {"normalise": {"method": "goalpost"}},
                       {"aggregate": {}}]
    doc["uncertainty"]["replications"] = "many"
    doc["nodes"][1]["wieght"] = 2
    doc["levels"]["county"]["membership"] = ["full", "partly"]
    with use_lang("en"), pytest.raises(SpecError, match="goalpost") as err:
        load_framework(_write(doc, tmp_path))
    keys = {i.key for i in err.value.issues}
    assert {"pipeline[1].normalise.method", "uncertainty.replications", "nodes[1].wieght",
            "levels.county.membership[1]"} <= keys, keys


def test_framework_level_and_edition_checks(tmp_path: Path) -> None:
    doc = _default_doc()
    doc["year"] = 2031
    doc["levels"] = {"galaxy": {}}
    with use_lang("en"), pytest.raises(SpecError, match="2031") as err:
        load_framework(_write(doc, tmp_path))
    assert "2031" in str(err.value) and "'prefecture' or 'county'" in str(err.value)
    assert {i.key for i in err.value.issues} == {"year", "levels.galaxy"}
    with pytest.raises(EvaluationError, match="no_such"):
        load_framework("no_such")


def test_a_dimension_without_indicators_at_a_level_is_dropped_there() -> None:
    doc = _default_doc()
    for n in doc["nodes"]:
        if n.get("parent") == "SAT":
            n["levels"] = ["prefecture"]
    fw = EvalFramework("x", b"", doc)
    assert fw.for_level("county").children("PSE") == ["FAIR", "CONV"]
    assert fw.for_level("prefecture").children("PSE") == ["FAIR", "CONV", "SAT"]


def test_an_indicator_missing_from_the_data_is_named(store: Store, tmp_path: Path) -> None:
    doc = _default_doc()
    leaf = next(n for n in doc["nodes"] if n["code"] == "piped_water")
    leaf["measure"]["indicators"] = "tap_water_share"
    fw = load_framework(_write(doc, tmp_path))
    with pytest.raises(EvaluationError, match="tap_water_share"):
        evaluate(fw, store, replications=0, levels=["county"])


# ---------------------------------------------------------------------- derived indicators
def test_within_inequality_is_the_population_weighted_theil_of_member_counties(
        ctx: Context, store: Store) -> None:
    value = derive.within_inequality(ctx, "prefecture", ["510100"], indicators="schooling_years")
    members = ctx.members("510100")
    p = store.panel(["schooling_years", "pop_total"], years=[2020], units=members)
    y, w = p["schooling_years"].to_numpy(), p["pop_total"].to_numpy()
    share = w / w.sum()
    mu = (share * y).sum()
    expected = float((share * (y / mu) * np.log(y / mu)).sum())
    assert value["510100"] == pytest.approx(expected, rel=1e-12)
    assert len(members) == 20  # 12 districts, 5 county-level cities, 3 counties


def test_partial_prefecture_takes_its_member_counties(ctx: Context, store: Store) -> None:
    members = ctx.members("500100")
    p = store.panel([*AMENITIES, "pop_total"], years=[2020], units=members)
    amen = p[AMENITIES].mean(axis=1)
    expected = float(np.average(amen, weights=p["pop_total"]))
    got = derive.observed(ctx, "prefecture", ["500100", "510100"], indicators=AMENITIES)
    assert got["500100"] == pytest.approx(expected, rel=1e-12)
    # a full member keeps its published prefecture value
    full = store.panel(AMENITIES, years=[2020], units=["510100"]).mean(axis=1).iloc[0]
    assert got["510100"] == pytest.approx(full)
    # yearbook figures exist for whole prefectures only: the published value stays
    beds = derive.observed(ctx, "prefecture", ["500100"], indicators="hospital_beds_per_1000",
                           source="yearbook")
    assert np.isfinite(beds["500100"])


def test_shortfall_against_the_circle_and_the_parent(ctx: Context, store: Store) -> None:
    units = _units(store, "county")
    x = store.panel(["schooling_years", "pop_total"], years=[2020], units=units)
    x = x.droplevel("year")
    ref = np.average(x["schooling_years"], weights=x["pop_total"])
    expected = (100 * (ref - x["schooling_years"]) / ref).clip(lower=0)
    got = derive.shortfall(ctx, "county", units, indicators="schooling_years")
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    assert (got == 0).sum() > 10 and (got > 0).sum() > 10
    parent = derive.shortfall(ctx, "county", ["510104"], indicators="schooling_years",
                              reference="parent")
    city = store.panel(["schooling_years"], years=[2020], units=["510100"]).iloc[0, 0]
    own = x.loc["510104", "schooling_years"]
    assert parent["510104"] == pytest.approx(max(0.0, 100 * (city - own) / city))


def test_e2sfca_conserves_the_beds_it_places(ctx: Context, store: Store) -> None:
    """With the same zone weights in both steps, Σ_i P_i A_i equals the supply of every
    facility reached by some demand: the beds placed are handed out, none is created."""
    minutes = derive.county_minutes(ctx)
    ids = list(minutes.index)
    access = derive.e2sfca(ctx, "county", ids, supply="hospital_beds_per_1000", per=1.0)
    pop = ctx.population().reindex(ids).fillna(0)
    u = ctx.units.loc[ids]
    rate = ctx.values("hospital_beds_per_1000", "yearbook")
    placed = sum(float(rate[p]) * float(ctx.population()[p]) / 1000
                 for p in u["parent"].unique() if p in rate.index)
    assert float((pop * access).sum()) == pytest.approx(placed, rel=1e-9)
    # the diagonal (time within a unit) is positive and short
    diag = np.diag(minutes.to_numpy())
    assert (diag > 0).all() and np.median(diag) < 30


def test_core_share_and_minutes_agree(ctx: Context, store: Store) -> None:
    mins = derive.core_minutes(ctx, "county", ctx.members("510100"))
    share = derive.core_share(ctx, "prefecture", ["510100"], threshold=60)
    pop = ctx.population().reindex(mins.index)
    expected = 100 * pop[mins <= 60].sum() / pop.sum()
    assert share["510100"] == pytest.approx(expected)
    assert mins.min() == 0  # the central districts themselves
    with pytest.raises(EvaluationError, match=r"core_share.*prefecture"):
        derive.core_share(ctx, "county", ["510104"])


def test_an_edition_without_yearbook_leaves_those_indicators_out(store: Store) -> None:
    fw = load_framework()
    ev = evaluate(fw, store, year=2010, replications=0, levels=["prefecture"])
    res = ev.levels["prefecture"]
    for code in ("beds_shortfall", "doctors_shortfall", "nurses_shortfall", "beds_access"):
        assert res.left_out[code] == "no_data"
        assert code not in res.framework.indicators
    assert any(n.kind == "left_out" and "E2SFCA" in n.zh for n in ev.notes)


# ---------------------------------------------------------------------- a run
def test_grades_follow_the_scores_and_cutoffs(run2020: Evaluation) -> None:
    for res in run2020.levels.values():
        g = res.graded
        expected = np.select([g["score"] >= 80, g["score"] >= 65, g["score"] >= 50],
                             ["excellent", "good", "pass"], "fail")
        assert (g["grade"].astype(str).to_numpy() == expected).all()
        assert (g["score_low"] <= g["score"] + 1e-9).all()
        assert (g["score"] <= g["score_high"] + 1e-9).all()
        # a unit is uncertain exactly when its score interval straddles a cut-off
        cuts = np.array([80.0, 65.0, 50.0])
        straddle = [bool(((lo < cuts) & (cuts <= hi)).any())
                    for lo, hi in zip(g["score_low"], g["score_high"], strict=True)]
        agree = np.mean(np.asarray(straddle) == g["uncertain"].astype(bool).to_numpy())
        assert agree > 0.95


def test_lists_and_obstacles(run2020: Evaluation) -> None:
    county = run2020.levels["county"]
    fails = set(county.graded.index[county.graded["grade"] == "fail"])
    assert set(county.rectification["unit"]) == fails
    assert set(county.rewards["unit"]) == set(
        county.graded.index[county.graded["grade"] == "excellent"])
    sums = county.obstacles.sum(axis=1)
    assert np.allclose(sums, 100)
    assert len(county.rectification) >= 1  # the default data have failing counties
    for _, row in county.rectification.iterrows():
        degrees = county.obstacles.loc[row["unit"]]
        assert row["obstacle_1_pct"] == pytest.approx(degrees.max())
        assert degrees[row["obstacle_1"]] == pytest.approx(degrees.max())  # ties: either
        assert row["deadline"] == "2022-06-30"


def test_imputed_and_simulated_are_reported(run2020: Evaluation) -> None:
    kinds = {n.kind for n in run2020.notes}
    assert {"simulated", "imputed"} <= kinds
    imputed = run2020.levels["county"].imputed
    assert imputed.loc["511071", "beds_access"]  # a statistical zone: no boundary, no route
    tables = result_tables(run2020)
    assert tables["county_ranking"]["simulated_survey"].all()
    assert tables["county_survey"]["simulated"].all()
    assert tables["county_indicators"].query("imputed")["unit"].isin(
        ["511071", "511771"]).all()


def test_a_unit_without_survey_responses_is_imputed_and_named(store: Store) -> None:
    fw = load_framework()
    survey = simulate_survey(store, year=2020, n_per_unit=30, seed=1)
    survey.responses = survey.responses[survey.responses["unit"] != "510104"]
    ev = evaluate(fw, store, survey=survey, replications=0, levels=["county"])
    assert ev.levels["county"].imputed.loc["510104", "sat_health"]
    survey_notes = [n for n in ev.notes if n.kind == "survey"]
    assert any("锦江区" in n.zh for n in survey_notes)


def test_same_inputs_same_results(store: Store, run2020: Evaluation) -> None:
    again = evaluate(load_framework(), store, replications=600, seed=3)
    assert again.inputs_sha256() == run2020.inputs_sha256()
    for level in ("prefecture", "county"):
        pd.testing.assert_frame_equal(again.levels[level].graded, run2020.levels[level].graded)
    other = evaluate(load_framework(), store, replications=600, seed=4)
    assert other.inputs_sha256() != run2020.inputs_sha256()


# ---------------------------------------------------------------------- versioned runs
def _tables_only(ev: Evaluation, folder: Path) -> dict[str, Path]:
    """The run's CSV tables and JSON document (no pages), as the report writer writes them."""
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


def test_runs_are_immutable_and_reproduced(run2020: Evaluation, tmp_path: Path) -> None:
    first = save_run(run2020, tmp_path, _tables_only)
    assert first.id == run_id(run2020) and not first.reproduced
    stamp = (first.path / "manifest.json").read_text(encoding="utf-8")
    second = save_run(run2020, tmp_path, _tables_only)
    assert second.reproduced and second.path == first.path
    assert (first.path / "manifest.json").read_text(encoding="utf-8") == stamp
    assert [r.id for r in registry(tmp_path)] == [first.id]
    assert latest(tmp_path, 2020) is not None and latest(tmp_path, 2019) is None
    prev = previous_run(first)
    graded = run2020.levels["county"].graded
    assert prev.year == 2020 and prev.run == first.id
    assert np.allclose(prev.scores["county"].reindex(graded.index), graded["score"], atol=0)
    used = run2020.levels["county"].values_used
    assert list(prev.values["county"].columns) == list(used.columns)
    assert np.allclose(prev.values["county"].reindex(used.index).to_numpy(float),
                       used.to_numpy(float), rtol=1e-15, equal_nan=True)
    # results that differ for the same inputs are refused, and nothing is left behind
    manifest = json.loads(stamp)
    manifest["outputs"]["csv:county_ranking"]["sha256"] = "0" * 64
    (first.path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(EvaluationError, match="county_ranking"):
        save_run(run2020, tmp_path, _tables_only)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [first.id]


def test_publication_date_sets_the_deadline(store: Store) -> None:
    ev = evaluate(load_framework(), store, replications=0, levels=["county"],
                  publication_date=dt.date(2021, 8, 31))
    rect = ev.levels["county"].rectification
    assert len(rect) and (rect["deadline"] == "2022-08-31").all()
