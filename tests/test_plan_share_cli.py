"""``cocity plan share`` and ``cocity plan map`` end to end, the coalition-cost table and the
refusals (nothing written)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from cocity.cli import app
from cocity.outputs import verify_outputs
from cocity.plan.errors import PlanInputError
from cocity.plan.sharing import shapley
from cocity.plan.sharing_costs import table_game
from cocity.report.plan_page import read_layers

runner = CliRunner()


def run(*args: str, lang: str = "en") -> Result:
    return runner.invoke(app, ["--lang", lang, "plan", *args], env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def default_share(tmp_path_factory):
    out = tmp_path_factory.mktemp("share") / "out"
    res = run("share", "--out", str(out))
    return out, res


def test_share_runs_on_the_default_data(default_share):
    out, res = default_share
    assert res.exit_code == 0, res.output
    assert "Chengdu–Dazhou–Wanzhou" in res.output and "Illustrative" in res.output
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert verify_outputs(doc, out) == []
    assert doc["illustrative"] is True and doc["root_unit"] == "510100"
    alloc = pd.read_csv(out / "allocation.csv", dtype={"code": str})
    members = alloc[alloc["code"] != "*"]
    assert members["code"].tolist() == ["510900", "511300", "511700", "500100"]
    for col in ("shapley", "nucleolus", "scrb", "proportional_standalone",
                "proportional_population"):
        assert members[col].sum() == pytest.approx(alloc.loc[alloc["code"] == "*", col].iloc[0])
    # the Shapley column is the Shapley value of the written coalition costs
    coal = pd.read_csv(out / "coalitions.csv")
    costs = np.r_[0.0, coal["cost"].to_numpy()]
    assert members["shapley"].to_numpy() == pytest.approx(shapley(costs).shares)
    core = pd.read_csv(out / "core.csv")
    assert core.set_index("method").loc["nucleolus", "in_core"]
    html = (out / "share.html").read_text(encoding="utf-8")
    assert "成达万高铁" in html and "示意" in html
    assert [x.key for x in read_layers(out / "layers.geojson")] == ["project", "members", "root"]


def test_share_options_and_user_costs(tmp_path):
    out = tmp_path / "yi"
    res = run("share", "--out", str(out), "--project", "chongqing-kunming-hsr",
              "--method", "shapley", "--cost-per-km", "0.5")
    assert res.exit_code == 0, res.output
    alloc = pd.read_csv(out / "allocation.csv", dtype={"code": str})
    assert list(alloc.columns)[-1] == "shapley" and "nucleolus" not in alloc.columns
    table = tmp_path / "costs.csv"
    table.write_text("coalition,cost\n成都,10\n重庆,12\n绵阳,6\n成都+重庆,18\n成都+绵阳,13\n"
                     "重庆+绵阳,16\n成都+重庆+绵阳,21\n", encoding="utf-8")
    res = run("share", "--out", str(tmp_path / "user"), "--costs", str(table))
    assert res.exit_code == 0, res.output
    alloc = pd.read_csv(tmp_path / "user" / "allocation.csv", dtype={"code": str})
    assert alloc["code"].tolist()[:3] == ["510100", "500100", "510700"]


def test_share_refusals_write_nothing(tmp_path):
    out = tmp_path / "none"
    res = run("share", "--out", str(out), "--project", "no-such")
    assert res.exit_code == 2 and "no-such" in res.output and not out.exists()
    res = run("share", "--out", str(out), "--method", "median")
    assert res.exit_code == 2 and "median" in res.output and not out.exists()
    res = run("share", "--out", str(out), "--cost-per-km", "-1")
    assert res.exit_code == 2 and "-1" in res.output and not out.exists()
    res = run("share", "--out", str(out), "--project", "xian-chongqing-hsr",
              "--method", "nucleolus")
    assert res.exit_code == 0  # two units: root + one player, a trivial but valid game
    short = tmp_path / "short.csv"
    short.write_text("id,name_zh,name_en,kind,units\nr1,甲,A,rail,成都+重庆\n", encoding="utf-8")
    res = run("share", "--out", str(tmp_path / "short"), "--projects", str(short))
    assert res.exit_code == 2 and "short.csv" in res.output and "--project" in res.output
    assert not (tmp_path / "short").exists()


def test_a_rule_that_does_not_apply_is_skipped_with_all_and_refused_alone(tmp_path):
    # c(i) = 2, c(ij) = 2, c(N) = 5: each separable cost 5 − 2 = 3 exceeds c(i) = 2
    table = tmp_path / "costs.csv"
    table.write_text("coalition,cost\n成都,2\n重庆,2\n绵阳,2\n成都+重庆,2\n成都+绵阳,2\n"
                     "重庆+绵阳,2\n成都+重庆+绵阳,5\n", encoding="utf-8")
    res = run("share", "--out", str(tmp_path / "all"), "--costs", str(table))
    assert res.exit_code == 0, res.output
    assert "SCRB not computed" in res.output
    alloc = pd.read_csv(tmp_path / "all" / "allocation.csv")
    assert "scrb" not in alloc.columns and "nucleolus" in alloc.columns
    notes = json.loads((tmp_path / "all" / "manifest.json").read_text(encoding="utf-8"))["notes"]
    assert any("SCRB" in n["en"] and "SCRB" in n["zh"] for n in notes)
    res = run("share", "--out", str(tmp_path / "one"), "--costs", str(table), "--method", "scrb")
    assert res.exit_code == 2 and "SCRB" in res.output and not (tmp_path / "one").exists()


def test_coalition_table_names_every_problem(english):
    names = {"成都": "510100", "重庆": "500100", "绵阳": "510700"}
    frame = pd.DataFrame({"coalition": ["成都", "重庆", "成都+重庆", "成都+火星", "重庆",
                                        "绵阳", "成都"],
                          "cost": ["1", "x", "2", "3", "4", "5", "7"]})
    with pytest.raises(PlanInputError) as info:
        table_game(frame, names.get, source="c.csv")
    msg = str(info.value)
    for part in ("row 3: the cost “x”", "row 5: unknown unit “火星”",
                 "row 8: the same coalition as row 2", "510100+510700",
                 "500100+510700", "510100+500100+510700"):
        assert part in msg
    with pytest.raises(PlanInputError, match="cost"):
        table_game(pd.DataFrame({"coalition": ["成都"]}), names.get, source="c.csv")
