"""Evaluation grades: absolute and quantile rules, improvement, uncertainty, reward and
rectification lists. Every expected value is worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from cocity.data.errors import CocityError
from cocity.evaluate.grades import (
    LIST_COLUMNS,
    REASONS,
    GradingError,
    GradingRules,
    add_months,
    assign_grades,
    explain,
    grade_uncertainty,
    load_rules,
    rectification_list,
    reward_list,
)
from cocity.i18n import use_lang
from cocity.spec import SpecError

NAN = np.nan
QUANTILE = {"kind": "quantile", "shares": {"excellent": 0.2, "good": 0.3, "pass": 0.35}}
ABSOLUTE = {"kind": "absolute", "cutoffs": {"excellent": 80, "good": 65, "pass": 50}}


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCITY_LANG", "en")


def rules_with(**sections: Any) -> GradingRules:
    return load_rules({"rule": ABSOLUTE, **sections})


def grades_of(df: pd.DataFrame, col: str = "grade") -> list[Any]:
    return [None if pd.isna(g) else str(g) for g in df[col]]


# ------------------------------------------------------------------------------ rules


def test_shipped_rules() -> None:
    r = load_rules()
    assert r.name == "default"
    assert r.codes == ("excellent", "good", "pass", "fail")
    assert [r.label(c, "zh") for c in r.codes] == ["优秀", "良好", "合格", "不合格"]
    assert [r.label(c, "en") for c in r.codes] == ["Excellent", "Good", "Pass", "Fail"]
    assert (r.kind, r.thresholds) == ("absolute", (80.0, 65.0, 50.0))
    assert (r.min_gain, r.max_loss) == (5.0, None)
    assert (r.rectify, r.deadline_months, r.top_k, r.reward) == (("fail",), 12, 3,
                                                                 ("excellent",))
    assert list(r.dtype.categories) == ["fail", "pass", "good", "excellent"]
    assert r.dtype.ordered


def test_defaults_of_missing_sections_and_round_trip(tmp_path: Path) -> None:
    r = load_rules({"rule": QUANTILE})
    # grades from the shipped file, improvement off, rectify the lowest, reward the best
    assert r.codes == ("excellent", "good", "pass", "fail")
    assert (r.kind, r.thresholds, r.ties) == ("quantile", (0.2, 0.3, 0.35), "average")
    assert (r.min_gain, r.max_loss) == (None, None)
    assert (r.rectify, r.deadline_months, r.top_k, r.reward) == (("fail",), 12, 3,
                                                                 ("excellent",))
    for rules in (r, load_rules(), rules_with(improvement={"min_gain": 2, "max_loss": 3})):
        assert GradingRules.from_dict(rules.to_dict()) == rules
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(r.to_dict(), allow_unicode=True), encoding="utf-8")
    assert load_rules(path) == r
    assert load_rules(str(path)) == r
    assert load_rules(r) is r


def test_custom_grades_inline_labels() -> None:
    r = load_rules({
        "grades": [{"code": "A", "zh": "甲", "en": "A"}, {"code": "B", "zh": "乙", "en": "B"},
                   {"code": "C", "zh": "丙", "en": "C"}],
        "rule": {"kind": "absolute", "cutoffs": {"A": 0.6, "B": 0.3}},
    })
    assert (r.reward, r.rectify) == (("A",), ("C",))
    g = assign_grades(pd.Series({"x": 0.6, "y": 0.59, "z": 0.1}), rules=r)
    assert grades_of(g) == ["A", "B", "C"]
    assert r.label("B", "zh") == "乙"


def test_grading_error_is_a_cocity_error() -> None:
    assert issubclass(GradingError, CocityError)


@pytest.mark.parametrize(("data", "key", "fragment"), [
    ([1, 2], None, "expected a mapping"),
    ({"rule": ABSOLUTE, "colour": 1}, "colour", "unknown key"),
    ({"grades": "excellent", "rule": ABSOLUTE}, "grades", "expected a list"),
    ({"grades": [{"code": "a", "zh": "a", "en": "a"}], "rule": ABSOLUTE}, "grades",
     "at least 2 item"),
    ({"grades": ["a", {"code": "b", "zh": "b", "en": "b"}], "rule": ABSOLUTE}, "grades[0]",
     "expected a mapping"),
    ({"grades": [{"code": "", "zh": "a", "en": "a"}, {"code": "b", "zh": "b", "en": "b"}],
      "rule": ABSOLUTE}, "grades[0].code", "must not be empty"),
    ({"grades": [{"code": "a", "zh": "a", "en": "a"}, {"code": "a", "zh": "b", "en": "b"}],
      "rule": ABSOLUTE}, "grades[1]", "grade code a appears twice"),
    ({"grades": [{"code": "a", "label": "no.such.key"}, {"code": "b", "zh": "b", "en": "b"}],
      "rule": ABSOLUTE}, "grades[0]", "grade a: label"),
    ({"grades": [{"code": "a", "zh": "甲"}, {"code": "b", "zh": "b", "en": "b"}],
      "rule": ABSOLUTE}, "grades[0]", "grade a: label"),
    ({"grades": [{"code": "a", "zh": "a", "en": "a", "colour": 1},
                 {"code": "b", "zh": "b", "en": "b"}], "rule": ABSOLUTE}, "grades[0].colour",
     "unknown key"),
    ({}, "rule", "required key missing"),
    ({"rule": "absolute"}, "rule", "expected a mapping"),
    ({"rule": {"kind": "median"}}, "rule.kind", "'median' is not one of 'absolute' or"),
    ({"rule": {**ABSOLUTE, "shares": {}}}, "rule.shares", "unknown key(s) shares in rule"),
    ({"rule": {"kind": "absolute"}}, "rule.cutoffs", "rule.cutoffs must give one value"),
    ({"rule": {"kind": "absolute", "cutoffs": {"excellent": 80, "good": 65}}}, "rule.cutoffs",
     "rule.cutoffs must give one value"),
    ({"rule": {"kind": "absolute", "cutoffs": {"excellent": 80, "good": 65, "pass": 50,
                                               "fail": 0}}}, "rule.cutoffs",
     "rule.cutoffs must give one"),
    ({"rule": {"kind": "absolute", "cutoffs": {"excellent": "80", "good": 65, "pass": 50}}},
     "rule.cutoffs.excellent", "expected a number, got '80'"),
    ({"rule": {"kind": "absolute", "cutoffs": {"excellent": True, "good": 65, "pass": 50}}},
     "rule.cutoffs.excellent", "expected a number, got True"),
    ({"rule": {"kind": "absolute", "cutoffs": {"excellent": 80, "good": NAN, "pass": 50}}},
     "rule.cutoffs.good", "expected a finite number"),
    ({"rule": {"kind": "absolute", "cutoffs": {"excellent": 80, "good": 80, "pass": 50}}},
     "rule.cutoffs.good", "excellent is 80, good is 80"),
    ({"rule": {"kind": "absolute", "cutoffs": {"excellent": 80, "good": 65, "pass": 70}}},
     "rule.cutoffs.pass", "good is 65, pass is 70"),
    ({"rule": {**QUANTILE, "shares": {"excellent": 0, "good": 0.3, "pass": 0.35}}},
     "rule.shares.excellent", "rule.shares.excellent must lie strictly between 0 and 1"),
    ({"rule": {**QUANTILE, "shares": {"excellent": 0.2, "good": 1.0, "pass": 0.35}}},
     "rule.shares.good", "rule.shares.good must lie strictly between 0 and 1"),
    ({"rule": {**QUANTILE, "shares": {"excellent": 0.4, "good": 0.4, "pass": 0.3}}},
     "rule.shares", "sum to 1.1"),
    ({"rule": {**QUANTILE, "ties": "dense"}}, "rule.ties", "'dense' is not one of 'average'"),
    ({"rule": ABSOLUTE, "improvement": 5}, "improvement", "expected a mapping"),
    ({"rule": ABSOLUTE, "improvement": {"min_gain": 0}}, "improvement.min_gain",
     "must be greater than 0"),
    ({"rule": ABSOLUTE, "improvement": {"min_gain": 5, "max_loss": -2}},
     "improvement.max_loss", "must be greater than 0"),
    ({"rule": ABSOLUTE, "improvement": {"gain": 5}}, "improvement.gain", "unknown key"),
    ({"rule": ABSOLUTE, "rectification": {"deadline_months": 0}},
     "rectification.deadline_months", "must be greater than 0"),
    ({"rule": ABSOLUTE, "rectification": {"deadline_months": 1.5}},
     "rectification.deadline_months", "expected an integer"),
    ({"rule": ABSOLUTE, "rectification": {"top_k": True}}, "rectification.top_k",
     "expected an integer"),
    ({"rule": ABSOLUTE, "rectification": {"grades": ["bad"]}}, "rectification.grades",
     "rectification.grades must be"),
    ({"rule": ABSOLUTE, "rectification": {"grades": []}}, "rectification.grades",
     "at least 1 item"),
    ({"rule": ABSOLUTE, "reward": {"grades": "excellent"}}, "reward.grades",
     "expected a list"),
    ({"rule": ABSOLUTE, "reward": {"grades": ["gold"]}}, "reward.grades",
     "reward.grades must be"),
])
def test_every_validation_error(data: Any, key: str | None, fragment: str) -> None:
    with use_lang("en"), pytest.raises(SpecError, match="problem") as err:
        load_rules(data) if isinstance(data, dict) else GradingRules.from_dict(data)
    assert any(i.key == key and fragment in i.message for i in err.value.issues), \
        [(i.key, i.message) for i in err.value.issues]


def test_all_problems_listed_at_once() -> None:
    data = {"name": "mine", "rule": {"kind": "absolute",
                                     "cutoffs": {"excellent": 60, "good": 65, "pass": 50}},
            "improvement": {"min_gain": -1}, "rectification": {"top_k": 0},
            "reward": {"grades": ["gold"]}}
    with use_lang("en"), pytest.raises(SpecError, match="2 problem") as err:
        load_rules(data)
    # the shapes first (two), then — once the shapes hold — the rules between the parts
    assert sorted(i.key or "" for i in err.value.issues) == [
        "improvement.min_gain", "rectification.top_k"]
    data["improvement"] = {"min_gain": 1}
    data["rectification"] = {"top_k": 2}
    with use_lang("en"), pytest.raises(SpecError, match="2 problem") as err:
        load_rules(data)
    assert sorted(i.key or "" for i in err.value.issues) == ["reward.grades",
                                                             "rule.cutoffs.good"]


def test_unreadable_file(tmp_path: Path) -> None:
    with use_lang("en"):
        with pytest.raises(SpecError, match="file not found"):
            load_rules(tmp_path / "missing.yaml")
        bad = tmp_path / "list.yaml"
        bad.write_text("- 1\n- 2\n", encoding="utf-8")
        with pytest.raises(SpecError, match="expected a mapping"):
            load_rules(bad)


# ---------------------------------------------------------------------- assign_grades


def test_absolute_cutoffs_and_boundaries() -> None:
    s = pd.Series({"a": 100.0, "b": 80.0, "c": 79.99, "d": 65.0, "e": 64.999, "f": 50.0,
                   "g": 49.99, "h": 0.0, "i": 80.0})
    g = assign_grades(s, rules=rules_with())
    # a score exactly at a cut-off reaches it
    assert grades_of(g) == ["excellent", "excellent", "good", "good", "pass", "pass", "fail",
                            "fail", "excellent"]
    assert g["base_grade"].equals(g["grade"])
    assert g["rank"].tolist() == [1, 2, 4, 5, 6, 7, 8, 9, 2]        # ties share the best rank
    assert g.index.name == "unit"
    assert list(g.columns) == ["score", "previous", "change", "rank", "base_grade", "grade",
                               "reason", "reason_params"]
    assert g.loc["b", "reason"] == "cutoff"
    assert g.loc["b", "reason_params"] == {"rule": "absolute", "cutoff": 80.0,
                                           "cutoff_grade": "excellent"}
    assert g.loc["g", "reason"] == "below_cutoffs"
    assert g.loc["g", "reason_params"] == {"rule": "absolute", "cutoff": 50.0,
                                           "cutoff_grade": "pass"}
    assert set(g["reason"]) <= set(REASONS)


def test_quantile_without_ties() -> None:
    # n = 10: C·n = 2, 5, 8.5 → ranks 1–2 excellent, 3–5 good, 6–8 pass, 9–10 fail
    s = pd.Series(np.arange(10, 0, -1, dtype=float), index=list("abcdefghij"))
    g = assign_grades(s, rules=load_rules({"rule": QUANTILE}))
    assert grades_of(g) == ["excellent"] * 2 + ["good"] * 3 + ["pass"] * 3 + ["fail"] * 2
    assert g.loc["c", "reason_params"] == {"rule": "quantile", "rank": 3.0, "n": 10,
                                           "ties": "average", "share_low": 0.2,
                                           "share_high": 0.5}
    assert g.loc["j", "reason"] == "beyond_shares"
    assert g.loc["j", "reason_params"]["share_low"] == pytest.approx(0.85)


def test_quantile_ties_average_and_min() -> None:
    # n = 5: C·n = 1, 2.5, 4.25
    s = pd.Series({"a": 90.0, "b": 90.0, "c": 70.0, "d": 60.0, "e": 50.0})
    # average ranks 1.5, 1.5, 3, 4, 5: 1.5 > 1 so the tied pair is good; 3, 4 ≤ 4.25 pass
    g = assign_grades(s, rules=load_rules({"rule": QUANTILE}))
    assert grades_of(g) == ["good", "good", "pass", "pass", "fail"]
    # min ranks 1, 1, 3, 4, 5: the tied pair shares rank 1 ≤ 1 → both excellent
    g = assign_grades(s, rules=load_rules({"rule": {**QUANTILE, "ties": "min"}}))
    assert grades_of(g) == ["excellent", "excellent", "pass", "pass", "fail"]
    # a tie straddling a boundary: average ranks 1, 2.5, 2.5, 4, 5; 2.5 ≤ 2.5 → both good
    # (good holds 2 units where ⌊2.5⌋ − ⌊1⌋ = 1 without the tie)
    s = pd.Series({"a": 90.0, "b": 80.0, "c": 80.0, "d": 60.0, "e": 50.0})
    g = assign_grades(s, rules=load_rules({"rule": QUANTILE}))
    assert grades_of(g) == ["excellent", "good", "good", "pass", "fail"]


def test_quantile_shares_summing_to_one_leave_fail_empty() -> None:
    r = load_rules({"rule": {"kind": "quantile",
                             "shares": {"excellent": 0.25, "good": 0.25, "pass": 0.5}}})
    g = assign_grades(pd.Series({"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0}), rules=r)
    assert grades_of(g) == ["excellent", "good", "pass", "pass"]


def test_nan_scores_are_kept_not_graded() -> None:
    s = pd.Series({"a": 90.0, "b": NAN, "c": 80.0, "d": 70.0, "e": 60.0, "f": 50.0})
    g = assign_grades(s, rules=load_rules({"rule": QUANTILE}))
    # n = 5 evaluated units: C·n = 1, 2.5, 4.25
    assert grades_of(g) == ["excellent", None, "good", "pass", "pass", "fail"]
    assert g.loc["b", "reason"] == "not_evaluated"
    assert g.loc["b", "reason_params"] == {}
    assert np.isnan(g.loc["b", "rank"])
    assert g.loc["f", "reason_params"]["n"] == 5
    assert pd.isna(g.loc["b", "base_grade"])


def test_improvement_up_and_caps() -> None:
    r = rules_with(improvement={"min_gain": 5})
    s = pd.Series({"up": 60.0, "top": 90.0, "exact": 70.3, "short": 59.99, "nopre": 60.0,
                   "once": 10.0, "absent": 60.0, "gone": NAN})
    prev = pd.Series({"up": 50.0, "top": 70.0, "exact": 65.3, "short": 55.0, "nopre": NAN,
                      "once": -100.0, "gone": 40.0})
    g = assign_grades(s, rules=r, previous=prev)
    assert grades_of(g, "base_grade") == ["pass", "excellent", "good", "pass", "pass", "fail",
                                          "pass", None]
    # up: +10 → one up; top: capped at excellent; exact: 70.3 − 65.3 = 5 (within 1e-9)
    # → good to excellent; short: +4.99 no; nopre/absent: no previous score; once: +110 moves
    # only one grade (fail → pass); gone: no score
    assert grades_of(g) == ["good", "excellent", "excellent", "pass", "pass", "pass", "pass",
                            None]
    assert g["reason"].tolist() == ["improved", "improved_at_top", "improved", "cutoff",
                                    "cutoff", "improved", "cutoff", "not_evaluated"]
    assert g.loc["up", "change"] == 10.0
    assert np.isnan(g.loc["absent", "previous"]) and np.isnan(g.loc["absent", "change"])
    assert np.isnan(g.loc["gone", "change"])
    assert g.loc["up", "reason_params"]["min_gain"] == 5.0


def test_improvement_down_and_caps() -> None:
    r = rules_with(improvement={"min_gain": 5, "max_loss": 10})
    s = pd.Series({"down": 66.0, "bottom": 20.0, "exact": 70.0, "small": 81.0})
    prev = pd.Series({"down": 76.0, "bottom": 60.0, "exact": 80.0, "small": 90.0})
    g = assign_grades(s, rules=r, previous=prev)
    # down: −10 → good to pass; bottom: −40 but already fail; exact: −10 → good to pass;
    # small: −9 stays excellent
    assert grades_of(g, "base_grade") == ["good", "fail", "good", "excellent"]
    assert grades_of(g) == ["pass", "fail", "pass", "excellent"]
    assert g["reason"].tolist() == ["declined", "declined_at_bottom", "declined", "cutoff"]
    # max_loss alone (no min_gain): a gain does nothing
    r = rules_with(improvement={"max_loss": 10})
    g = assign_grades(pd.Series({"a": 70.0}), rules=r, previous=pd.Series({"a": 20.0}))
    assert grades_of(g) == ["good"] and g.loc["a", "reason"] == "cutoff"


def test_explain_both_languages() -> None:
    r = rules_with(improvement={"min_gain": 5, "max_loss": 10})
    s = pd.Series({"a": 64.99, "b": 40.0, "c": NAN, "d": 66.0})
    g = assign_grades(s, rules=r, previous=pd.Series({"a": 59.0, "d": 76.0}))
    assert explain(g.loc["a"], "zh", r) == (
        "得分 64.99 达到合格线 50，评为合格；"
        "较上年提高 5.99 分（不少于 5 分），由合格上调一级为良好")
    assert explain(g.loc["a"], "en", r) == (
        "score 64.99 reaches the Pass cut-off 50: Pass; up 5.99 points on last year "
        "(at least 5): raised one grade from Pass to Good")
    assert explain(g.loc["b"], "zh", r) == "得分 40.00 低于合格线 50，评为不合格"
    assert explain(g.loc["c"], "en", r) == "no score: not graded"
    assert explain(g.loc["d"], "en", r) == (
        "score 66.00 reaches the Good cut-off 65: Good; down 10.00 points on last year "
        "(at least 10): lowered one grade from Good to Pass")
    assert explain(g.loc["b"]) == "score 40.00 is below the Pass cut-off 50: Fail"  # COCITY_LANG
    q = load_rules({"rule": QUANTILE})
    g = assign_grades(pd.Series({"a": 3.0, "b": 2.0, "c": 2.0, "d": 1.0}), rules=q)
    # n = 4: C·n = 0.8, 2, 3.4; average ranks 1, 2.5, 2.5, 4 → good (nobody is excellent:
    # rank 1 > 0.8), pass, pass, fail
    assert grades_of(g) == ["good", "pass", "pass", "fail"]
    assert explain(g.loc["b"], "en", q) == (
        "rank 2.5 of 4 (ties share their average rank) lies between the top 50 % and 85 %: Pass")


def test_explain_quantile() -> None:
    q = load_rules({"rule": QUANTILE})
    s = pd.Series(np.arange(10, 0, -1, dtype=float), index=list("abcdefghij"))
    g = assign_grades(s, rules=q)
    assert explain(g.loc["a"], "zh", q) == (
        "名次 1（共 10 个单元，并列取平均名次）位于前 20%，评为优秀")
    assert explain(g.loc["d"], "en", q) == (
        "rank 4 of 10 (ties share their average rank) lies between the top 20 % and 50 %: Good")
    assert explain(g.loc["j"], "en", q) == (
        "rank 10 of 10 (ties share their average rank) lies beyond the top 85 %: Fail")


def test_bad_scores() -> None:
    r = rules_with()
    with pytest.raises(GradingError, match="more than once: a"):
        assign_grades(pd.Series([1.0, 2.0], index=["a", "a"]), rules=r)
    with pytest.raises(GradingError, match="offending units: b"):
        assign_grades(pd.Series({"a": 1.0, "b": np.inf}), rules=r)
    with pytest.raises(GradingError, match="offending units: a"):
        assign_grades(pd.Series({"a": "x", "b": 1.0}), rules=r)
    with pytest.raises(GradingError, match="pandas Series"):
        assign_grades([1.0, 2.0], rules=r)  # type: ignore[arg-type]
    with pytest.raises(GradingError, match="previous lists these units more than once"):
        assign_grades(pd.Series({"a": 1.0}), rules=r,
                      previous=pd.Series([1.0, 2.0], index=["a", "a"]))


# -------------------------------------------------------------------- grade_uncertainty


def test_uncertainty_certain_and_straddling_units() -> None:
    r = rules_with()
    units = ["far", "edge", "rare", "none"]
    R = 20
    S = np.empty((R, 4))
    S[:, 0] = 95.0                                  # always far above 80: certain excellent
    S[:, 1] = np.where(np.arange(R) % 2 == 0, 79.0, 81.0)   # straddles 80 half the time
    S[:, 2] = 70.0
    S[0, 2] = 40.0                                  # fail in 1 of 20 replications (5 %)
    S[:, 3] = NAN
    nominal = assign_grades(pd.Series([95.0, 81.0, 70.0, NAN], index=units), rules=r)
    gu = grade_uncertainty(S, units, rules=r, nominal=nominal)
    assert list(gu.columns) == ["grade", "share_nominal", "grade_low", "grade_high",
                                "uncertain", "share_excellent", "share_good", "share_pass",
                                "share_fail", "rank_low", "rank_high"]
    assert grades_of(gu) == ["excellent", "excellent", "good", None]
    assert gu["share_nominal"].iloc[:3].tolist() == [1.0, 0.5, 0.95]
    assert np.isnan(gu.loc["none", "share_nominal"])
    assert grades_of(gu, "grade_low") == ["excellent", "good", "good", None]
    assert grades_of(gu, "grade_high") == ["excellent", "excellent", "good", None]
    # the 5 % fail tail of "rare" is exactly (1 − 0.9)/2 and is dropped
    assert gu["uncertain"].tolist()[:3] == [False, True, False]
    assert gu.loc["none", "uncertain"] is pd.NA
    assert gu.loc["rare", "share_fail"] == 0.05 and gu.loc["rare", "share_good"] == 0.95
    # a 95 % interval keeps that tail: fail to good
    gu95 = grade_uncertainty(S, units, rules=r, nominal=nominal, coverage=0.95)
    assert grades_of(gu95, "grade_low")[2] == "fail" and bool(gu95.loc["rare", "uncertain"])
    # ranks (ties share the best rank): far always 1, edge always 2 (79 or 81 < 95)
    assert gu.loc["far", "rank_low"] == 1 and gu.loc["far", "rank_high"] == 1
    assert gu.loc["edge", "rank_low"] == 2 and gu.loc["edge", "rank_high"] == 2


def test_uncertainty_quantile_reranks_each_replication() -> None:
    r = load_rules({"rule": {"kind": "quantile",
                             "shares": {"excellent": 0.25, "good": 0.25, "pass": 0.25}}})
    units = ["a", "b", "c", "d"]
    # n = 4: one unit per grade; a and b swap places in the second replication
    S = np.array([[4.0, 3.0, 2.0, 1.0], [3.0, 4.0, 2.0, 1.0]])
    nominal = assign_grades(pd.Series(S[0], index=units), rules=r)
    gu = grade_uncertainty(S, units, rules=r, nominal=nominal)
    assert gu["share_nominal"].tolist() == [0.5, 0.5, 1.0, 1.0]
    assert gu["share_excellent"].tolist() == [0.5, 0.5, 0.0, 0.0]
    assert grades_of(gu, "grade_low") == ["good", "good", "pass", "fail"]
    assert grades_of(gu, "grade_high") == ["excellent", "excellent", "pass", "fail"]
    assert gu["uncertain"].tolist() == [True, True, False, False]
    # a's ranks are 1 and 2: the interval holds whole ranks — the 5th percentile taken at an
    # observed rank from below (1) and the 95th from above (2), not 1.05 and 1.95
    assert gu.loc["a", "rank_low"] == 1 and gu.loc["a", "rank_high"] == 2


def test_uncertainty_applies_improvement_per_replication() -> None:
    r = rules_with(improvement={"min_gain": 5})
    units = ["a"]
    # previous 55: replications at 62 gain 7 (pass → good), at 58 gain 3 (pass)
    S = np.array([[62.0], [62.0], [62.0], [58.0]])
    prev = pd.Series({"a": 55.0})
    nominal = assign_grades(pd.Series({"a": 62.0}), rules=r, previous=prev)
    gu = grade_uncertainty(S, units, rules=r, nominal=nominal, previous=prev)
    assert grades_of(gu) == ["good"]
    assert gu.loc["a", "share_good"] == 0.75 and gu.loc["a", "share_pass"] == 0.25
    assert bool(gu.loc["a", "uncertain"])
    # without the previous score every replication is pass
    gu = grade_uncertainty(S, units, rules=r, nominal=nominal)
    assert gu.loc["a", "share_pass"] == 1.0 and gu.loc["a", "share_nominal"] == 0.0


def test_uncertainty_agrees_with_assign_grades() -> None:
    rng = np.random.default_rng(3)
    units = [f"u{i}" for i in range(30)]
    for rules in (rules_with(improvement={"min_gain": 4, "max_loss": 4}),
                  load_rules({"rule": QUANTILE, "improvement": {"min_gain": 4}})):
        S = np.round(rng.uniform(30, 100, (5, 30)))       # rounded: plenty of ties
        S[2, 4] = NAN
        prev = pd.Series(rng.uniform(30, 100, 30), index=units)
        for row in S:
            nominal = assign_grades(pd.Series(row, index=units), rules=rules, previous=prev)
            gu = grade_uncertainty(row[None, :], units, rules=rules, nominal=nominal, previous=prev)
            assert grades_of(gu, "grade_low") == grades_of(nominal)
            graded = nominal["grade"].notna().to_numpy()
            assert (gu["share_nominal"][graded] == 1.0).all()
            assert not gu["uncertain"][graded].any()


def test_uncertainty_passes_rank_intervals_through() -> None:
    r = rules_with()
    units = ["a", "b"]
    S = np.array([[90.0, 60.0], [85.0, 70.0]])
    nominal = assign_grades(pd.Series([88.0, 66.0], index=units), rules=r)
    summary = pd.DataFrame({"nominal_rank": [2, 1], "median_rank": [2, 1], "p05": [1.5, 1.0],
                            "p95": [2.0, 1.2]}, index=["b", "a"])   # any order
    gu = grade_uncertainty(S, units, rules=r, nominal=nominal, ranks=summary)
    # given bounds are rounded outwards to whole ranks: 1.5 → 1, 1.2 → 2
    assert gu["rank_low"].tolist() == [1.0, 1.0] and gu["rank_high"].tolist() == [2.0, 2.0]
    own = pd.DataFrame({"rank_low": [1, 2], "rank_high": [1, 2]}, index=units)
    gu = grade_uncertainty(S, units, rules=r, nominal=nominal, ranks=own)
    assert gu["rank_high"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("rule", [ABSOLUTE, {**QUANTILE, "ties": "min"},
                                  {**QUANTILE, "ties": "average"}])
def test_uncertainty_with_the_replications_ranks_given(rule: dict[str, Any]) -> None:
    # the ranks the uncertainty analysis already computed give the same frame as ranking the
    # scores again (ties and a unit without a score in some replications included)
    from cocity.index.uncertainty import _ranks

    r = load_rules({"rule": rule})
    rng = np.random.default_rng(3)
    units = [f"u{i}" for i in range(12)]
    S = np.round(rng.uniform(40, 95, (200, 12)), 0)      # rounded: many ties
    S[::7, 4] = NAN
    nominal = assign_grades(pd.Series(S[0], index=units), rules=r)
    prev = pd.Series(S[1] - 3, index=units)
    ranks = _ranks(S, kernels=False)
    own = grade_uncertainty(S, units, rules=r, nominal=nominal, previous=prev)
    given = grade_uncertainty(S, units, rules=r, nominal=nominal, previous=prev,
                              replicated_ranks=ranks)
    pd.testing.assert_frame_equal(own, given)
    assert given.loc["u4", "rank_low"] >= 1
    with pytest.raises(GradingError, match="R × n with n = 12"):
        grade_uncertainty(S, units, rules=r, nominal=nominal, replicated_ranks=ranks[:, :3])
    wrong = ranks.copy()
    wrong[0, 4] = 1.0                                    # ranked where there is no score
    with pytest.raises(GradingError, match="R × n with n = 12"):
        grade_uncertainty(S, units, rules=r, nominal=nominal, replicated_ranks=wrong)


def test_column_percentile_is_numpys_nanpercentile() -> None:
    from cocity.index.uncertainty import column_percentile

    rng = np.random.default_rng(5)
    a = rng.integers(1, 30, (101, 6)).astype(float)
    for method in ("linear", "lower", "higher"):
        np.testing.assert_array_equal(column_percentile(a, [5, 95], method=method),
                                      np.nanpercentile(a, [5, 95], axis=0, method=method))
    a[::3, 2] = NAN
    a[:, 5] = NAN                                        # a column without any value
    got = column_percentile(a, 5, method="lower")
    assert np.isnan(got[5]) and got[2] == np.nanpercentile(a[:, 2], 5, method="lower")
    np.testing.assert_array_equal(got[:5], np.nanpercentile(a[:, :5], 5, axis=0,
                                                            method="lower"))

def test_uncertainty_input_errors() -> None:
    r = rules_with()
    units = ["a", "b"]
    nominal = assign_grades(pd.Series([88.0, 66.0], index=units), rules=r)
    S = np.array([[90.0, 60.0]])
    with pytest.raises(GradingError, match="R × n with n = 2"):
        grade_uncertainty(np.array([90.0, 60.0]), units, rules=r, nominal=nominal)
    with pytest.raises(GradingError, match="R × n with n = 2"):
        grade_uncertainty(np.ones((3, 3)), units, rules=r, nominal=nominal)
    with pytest.raises(GradingError, match="finite numbers or NaN"):
        grade_uncertainty(np.array([[np.inf, 1.0]]), units, rules=r, nominal=nominal)
    for cov in (0.0, 1.0, 1.5):
        with pytest.raises(GradingError, match="coverage"):
            grade_uncertainty(S, units, rules=r, nominal=nominal, coverage=cov)
    with pytest.raises(GradingError, match="missing: b"):
        grade_uncertainty(S, units, rules=r, nominal=nominal.loc[["a"]])
    with pytest.raises(GradingError, match="missing: grade"):
        grade_uncertainty(S, units, rules=r, nominal=nominal.drop(columns="grade"))
    with pytest.raises(GradingError, match="rank_low and rank_high"):
        grade_uncertainty(S, units, rules=r, nominal=nominal,
                          ranks=pd.DataFrame({"low": [1, 2]}, index=units))
    other = nominal.assign(grade=["gold", "good"])
    with pytest.raises(GradingError, match="gold"):
        grade_uncertainty(S, units, rules=r, nominal=other)


# -------------------------------------------------------------------------------- lists


def unit_names() -> pd.DataFrame:
    return pd.DataFrame({
        "code": ["511002", "511011", "511102", "511111", "510100"],
        "name_zh": ["市中区", "东兴区", "市中区", "沙湾区", "成都市"],
        "name_en": ["Shizhong District", "Dongxing District", "Shizhong District",
                    "Shawan District", "Chengdu City"],
        "parent": ["511000", "511000", "511100", "511100", "510000"],
        "level": ["county"] * 4 + ["prefecture"],
    })


def graded_example() -> pd.DataFrame:
    s = pd.Series({"511002": 85.0, "511011": 40.0, "511102": 90.0, "511111": 30.0,
                   "510100": NAN})
    return assign_grades(s, rules=rules_with())


def test_reward_list() -> None:
    g = graded_example()
    lst = reward_list(g, unit_names(), rules=rules_with())
    assert tuple(lst.columns) == LIST_COLUMNS
    assert lst["unit"].tolist() == ["511102", "511002"]          # by rank
    row = lst.iloc[1].to_dict()
    assert {k: row[k] for k in ("name_zh", "name_en", "parent", "grade", "grade_zh",
                                "grade_en", "score", "rank")} == {
        "name_zh": "市中区", "name_en": "Shizhong District", "parent": "511000",
        "grade": "excellent", "grade_zh": "优秀", "grade_en": "Excellent", "score": 85.0,
        "rank": 2.0}
    assert lst["rank_low"].isna().all() and lst["uncertain"].isna().all()
    # with grade uncertainty: intervals and the flag come along; uncertain units stay listed
    unc = pd.DataFrame({"rank_low": [1.0, 1.0], "rank_high": [2.0, 2.0],
                        "uncertain": [True, False]}, index=["511002", "511102"])
    lst = reward_list(g, unit_names().set_index("code"), rules=rules_with(), uncertainty=unc)
    assert lst["uncertain"].tolist() == [False, True]
    assert lst["rank_high"].tolist() == [2.0, 2.0]
    # the same columns joined onto the graded frame work too
    lst2 = reward_list(g.join(unc), unit_names(), rules=rules_with())
    pd.testing.assert_frame_equal(lst, lst2)
    # rewarding two grades
    lst = reward_list(g, unit_names(), rules=rules_with(reward={"grades": ["excellent", "fail"]}))
    assert lst["unit"].tolist() == ["511102", "511002", "511011", "511111"]


def test_rectification_list_shares() -> None:
    g = graded_example()
    # shares summing to 1 per unit; 511111 has one obstacle only, ties by column order
    obstacles = pd.DataFrame({"x1": [0.5, 0.1, 0.2, 0.0], "x2": [0.3, 0.45, 0.4, 1.0],
                              "x3": [0.2, 0.45, 0.4, 0.0]},
                             index=["511002", "511011", "511102", "511111"])
    ind = pd.DataFrame({"id": ["x1", "x2", "x3", "x4"],
                        "name_zh": ["学校", "医院", "养老", "未用"],
                        "name_en": ["Schools", "Hospitals", "Elderly care", "Unused"]})
    r = rules_with(rectification={"top_k": 2, "deadline_months": 12})
    lst = rectification_list(g, unit_names(), obstacles=obstacles, indicator_names=ind, rules=r,
                             publication_date=dt.date(2021, 6, 30))
    assert tuple(lst.columns) == (*LIST_COLUMNS, "obstacle_1", "obstacle_1_name_zh",
                                  "obstacle_1_name_en", "obstacle_1_pct", "obstacle_2",
                                  "obstacle_2_name_zh", "obstacle_2_name_en",
                                  "obstacle_2_pct", "publication_date", "deadline")
    assert lst["unit"].tolist() == ["511011", "511111"]
    # 511011: x2 and x3 tie at 45 % → x2 first (column order)
    assert lst.loc[0, ["obstacle_1", "obstacle_2"]].tolist() == ["x2", "x3"]
    assert lst.loc[0, "obstacle_1_name_zh"] == "医院"
    assert lst.loc[0, "obstacle_2_name_en"] == "Elderly care"
    assert lst["obstacle_1_pct"].tolist() == pytest.approx([45.0, 100.0])
    # 511111: only x2 is an obstacle; the second slot is empty
    assert pd.isna(lst.loc[1, "obstacle_2"]) and np.isnan(lst.loc[1, "obstacle_2_pct"])
    assert lst["grade_zh"].tolist() == ["不合格", "不合格"]
    assert set(lst["publication_date"]) == {"2021-06-30"}
    assert set(lst["deadline"]) == {"2022-06-30"}
    # percentages (as obstacle_degree returns them) give the same list; an ISO string works
    pct = rectification_list(g, unit_names(), obstacles=obstacles * 100,
                             indicator_names=ind.set_index("id"), rules=r,
                             publication_date="2021-06-30")
    pd.testing.assert_frame_equal(pct, lst)


def test_rectification_list_errors() -> None:
    g = graded_example()
    obstacles = pd.DataFrame({"x1": [0.5, 0.5], "x2": [0.5, 0.5]}, index=["511011", "511111"])
    ind = pd.DataFrame({"name_zh": ["甲", "乙"], "name_en": ["A", "B"]}, index=["x1", "x2"])
    r = rules_with()
    day = dt.date(2021, 6, 30)
    with pytest.raises(GradingError, match="lacks these units that must rectify: 511111"):
        rectification_list(g, unit_names(), obstacles=obstacles.loc[["511011"]],
                           indicator_names=ind, rules=r, publication_date=day)
    with pytest.raises(GradingError, match="lacks these indicators: x2"):
        rectification_list(g, unit_names(), obstacles=obstacles, indicator_names=ind.loc[["x1"]],
                           rules=r, publication_date=day)
    with pytest.raises(GradingError, match=r"row sums: 0\.7"):
        rectification_list(g, unit_names(), obstacles=obstacles * 0.7, indicator_names=ind, rules=r,
                           publication_date=day)
    with pytest.raises(GradingError, match="scale is ratio"):
        rectification_list(g, unit_names(), obstacles=obstacles, indicator_names=ind, rules=r,
                           publication_date=day, scale="ratio")
    with pytest.raises(GradingError, match="ISO string"):
        rectification_list(g, unit_names(), obstacles=obstacles, indicator_names=ind, rules=r,
                           publication_date="30/06/2021")
    with pytest.raises(GradingError, match="lacks these units: 511011"):
        rectification_list(g, unit_names().iloc[[0, 2, 3]], obstacles=obstacles,
                           indicator_names=ind, rules=r, publication_date=day)
    with pytest.raises(GradingError, match="names lacks column"):
        reward_list(g, unit_names().drop(columns="parent"), rules=r)
    with pytest.raises(GradingError, match="graded lacks column"):
        reward_list(g.drop(columns="rank"), unit_names(), rules=r)


@pytest.mark.parametrize(("start", "months", "end"), [
    (dt.date(2021, 6, 30), 12, dt.date(2022, 6, 30)),
    (dt.date(2021, 8, 31), 6, dt.date(2022, 2, 28)),      # clamped to the month's last day
    (dt.date(2020, 2, 29), 12, dt.date(2021, 2, 28)),
    (dt.date(2023, 12, 31), 2, dt.date(2024, 2, 29)),     # leap year
    (dt.date(2021, 11, 15), 3, dt.date(2022, 2, 15)),
    (dt.date(2021, 1, 31), 24, dt.date(2023, 1, 31)),
])
def test_deadline_arithmetic(start: dt.date, months: int, end: dt.date) -> None:
    assert add_months(start, months) == end
