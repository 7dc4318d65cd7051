"""A demonstration register (``cocity govern demo``): a generated, clearly SIMULATED year of
the committee's work on the default units, followed by the REAL rectification lists of the
default evaluation, so that a new user sees the whole cycle — cases, monthly work meetings and
quarterly coordination meetings with their agendas and minutes, extensions, escalations to the
leading group, closings solved and unsolved, the standards register, and an evaluation's list
opening cases whose next edition's grade is shown on them.

What is simulated, and flagged so in the data (``simulated`` on every case, meeting and
adoption record) and wherever shown: the cases of the year (titles from a small list of
typical cross-region problems per category, marked 【模拟】; units, dates, priorities and
sources drawn at random), every meeting and its decisions, and the adoption records of the
standards. Nothing simulated touches a real case: the real rectification cases are opened
after the simulated year (their dates are those of the evaluation editions, 2011 and 2021),
so no simulated meeting has them on its agenda.

The simulation (one seed, :class:`numpy.random.SeedSequence` streams for cases, meetings and
standards): in each month of ``year``, a Poisson(``CASES_PER_MONTH``) number of cases opened
on working days, on one unit (80 %) or two of the prefecture level; due 30 / 60 / 90 days
after opening by priority (high / normal / low); accepted 1–5 days later (5 % returned, 3 %
withdrawn instead), in progress 2–10 days after that. At each meeting of the calendar
(:func:`cocity.govern.calendar.plan`, no holidays), every agenda item gets a decision: a case
in progress is resolved with probability 0.35 (solved 75 %), an overdue case is extended by
30–60 days (40 %) or escalated (monthly meetings, 30 %), otherwise deferred (15 %), reassigned
(3 %) or continued. A quarterly meeting's unsettled items are flagged for the leading group
by the minutes' own rule.

Running it again writes nothing: the demo's last meeting is found and the register is left as
it is (a register holding part of a demo — a run stopped half-way — is refused: use a new
file).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from cocity.govern.errors import GovernError
from cocity.i18n import LANGS, t

if TYPE_CHECKING:
    from cocity.data.store import Store
    from cocity.govern.register import Register

YEAR = 2025
SEED = 2025
CASES_PER_MONTH = 6
ACTOR: dict[str, Any] = {"actor": "demo-secretary", "role": "secretary"}
PRIORITY_DAYS = {"high": 30, "normal": 60, "low": 90}
# typical cross-region problems by category (simulated titles; the source texts' themes)
TITLES = {
    "education": ["随迁子女跨市入学材料互认", "职业院校跨区域招生计划衔接", "异地中考报名资格认定"],
    "health": ["异地就医直接结算备案流程繁琐", "检查检验结果互认执行不一", "跨市急救转运衔接"],
    "social_security": ["养老保险关系转移接续耗时长", "失业保险金异地申领", "工伤认定跨省协查"],
    "employment": ["跨区域招聘信息共享", "农民工跨省欠薪协调", "职业资格证书互认"],
    "transport": ["毗邻地区公交线路接驳", "交通一卡通跨市使用", "断头路建设进度协调"],
    "ecology": ["跨界河流水质联合监测", "毗邻地区大气污染联防联控", "跨界垃圾处置协调"],
    "other": ["公积金异地转移接续", "政务服务跨省通办事项", "户籍迁移跨市办理"],
}
CATEGORY_WEIGHTS = {"education": 0.18, "health": 0.22, "social_security": 0.18,
                    "employment": 0.1, "transport": 0.14, "ecology": 0.08, "other": 0.1}
SOURCES = {"hotline": 0.5, "public": 0.3, "meeting": 0.2}
PRIORITIES = {"high": 0.2, "normal": 0.6, "low": 0.2}
EDITIONS = (2010, 2020)
LEVELS = ("prefecture", "county")


class DemoError(GovernError):
    """The register holds part of a demonstration (a run stopped half-way)."""

    label = "govern.demo.err.partial"


@dataclass
class DemoResult:
    """What the demonstration did, in both languages (``steps``) and in figures."""

    year: int
    already: bool = False
    cases: int = 0
    meetings: int = 0
    decisions: int = 0
    adoptions: int = 0
    rectification_opened: int = 0
    follow_ups: int = 0
    runs: list[dict[str, str]] = field(default_factory=list)
    steps: list[dict[str, str]] = field(default_factory=list)

    def add(self, label: str, **fmt: Any) -> None:
        self.steps.append({lang: t(label, lang, **fmt) for lang in LANGS})


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _working_days(year: int, month: int) -> list[dt.date]:
    day, out = dt.date(year, month, 1), []
    while day.month == month:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def _last_key(year: int) -> str:
    return f"demo:{year}-Q4-quarterly"


def run_demo(register: Register, *, store: Store | None = None, year: int = YEAR,
             seed: int = SEED, runs: dict[tuple[int, str], Any] | None = None,
             progress: Callable[[str], None] | None = None) -> DemoResult:
    """Write the demonstration into ``register`` (see the module doc). ``runs``: the
    evaluation runs to import by (year, level) — anything
    :func:`cocity.fund.run_grades.run_grades` reads —, default the newest stored run of each
    edition, else computed now (and said so)."""
    from cocity.govern import meetings as M

    say = progress or (lambda _key: None)
    out = DemoResult(year)
    done = {m.key for m in M.meetings(register)}
    if _last_key(year) in done:
        out.already = True
        out.add("govern.demo.did.already", year=year, where=register.records.where)
        return out
    cases = register.cases()
    if any(k.startswith("demo:") for k in done) or cases["key"].str.startswith("demo:").any():
        raise DemoError(where=register.records.where)
    streams = np.random.SeedSequence(seed).spawn(3)
    say("govern.demo.step.year")
    _simulate_year(register, year, np.random.default_rng(streams[0]),
                   np.random.default_rng(streams[1]), out)
    say("govern.demo.step.standards")
    _standards(register, year, np.random.default_rng(streams[2]), out)
    say("govern.demo.step.rectification")
    _rectification(register, store, runs, out)
    return out


def _simulate_year(register: Register, year: int, rng: np.random.Generator,
                   decide_rng: np.random.Generator, out: DemoResult) -> None:
    from cocity.govern import meetings as M

    units = register.units.units
    keep = (units["level"] == "prefecture") & units["membership"].isin(["full", "partial"])
    pool = sorted(str(c) for c in units.loc[keep, "code"])
    names = dict(zip(units["code"], units["name_zh"], strict=True))
    vocab = register.vocab
    # the year's actions in date order: (date, order, action, args)
    actions: list[tuple[dt.date, int, str, dict[str, Any]]] = []
    n = 0
    for month in range(1, 13):
        days = _working_days(year, month)
        for _ in range(int(rng.poisson(CASES_PER_MONTH))):
            n += 1
            opened = days[int(rng.integers(len(days)))]
            category = _pick(rng, CATEGORY_WEIGHTS)
            k = 2 if rng.random() < 0.2 else 1
            chosen = [pool[i] for i in rng.choice(len(pool), size=k, replace=False)]
            priority = _pick(rng, PRIORITIES)
            title = TITLES[category][int(rng.integers(len(TITLES[category])))]
            unit_names = "、".join(names[c] for c in chosen)
            body: dict[str, Any] = {
                "title": f"【模拟】{unit_names}：{title}",
                "description": t("govern.demo.case_description", "zh") + " / "
                + t("govern.demo.case_description", "en"),
                "category": category, "units": chosen,
                "lead_department": f"{names[chosen[0]]}{vocab.categories[category].zh}主管部门",
                "co_departments": [f"{names[c]}{vocab.categories[category].zh}主管部门"
                                   for c in chosen[1:]],
                "source": _pick(rng, SOURCES), "priority": priority,
                "opened": opened.isoformat(),
                "due": (opened + dt.timedelta(days=PRIORITY_DAYS[priority])).isoformat(),
                "key": f"demo:case:{year}:{n:04d}"}
            actions.append((opened, 0, "add", body))
            accept = opened + dt.timedelta(days=int(rng.integers(1, 6)))
            fate = rng.random()
            first = "returned" if fate < 0.05 else "withdrawn" if fate < 0.08 else "accepted"
            actions.append((accept, 1, "move", {"key": body["key"], "to": first}))
            if first == "accepted":
                start = accept + dt.timedelta(days=int(rng.integers(2, 11)))
                actions.append((start, 1, "move", {"key": body["key"], "to": "in_progress"}))
    for planned in M.plan(year):
        actions.append((planned.date, 2, "meeting", {"planned": planned}))
    end = dt.date(year, 12, 31)
    ids: dict[str, int] = {}
    for day, _, action, args in sorted(actions, key=lambda a: (a[0], a[1])):
        if day > end:
            continue
        if action == "add":
            body = dict[str, Any](args)
            case = register.add_case(body.pop("title"), simulated=True,
                                     reason="【模拟】演示登记 / simulated demonstration", **body,
                                     **ACTOR)
            ids[args["key"]] = case.id
            out.cases += 1
        elif action == "move":
            current = register.case(ids[args["key"]]).case
            if register.machine.allowed(current.state, args["to"]):
                register.transition(current.id, args["to"], expected_version=current.version,
                                    reason="【模拟】办理进展 / simulated progress",
                                    effective=day, **ACTOR)
        else:
            _meeting(register, args["planned"], decide_rng, out)


def _meeting(register: Register, planned: Any, rng: np.random.Generator,
             out: DemoResult) -> None:
    from cocity.govern import meetings as M

    day = planned.date
    meeting = M.convene(register, date=day, kind=planned.kind, key=f"demo:{planned.key}",
                        simulated=True, reason="【模拟】演示会议 / simulated meeting", **ACTOR)
    decisions = []
    for item in meeting.items:
        case = register.case(item.case_id).case
        overdue = case.overdue(day)
        r = rng.random()
        if case.state == "in_progress" and r < 0.35:
            decisions.append({"case": case.id, "decision": "resolve",
                              "resolved": bool(rng.random() < 0.75)})
        elif overdue and r < 0.75:
            extra = int(rng.integers(30, 61))
            decisions.append({"case": case.id, "decision": "extend",
                              "due": (max(case.due_in_force, day)
                                      + dt.timedelta(days=extra)).isoformat(),
                              "reason": "【模拟】需跨地区协商 / simulated: cross-region talks"})
        elif overdue and planned.kind == "monthly" and r < 0.9:
            decisions.append({"case": case.id, "decision": "escalate"})
        elif r < 0.5:
            decisions.append({"case": case.id, "decision": "defer"})
        elif r < 0.53:
            decisions.append({"case": case.id, "decision": "assign",
                              "department": case.co_departments[0] if case.co_departments
                              else f"{case.lead_department}（上级）"})
        else:
            decisions.append({"case": case.id, "decision": "continue"})
    M.record_minutes(register, meeting.key, decisions=decisions,
                     attendees=["【模拟】四川省代表", "【模拟】重庆市代表", "【模拟】秘书处"],
                     summary="【模拟】演示会议纪要 / simulated minutes",
                     reason="【模拟】会议纪要 / simulated minutes", **ACTOR)
    out.meetings += 1
    out.decisions += len(decisions)


def _standards(register: Register, year: int, rng: np.random.Generator,
               out: DemoResult) -> None:
    from cocity.govern.standards import Standards, catalogue

    reg = Standards(register.records, units=register.units)
    items = list(catalogue().items)
    for unit in reg.default_units():
        for item in items:
            r = rng.random()
            if r < 0.25:
                continue  # nothing recorded: 未登记
            path = ["planned", "piloting", "adopted"][: 1 + int(r > 0.45) + int(r > 0.65)]
            day = dt.date(year - 2, 1, 1) + dt.timedelta(days=int(rng.integers(0, 400)))
            for status in path:
                reg.record(item, unit, status, date=day, simulated=True,
                           document="【模拟】演示文件 / simulated document",
                           reason="【模拟】演示登记 / simulated demonstration",
                           key=f"demo:adoption:{item}:{unit}:{status}", **ACTOR)
                out.adoptions += 1
                day += dt.timedelta(days=int(rng.integers(60, 240)))


def _rectification(register: Register, store: Store | None,
                   runs: dict[tuple[int, str], Any] | None, out: DemoResult) -> None:
    from cocity.fund.desk import grades_run
    from cocity.fund.run_grades import run_grades
    from cocity.govern.rectification import import_rectification

    if store is None:
        from cocity.datasets import open_store

        store = open_store()
    for edition in EDITIONS:
        for level in LEVELS:
            given = (runs or {}).get((edition, level))
            if given is None:
                found = grades_run(None, store=store, level=level, year=edition,
                                   labels="govern.run")
                given, how = found.run, found.how
            else:
                how = {lang: str(given) for lang in LANGS}
            grades = run_grades(given, level=level)
            result = import_rectification(register, grades, **ACTOR)
            out.rectification_opened += len(result.opened)
            out.follow_ups += len(result.follow_ups)
            out.runs.append({"edition": str(edition), "level": level, "run": grades.run,
                             **{f"how_{lang}": how[lang] for lang in LANGS}})
