"""The allocation on a tiny hand-made data set (not real data): hand-computed amounts in exact
fen, the grade bonus, floors and caps, exclusions, conditional rectification lines and their
release check against two runs, scenarios side by side, explanations, errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cocity.fund.allocation import Allocation, allocate, split_fund
from cocity.fund.needs import NeedData, compute_needs
from cocity.fund.release import check_release
from cocity.fund.rules import AllocationError, load_rules
from cocity.fund.run_grades import run_grades
from cocity.fund.scenarios import compare
from cocity.i18n import use_lang
from cocity.outputs import manifest, write_json

# ---------------------------------------------------------------- the tiny data set
UNITS = [
    # code, name_zh, name_en, level, parent, kind, membership, tier
    ("900000", "测试省", "Test Province", "province", None, "province", "partial", None),
    ("900100", "甲市", "Jia", "prefecture", "900000", "prefecture_city", "full", "core"),
    ("900200", "乙市", "Yi", "prefecture", "900000", "prefecture_city", "partial", "node"),
    ("900101", "核心区", "Hexin District", "county", "900100", "district", "full", "core"),
    ("900102", "东县", "Dong County", "county", "900100", "county", "full", "hinterland"),
    ("900201", "南县", "Nan County", "county", "900200", "county", "full", "hinterland"),
    ("900202", "西县", "Xi County", "county", "900200", "county", "partial", "hinterland"),
    ("900203", "北县", "Bei County", "county", "900200", "county", "outside", None),
]
KINDS = {"pop_total": "count", "migrants_other_province": "count", "schooling_years": "level",
         "hospital_beds_per_1000": "ratio", "age_65_share": "share_pct",
         "illiteracy_rate": "share_pct"}
VALUES = {  # (unit, year, indicator) → value
    **{(u, 2020, "pop_total"): v for u, v in [("900101", 100), ("900102", 100), ("900201", 200),
                                              ("900202", 100), ("900203", 50), ("900100", 200),
                                              ("900200", 350)]},
    **{(u, 2020, "schooling_years"): v for u, v in [("900101", 12), ("900102", 8),
                                                    ("900201", 9), ("900202", 11),
                                                    ("900203", 7)]},
    **{(u, 2020, "migrants_other_province"): v for u, v in [
        ("900101", 5000), ("900102", 100), ("900201", 300), ("900202", 600), ("900203", 10),
        ("900100", 5100), ("900200", 999)]},
    **{(u, 2019, "hospital_beds_per_1000"): v for u, v in [("900100", 8), ("900200", 5)]},
}


def data(drop: tuple[str, int, str] | None = None) -> NeedData:
    units = pd.DataFrame(UNITS, columns=["code", "name_zh", "name_en", "level", "parent", "kind",
                                         "membership", "tier"])
    catalog = pd.DataFrame({"id": list(KINDS), "value_kind": list(KINDS.values()),
                            "name_zh": list(KINDS), "name_en": list(KINDS),
                            "unit_zh": "", "unit_en": ""}).set_index("id", drop=False)
    rows = [{"unit": u, "year": y, "indicator": i, "value": float(v)}
            for (u, y, i), v in VALUES.items() if (u, y, i) != drop]
    return NeedData(units, catalog, pd.DataFrame(rows))


def component(cid: str, weight: float, base: Any, factor: Any = None) -> dict[str, Any]:
    out = {"id": cid, "weight": weight, "name_zh": cid, "name_en": cid, "unit_zh": "人",
           "unit_en": "persons", "proxy_zh": f"代理 {cid}", "proxy_en": f"proxy {cid}",
           "base": base}
    if factor is not None:
        out["factor"] = factor
    return out


def rules_doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name_zh": "测试规则", "name_en": "test rules", "year": 2020,
        "recipients": {"level": "county", "membership": ["full", "partial"],
                       "exclude_tiers": ["core"]},
        "uses": {
            "facilities": {"name_zh": "设施", "name_en": "Facilities", "share": 0.5, "need": [
                component("schooling", 0.5, {"count": "pop_total"},
                          {"kind": "shortfall", "indicators": "schooling_years"}),
                component("beds", 0.5, {"count": "pop_total"},
                          {"kind": "shortfall", "indicators": "hospital_beds_per_1000",
                           "year": 2019, "scope": "parent", "scale": 0.001})]},
            "social_security": {"name_zh": "社保", "name_en": "Social security", "share": 0.5,
                                "need": [component("migrants", 1,
                                                   {"count": "migrants_other_province"})]},
        },
        "bonus": {"grades": ["excellent"], "rate": 0.1},
        "rectification": {"obstacles": {"beds_shortfall": "facilities"}, "min_gain": 0},
    }
    for key, value in over.items():
        doc[key] = value
    return doc


LABELS = {"excellent": {"zh": "优秀", "en": "Excellent"}, "good": {"zh": "良好", "en": "Good"},
          "fail": {"zh": "不合格", "en": "Fail"}}


def run_doc(year: int, scores: dict[str, tuple[str, float]],
            rect: dict[str, list[str]] | None = None, *, simulated: bool = False,
            level: str = "county") -> dict[str, Any]:
    """A minimal evaluation.json of one level (the fields the allocation reads)."""
    rect = rect or {}
    return {
        "kind": "cocity evaluation", "year": year, "inputs_sha256": f"{year:04d}" + "ab" * 30,
        "simulated_survey": simulated, "publication_date": f"{year + 1}-06-30",
        "grade_labels": LABELS,
        "levels": [{"level": level,
                    "ranking": [{"unit": u, "grade": g, "score": s}
                                for u, (g, s) in scores.items()],
                    "rectification": [
                        {"unit": u, "score": scores[u][1],
                         **{f"obstacle_{k + 1}": o for k, o in enumerate(obs)},
                         **{f"obstacle_{k + 1}_name_zh": f"障碍{o}" for k, o in enumerate(obs)},
                         **{f"obstacle_{k + 1}_name_en": f"obstacle {o}"
                            for k, o in enumerate(obs)},
                         "deadline": f"{year + 2}-06-30"} for u, obs in rect.items()]}]}


def run(doc: dict[str, Any] | None = None, *, fund: int = 2040, grades: Any = None
        ) -> Allocation:
    rules = load_rules(doc or rules_doc())
    needs = compute_needs(rules, data())
    g = None if grades is None else run_grades(grades, level=rules.level)
    return allocate(rules, needs, fund_fen=fund, grades=g)


def amounts(a: Allocation, use: str) -> dict[str, int]:
    t_ = a.table[a.table["use"] == use]
    return dict(zip(t_["unit"], t_["amount_fen"], strict=True))


# ---------------------------------------------------------------- hand-computed cases
def test_needs_by_hand() -> None:
    rules = load_rules(rules_doc())
    needs = compute_needs(rules, data())
    assert needs.recipients == ["900102", "900201", "900202"]
    # schooling: circle level r = (100·12 + 100·8 + 200·9 + 100·11) / 500 = 9.8 (the core
    # district sets the level but does not receive; the outside county is not in the circle)
    school = needs.components["facilities"]["schooling"]
    assert school["reference"].iloc[0] == pytest.approx(9.8)
    assert school["quantity"].to_dict() == pytest.approx({"900102": 180.0, "900201": 160.0,
                                                          "900202": 0.0})
    # beds at the parent city: r = (100·8 + 100·8 + 200·5 + 100·5) / 500 = 6.2 per 1,000
    beds = needs.components["facilities"]["beds"]
    assert beds["value"].to_dict() == {"900102": 8.0, "900201": 5.0, "900202": 5.0}
    assert beds["quantity"].to_dict() == pytest.approx({"900102": 0.0, "900201": 0.24,
                                                        "900202": 0.12})


def test_exact_fen_by_hand() -> None:
    a = run()
    assert a.pools == {"facilities": 1020, "social_security": 1020}
    # facilities: s = 0.5·180/340 + 0 = 9/34, 0.5·160/340 + 0.5·2/3 = 29/51, 0.5·1/3 = 1/6
    assert amounts(a, "facilities") == {"900102": 270, "900201": 580, "900202": 170}
    # social security: migrants 100 : 300 : 600
    assert amounts(a, "social_security") == {"900102": 102, "900201": 306, "900202": 612}
    assert a.totals() == a.pools
    assert a.lines() == [("900102", "facilities", 270), ("900102", "social_security", 102),
                         ("900201", "facilities", 580), ("900201", "social_security", 306),
                         ("900202", "facilities", 170), ("900202", "social_security", 612)]
    assert a.by_unit().loc["900201", "total"] == 886


def test_fund_split_and_rounding_ties_by_use_id_and_unit_code() -> None:
    # 2041 fen in halves: 1020.5 each; the tie goes to the first use id (facilities)
    a = run(fund=2041)
    assert a.pools == {"facilities": 1021, "social_security": 1020}
    assert sum(a.pools.values()) == 2041
    # 1021 · (9/34, 29/51, 1/6) = 270.26…, 580.56…, 170.16…: one fen left → the largest
    # remainder (580.56)
    assert amounts(a, "facilities") == {"900102": 270, "900201": 581, "900202": 170}
    ex = a.exact
    for (unit, use), x in ex.items():
        assert abs(amounts(a, use)[unit] - x) < 1


def test_pools_by_amount_and_share() -> None:
    doc = rules_doc()
    doc["uses"]["social_security"] = dict(doc["uses"]["social_security"], share=None,
                                          amount_yuan=3.5)
    doc["uses"]["facilities"]["share"] = 1
    rules = load_rules(doc)
    assert split_fund(rules, 1000) == (1000, {"facilities": 650, "social_security": 350})
    with pytest.raises(AllocationError, match=r"3\.50"):
        split_fund(rules, 300)
    with pytest.raises(AllocationError, match="fund_yuan"):
        split_fund(rules, None)
    only = rules_doc()
    only["uses"] = {"social_security": dict(only["uses"]["social_security"], share=None,
                                            amount_yuan=2)}
    only["rectification"] = None
    assert split_fund(load_rules(only), None) == (200, {"social_security": 200})
    with pytest.raises(AllocationError, match=r"2\.00"):
        split_fund(load_rules(only), 500)


def test_partial_prefecture_counts_its_member_counties() -> None:
    doc = rules_doc(recipients={"level": "prefecture", "membership": ["full", "partial"]})
    doc["uses"] = {"social_security": dict(doc["uses"]["social_security"], share=1)}
    doc["rectification"] = None
    a = run(doc, fund=6000)
    # 乙市 is only partly in the circle: 300 + 600 from its member counties, not the 999
    # published for the whole city (which counts the county outside the circle)
    assert amounts(a, "social_security") == {"900100": 5100, "900200": 900}


# ---------------------------------------------------------------- bonus
def test_grade_bonus_is_visible_and_paid_from_the_pool() -> None:
    grades = run_doc(2020, {"900102": ("good", 70), "900201": ("excellent", 85),
                            "900202": ("good", 66)})
    a = run(fund=2060, grades=grades)
    # social security: W = 0.1, 0.3·1.1, 0.6 → Σ 1.03; P′ = 1030/1.03 = 1000
    assert amounts(a, "social_security") == {"900102": 100, "900201": 330, "900202": 600}
    ss = a.table[a.table["use"] == "social_security"].set_index("unit")
    assert ss.loc["900201", "base"] == pytest.approx(300)
    assert ss.loc["900201", "bonus"] == pytest.approx(30)
    assert ss.loc["900102", "bonus"] == 0 and ss.loc["900202", "bonus"] == 0
    fac = a.table[a.table["use"] == "facilities"].set_index("unit")
    assert fac.loc["900201", "bonus"] == pytest.approx(0.1 * fac.loc["900201", "base"])
    text = a.explain("900201", "zh")
    assert "优秀加成：在评价 2020-2020abababab 中评为优秀，加成 10% × 基础金额 = 0.3000 元" in text
    assert "grade bonus: graded Excellent" in a.explain("900201", "en")
    assert "无加成" in a.explain("900102", "zh") and "良好" in a.explain("900102", "zh")
    assert a.run is not None and a.run["run"] == "2020-2020abababab"
    assert a.notes == []


def test_simulated_survey_is_said() -> None:
    grades = run_doc(2020, {"900102": ("good", 70), "900201": ("excellent", 85),
                            "900202": ("good", 66)}, simulated=True)
    a = run(grades=grades)
    assert len(a.notes) == 1 and "模拟" in a.notes[0]["zh"]
    assert "simulated" in a.explain("900201", "en")


# ---------------------------------------------------------------- floors, caps, exclusions
def ss_rules(**limits: Any) -> dict[str, Any]:
    doc = rules_doc()
    doc["uses"]["social_security"].update(limits)
    return doc


def test_cap_of_a_use() -> None:
    a = run(ss_rules(cap_yuan=5))
    # 612 > 500 → 500; the 520 left shared 1 : 3
    assert amounts(a, "social_security") == {"900102": 130, "900201": 390, "900202": 500}
    assert "封顶" in a.explain("900202", "zh")
    assert "redistribution" in a.explain("900201", "en")


def test_floor_of_a_use() -> None:
    a = run(ss_rules(floor_yuan=2))
    # 102 < 200 → 200; 820 shared 3 : 6 → 273.33, 546.67 → 273, 547 (largest remainder)
    assert amounts(a, "social_security") == {"900102": 200, "900201": 273, "900202": 547}
    assert "保底" in a.explain("900102", "zh")


def test_cap_as_share_and_unit_limit() -> None:
    a = run(ss_rules(cap_share=0.5))
    # 612 > 510 → 510; the 510 left shared 1 : 3 → 127.5, 382.5: equal remainders, the fen
    # left goes to the smaller code
    assert amounts(a, "social_security") == {"900102": 128, "900201": 382, "900202": 510}
    doc = rules_doc(limits=[{"unit": "南县", "uses": ["social_security"], "cap_yuan": 2}])
    b = run(doc)
    # 南县 capped at 200; 820 shared 1 : 6 → 117.14, 702.86 → 117, 703
    assert amounts(b, "social_security") == {"900102": 117, "900201": 200, "900202": 703}
    assert amounts(b, "facilities") == amounts(run(), "facilities")


def test_infeasible_floors_and_caps_name_the_use() -> None:
    with use_lang("zh"), pytest.raises(AllocationError, match="用途「社保」：各单位下限合计"):
        run(ss_rules(floor_yuan=5))
    with use_lang("en"), pytest.raises(AllocationError, match="exceeds the caps"):
        run(ss_rules(cap_yuan=3))


def test_exclusions() -> None:
    a = run()
    ex = a.excluded
    assert ex[["unit", "use", "reason"]].values.tolist() == [["900101", "", "tier"]]
    assert "900203" not in set(a.table["unit"])  # outside the circle: not a candidate
    assert "tier core" in a.explain("900101", "en")
    doc = rules_doc()
    doc["recipients"]["exclude"] = [
        {"unit": "西县", "uses": ["social_security"], "reason_zh": "另有专项",
         "reason_en": "own fund"},
        {"unit": "900102", "reason_zh": "测试排除", "reason_en": "excluded for the test"}]
    b = run(doc)
    assert amounts(b, "social_security") == {"900201": 1020}
    # without 东县: facilities shares 0.5·160/160 + 0.5·2/3 = 5/6 and 1/6
    assert amounts(b, "facilities") == {"900201": 850, "900202": 170}
    assert "另有专项" in b.explain("900202", "zh")
    assert set(b.excluded["unit"]) == {"900101", "900102", "900202"}
    doc["recipients"]["exclude"][0]["unit"] = "不存在县"
    with pytest.raises(AllocationError, match="不存在县") as info:
        run(doc)
    assert info.value.issues[0].key == "recipients.exclude[0].unit"


def test_a_unit_without_need_receives_nothing_and_says_why() -> None:
    a = run()
    # 东县 has no bed shortfall and 西县 no schooling shortfall, but each has another need;
    # with facilities on schooling alone, 西县 has none at all
    doc = rules_doc()
    doc["uses"]["facilities"]["need"] = [dict(doc["uses"]["facilities"]["need"][0], weight=1)]
    b = run(doc)
    assert amounts(b, "facilities") == {"900102": 540, "900201": 480, "900202": 0}
    assert b.table.set_index(["unit", "use"]).loc[("900202", "facilities"), "limit"] == "none"
    assert "本用途各项需要均为 0：不分配" in b.explain("900202", "zh")
    assert ("900202", "facilities", 0) not in b.lines()
    assert len(a.lines()) == 6


# ---------------------------------------------------------------- rectification and release
def rect_grades(score: float = 45.0) -> dict[str, Any]:
    return run_doc(2020, {"900102": ("good", 70), "900201": ("good", 68),
                          "900202": ("fail", score)},
                   rect={"900202": ["beds_shortfall", "core_minutes"]})


def test_rectification_lines_are_conditional_and_only_for_the_obstacles() -> None:
    a = run(grades=rect_grades())
    # 西县's obstacles map to facilities only: nothing from social security
    assert amounts(a, "social_security") == {"900102": 255, "900201": 765}
    assert amounts(a, "facilities") == {"900102": 270, "900201": 580, "900202": 170}
    assert a.conditional_lines() == [("900202", "facilities", 170)]
    cond = a.conditions.iloc[0]
    assert (cond["unit"], cond["use"], cond["score"], cond["deadline"], cond["run"]) == (
        "900202", "facilities", 45.0, "2022-06-30", "2020-2020abababab")
    assert cond["obstacles"] == "beds_shortfall, core_minutes"
    text = a.explain("900202", "zh")
    assert "有条件拨付" in text and "45.00" in text and "2022-06-30" in text
    assert "障碍因素（障碍beds_shortfall、障碍core_minutes）均不对应「社保」" in text
    excl = a.excluded[a.excluded["reason"] == "rectification"]
    assert excl[["unit", "use"]].values.tolist() == [["900202", "social_security"]]


def test_release_check_compares_two_runs() -> None:
    a = run(grades=rect_grades())
    up = run_doc(2021, {"900202": ("pass", 47.5), "900102": ("good", 70)})
    same = run_doc(2021, {"900202": ("fail", 45.0)})
    gone = run_doc(2021, {"900102": ("good", 70)})
    r = check_release(a, up)
    assert r[["unit", "use", "amount_fen", "release"]].values.tolist() == [
        ["900202", "facilities", 170, True]]
    assert r.loc[0, "gain"] == pytest.approx(2.5)
    assert "可释放" in r.loc[0, "zh"] and "released" in r.loc[0, "en"]
    assert not check_release(a, same).loc[0, "release"]
    held = check_release(a, gone)
    assert not held.loc[0, "release"] and "no score" in held.loc[0, "en"]
    # before given: it must be the run the allocation followed
    assert check_release(a, up, before=rect_grades()).loc[0, "release"]
    with pytest.raises(AllocationError, match="2019"):
        check_release(a, up, before=run_doc(2019, {"900202": ("fail", 40.0)}))
    # after must be a later edition
    with pytest.raises(AllocationError, match="2020"):
        check_release(a, rect_grades(50.0))
    # a stricter min_gain holds a small gain
    doc = rules_doc()
    doc["rectification"]["min_gain"] = 3
    b = run(doc, grades=rect_grades())
    assert not check_release(b, up).loc[0, "release"]
    with pytest.raises(AllocationError, match=r"no evaluation run|未依据"):
        check_release(run(), up)


def test_run_read_from_file_folder_and_manifest(tmp_path: Path) -> None:
    doc = rect_grades()
    folder = tmp_path / "runs" / "2020-x"
    folder.mkdir(parents=True)
    path = folder / "evaluation.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    from_file = run_grades(path, level="county")
    assert from_file.run == "2020-2020abababab" and from_file.source == str(path)
    assert run_grades(folder, level="county").scores.to_dict() == from_file.scores.to_dict()
    write_json(manifest("cocity evaluate", outputs={"json": path}, root=folder),
               folder / "manifest.json")
    assert run(grades=folder).conditional_lines() == [("900202", "facilities", 170)]
    path.write_text(json.dumps(doc) + " ", encoding="utf-8")  # edited after the run
    with pytest.raises(AllocationError, match=r"evaluation\.json"):
        run_grades(folder, level="county")
    with pytest.raises(AllocationError, match="prefecture"):
        run_grades(doc, level="prefecture")
    with pytest.raises(AllocationError, match=r"evaluation\.json"):
        run_grades(tmp_path / "evaluation.json", level="county")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(AllocationError, match=r"bad\.json"):
        run_grades(bad, level="county")
    with pytest.raises(AllocationError, match=r"evaluation\.json|cocity"):
        run_grades({"kind": "something else"}, level="county")


# ---------------------------------------------------------------- scenarios
def test_scenarios_side_by_side() -> None:
    base = run()
    bigger = run(fund=4080)
    graded = run(grades=rect_grades())
    table = compare({"base": base, "bigger": bigger, "graded": graded})
    pools = table[table["unit"] == "*"].set_index("use")
    assert pools.loc["total", "amount_base"] == 2040
    assert pools.loc["total", "diff_bigger"] == 2040
    rows = table.set_index(["unit", "use"])
    assert rows.loc[("900202", "social_security"), "amount_base"] == 612
    assert rows.loc[("900202", "social_security"), "amount_bigger"] == 1224
    assert rows.loc[("900202", "social_security"), "amount_graded"] == 0
    assert rows.loc[("900202", "social_security"), "diff_graded"] == -612
    assert rows.loc[("900201", "total"), "diff_bigger"] == 886
    assert rows.loc[("900201", "social_security"), "name_zh"] == "南县"
    # per use the differences sum to the difference of the pools
    units = table[table["unit"] != "*"]
    for use in ("facilities", "social_security"):
        assert units.loc[units["use"] == use, "diff_graded"].sum() == 0
        assert units.loc[units["use"] == use, "diff_bigger"].sum() == 1020
    with pytest.raises(AllocationError, match=r"两个|two"):
        compare({"base": base})
    other = copy.deepcopy(rules_doc(recipients={"level": "prefecture"}))
    other["uses"] = {"social_security": dict(other["uses"]["social_security"], share=1)}
    other["rectification"] = None
    with pytest.raises(AllocationError, match="county"):
        compare({"base": base, "prefecture": run(other, fund=2040)})


# ---------------------------------------------------------------- explanations, errors
def test_every_line_explained_in_both_languages() -> None:
    a = run(ss_rules(cap_yuan=6), grades=rect_grades())
    assert amounts(a, "social_security") == {"900102": 420, "900201": 600}
    for unit, use in a.table[["unit", "use"]].itertuples(index=False):
        rows = a.explanation[(a.explanation["unit"] == unit) & (a.explanation["use"] == use)]
        steps = list(rows["step"])
        assert steps[-1] == "total"
        if a.table.set_index(["unit", "use"]).loc[(unit, use), "limit"] != "none":
            assert steps == ["need", "need", "share", "base", "bonus", "adjust", "rounding",
                             "condition", "total"] or steps == [
                "need", "share", "base", "bonus", "adjust", "rounding", "condition", "total"]
        assert rows["zh"].str.len().min() > 0 and rows["en"].str.len().min() > 0
    # every need line names its proxy
    need = a.explanation[a.explanation["step"] == "need"]
    assert need["zh"].str.contains("代理指标：代理 ").all()
    assert need["en"].str.contains("proxy: proxy ").all()


def test_document_and_key_are_stable() -> None:
    a, b = run(), run()
    assert a.key == b.key and a.key.startswith("allocation:")
    assert run(fund=2041).key != a.key
    doc = a.document()
    json.dumps(doc)
    assert doc["fund_fen"] == 2040 and len(doc["lines"]) == 6


def test_missing_values_and_unknown_indicators_all_at_once() -> None:
    rules = load_rules(rules_doc())
    with pytest.raises(AllocationError, match="南县") as info:
        compute_needs(rules, data(drop=("900201", 2020, "schooling_years")))
    assert info.value.issues[0].key == "uses.facilities.need[0].factor.indicators"
    assert "schooling_years" in str(info.value)
    doc = rules_doc()
    doc["uses"]["social_security"]["need"][0]["base"] = {"count": "migrants_typo"}
    doc["uses"]["facilities"]["need"][0]["factor"]["indicators"] = "schooling_typo"
    with pytest.raises(AllocationError, match="migrants_typo") as info2:
        compute_needs(load_rules(doc), data())
    assert len(info2.value.issues) == 2 and "schooling_typo" in str(info2.value)


def test_no_fund_and_bad_fund() -> None:
    rules = load_rules(rules_doc())
    needs = compute_needs(rules, data())
    with pytest.raises(AllocationError, match="fund_yuan"):
        allocate(rules, needs)
    with pytest.raises(AllocationError, match="-5"):
        allocate(rules, needs, fund_fen=-5)
    with pytest.raises(AllocationError, match="county"):
        allocate(rules, needs, fund_fen=100,
                 grades=run_grades(run_doc(2020, {"900100": ("good", 70)}, level="prefecture"),
                                   level="prefecture"))
