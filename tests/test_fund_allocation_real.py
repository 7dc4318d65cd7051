"""The shipped rules on the embedded real data, following a real evaluation run (county level,
no uncertainty replications): recipients, exact totals, needs checked against the observations,
the bonus and the conditional lines visible, every recipient explained with its proxies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cocity.datasets import open_store
from cocity.evaluate.framework import load_framework
from cocity.evaluate.run import evaluate
from cocity.evaluate.tables import result_tables
from cocity.fund.allocation import Allocation, allocate_store
from cocity.fund.release import check_release
from cocity.fund.rules import AllocationError, load_rules
from cocity.report.evaluate_report import document

FUND = 10**10  # fen: 100 million yuan, a size chosen for the test (no figure is published)


@pytest.fixture(scope="module")
def store() -> Any:
    return open_store()


@pytest.fixture(scope="module")
def ev(store: Any) -> Any:
    return evaluate(load_framework(), store, replications=0, levels=["county"])


@pytest.fixture(scope="module")
def alloc(store: Any, ev: Any) -> Allocation:
    return allocate_store(store, run=ev, fund_fen=FUND)


def test_recipients_are_the_surrounding_counties(store: Any, alloc: Allocation) -> None:
    units = store.units(level="county")
    circle = units[units["membership"].isin(["full", "partial"])]
    expected = set(circle.loc[circle["tier"] != "core", "code"])
    assert set(alloc.table["unit"]) == expected
    assert len(expected) == 123
    core = set(circle.loc[circle["tier"] == "core", "code"])
    tier_excluded = alloc.excluded[alloc.excluded["reason"] == "tier"]
    assert set(tier_excluded["unit"]) == core and len(core) == 21
    assert "中心城区" in alloc.explain("510104", "zh")  # 锦江区: why it receives nothing


def test_totals_exact_and_lines_within_a_fen(alloc: Allocation) -> None:
    assert alloc.fund_fen == FUND
    assert alloc.pools == {"facilities": FUND // 2, "social_security": FUND * 3 // 10,
                           "medical_aid": FUND // 5}
    assert alloc.totals() == alloc.pools
    assert sum(a for _, _, a in alloc.lines()) == FUND
    for (unit, use), x in alloc.exact.items():
        row = alloc.table[(alloc.table["unit"] == unit) & (alloc.table["use"] == use)].iloc[0]
        assert abs(int(row["amount_fen"]) - x) < 1


def test_needs_match_the_observations(store: Any, alloc: Allocation) -> None:
    obs = store.observations(years=[2019, 2020])
    wide = {y: g.pivot_table(index="unit", columns="indicator", values="value")
            for y, g in obs.groupby("year")}
    units = store.units().set_index("code")
    c20, c19 = wide[2020], wide[2019]
    # social security of 涪城区: cross-province migrants + 0.5 × within-province migrants
    q = alloc.table.set_index(["unit", "use"])
    ss = alloc.table[alloc.table["use"] == "social_security"].set_index("unit")
    mig = c20["migrants_other_province"] + 0.5 * c20["migrants_other_county"]
    share = mig[ss.index] / mig[ss.index].sum()
    np.testing.assert_allclose(ss["need_share"].to_numpy(), share.to_numpy(), rtol=1e-12)
    # its line is capped at 5 % of the pool, the others share the rest in proportion
    assert q.loc[("510703", "social_security"), "limit"] == "cap"
    assert q.loc[("510703", "social_security"), "amount_fen"] == FUND * 3 // 10 // 20
    # beds of a county: its city's 2019 rate below the circle's level (population-weighted
    # over the circle's county-level units with their city's rate) × population / 1000
    county = units[(units["level"] == "county") & units["membership"].isin(["full",
                                                                             "partial"])]
    rate = county["parent"].map(c19["hospital_beds_per_1000"])
    pop = c20["pop_total"].reindex(county.index)
    level = float((rate * pop).sum() / pop.sum())
    code = "511725"  # 渠县 (达州市)
    expected = max(0.0, level - rate[code]) * pop[code] / 1000
    text = alloc.explain(code, "en")
    assert f"{expected:,.0f} beds" in text or f"{expected:.4g} beds" in text
    assert f"circle level {level:.4g}" in text


def test_bonus_and_conditional_lines_follow_the_run(ev: Any, alloc: Allocation) -> None:
    res = ev.levels["county"]
    excellent = set(res.graded.index[res.graded["grade"] == "excellent"]) & set(
        alloc.table["unit"])
    assert excellent  # the bonus shows on real recipients
    t_ = alloc.table
    for row in t_[t_["unit"].isin(excellent)].itertuples():
        assert row.bonus_rate == pytest.approx(0.1)
        assert row.bonus == pytest.approx(0.1 * row.base)
    assert (t_.loc[~t_["unit"].isin(excellent), "bonus"] == 0).all()
    some = sorted(excellent)[0]
    assert "优秀加成" in alloc.explain(some, "zh")
    failing = set(res.rectification["unit"]) & set(t_["unit"])
    assert failing  # 2020 demonstration run: two counties fail
    mapping = load_rules().spec.rectification.obstacles  # type: ignore[union-attr]
    for unit in failing:
        rec = res.rectification.set_index("unit").loc[unit]
        obstacles = [rec[f"obstacle_{k}"] for k in (1, 2, 3)]
        uses = {mapping[o] for o in obstacles if o in mapping}
        lines = t_[t_["unit"] == unit]
        assert set(lines["use"]) == uses
        assert lines["conditional"].all()
        cond = alloc.conditions[alloc.conditions["unit"] == unit]
        assert set(cond["use"]) == uses
        assert cond["score"].iloc[0] == pytest.approx(rec["score"])
        assert cond["deadline"].iloc[0] == rec["deadline"]
    assert set(u for u, _, _ in alloc.conditional_lines()) == failing
    # the demonstration survey is simulated, and the allocation says so
    assert ev.simulated_survey and alloc.notes and "模拟" in alloc.notes[0]["zh"]
    with pytest.raises(AllocationError, match="2020"):
        check_release(alloc, ev)  # the same edition is not a later one


def test_every_recipient_explained_with_its_proxies(alloc: Allocation) -> None:
    rules = load_rules()
    expl = alloc.explanation
    for unit in alloc.table["unit"].unique():
        rows = expl[expl["unit"] == unit]
        assert rows["step"].iloc[-1] == "total" and rows["use"].iloc[-1] == ""
        for use in rules.uses:
            steps = rows.loc[rows["use"] == use, "step"].tolist()
            assert steps, (unit, use)
            assert steps[0] in ("need", "excluded")
        assert (rows["zh"].str.len() > 0).all() and (rows["en"].str.len() > 0).all()
    need = expl[expl["step"] == "need"]
    for use in rules.uses:
        for comp in rules.use(use).need:
            mine = need[need["use"] == use]
            named = mine["zh"].str.contains(comp.proxy_zh, regex=False)
            assert named.sum() == len(mine) / len(rules.use(use).need)
            assert mine["en"].str.contains(comp.proxy_en, regex=False).sum() == named.sum()
    assert set(alloc.proxies["component"]) == {c.id for u in rules.uses
                                                for c in rules.use(u).need}


def test_same_allocation_from_the_run_file(tmp_path: Path, store: Any, ev: Any,
                                           alloc: Allocation) -> None:
    path = tmp_path / "evaluation.json"
    path.write_text(json.dumps(document(ev, result_tables(ev)), default=str),
                    encoding="utf-8")
    again = allocate_store(store, run=path, fund_fen=FUND)
    assert again.key == alloc.key
    pd.testing.assert_frame_equal(again.table, alloc.table)
    assert alloc.provenance["dataset"] == "chengyu"
    assert alloc.provenance["user_data"] is False
    assert alloc.run is not None and alloc.run["simulated_survey"] is True
