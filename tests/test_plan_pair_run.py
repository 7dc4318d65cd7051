"""``cocity plan pair`` on the embedded data: the benefit recomputed independently from the
evaluation, the optimum against brute force on the same matrices, the text's proposal scored
like for like, a stored run read back, the command's files and its refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from cocity.cli import app
from cocity.data.store import Store
from cocity.datasets import open_store
from cocity.evaluate.framework import load_framework
from cocity.evaluate.run import Evaluation, evaluate
from cocity.i18n import use_lang
from cocity.outputs import verify_outputs
from cocity.plan.errors import PlanInputError
from cocity.plan.pairing import brute_force_pairing
from cocity.plan.pairing_report import build_report
from cocity.plan.pairing_run import PairingRun, run_pairing, view_of_evaluation, view_of_run
from cocity.report.plan_page import read_layers
from tests.plan_docs import planning_section

runner = CliRunner()
CQ, CD = "500100", "510100"
TEXT = [(CQ, "510500"), (CQ, "511700"), (CD, "510700"), (CD, "511300")]


@pytest.fixture(scope="module")
def store() -> Store:
    return open_store()


@pytest.fixture(scope="module")
def ev(store: Store) -> Evaluation:
    return evaluate(load_framework(), store, replications=0, levels=["prefecture"])


@pytest.fixture(scope="module")
def default(store: Store, ev: Evaluation) -> PairingRun:
    return run_pairing(store, evaluation=ev)


def test_benefit_recomputed_from_the_evaluation(default: PairingRun, ev: Evaluation) -> None:
    res = ev.levels["prefecture"]
    fw = res.framework
    # the survey is simulated, so the satisfaction dimension is left out
    assert ev.simulated_survey and default.dimensions == ["FAIR", "CONV"]
    assert not default.simulated
    kept = [c for c in fw.indicators if ev.framework.leaf(c)["measure"]["kind"] != "survey"]
    dim = pd.Series({c: fw.ancestor(c, fw.n_levels - 1) for c in kept})
    obst = res.obstacles[kept].T.groupby(dim).sum().T  # units × dimensions
    w = obst.div(obst.sum(axis=1), axis=0)
    s = res.scores[["FAIR", "CONV"]]
    for helper, helped in [(CQ, "511700"), (CD, "510500"), (CD, "511300")]:
        expected = sum(w.at[helped, d] * max(0.0, s.at[helper, d] - s.at[helped, d])
                       for d in ("FAIR", "CONV"))
        assert default.benefit.at[helper, helped] == pytest.approx(expected, rel=1e-12)
    assert default.minutes.at[CQ, "511700"] == pytest.approx(
        float(default.region.times([CQ], ["511700"])[0, 0]))


def test_optimum_equals_brute_force_on_the_real_matrices(default: PairingRun) -> None:
    for sol in (default.optimum, default.text_optimum):
        assert sol is not None
        b = default.benefit.loc[sol.helpers, sol.helped].to_numpy()
        t = default.minutes.loc[sol.helpers, sol.helped].to_numpy()
        brute = brute_force_pairing(b, t, capacity=sol.capacity, time_weight=2.0)
        assert sol.pairing.objective == pytest.approx(brute.objective, abs=1e-9)


def test_default_helpers_helped_and_the_text(default: PairingRun, ev: Evaluation) -> None:
    opt = default.optimum
    assert opt.helpers == [CQ, CD] and list(opt.capacity) == [2, 2]
    ranking = ev.levels["prefecture"].graded["score"].drop([CQ, CD]).sort_values()
    assert opt.helped == [str(c) for c in ranking.index[:4]]
    assert list(opt.pairing.load) == [2, 2]
    text, best = default.text, default.text_optimum
    assert text is not None and best is not None and text.score is not None
    assert list(zip(text.pairs["helper"], text.pairs["helped"], strict=True)) == TEXT
    assert text.score.feasible
    assert sorted(best.helped) == sorted(u for _, u in TEXT)
    assert best.pairing.objective >= text.pairing.objective - 1e-9
    # the text's objective is the sum of its pairs' net values, λ = 2 points per hour
    net = [default.benefit.at[h, u] - 2.0 * default.minutes.at[h, u] / 60 for h, u in TEXT]
    assert text.pairing.objective == pytest.approx(sum(net))
    # Chongqing → Dazhou: the forms come from the indicators expected to be fixed
    row = text.pairs.set_index("helped").loc["511700"]
    assert "doctors_shortfall" in row["fixes"] and row["forms_zh"] == "医联体"
    assert all("core_share" not in f for f in text.pairs["fixes"])  # not fixable by pairing


def test_named_units_capacities_and_the_survey(store: Store, ev: Evaluation) -> None:
    r = run_pairing(store, evaluation=ev, helpers=["成都", "Chongqing", "德阳市"],
                    capacity=[2, 2, 1], helped=["泸州", "达州", "绵阳", "南充", "遂宁"])
    assert r.optimum.helpers == [CD, CQ, "510600"]
    assert (r.optimum.pairing.load <= [2, 2, 1]).all() and r.optimum.pairing.x.sum() == 5
    assert not r.helped_default
    with_survey = run_pairing(store, evaluation=ev, with_survey=True)
    assert with_survey.dimensions == ["FAIR", "CONV", "SAT"] and with_survey.simulated
    report = build_report(with_survey)
    assert report.notice is not None and all(x.flag == "simulated" for x in report.layers
                                             if x.kind == "lines")


def test_refusals_name_the_problem(store: Store, ev: Evaluation) -> None:
    with use_lang("en"):
        with pytest.raises(PlanInputError, match=r"capacity 4 is below .* need 5, short by 1"):
            run_pairing(store, evaluation=ev, helped=["泸州", "达州", "绵阳", "南充", "遂宁"])
        with pytest.raises(PlanInputError, match="both helpers and helped: 510100"):
            run_pairing(store, evaluation=ev, helped=["成都", "达州"])
        with pytest.raises(PlanInputError, match="Atlantis"):
            run_pairing(store, evaluation=ev, helpers=["Atlantis"])
        with pytest.raises(PlanInputError, match="3 capacities given for 2 helpers"):
            run_pairing(store, evaluation=ev, capacity=[1, 2, 3])
        with pytest.raises(PlanInputError, match="named twice: 511700"):
            run_pairing(store, evaluation=ev, helped=["达州", "Dazhou"])


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ev")
    subprocess.run([sys.executable, "-m", "cocity", "evaluate", "-o", str(out), "-r", "0",
                    "--level", "prefecture", "--no-previous", "--no-pdf"], check=True,
                   capture_output=True)
    (folder,) = (out / "runs").iterdir()
    return folder


def test_a_stored_run_reads_as_the_evaluation(stored_run: Path, store: Store,
                                              ev: Evaluation, default: PairingRun) -> None:
    mem = view_of_evaluation(ev, "prefecture")
    disk = view_of_run(stored_run, "prefecture")
    assert disk.dimensions == mem.dimensions and disk.indicators == mem.indicators
    pd.testing.assert_frame_equal(disk.dim_scores, mem.dim_scores, check_names=False)
    # the run's tables round normalised values to 0.01 and obstacle degrees to 0.1
    assert np.nanmax(np.abs(disk.values.to_numpy() - mem.values.to_numpy())) <= 0.005 + 1e-9
    assert np.nanmax(np.abs(disk.obstacles.to_numpy() - mem.obstacles.to_numpy())) <= 0.05 + 1e-9
    assert disk.survey_indicators == mem.survey_indicators
    r = run_pairing(store, run=stored_run)
    assert r.optimum.pairs[["helper", "helped"]].equals(default.optimum.pairs[["helper",
                                                                              "helped"]])
    assert r.view.run == stored_run.name


def test_an_edited_run_is_refused(stored_run: Path, tmp_path: Path, store: Store) -> None:
    import shutil

    copy = tmp_path / stored_run.name
    shutil.copytree(stored_run, copy)
    table = copy / "tables" / "prefecture_indicators.csv"
    table.write_text(table.read_text(encoding="utf-8").replace("14.95", "94.95"),
                     encoding="utf-8")
    with use_lang("en"), pytest.raises(PlanInputError,
                                       match=r"does not match its manifest.*prefecture_indic"):
        run_pairing(store, run=copy)
    with use_lang("en"), pytest.raises(PlanInputError,
                                       match="Cannot read the evaluation run folder"):
        run_pairing(store, run=tmp_path / "nothing")


def _cli(*args: str) -> Result:
    return runner.invoke(app, ["--lang", "en", "plan", "pair", *args], env={"COLUMNS": "200"})


def test_cli_default_writes_the_page_tables_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "pair"
    res = _cli("--out", str(out))
    assert res.exit_code == 0, res.output
    assert "Optimal pairing (objective" in res.output and "Written:" in res.output
    names = {p.name for p in out.iterdir()}
    assert {"pair.html", "pair.xlsx", "layers.geojson", "manifest.json", "summary.csv",
            "pairs_optimum.csv", "pairs_text.csv", "pairs_text_optimum.csv", "benefit.csv",
            "weights.csv"} <= names
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert verify_outputs(man, out) == []
    assert man["kind"] == "cocity plan pair" and man["config"]["helpers"] == {CQ: 2, CD: 2}
    summary = pd.read_csv(out / "summary.csv", dtype={"solution": str})
    assert list(summary["solution"]) == ["optimum", "text", "text_optimum"]
    assert {x.key for x in read_layers(out / "layers.geojson")} == {
        "optimum", "text", "text_optimum", "helpers", "helped"}
    html = (out / "pair.html").read_text(encoding="utf-8")
    assert "结对帮扶配对" in html and "Pairing of helpers and helped units" in html


def test_cli_refusal_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "pair"
    res = _cli("--out", str(out), "--capacity", "1", "--helped", "泸州,达州,绵阳")
    assert res.exit_code == 2
    assert "short by 1" in res.output and "Traceback" not in res.output
    assert not out.exists()
    res = _cli("--out", str(out), "--capacity", "two")
    assert res.exit_code == 2 and "--capacity cannot be read: two" in res.output
    assert not out.exists()


def test_cli_default_time_weight_is_the_core_default() -> None:
    import inspect

    from cocity.cli.plan_pair import pair_cmd
    from cocity.plan.pairing import TIME_WEIGHT

    assert inspect.signature(pair_cmd).parameters["time_weight"].default == TIME_WEIGHT


def test_the_figures_quoted_in_the_docs(default: PairingRun) -> None:
    doc = planning_section("pair")
    assert default.text is not None and default.text_optimum is not None
    opt, text, best = (default.optimum.pairing.objective, default.text.pairing.objective,
                       default.text_optimum.pairing.objective)
    assert f"(objective {opt:.2f})" in doc
    assert f"proposal scores {text:.2f}" in doc and f"four cities {best:.2f}" in doc
    assert f"within {best - text:.2f} points" in doc
    assert "重庆 → 达州、南充 and\n成都 → 遂宁、眉山" in doc
    assert set(zip(default.optimum.pairs["helper"], default.optimum.pairs["helped"],
                   strict=True)) == {(CQ, "511700"), (CQ, "511300"), (CD, "510900"),
                                     (CD, "511400")}
