"""From the evaluation to the committee, on the real embedded data (no replications): the
2010 rectification lists open one case per unit, importing again opens nothing, and the 2020
run's grades are recorded on them; the 2020 lists open their own cases. Both databases."""

from __future__ import annotations

from typing import Any

import pytest

from cocity.govern import Register
from cocity.govern.rectification import case_key, import_rectification, spec


@pytest.fixture(scope="module")
def runs() -> dict[tuple[int, str], Any]:
    from cocity.datasets import open_store
    from cocity.evaluate.framework import load_framework
    from cocity.evaluate.run import evaluate
    from cocity.fund.run_grades import run_grades

    store, fw = open_store(), load_framework()
    out = {}
    for year in (2010, 2020):
        ev = evaluate(fw, store, year=year, replications=0, levels=["prefecture", "county"])
        for level in ("prefecture", "county"):
            out[year, level] = run_grades(ev, level=level)
    return out


def test_a_list_opens_one_case_per_unit_once_and_the_next_edition_follows(
        records, unit_index, runs) -> None:
    register = Register(records, units=unit_index)
    g10 = runs[2010, "prefecture"]
    first = import_rectification(register, g10, actor="secretary")
    assert len(first.opened) == len(g10.rectification) > 0 and not first.found
    case = first.opened[0]
    unit = case.units[0]
    item = g10.rectification[unit]
    assert case.key == case_key(2010, "prefecture", unit)
    assert (case.source, case.opened.isoformat(), case.due.isoformat()) == (
        "rectification", g10.publication_date, item.deadline)
    assert case.category == spec().categories.get(item.obstacles[0], "other")
    assert all(name in case.description for name in item.names_zh + item.names_en)
    assert case.origin is not None and case.origin["grade"] == g10.grades[unit]
    assert case.lead_department.endswith("人民政府") and not case.simulated

    again = import_rectification(register, g10, actor="secretary")
    assert not again.opened and len(again.found) == len(first.opened)
    assert not again.follow_ups and len(register.events()) == len(first.opened)

    g20 = runs[2020, "prefecture"]
    later = import_rectification(register, g20, actor="secretary")
    assert len(later.opened) == len(g20.rectification)
    assert sorted(later.follow_ups) == sorted(c.id for c in first.opened)
    history = register.case(case.id).history
    follow = history[-1]
    assert follow.kind == "follow_up" and follow.to_state == case.state
    assert (follow.detail["year"], follow.detail["grade"], follow.detail["previous_grade"]) == (
        2020, g20.grades[unit], g10.grades[unit])
    assert follow.effective == g20.publication_date
    assert not import_rectification(register, g20, actor="secretary").follow_ups


def test_the_same_edition_from_another_run_keeps_the_cases_opened(records, unit_index,
                                                                 runs) -> None:
    import dataclasses

    register = Register(records, units=unit_index)
    g = runs[2010, "county"]
    opened = import_rectification(register, g, actor="secretary").opened
    other = dataclasses.replace(g, run="2010-000000000000")
    result = import_rectification(register, other, actor="secretary")
    assert not result.opened and sorted(result.kept) == sorted(c.id for c in opened)
    assert len(register.cases()) == len(opened)
