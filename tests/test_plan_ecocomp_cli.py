"""``cocity plan ecocomp``: the default run on the embedded data (simulated demo, illustrative
rules) with every output flagged, the options, and refusals without a traceback or a file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner, Result

from cocity.cli import app
from cocity.outputs import verify_outputs
from cocity.report.plan_page import read_layers
from tests.plan_docs import planning_section

runner = CliRunner()
TABLES = ("pairs", "provinces", "payments", "yearly", "monthly")


def run(*args: str, lang: str = "zh") -> Result:
    return runner.invoke(app, ["--lang", lang, "plan", "ecocomp", *args],
                         env={"COLUMNS": "200"})


def test_default_run_writes_every_output_flagged_simulated(tmp_path: Path) -> None:
    out = tmp_path / "eco"
    res = run("--out", str(out))
    assert res.exit_code == 0, res.output
    assert "武胜县 → 合川区" in res.output
    assert "模拟数据" in res.output and "示意" in res.output  # the CLI warns
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert verify_outputs(doc, out) == []
    assert doc["simulated"] is True and doc["illustrative"] is True
    assert "模拟" in doc["notice"]["zh"] and "SIMULATED" in doc["notice"]["en"]
    assert doc["provenance"]["monitoring"]["simulated"] is True
    assert doc["config"]["year"] == 2024 and doc["config"]["rule"] == "both"
    for stem in TABLES:
        frame = pd.read_csv(out / f"{stem}.csv")
        assert len(frame) > 0, stem
        assert frame["simulated"].all() and frame["illustrative"].all(), stem
    assert pd.read_csv(out / "baseline.csv")["simulated"].all()
    assert {x.flag for x in read_layers(out / "layers.geojson")} == {"simulated"}
    html = (out / "ecocomp.html").read_text(encoding="utf-8")
    assert "监测数据为模拟数据" in html and "SIMULATED" in html
    # yearly per pair = the sum of the monthly payments (files as written)
    pay = pd.read_csv(out / "payments.csv", dtype={"period": str})
    pairs = pd.read_csv(out / "pairs.csv")
    fixed = pay[pay["rule"] == "fixed"]
    assert fixed["period"].str.startswith("2024-").all()
    for r in pairs[pairs["rule"] == "fixed"].to_dict("records"):
        sub = fixed[(fixed["upstream"] == r["upstream"])]
        assert r["to_upstream"] == sum(sub.loc[sub["payer"] == r["downstream"], "amount"])
        assert r["to_downstream"] == sum(sub.loc[sub["payer"] == r["upstream"], "amount"])
    # the two sides of the provinces table add up to every payment (all cross the border)
    prov = pd.read_csv(out / "provinces.csv")
    assert prov["a_to_b"].sum() + prov["b_to_a"].sum() == pay["amount"].sum()


def test_options_and_own_rules_in_english(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("illustrative: false\np_index: {amount: 300}\n", encoding="utf-8")
    out = tmp_path / "eco"
    res = run("--out", str(out), "--rule", "p-index", "--year", "2023", "--rules", str(rules),
              lang="en")
    assert res.exit_code == 0, res.output
    assert "Wusheng County → Hechuan District" in res.output
    assert "SIMULATED" in res.output and "ILLUSTRATIVE" not in res.output
    pay = pd.read_csv(out / "payments.csv")
    assert set(pay["rule"]) == {"p-index"} and set(pay["amount"]) == {300.0}
    assert set(pay["period"].astype(str)) == {"2023"}
    assert not pay["illustrative"].any()
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert doc["illustrative"] is False and doc["config"]["rules_file"] == str(rules)


def test_own_monitoring_file(tmp_path: Path) -> None:
    data = tmp_path / "m.csv"
    rows = ["section,upstream,downstream,month,codmn,nh3n,tn,tp"]
    rows += [f"S,武胜县,合川区,2023-{m:02d},3,0.3,1.0,0.1" for m in range(1, 13)]
    rows += [f"S,武胜县,合川区,2024-{m:02d},5,0.6,1.2,0.18" for m in range(1, 13)]
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text("baseline: {years: [2023]}\n", encoding="utf-8")
    out = tmp_path / "eco"
    res = run("--out", str(out), "--data", str(data), "--rules", str(rules), "--rule", "fixed")
    assert res.exit_code == 0, res.output
    assert "模拟数据" not in res.output
    monthly = pd.read_csv(out / "monthly.csv")
    # class III = target, ratios (5/3 + 2 + 1.2 + 1.8)/4 = 1.6667 → worsened: −10 each month
    assert (monthly["class"] == "III").all() and (monthly["amount"] == -10).all()
    pairs = pd.read_csv(out / "pairs.csv").set_index("rule")
    assert pairs.loc["fixed", "to_downstream"] == 120
    assert not monthly["simulated"].any()
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert doc["simulated"] is False and doc["provenance"]["user_data"] is True


def test_refusals_name_the_problem_and_write_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("section,upstream,downstream,month,codmn,nh3n,tn,tp\n"
                   "S,武胜县,火星,2023-01,3,0.3,1.0,0.1\n"
                   "S,武胜县,合川区,2023/02,3,-0.3,1.0,0.1\n", encoding="utf-8")
    cases = [(["--data", str(bad)], ["火星", "2023/02", "-0.3", "第 2 行", "第 3 行"]),
             (["--year", "1999"], ["1999", "2022, 2023, 2024"]),
             (["--rule", "money"], ["money"]),
             (["--rules", str(tmp_path / "none.yaml")], ["none.yaml"])]
    for args, needles in cases:
        out = tmp_path / "out"
        res = run("--out", str(out), *args)
        assert res.exit_code == 2, (args, res.output)
        assert "Traceback" not in res.output
        for needle in needles:
            assert needle in res.output, (args, needle, res.output)
        assert not out.exists(), args


def test_help_loads_no_numerical_stack() -> None:
    from tests.test_cli_startup import HEAVY, loaded

    heavy = loaded("plan", "ecocomp", "--help") & set(HEAVY)
    assert heavy == set(), f"cocity plan ecocomp --help imported {sorted(heavy)}"


def test_the_guide_s_examples_run(tmp_path: Path) -> None:
    import re
    import shlex

    import yaml

    from cocity.plan.ecocomp_rules import load_rules

    doc = planning_section("ecocomp")
    commands = re.findall(r"^    (cocity .+)$", doc, flags=re.M)
    assert len(commands) == 4
    # the rules example is a valid rules file
    block = doc[doc.index("    illustrative: false"):doc.index("Checked at once")]
    rules = load_rules(yaml.safe_load("\n".join(x[4:] for x in block.splitlines())))
    assert rules.fixed.target("川渝界 A 断面") == 2 and rules.p_index.amount == 5000
    # the commands on the default data (the last one needs the user's own files)
    for line in commands[:3]:
        args = shlex.split(line)[1:]
        args[args.index("--out") + 1] = str(tmp_path / args[args.index("--out") + 1])
        res = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert res.exit_code == 0, (line, res.output)
