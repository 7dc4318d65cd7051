"""From the evaluation to the committee: an evaluation run's rectification list (整改清单)
opens one case per listed unit, and a later edition's grade is recorded on the cases of an
earlier one (closing the loop).

    from cocity.fund.run_grades import run_grades
    grades = run_grades("cocity-evaluate/2020-…", level="prefecture")
    result = import_rectification(register, grades, actor="zhang", role="secretary")

* **One case per unit on the list** (source ``rectification``): title and description name
  the unit, the edition, the level, the grade and score and the named obstacles (both
  languages); category from the first (largest) obstacle by ``rectification.yaml``; lead
  department the unit's government, co-operating the circle's joint office (as data); opened
  on the run's publication date, due on the list's deadline; ``origin`` keeps the run, year,
  level, unit, grade, score and obstacles.
* **Idempotent**: the case key is ``rectification:<year>:<level>:<unit>`` — importing the same
  list again opens nothing (the cases are found, ``replayed``); a re-computed run of the same
  edition (another run id) opens nothing either: the case already opened is kept and said so.
* **Follow-up**: every earlier edition's rectification case of the same level whose unit the
  run grades gets one ``follow_up`` event (key ``follow-up:<case key>:<year>``) with the new
  grade and score beside the old ones — the next edition's grade shown on the case. It is
  effective on the run's publication date (or the case's last event, if later).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from cocity.govern.errors import DuplicateCaseError
from cocity.spec import Spec, load_spec

if TYPE_CHECKING:
    from cocity.fund.run_grades import RunGrades
    from cocity.govern.register import Case, Register

SOURCE = "rectification"
LEVELS = {"prefecture": ("地级", "prefecture level"), "county": ("县级", "county level")}


class RectificationSpec(Spec):
    """``rectification.yaml``: obstacle indicator → case category; who leads."""

    categories: dict[str, str]
    lead_department: str
    co_departments: list[str]


@cache
def spec() -> RectificationSpec:
    return load_spec(RectificationSpec, package=__package__, default="rectification.yaml")


@dataclass
class ImportResult:
    """What an import did: cases opened now, found already opened (same list again, or the
    same edition from another run), and follow-up grades recorded or found recorded."""

    run: str
    year: int
    level: str
    opened: list[Case] = field(default_factory=list)
    found: list[Case] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    follow_ups: list[int] = field(default_factory=list)
    follow_ups_found: list[int] = field(default_factory=list)


def case_key(year: int, level: str, unit: str) -> str:
    return f"rectification:{year}:{level}:{unit}"


def _names(register: Register) -> tuple[dict[str, str], dict[str, str]]:
    units = register.units.units
    return (dict(zip(units["code"], units["name_zh"], strict=True)),
            dict(zip(units["code"], units["name_en"], strict=True)))


def _effective(grades: RunGrades) -> str:
    return grades.publication_date or dt.date(grades.year, 12, 31).isoformat()


def import_rectification(register: Register, grades: RunGrades, *, actor: str,
                         role: str = "secretary") -> ImportResult:
    """Open the cases of ``grades``' rectification list and record its grades on earlier
    editions' cases of the same level (see the module doc). Each case is one transaction; a
    refused case (e.g. a unit the register does not know) stops the import with its message,
    the cases before it stay opened, and importing again continues where it stopped."""
    zh, en = _names(register)
    rules = spec()
    result = ImportResult(grades.run, grades.year, grades.level)
    level_zh, level_en = LEVELS.get(grades.level, (grades.level, grades.level))
    opened = _effective(grades)
    for unit, item in sorted(grades.rectification.items()):
        grade = str(grades.grades.get(unit, ""))
        score = float(grades.scores.get(unit, float("nan")))
        name_zh, name_en = zh.get(unit, unit), en.get(unit, unit)
        obstacles_zh = "、".join(item.names_zh) or "—"
        obstacles_en = "; ".join(item.names_en) or "—"
        first = item.obstacles[0] if item.obstacles else ""
        origin = {"kind": SOURCE, "run": grades.run, "year": grades.year,
                  "level": grades.level, "unit": unit, "grade": grade,
                  "grade_zh": grades.label(grade, "zh"), "grade_en": grades.label(grade, "en"),
                  "score": round(score, 6), "obstacles": list(item.obstacles),
                  "simulated_survey": grades.simulated_survey}
        key = case_key(grades.year, grades.level, unit)
        try:
            case = register.add_case(
                f"{name_zh}：{grades.year}年公共服务评价整改（{level_zh}） / {name_en}: "
                f"{grades.year} public-service evaluation rectification ({level_en})",
                description=(
                    f"{grades.year}年评价{level_zh}单元{name_zh}评为"
                    f"「{grades.label(grade, 'zh')}」（得分 {score:.1f}），列入整改清单；"
                    f"主要障碍：{obstacles_zh}。整改期限 {item.deadline}。\n"
                    f"{name_en} ({level_en}) was graded “{grades.label(grade, 'en')}” "
                    f"(score {score:.1f}) in the {grades.year} evaluation and is on the "
                    f"rectification list; main obstacles: {obstacles_en}. Deadline "
                    f"{item.deadline}."),
                category=rules.categories.get(first, "other"), units=[unit],
                lead_department=rules.lead_department.format(name=name_zh),
                co_departments=rules.co_departments, source=SOURCE,
                opened=opened, due=item.deadline or opened, priority="high", key=key,
                actor=actor, role=role, reason=f"评价整改清单 {grades.run} / rectification "
                f"list of run {grades.run}", origin=origin)
        except DuplicateCaseError as exc:  # the same edition from another run: keep it
            result.kept.append(int(exc.fmt["case"]))
            continue
        (result.found if case.replayed else result.opened).append(case)
    _follow_up(register, grades, result, actor=actor, role=role)
    return result


def _follow_up(register: Register, grades: RunGrades, result: ImportResult, *, actor: str,
               role: str) -> None:
    cases = register.cases()
    earlier = cases[cases["origin"].notna()]
    for cid, ckey, text in zip(earlier["id"], earlier["key"], earlier["origin"], strict=True):
        case_id, key = int(cid), str(ckey)
        origin = json.loads(str(text))
        if (origin.get("kind") != SOURCE or origin.get("level") != grades.level
                or int(origin.get("year", 0)) >= grades.year
                or origin.get("unit") not in grades.grades.index):
            continue
        unit = origin["unit"]
        grade = str(grades.grades[unit])
        detail = {"run": grades.run, "year": grades.year, "grade": grade,
                  "grade_zh": grades.label(grade, "zh"), "grade_en": grades.label(grade, "en"),
                  "score": round(float(grades.scores[unit]), 6),
                  "previous_year": origin.get("year"), "previous_grade": origin.get("grade"),
                  "previous_score": origin.get("score"),
                  "simulated_survey": grades.simulated_survey}
        record = register.case(case_id)
        last = max(e.effective for e in record.history)
        try:
            case = register.record(
                case_id, "follow_up", expected_version=record.case.version, actor=actor,
                role=role, reason=f"{grades.year}年评价等级 / grade of the {grades.year} "
                f"evaluation ({grades.run})", detail=detail,
                effective=max(_effective(grades), last), key=f"follow-up:{key}:{grades.year}")
        except DuplicateCaseError:  # recorded from another run of the same edition
            result.follow_ups_found.append(case_id)
            continue
        (result.follow_ups_found if case.replayed else result.follow_ups).append(case_id)
