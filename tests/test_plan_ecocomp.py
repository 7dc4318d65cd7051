"""Eco-compensation cores against hand-computed cases: GB 3838 classes on the limits, the P index
(and the payment direction at P = 1 exactly), the trend and the fixed-amount table, yearly sums
= Σ monthly, the rules and the monitoring file validated with every problem named, the
simulated demo reproducible and flagged.

No published worked example of the 新安江 P index with its inputs was found (searched the stored
pages for the first-round calculation); the P-index checks are hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cocity.data.errors import UnitNotFoundError
from cocity.plan.ecocomp import (
    compensate,
    downstream_pays,
    fixed_amounts,
    item_classes,
    offset_amount,
    p_index,
    sample_class,
    trend_ratio,
    trend_state,
)
from cocity.plan.ecocomp_data import MonitoringError, read_monitoring, validate_monitoring
from cocity.plan.ecocomp_demo import demo_path, simulate_demo
from cocity.plan.ecocomp_rules import ITEMS, load_rules, load_standard
from cocity.plan.errors import PlanInputError
from cocity.spec import SpecError

# GB 3838-2002 Table 1, classes I–V (mg/L), typed in from the standard for this test
GB3838 = {"codmn": [2, 4, 6, 10, 15], "nh3n": [0.15, 0.5, 1.0, 1.5, 2.0],
          "tp": [0.02, 0.1, 0.2, 0.3, 0.4], "tp_lake": [0.01, 0.025, 0.05, 0.1, 0.2],
          "tn": [0.2, 0.5, 1.0, 1.5, 2.0]}
UNITS = {"甲县": "510001", "乙区": "500001", "丙县": "510002", "510001": "510001",
         "500001": "500001"}
NAMES = {"510001": ("甲县", "Jia County"), "500001": ("乙区", "Yi District"),
         "510002": ("丙县", "Bing County")}


def resolve(name: str) -> str:
    if name not in UNITS:
        raise UnitNotFoundError(f"未知单元 '{name}'")
    return UNITS[name]


def test_the_shipped_standard_is_gb3838_table_1() -> None:
    std = load_standard()
    assert {k: list(v) for k, v in std.limits.items()} == GB3838
    assert std.class_items == {"river": ["codmn", "nh3n", "tp"],
                               "lake": ["codmn", "nh3n", "tp_lake", "tn"]}


def test_class_on_and_beside_the_limits() -> None:
    limits = np.array([GB3838["codmn"], GB3838["nh3n"], GB3838["tp"]])
    values = np.array([
        [2.0, 0.15, 0.02],     # every item exactly at the class I limit → I (≤)
        [2.001, 0.151, 0.021],  # just above → II
        [4.0, 0.5, 0.1],       # at the class II limits → II
        [15.0, 2.0, 0.4],      # at the class V limits → V
        [15.01, 2.01, 0.41],   # above V → 劣V (6)
        [0.0, 0.0, 0.0],
    ])
    assert item_classes(values, limits).tolist() == [
        [1, 1, 1], [2, 2, 2], [2, 2, 2], [5, 5, 5], [6, 6, 6], [1, 1, 1]]
    # the sample's class is its worst item's
    mixed = np.array([[1.5, 0.6, 0.05], [6.0, 0.1, 0.31]])
    assert item_classes(mixed, limits).tolist() == [[1, 3, 2], [3, 1, 5]]
    assert sample_class(mixed, limits).tolist() == [3, 5]


def test_p_index_hand_computed() -> None:
    w = np.full(4, 0.25)
    conc = np.array([[3.0, 0.5, 1.2, 0.1], [4.0, 0.4, 1.5, 0.08]])
    base = np.array([[4.0, 0.4, 1.5, 0.08], [4.0, 0.4, 1.5, 0.08]])
    # ratios 0.75, 1.25, 0.8, 1.25 → Σ = 4.05; 0.85 × 0.25 × 4.05 = 0.860625; at baseline P = K0
    assert p_index(conc, base, w, 0.85) == pytest.approx([0.860625, 0.85], abs=1e-12)


def test_payment_direction_at_p_equal_one_exactly() -> None:
    w = np.full(4, 0.25)
    base = np.array([[2.0, 0.2, 1.0, 0.05]])
    p_one = p_index(2 * base, base, w, 0.5)  # 0.5 × 0.25 × (4 × 2) = 1 exactly
    assert p_one[0] == 1.0
    assert downstream_pays(np.array([0.5, 1.0, np.nextafter(1.0, 2.0), 1.2])).tolist() == [
        True, True, False, False]


def test_trend_ratio_and_state() -> None:
    w = np.array([0.25, 0.25, 0.25, 0.25])
    ref = np.array([[2.0, 0.4, 1.0, 0.1]])
    assert trend_ratio(np.array([[1.0, 0.4, 1.0, 0.1]]), ref, w) == pytest.approx([0.875])
    r = np.array([0.74, 0.75, 1.0, 1.25, 1.26, np.nan])
    assert trend_state(r, 0.25).tolist() == ["improved", "stable", "stable", "stable",
                                             "worsened", "none"]


def test_fixed_amount_table() -> None:
    table = {-2: 60.0, -1: 40.0, 0: 0.0, 1: -40.0, 2: -80.0, 3: -120.0}
    assert offset_amount(np.array([-4, -2, 0, 2, 3, 7]), table).tolist() == [
        60, 60, 0, -80, -120, -120]
    mods = {"improved": 10.0, "stable": 0.0, "worsened": -10.0}
    base, mod = fixed_amounts(np.array([1, 2, 3, 4, 6]), np.full(5, 3),
                              np.array(["improved", "stable", "worsened", "none", "worsened"]),
                              table, mods)
    assert base.tolist() == [60, 40, 0, -40, -120]
    assert (base + mod).tolist() == [70, 40, -10, -40, -130]


def _samples(rows: list[tuple[str, str, float, float, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["section", "month", *ITEMS])
    frame.insert(1, "upstream", "510001")
    frame.insert(2, "downstream", "500001")
    frame["simulated"] = False
    return frame


def _rules(**over: object) -> object:
    base = {"illustrative": False,
            "baseline": {"years": [], "values": {"S1": {"codmn": 4.0, "nh3n": 0.4, "tn": 1.0,
                                                        "tp": 0.1}}}}
    base.update(over)
    return load_rules_mapping(base)


def load_rules_mapping(data: dict[str, object]):  # type: ignore[no-untyped-def]
    return load_rules(data)


def test_compensate_hand_computed_year() -> None:
    samples = _samples([
        ("S1", "2023-01", 3.0, 0.3, 1.0, 0.1),   # class II (codmn 3 ≤ 4, nh3n 0.3 ≤ 0.5, tp 0.1)
        ("S1", "2023-02", 5.0, 0.6, 1.2, 0.18),  # class III
        ("S1", "2023-03", 7.0, 1.2, 1.4, 0.25),  # class IV
    ])
    comp = compensate(samples, _rules(), load_standard(), names=NAMES)
    m = comp.monthly
    assert m["class"].tolist() == [2, 3, 4]
    # r = 0.25·(C/C0 summed): Jan (0.75+0.75+1+1)/4 = 0.875 improved; Feb (1.25+1.5+1.2+1.8)/4
    # = 1.4375 worsened; Mar (1.75+3+1.4+2.5)/4 = 2.1625 worsened
    assert m["ratio"].tolist() == pytest.approx([0.875, 1.4375, 2.1625])
    assert m["trend"].tolist() == ["improved", "worsened", "worsened"]
    assert m["amount"].tolist() == [50.0, -10.0, -50.0]  # 40+10, 0−10, −40−10
    assert m["payer"].tolist() == ["500001", "510001", "510001"]
    assert m.loc[0, "explanation_zh"] == (
        "2023-01 S1 II 类，优于目标 III 类，且较基准改善：乙区向甲县支付 50 万元"
        "（类别 40 万元，趋势 +10 万元）")
    assert "Jia County pays Yi District 10" in m.loc[1, "explanation_en"]
    # yearly P on the annual means: C = (5, 0.7, 1.2, 0.1766…)
    means = np.array([5.0, 0.7, 1.2, (0.1 + 0.18 + 0.25) / 3])
    expected = 0.85 * 0.25 * (means / np.array([4.0, 0.4, 1.0, 0.1])).sum()
    y = comp.yearly.iloc[0]
    assert y["p"] == pytest.approx(expected)
    assert expected > 1 and y["p_payer"] == "510001" and y["p_payee"] == "500001"
    assert y["fixed_net"] == pytest.approx(-10.0)
    pairs = comp.pairs.set_index("rule")
    assert pairs.loc["fixed", "to_upstream"] == 50.0
    assert pairs.loc["fixed", "to_downstream"] == 60.0
    assert pairs.loc["p-index", "to_downstream"] == 1000.0
    assert pairs.loc["all", "net"] == pytest.approx(50.0 - 60.0 - 1000.0)
    assert pairs.loc["all", "payer"] == "510001"
    assert comp.illustrative is False and comp.simulated is False


def test_yearly_sums_are_the_sums_of_the_months_on_the_demo() -> None:
    samples = read_monitoring(demo_path(), resolve=_demo_resolver())
    comp = compensate(samples, load_rules(), load_standard(), year=2023)
    fixed = comp.pairs[comp.pairs["rule"] == "fixed"].set_index("upstream")
    for section, sub in comp.monthly.groupby("section"):
        up = sub["upstream"].iloc[0]
        assert len(sub) == 12
        assert fixed.loc[up, "to_upstream"] == pytest.approx(sub["amount"].clip(lower=0).sum())
        assert fixed.loc[up, "to_downstream"] == pytest.approx(
            -sub["amount"].clip(upper=0).sum())
        assert comp.yearly.set_index("section").loc[section, "fixed_net"] == pytest.approx(
            sub["amount"].sum())
    allp = comp.pairs[comp.pairs["rule"] == "all"].set_index("upstream")
    sums = comp.pairs[comp.pairs["rule"] != "all"].groupby("upstream")["net"].sum()
    assert allp["net"].to_dict() == pytest.approx(sums.to_dict())
    assert comp.simulated and comp.illustrative
    assert comp.payments["simulated"].all() and comp.payments["illustrative"].all()


def test_monthly_p_period_and_previous_month_trend() -> None:
    samples = _samples([("S1", "2023-01", 3.0, 0.3, 1.0, 0.1),
                        ("S1", "2023-02", 3.0, 0.3, 1.0, 0.1),
                        ("S1", "2023-04", 6.0, 0.6, 2.0, 0.2)])
    rules = _rules(p_index={"period": "month", "amount": 1200},
                   fixed={"trend": {"against": "previous"}})
    comp = compensate(samples, rules, load_standard(), rule="both")
    # first month: no previous; March missing: April has no previous month either
    assert comp.monthly["trend"].tolist() == ["none", "stable", "none"]
    p = comp.payments[comp.payments["rule"] == "p-index"]
    assert p["period"].tolist() == ["2023-01", "2023-02", "2023-04"]
    assert p["amount"].tolist() == [100.0, 100.0, 100.0]
    # April: ratios (1.5, 1.5, 2, 2) → P = 0.85·0.25·7 = 1.4875 > 1 → upstream pays
    assert p["payer"].tolist() == ["500001", "500001", "510001"]
    assert comp.notes and "3" in comp.notes[-1][1]  # fewer than 12 months noted


def test_rule_choice_and_refusals() -> None:
    samples = _samples([("S1", "2023-01", 3.0, 0.3, 1.0, 0.1)])
    only_p = compensate(samples, _rules(), load_standard(), rule="p-index")
    assert only_p.payments["rule"].unique().tolist() == ["p-index"]
    assert only_p.monthly["amount"].isna().all() and only_p.yearly["fixed_net"].isna().all()
    only_fixed = compensate(samples, _rules(), load_standard(), rule="fixed")
    assert only_fixed.payments["rule"].unique().tolist() == ["fixed"]
    with pytest.raises(PlanInputError, match="p-index, fixed, both"):
        compensate(samples, _rules(), load_standard(), rule="money")
    with pytest.raises(PlanInputError, match="2019"):
        compensate(samples, _rules(), load_standard(), year=2019)
    with pytest.raises(PlanInputError, match="S9"):
        compensate(samples, _rules(fixed={"targets": {"S9": "II"}}), load_standard())
    no_base = load_rules_mapping({"baseline": {"years": [2020], "values": {}}})
    with pytest.raises(PlanInputError, match="S1"):
        compensate(samples, no_base, load_standard())


def test_a_bad_rules_file_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("p_index:\n  k0: -1\n  weights: {cod: 0.5}\n"
                    "fixed:\n  amounts: {-1: 10, 0: 20, 1: 0}\n  colour: red\n",
                    encoding="utf-8")
    with pytest.raises(SpecError, match=r"rules\.yaml") as err:
        load_rules(path)
    text = str(err.value)
    assert "p_index.k0" in text and "fixed.colour" in text and "p_index.weights" in text
    assert "fixed.amounts" in text  # an amount rising with a worse class
    assert len(err.value.issues) == 4
    gaps = tmp_path / "gaps.yaml"
    gaps.write_text("fixed:\n  amounts: {-2: 50, 0: 0, 1: -50}\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"-2, 0, 1"):
        load_rules(gaps)


def test_user_rules_overlay_the_shipped_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("illustrative: false\np_index: {k0: 1.0, amount: 500}\n", encoding="utf-8")
    rules = load_rules(path)
    assert rules.p_index.k0 == 1.0 and rules.p_index.amount == 500
    assert rules.p_index.weights == {k: 0.25 for k in ITEMS}  # kept from the shipped file
    assert rules.illustrative is False
    assert load_rules().illustrative is True


def test_the_monitoring_file_names_every_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "断面,上游,下游,月份,指标,浓度\n"
        "S1,甲县,乙区,2023-01,codmn,3\n"       # row 2 ok
        "S1,甲县,乙区,2023-01,氨氮,0.3\n"      # row 3 ok
        "S1,甲县,乙区,2023-01,tn,1\n"          # row 4 ok (tp missing for 2023-01)
        "S1,甲县,乙区,2023-13,tp,0.1\n"        # row 5 bad month
        "S2,火星,乙区,2023-01,tp,0.1\n"        # row 6 unknown unit
        "S3,甲县,乙区,2023-02,tp,-0.1\n"       # row 7 negative
        "S3,甲县,乙区,2023-02,cod,1\n"         # row 8 unknown parameter
        "S3,甲县,乙区,2023-02,tn,abc\n"        # row 9 not a number
        "S1,甲县,乙区,2023-01,codmn,3.1\n"     # row 10 duplicate of row 2
        "S1,丙县,乙区,2023-02,codmn,3\n"       # row 11 other units for S1
        "S4,甲县,甲县,2023-02,codmn,3\n",      # row 12 same unit
        encoding="utf-8")
    with pytest.raises(MonitoringError, match=r"m\.csv") as err:
        read_monitoring(path, resolve=resolve)
    found = {(i.row, i.column) for i in err.value.issues}
    assert {(5, "month"), (6, "upstream"), (7, "value"), (8, "parameter"), (9, "value"),
            (10, None), (11, None), (12, "downstream")} <= found
    text = str(err.value)
    assert "火星" in text and "2023-13" in text and "2, 10" in text
    assert "tp" in text and "S1 2023-01" in text  # the missing item of S1 2023-01


def test_the_monitoring_file_columns_and_formats(tmp_path: Path) -> None:
    with pytest.raises(MonitoringError, match="tn"):
        validate_monitoring(pd.DataFrame({"section": ["S1"], "upstream": ["甲县"],
                                          "downstream": ["乙区"], "month": ["2023-01"],
                                          "codmn": ["1"], "nh3n": ["1"], "tp": ["1"]}),
                            resolve=resolve)
    with pytest.raises(PlanInputError, match=r"nothing\.txt"):
        read_monitoring(tmp_path / "nothing.txt", resolve=resolve)
    odd = tmp_path / "m.json"
    odd.write_text("{}", encoding="utf-8")
    with pytest.raises(PlanInputError, match=r"\.csv"):
        read_monitoring(odd, resolve=resolve)
    wide = pd.DataFrame({"section": ["S1"], "upstream": ["甲县"], "downstream": ["500001"],
                         "month": ["2023-01"], "高锰酸盐指数": ["2"], "NH3-N": ["0.2"],
                         "总氮": ["1"], "总磷": ["0.05"], "模拟": ["是"], "remark": ["x"]})
    xlsx = tmp_path / "m.xlsx"
    wide.to_excel(xlsx, index=False)
    got = read_monitoring(xlsx, resolve=resolve)
    assert got.loc[0, ["upstream", "downstream", "codmn", "tp"]].tolist() == [
        "510001", "500001", 2.0, 0.05]
    assert bool(got.loc[0, "simulated"]) is True


def _demo_resolver():  # type: ignore[no-untyped-def]
    from cocity.datasets import open_store

    store = open_store()
    return lambda name: store.resolve(name, None)


def test_the_demo_is_reproducible_and_flagged_simulated() -> None:
    shipped = pd.read_csv(demo_path(), dtype={"month": str})
    again = simulate_demo()
    pd.testing.assert_frame_equal(shipped, again, check_dtype=False)
    assert shipped["simulated"].all()
    assert len(shipped) == 4 * 36
    assert not simulate_demo(seed=1).equals(again)


def test_lakes_use_total_nitrogen_and_the_lake_phosphorus_limits() -> None:
    # TN 1.2 is class IV (≤ 1.5) and TP 0.05 is class III for lakes (≤ 0.05) but II for rivers
    samples = _samples([("S1", "2023-01", 1.0, 0.1, 1.2, 0.05)])
    river = compensate(samples, _rules(), load_standard())
    lake = compensate(samples, _rules(water_body="lake"), load_standard())
    assert river.monthly["class"].tolist() == [2]
    assert lake.monthly["class"].tolist() == [4]
