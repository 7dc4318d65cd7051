"""Satisfaction-survey microdata: reading and validation, design-based estimates checked against
hand-computed cases (and samplics where installed), checks, the simulator and the CSV round trip.

The tiny surveys below are made up for the tests; they describe no real respondents."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cocity.data.errors import CocityError
from cocity.data.store import Store
from cocity.datasets import open_store
from cocity.evaluate.survey import (
    ESTIMATE_COLUMNS,
    OVERALL,
    SIMULATED_SOURCE,
    Survey,
    SurveyInputError,
    check_survey,
    estimate,
    load_schema,
    read_survey,
    simulate_survey,
    write_survey,
)
from cocity.i18n import use_lang
from cocity.spec import SpecError

A, B, C = "511002", "511011", "511111"  # tiny store: 内江市市中区, 东兴区, 沙湾区
DOMAINS = ("education", "health", "elderly_care", "culture", "social_security", "transport")


@pytest.fixture(scope="module")
def chengyu() -> Store:
    return open_store()


def frame(y: list[float], w: list[float], units: list[str], **extra: list[object]
          ) -> pd.DataFrame:
    """A survey frame: ``y`` in every domain column unless a domain is given in ``extra``."""
    df = pd.DataFrame({"respondent": [f"r{i}" for i in range(1, len(y) + 1)], "unit": units,
                       "weight": w})
    for d in DOMAINS:
        df[d] = extra.pop(d, y)
    for k, v in extra.items():
        df[k] = v
    return df


def row(est: pd.DataFrame, group: str, domain: str = "education") -> pd.Series:
    hit = est[(est["group"] == group) & (est["domain"] == domain)]
    assert len(hit) == 1
    return hit.iloc[0]


# ---------------------------------------------------------------- hand-computed estimates
Y = [1.0, 2.0, 3.0, 4.0, 5.0, 2.0]
W = [1.0, 2.0, 1.0, 3.0, 1.0, 2.0]


def test_weighted_mean_and_se_without_design_columns(tiny_store: Store) -> None:
    # Units A = rows 1–3, B = rows 4–6; one stratum, each respondent its own PSU (n = 6).
    s = read_survey(frame(Y, W, [A, A, A, B, B, B]), tiny_store, year=2020)
    est = estimate(s, min_n=1, min_response=0.0)
    assert list(est.columns) == list(ESTIMATE_COLUMNS)
    # A: R = (1·1 + 2·2 + 1·3) / 4 = 2; z = w(y − R)/Σw = (−1/4, 0, 1/4); rows of B add z = 0.
    # V = 6/5 · Σ z² = 6/5 · 1/8 = 0.15; df = 3 PSUs − 1 stratum = 2.
    a = row(est, A)
    assert a["mean"] == pytest.approx(2.0)
    assert a["score"] == pytest.approx((2.0 - 1) / 4 * 100)
    assert a["se"] == pytest.approx(math.sqrt(0.15) * 25)
    tq = stats.t.ppf(0.975, 2)
    assert a["ci_low"] == pytest.approx(max(0.0, 25 - tq * math.sqrt(0.15) * 25))
    assert a["ci_high"] == pytest.approx(min(100.0, 25 + tq * math.sqrt(0.15) * 25))
    assert a["n"] == 3 and a["response_rate"] == 1.0
    assert a["n_eff"] == pytest.approx(4**2 / (1 + 4 + 1))
    # B: R = (3·4 + 1·5 + 2·2) / 6 = 3.5; z = (3·0.5, 1·1.5, 2·(−1.5)) / 6 = (1/4, 1/4, −1/2);
    # V = 6/5 · (1/16 + 1/16 + 1/4) = 0.45.
    b = row(est, B)
    assert b["mean"] == pytest.approx(3.5)
    assert b["se"] == pytest.approx(math.sqrt(0.45) * 25)
    assert b["n_eff"] == pytest.approx(6**2 / (9 + 1 + 4))
    # Intervals are truncated to the score range [0, 100].
    assert 62.5 - tq * math.sqrt(0.45) * 25 < 0 < 100 < 62.5 + tq * math.sqrt(0.45) * 25
    assert (b["ci_low"], b["ci_high"]) == (0.0, 100.0)
    # A 50 % interval is narrower and uses the same df.
    narrow = row(estimate(s, level=0.5, min_n=1, min_response=0.0), A)
    half = stats.t.ppf(0.75, 2) * math.sqrt(0.15) * 25
    assert narrow["ci_high"] == pytest.approx(25 + half)
    assert narrow["ci_low"] == pytest.approx(25 - half)


def test_weighted_mean_and_se_with_strata_and_psus(tiny_store: Store) -> None:
    # Rows 1,3,5 in A and 2,4,6 in B; stratum s1 = rows 1–3 (PSU p1 = rows 1–2, p2 = row 3),
    # s2 = rows 4–6 (p3 = row 4, p4 = rows 5–6).
    df = frame(Y, W, [A, B, A, B, A, B], stratum=["s1", "s1", "s1", "s2", "s2", "s2"],
               psu=["p1", "p1", "p2", "p3", "p4", "p4"])
    s = read_survey(df, tiny_store, year=2020)
    est = estimate(s, min_n=1, min_response=0.0)
    # A: y = (1, 3, 5), w = 1 → R = 3, z = (−2/3, 0, 2/3).
    # s1: PSU totals (−2/3, 0) → 2/1 · (4/9 − (−2/3)²/2) = 4/9; s2: (0, 2/3) → 4/9. V = 8/9.
    a = row(est, A)
    assert a["mean"] == pytest.approx(3.0)
    assert a["se"] == pytest.approx(math.sqrt(8 / 9) * 25)
    # df = 3 PSUs holding A (p1, p2, p4) − 2 strata = 1 (a 50 % interval stays inside 0–100).
    half = row(estimate(s, level=0.5, min_n=1), A)
    assert half["ci_high"] == pytest.approx(50 + stats.t.ppf(0.75, 1) * math.sqrt(8 / 9) * 25)
    assert half["ci_low"] == pytest.approx(50 - stats.t.ppf(0.75, 1) * math.sqrt(8 / 9) * 25)
    # B: y = (2, 4, 2), w = (2, 3, 2) → R = 20/7, z = (−12, 24, −12)/49.
    # s1: (−12/49, 0) → 144/2401; s2: (24/49, −12/49) → 2 · (720 − 72)/2401 = 1296/2401.
    b = row(est, B)
    assert b["mean"] == pytest.approx(20 / 7)
    assert b["se"] == pytest.approx(math.sqrt(1440 / 2401) * 25)


def test_single_psu_stratum_gives_no_variance(tiny_store: Store) -> None:
    df = frame([1, 2, 3, 4], [1, 1, 1, 1], [A, A, A, A], stratum=["s1", "s1", "s1", "s2"])
    a = row(estimate(read_survey(df, tiny_store, year=2020), min_n=1), A)
    assert a["mean"] == pytest.approx(2.5)
    assert np.isnan(a["se"]) and np.isnan(a["ci_low"]) and np.isnan(a["ci_high"])


def test_one_respondent_has_no_interval(tiny_store: Store) -> None:
    df = frame([2, 4, 5], [1, 1, 1], [A, B, B])
    a = row(estimate(read_survey(df, tiny_store, year=2020), min_n=1), A)
    assert a["mean"] == 2 and a["n"] == 1  # df = 1 PSU − 1 stratum = 0
    assert np.isnan(a["se"]) and np.isnan(a["ci_low"])


def test_overall_is_the_mean_of_each_respondents_answered_items(tiny_store: Store) -> None:
    nan = float("nan")
    df = frame([1, 1, 1], [1, 2, 1], [A, A, A],
               education=[1, 5, nan], health=[3, nan, nan], elderly_care=[5, 4, nan],
               culture=[nan, nan, nan], social_security=[nan, nan, nan],
               transport=[nan, nan, nan])
    s = read_survey(df, tiny_store, year=2020)
    est = estimate(s, min_n=1)
    o = row(est, A, OVERALL)
    # Respondent means: (1+3+5)/3 = 3, (5+4)/2 = 4.5, none; weights 1, 2 → (3 + 9) / 3 = 4.
    assert o["mean"] == pytest.approx(4.0)
    assert o["n"] == 2 and o["response_rate"] == pytest.approx(2 / 3)
    # Restricted to two domains: respondent means (1+3)/2 = 2, 5 → (2 + 10)/3 = 4.
    sub = estimate(s, domains=["education", "health"], min_n=1)
    assert list(sub["domain"]) == ["education", "health", OVERALL]
    assert row(sub, A, OVERALL)["mean"] == pytest.approx(4.0)
    assert row(sub, A, "health")["n"] == 1


def test_groups_mapping_and_no_responses_rows(tiny_store: Store) -> None:
    nan = float("nan")
    df = frame([1, 2, 3, 4], [1, 1, 1, 1], [A, A, B, B],
               culture=[nan, nan, 4, 4])
    s = read_survey(df, tiny_store, year=2020)
    groups = {A: "511000", B: "511000", C: "511100"}
    est = estimate(s, groups=groups, min_n=1)
    assert list(dict.fromkeys(est["group"])) == ["511000", "511100"]
    assert len(est) == 2 * (len(DOMAINS) + 1)
    assert row(est, "511000")["mean"] == pytest.approx(2.5)
    empty = est[est["group"] == "511100"]
    assert (empty["flag"] == "no_responses").all()
    assert (empty["n"] == 0).all()
    assert empty[["mean", "score", "se", "ci_low", "ci_high", "response_rate"]].isna().all().all()
    # Per unit: culture in A has no answers → a no_responses row, not a dropped one.
    per_unit = estimate(s, min_n=1)
    assert row(per_unit, A, "culture")["flag"] == "no_responses"
    assert np.isnan(row(per_unit, A, "culture")["mean"])
    assert row(per_unit, A, "culture")["response_rate"] == 0.0
    with pytest.raises(SurveyInputError, match=B):
        estimate(s, groups={A: "x"})


def test_flags_and_kish_effective_size(tiny_store: Store) -> None:
    nan = float("nan")
    y = [4.0] * 10
    w = [1.0] * 5 + [3.0] * 5
    df = frame(y, w, [A] * 10, health=[4, 4, 4, nan, nan, nan, nan, nan, nan, nan])
    s = read_survey(df, tiny_store, year=2020)
    est = estimate(s, min_n=5, min_response=0.5)
    # Kish: (5·1 + 5·3)² / (5·1 + 5·9) = 400 / 50 = 8.
    assert row(est, A)["n_eff"] == pytest.approx(8.0)
    assert row(est, A)["flag"] == "ok"
    assert row(est, A, "health")["flag"] == "small_sample"  # 3 < 5 comes first
    assert row(estimate(s, min_n=2, min_response=0.5), A, "health")["flag"] == "low_response"
    assert row(estimate(s, min_n=2, min_response=0.3), A, "health")["flag"] == "ok"
    # Equal weights: n_eff = n.
    assert row(est, A, "health")["n_eff"] == pytest.approx(3.0)
    # Schema defaults: min_n = 30.
    assert (estimate(s)["flag"] == "small_sample").all()


def test_estimate_argument_errors(tiny_store: Store) -> None:
    s = read_survey(frame([1, 2], [1, 1], [A, A]), tiny_store, year=2020)
    with pytest.raises(SurveyInputError, match="happiness"):
        estimate(s, domains=["happiness"])
    with pytest.raises(SurveyInputError, match=r"置信水平须在 0 与 1 之间，实际为 1\.5"):
        estimate(s, level=1.5)
    with pytest.raises(SurveyInputError, match="min_n=-1"):
        estimate(s, min_n=-1)


def test_agrees_with_samplics(chengyu: Store) -> None:
    with warnings.catch_warnings():  # samplics warns that it is archived (in favour of svy)
        warnings.simplefilter("ignore")
        import samplics  # the reference is in the test extra: missing, the test fails
    s = simulate_survey(chengyu, year=2020, n_per_unit=20, seed=3)
    r = s.responses
    u = chengyu.units(level="county")
    parent = dict(zip(u["code"], u["parent"], strict=True))
    groups = {code: parent[code] for code in r["unit"].unique()}
    est = estimate(s, groups=groups)
    for domain in ("education", "transport"):
        # Item non-respondents stay in the design (as PSUs of their stratum) outside the domain,
        # as R's svymean(..., na.rm = TRUE) keeps them.
        ok = r[domain].notna().to_numpy()
        assert not ok.all()
        label = np.where(ok, r["unit"].map(groups).to_numpy(), "(no answer)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = samplics.TaylorEstimator(samplics.PopParam.mean)
            ref.estimate(y=r[domain].fillna(1).to_numpy(), samp_weight=r["weight"].to_numpy(),
                         stratum=r["stratum"].to_numpy(), domain=label)
        assert len(ref.point_est) == len(set(groups.values())) + 1
        for g, mean in ref.point_est.items():
            if g == "(no answer)":
                continue
            mine = row(est, str(g), domain)
            assert mine["mean"] == pytest.approx(mean, rel=1e-10)
            assert mine["se"] == pytest.approx(ref.stderror[g] * 25, rel=1e-8)


# ---------------------------------------------------------------- reading and validation
def test_read_resolves_names_codes_labels_and_nonresponse(tiny_store: Store) -> None:
    df = pd.DataFrame({
        "受访者编号": [1, 2, 3, 4],
        "地区": ["内江市市中区", "Dongxing", 511111, "Leshan Shizhong"],
        "权重": ["2.5", 1, 1, 1],
        "教育": [5, "非常满意", 8, None], "health": [1, 2, 9, 3], "elderly_care": [1] * 4,
        "culture": [2] * 4, "social_security": [3] * 4, "Transport": ["一般", 4, 4, 4],
        "性别": ["1", 2, "女", None], "other": ["x"] * 4,
    })
    s = read_survey(df, tiny_store, year=2020, level="county")
    r = s.responses
    assert list(r["unit"]) == [A, B, C, "511102"]
    assert list(r["respondent"]) == ["1", "2", "3", "4"]
    assert r["weight"].tolist() == [2.5, 1.0, 1.0, 1.0]
    assert r["education"].iloc[:2].tolist() == [5.0, 5.0]
    assert r["education"].iloc[2:].isna().all()  # 8 = 不知道, blank
    assert np.isnan(r["health"].iloc[2])  # 9 = 拒答
    assert r["transport"].iloc[0] == 3.0
    assert r["sex"].tolist()[:3] == ["1", "2", "2"] and r["sex"].iloc[3] is None
    assert "other" not in r and "age_group" not in r
    assert not s.simulated and not r["simulated"].any()
    assert s.year == 2020


def test_every_problem_is_reported_at_once(tiny_store: Store, english: None) -> None:
    df = pd.DataFrame({
        "respondent": ["a", "b", "b", None, "e"],
        "unit": [A, "Atlantis", "市中区", A, None],
        "weight": [1, 0, -2, None, "heavy"],
        "education": [1, 7, 3.5, "8", 2], "health": [1, 1, 1, 1, 1],
        "elderly_care": [1] * 5, "culture": [1] * 5, "social_security": [1] * 5,
        "sex": ["1", "3", "1", "1", "1"], "stratum": ["s", "s", None, "s", "s"],
    })
    with pytest.raises(SurveyInputError, match=r"14 problem\(s\) in the survey") as info:
        read_survey(df, tiny_store, year=2020)
    err = info.value
    assert isinstance(err, CocityError)
    found = {(i.row, i.column) for i in err.issues}
    expected = {
        (None, None),            # transport column missing
        (3, "respondent"),       # duplicate b (rows 3 and 4)
        (5, "respondent"),       # blank
        (3, "unit"),             # unknown
        (4, "unit"),             # ambiguous 市中区
        (6, "unit"),             # blank
        (3, "weight"), (4, "weight"), (5, "weight"), (6, "weight"),
        (3, "education"), (4, "education"),
        (3, "sex"),
        (4, "stratum"),
    }
    assert found == expected
    by = {(i.row, i.column): i for i in err.issues}
    assert "transport" in by[(None, None)].message
    assert "rows: 3, 4" in by[(3, "respondent")].message
    assert "ambiguous" in by[(4, "unit")].message
    assert "'7'" in by[(3, "education")].message
    assert all(i.hint for i in err.issues)
    assert all(i.file == "<DataFrame>" for i in err.issues)
    assert str(err).count("\n  - ") == len(err.issues)


def test_errors_name_the_file_and_spreadsheet_rows(tiny_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_text(
        "respondent,unit,weight,education,health,elderly_care,culture,social_security,"
        "transport\n"
        "r1,511002,1,1,1,1,1,1,1\n"
        ",,,,,,,,\n"
        "r2,511002,1,1,6,1,1,1,1\n", encoding="utf-8")
    with pytest.raises(SurveyInputError, match="第 4 行") as info:
        read_survey(path, tiny_store, year=2020)
    (issue,) = info.value.issues
    assert (issue.file, issue.row, issue.column) == (str(path), 4, "health")
    assert "第 4 行" in str(info.value)  # Chinese by default
    missing = tmp_path / "nope.csv"
    with pytest.raises(SurveyInputError, match=r"nope\.csv: 文件不存在"):
        read_survey(missing, tiny_store, year=2020)


def test_missing_required_columns_are_listed_together(tiny_store: Store) -> None:
    df = pd.DataFrame({"unit": [A], "education": [3]})
    with pytest.raises(SurveyInputError, match="respondent") as info:
        read_survey(df, tiny_store, year=2020)
    (issue,) = info.value.issues
    for col in ("respondent", "weight", "health", "transport"):
        assert col in issue.message


def test_level_restricts_unit_matching(tiny_store: Store) -> None:
    df = frame([3], [1], ["内江市"])
    assert read_survey(df, tiny_store, year=2020).responses["unit"].iloc[0] == "511000"
    with pytest.raises(SurveyInputError, match="未知单元 '内江市'（层级 county）"):
        read_survey(df, tiny_store, year=2020, level="county")
    with pytest.raises(SurveyInputError, match="未知的单元层级 'district'"):
        read_survey(df, tiny_store, year=2020, level="district")


def test_nonresponse_codes_are_configurable(tiny_store: Store) -> None:
    schema = {"nonresponse": {7: {"zh": "不适用", "en": "not applicable"}}}
    s = read_survey(frame([7, 3], [1, 1], [A, A]), tiny_store, year=2020, schema=schema)
    assert s.responses["education"].isna().tolist() == [True, False]
    with pytest.raises(SurveyInputError, match="education"):  # 8 is now on no list
        read_survey(frame([8, 3], [1, 1], [A, A]), tiny_store, year=2020, schema=schema)
    with use_lang("en"), pytest.raises(SpecError, match=r"key nonresponse\.3: the non-resp"):
        load_schema({"nonresponse": {3: {"zh": "x", "en": "x"}}})


def test_schema_is_bilingual_data() -> None:
    sch = load_schema()
    assert sch.domains == DOMAINS
    assert (sch.likert_min, sch.likert_max) == (1, 5)
    assert sch.likert_labels[1]["zh"] == "非常不满意" and sch.likert_labels[5]["zh"] == "非常满意"
    assert set(sch.nonresponse) == {8, 9}
    assert set(sch.demographics) == {"sex", "age_group", "urban_rural", "hukou"}
    for col in (*DOMAINS, *sch.demographics):
        assert sch.label(col, "zh") and sch.label(col, "en")
    assert sch.label(OVERALL, "en") != sch.label(OVERALL, "zh")


# ---------------------------------------------------------------- checks
def test_check_survey_reports_units_without_responses_and_small_samples(
        tiny_store: Store) -> None:
    nan = float("nan")
    df = frame([3] * 5, [1] * 5, [A, A, A, B, "511102"], health=[3, 3, nan, 3, 3])
    s = read_survey(df, tiny_store, year=2020)
    chk = check_survey(s, [A, B, C], min_n=2, min_response=0.8)
    assert list(chk["unit"]) == [A, B, C, "511102"]
    assert list(chk["respondents"]) == [3, 1, 0, 1]
    assert chk["response_rate_health"].iloc[0] == pytest.approx(2 / 3)
    assert np.isnan(chk["response_rate_health"].iloc[2])
    assert list(chk["problems"]) == ["low_response", "small_sample", "no_responses",
                                     "small_sample;unexpected_unit"]
    assert list(chk["expected"]) == [True, True, True, False]
    assert (chk["message"] != "").all()
    units = tiny_store.units(level="county")
    assert len(check_survey(s, units)) == len(units)  # a units frame works too


# ---------------------------------------------------------------- simulator and round trip
def test_simulator_is_reproducible_and_flagged(chengyu: Store) -> None:
    one = simulate_survey(chengyu, year=2020, n_per_unit=10, seed=7)
    two = simulate_survey(chengyu, year=2020, n_per_unit=10, seed=7)
    other = simulate_survey(chengyu, year=2020, n_per_unit=10, seed=8)
    pd.testing.assert_frame_equal(one.responses, two.responses)
    assert not one.responses[list(DOMAINS)].equals(other.responses[list(DOMAINS)])
    assert one.simulated and one.responses["simulated"].all()
    assert one.source == SIMULATED_SOURCE.format(seed=7)
    assert "simulated demo survey" in one.source and "seed=7" in one.source
    circle = chengyu.units(level="county", membership=["full", "partial"])
    r = one.responses
    assert set(r["unit"]) == set(circle["code"])
    assert (r.groupby("unit").size() == 10).all()
    # Weights: the store's resident population spread over the unit's respondents.
    pop = chengyu.panel(["pop_total"], years=[2020], level="county")["pop_total"].droplevel(1)
    totals = r.groupby("unit")["weight"].sum()
    np.testing.assert_allclose(totals.to_numpy(), pop.reindex(totals.index).to_numpy())
    values = r[list(DOMAINS)].stack().dropna()
    assert set(values.unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert r[list(DOMAINS)].isna().to_numpy().any()  # some non-response
    est = estimate(one)
    assert est["simulated"].all()
    prefectures = simulate_survey(chengyu, year=2020, level="prefecture", n_per_unit=5)
    assert set(prefectures.responses["unit"]) == set(
        chengyu.units(level="prefecture", membership=["full", "partial"])["code"])


def test_simulator_argument_errors(chengyu: Store) -> None:
    with pytest.raises(SurveyInputError, match="1999 年缺少这些单元的常住人口"):
        simulate_survey(chengyu, year=1999)
    with pytest.raises(SurveyInputError, match="不小于 2 的整数，实际为 1"):
        simulate_survey(chengyu, year=2020, n_per_unit=1)


def test_write_read_round_trip(chengyu: Store, tiny_store: Store, tmp_path: Path) -> None:
    sim = simulate_survey(chengyu, year=2020, n_per_unit=4, seed=1)
    back = read_survey(write_survey(sim, tmp_path / "sim.csv"), chengyu, year=2020)
    pd.testing.assert_frame_equal(back.responses, sim.responses)
    assert back.simulated
    nan = float("nan")
    df = frame([1, 2, 3], [0.1, 1 / 3, 7.25], [A, B, C], health=[nan, 2, 8],
               hukou=[None, "1", "2"], psu=["x", "y", "x"])
    real = read_survey(df, tiny_store, year=2020)
    back = read_survey(write_survey(real, tmp_path / "real.csv"), tiny_store, year=2020)
    pd.testing.assert_frame_equal(back.responses, real.responses)
    assert not back.simulated


def test_xlsx_input(tiny_store: Store, tmp_path: Path) -> None:
    df = frame([1, 5], [1.5, 2], [A, "沙湾区"])
    path = tmp_path / "survey.xlsx"
    df.to_excel(path, index=False)
    s = read_survey(path, tiny_store, year=2020)
    assert isinstance(s, Survey)
    assert list(s.responses["unit"]) == [A, C]
    assert s.source == str(path)
    pd.testing.assert_frame_equal(s.responses, read_survey(df, tiny_store, year=2020).responses)


def test_simulated_units_have_their_own_random_streams(chengyu: Store) -> None:
    """A unit's simulated answers depend on the seed and its code only: surveying fewer units
    (here three lose their population, so they are not surveyed) leaves the others' answers as
    they were; another seed changes them."""
    from cocity.datasets import load_into

    full = simulate_survey(chengyu, year=2020, n_per_unit=10, seed=11).responses
    fewer = Store.open(None)
    load_into(fewer, "chengyu")
    gone = ["510104", "500101", "511702"]
    fewer.con.execute("DELETE FROM observations WHERE indicator = 'pop_total' AND year = 2020"
                      " AND unit IN (SELECT unnest(?))", [gone])
    part = simulate_survey(fewer, year=2020, n_per_unit=10, seed=11).responses
    assert set(full["unit"]) - set(part["unit"]) == set(gone)
    kept = full[~full["unit"].isin(gone)].reset_index(drop=True)
    pd.testing.assert_frame_equal(part.reset_index(drop=True), kept)
    other = simulate_survey(chengyu, year=2020, n_per_unit=10, seed=12).responses
    domains = [c for c in ("education", "health") if c in full.columns]
    assert domains and not full[domains].equals(other[domains])


def test_schema_problems_come_back_together_with_their_keys(tmp_path: Path) -> None:
    bad = tmp_path / "schema.yaml"
    bad.write_text("likert: {min: 1, max: 5, labels: {1: {zh: 差, en: bad}}}\n"
                   "checks: {min_n: -3, min_response: 2}\n"
                   "simulation: {cuts: [0.5, 0.1]}\n", encoding="utf-8")
    with use_lang("en"), pytest.raises(SpecError, match="2 problem") as err:
        load_schema(bad)
    assert {i.key for i in err.value.issues} == {"checks.min_n", "checks.min_response"}
    assert all(i.file == str(bad) for i in err.value.issues)
    bad.write_text("likert: {min: 1, max: 5, labels: {1: {zh: 差, en: bad}}}\n"
                   "simulation: {cuts: [0.5, 0.1]}\n", encoding="utf-8")
    with use_lang("en"), pytest.raises(SpecError, match="2 problem") as err:
        load_schema(bad)
    assert {i.key for i in err.value.issues} == {"likert.labels", "simulation.cuts"}
