"""``cocity govern …``: the governance committee (民生协同治理委员会) — its case register,
meetings, standards register and published statistics (``docs/committee.md``).

The records database is ``--db`` (a file path or a ``postgresql+psycopg://`` URL), else
``COCITY_RECORDS``, else ``cocity-records.sqlite`` in the current folder — the same store as
the fund's. Who acts is ``--actor`` (else ``COCITY_ACTOR``, else the login name); every write
records it with the role, the time and the reason.

The commands only parse and print; the work is :mod:`cocity.govern`, imported inside them.
Exit codes: 0 done, 2 a request refused (nothing written).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cocity.cli import app, refused
from cocity.i18n import both

if TYPE_CHECKING:
    import datetime as dt

    from cocity.govern import Case, Event, Register

govern_app = typer.Typer(no_args_is_help=True, help=both("govern.cli.help"))
app.add_typer(govern_app, name="govern")
case_app = typer.Typer(no_args_is_help=True, help=both("govern.cli.case.help"))
govern_app.add_typer(case_app, name="case")

DbOpt = Annotated[str | None, typer.Option("--db", help=both("govern.cli.opt.db"),
                                           show_default=False)]
ActorOpt = Annotated[str | None, typer.Option("--actor", help=both("govern.cli.opt.actor"),
                                              show_default=False)]
RoleOpt = Annotated[str, typer.Option("--role", help=both("govern.cli.opt.role"))]
ReasonOpt = Annotated[str, typer.Option("--reason", help=both("govern.cli.opt.reason"))]
KeyOpt = Annotated[str | None, typer.Option("--key", help=both("govern.cli.opt.key"),
                                            show_default=False)]
OutDir = Annotated[Path, typer.Option("--out", "-o", help=both("govern.cli.opt.out_dir"))]


@contextmanager
def open_register(db: str | None, *, create: bool = False) -> Iterator[Register]:
    """The register on the records database. A missing SQLite file is created only by the
    commands that write (``create=True``); the others say where they looked."""
    from cocity.govern import GovernError, Register
    from cocity.records import DEFAULT_FILE, open_records

    target = db or os.environ.get("COCITY_RECORDS") or None
    with refused():
        path = Path(target or DEFAULT_FILE) if target is None or "://" not in target else None
        if path is not None and not create and not path.exists():
            raise GovernError("govern.cli.err.no_records", path=str(path.resolve()))
        records = open_records(target)
        try:
            yield Register(records)
        finally:
            records.close()


def actor_of(actor: str | None) -> str:
    from cocity.records import default_actor

    return actor or default_actor()


def _name(names: object) -> str:
    """A bilingual name (``.zh``/``.en``) in the current language."""
    from cocity.i18n import current_lang

    return str(getattr(names, "zh" if current_lang() == "zh" else "en"))


def _state(register: Register, state: str) -> str:
    return _name(register.machine.states[state])


def _said(case: Case, what: str) -> None:
    from rich.markup import escape

    from cocity.cli import console
    from cocity.i18n import t

    console.print(escape(t("govern.cli.replayed" if case.replayed else "govern.cli.done",
                           what=what, case=case.id, version=case.version)))


@case_app.command("add", help=both("govern.cli.add.help"))
def add_cmd(
    title: Annotated[str, typer.Argument(help=both("govern.cli.arg.title"))],
    category: Annotated[str, typer.Option("--category", help=both("govern.cli.opt.category"))],
    unit: Annotated[list[str], typer.Option("--unit", help=both("govern.cli.opt.unit"))],
    lead: Annotated[str, typer.Option("--lead", help=both("govern.cli.opt.lead"))],
    due: Annotated[str, typer.Option("--due", help=both("govern.cli.opt.due"))],
    reason: ReasonOpt,
    source: Annotated[str, typer.Option("--source", help=both("govern.cli.opt.source"))
                      ] = "hotline",
    opened: Annotated[str | None, typer.Option("--opened", help=both("govern.cli.opt.opened"),
                                               show_default=False)] = None,
    co: Annotated[list[str] | None, typer.Option("--co", help=both("govern.cli.opt.co"),
                                                 show_default=False)] = None,
    priority: Annotated[str, typer.Option("--priority", help=both("govern.cli.opt.priority"))
                        ] = "normal",
    description: Annotated[str, typer.Option("--description",
                                             help=both("govern.cli.opt.description"))] = "",
    key: KeyOpt = None, db: DbOpt = None, actor: ActorOpt = None,
    role: RoleOpt = "secretary",
) -> None:
    import datetime as dt
    import hashlib

    from cocity.i18n import t

    day = opened or dt.date.today().isoformat()
    idem = key or "case:" + hashlib.sha256("\x1f".join(
        [title, *unit, day, due, category]).encode()).hexdigest()[:16]
    with open_register(db, create=True) as register, refused():
        case = register.add_case(
            title, description=description, category=category, units=unit,
            lead_department=lead, co_departments=co or [], source=source, opened=day,
            due=due, priority=priority, key=idem, actor=actor_of(actor), role=role,
            reason=reason)
        _said(case, t("govern.cli.what.add", title=case.title, ikey=case.key))


@case_app.command("update", help=both("govern.cli.update.help"))
def update_cmd(
    case_id: Annotated[int, typer.Argument(help=both("govern.cli.arg.case"))],
    reason: ReasonOpt,
    to: Annotated[str | None, typer.Option("--to", help=both("govern.cli.opt.to"),
                                           show_default=False)] = None,
    resolved: Annotated[bool | None, typer.Option(
        "--resolved/--unresolved", help=both("govern.cli.opt.resolved"),
        show_default=False)] = None,
    assign: Annotated[str | None, typer.Option("--assign", help=both("govern.cli.opt.assign"),
                                               show_default=False)] = None,
    extend: Annotated[str | None, typer.Option("--extend", help=both("govern.cli.opt.extend"),
                                               show_default=False)] = None,
    defer: Annotated[bool, typer.Option("--defer", help=both("govern.cli.opt.defer"))
                     ] = False,
    escalate: Annotated[str | None, typer.Option(
        "--escalate", help=both("govern.cli.opt.escalate"), show_default=False)] = None,
    version: Annotated[int | None, typer.Option(
        "--version", help=both("govern.cli.opt.version"), show_default=False)] = None,
    effective: Annotated[str | None, typer.Option(
        "--effective", help=both("govern.cli.opt.effective"), show_default=False)] = None,
    key: KeyOpt = None, db: DbOpt = None, actor: ActorOpt = None,
    role: RoleOpt = "secretary",
) -> None:
    from cocity.govern import GovernError
    from cocity.i18n import t

    chosen = [name for name, given in (("--to", to), ("--assign", assign),
                                       ("--extend", extend), ("--defer", defer or None),
                                       ("--escalate", escalate)) if given is not None]
    with open_register(db) as register, refused():
        if len(chosen) != 1:
            raise GovernError("govern.cli.err.one_change", given=", ".join(chosen) or "—")
        seen = register.case(case_id).case.version if version is None else version
        who: dict[str, Any] = {"expected_version": seen, "actor": actor_of(actor), "role": role,
               "reason": reason, "effective": effective, "key": key}
        if to is not None:
            case = register.transition(case_id, to, resolved=resolved, **who)
            what = t("govern.cli.what.state", state=_state(register, case.state))
        elif assign is not None:
            case = register.record(case_id, "assign", detail={"lead_department": assign},
                                   **who)
            what = t("govern.cli.what.assign", dept=assign)
        elif extend is not None:
            case = register.record(case_id, "extend", due=extend, **who)
            what = t("govern.cli.what.extend", due=case.due_in_force.isoformat())
        elif defer:
            case = register.record(case_id, "defer", **who)
            what = t("govern.cli.what.defer")
        else:
            case = register.record(case_id, "escalate", detail={"to": escalate}, **who)
            what = t("govern.cli.what.escalate", to=escalate)
        if version is None and not case.replayed:
            from rich.markup import escape

            from cocity.cli import console

            console.print(escape(t("govern.cli.version_read", version=seen)))
        _said(case, what)


@case_app.command("list", help=both("govern.cli.list.help"))
def list_cmd(
    state: Annotated[str | None, typer.Option("--state", help=both("govern.cli.opt.state"),
                                              show_default=False)] = None,
    category: Annotated[str | None, typer.Option(
        "--category", help=both("govern.cli.opt.category"), show_default=False)] = None,
    unit: Annotated[str | None, typer.Option("--unit", help=both("govern.cli.opt.unit_one"),
                                             show_default=False)] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help=both("govern.cli.opt.overdue"))
                       ] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help=both("govern.cli.opt.as_of"),
                                              show_default=False)] = None,
    db: DbOpt = None,
) -> None:
    from rich.markup import escape
    from rich.table import Table

    from cocity.cli import console
    from cocity.i18n import t

    with open_register(db) as register, refused():
        frame = register.cases(as_of=as_of)
        if state is not None:
            frame = frame[frame["state"] == register._state(state)]
        if category is not None:
            from cocity.govern.register import _choice

            frame = frame[frame["category"] == _choice(category, "category",
                                                       register.vocab.categories)]
        if unit is not None:
            code = register._resolve_units([unit])[0]
            frame = frame[frame["units"].str.split(";").map(lambda c: code in c)]
        if overdue:
            frame = frame[frame["overdue"]]
        names = register.units.units["name_zh" if _lang() == "zh" else "name_en"]
        table = Table(title=t("govern.cli.list.title", n=len(frame)))
        for col in ("id", "title", "category", "units", "state", "due", "simulated"):
            table.add_column(t(f"govern.cli.col.{col}"))
        for row in frame.to_dict("records"):
            state_text = _state(register, str(row["state"]))
            if row["overdue"]:
                state_text += " · " + t("govern.cli.overdue")
            units = "、".join(str(names.get(c, c)) for c in str(row["units"]).split(";"))
            table.add_row(str(row["id"]), escape(str(row["title"])),
                          _name(register.vocab.categories[str(row["category"])]),
                          escape(units), escape(state_text), str(row["due_in_force"]),
                          t("govern.cli.simulated") if row["simulated"] else "")
        console.print(table)
        if frame["simulated"].any():
            console.print(escape(t("govern.cli.simulated_note",
                                   n=int(frame["simulated"].sum()))))


@case_app.command("show", help=both("govern.cli.show.help"))
def show_cmd(case_id: Annotated[int, typer.Argument(help=both("govern.cli.arg.case"))],
             db: DbOpt = None) -> None:
    from rich.markup import escape
    from rich.table import Table

    from cocity.cli import console
    from cocity.i18n import current_lang, t

    with open_register(db) as register, refused():
        record = register.case(case_id)
        case = record.case
        lang = current_lang()
        names = register.units.units["name_zh" if lang == "zh" else "name_en"]
        if case.simulated:
            console.print(escape(t("govern.cli.show.simulated")))
        console.print(f"[bold]#{case.id} {escape(case.title)}[/]")
        facts = [
            ("state", _state(register, case.state) + (
                " · " + t("govern.cli.overdue") if case.overdue(_today()) else "")),
            ("category", _name(register.vocab.categories[case.category])),
            ("source", _name(register.vocab.sources[case.source])),
            ("priority", _name(register.vocab.priorities[case.priority])),
            ("units", "、".join(f"{names.get(c, c)} ({c})" for c in case.units)),
            ("lead", case.lead_department), ("co", "、".join(case.co_departments) or "—"),
            ("opened", case.opened.isoformat()),
            ("due", case.due.isoformat() + ("" if case.due == case.due_in_force else
                                            " → " + case.due_in_force.isoformat())),
            ("version", str(case.version)), ("description", case.description or "—")]
        for label, value in facts:
            console.print(f"{escape(t('govern.cli.field.' + label))}: {escape(value)}")
        follow = [e for e in record.history if e.kind == "follow_up"]
        if case.origin and case.origin.get("kind") == "rectification":
            o = case.origin
            console.print(escape(t("govern.cli.show.origin", year=o["year"], run=o["run"],
                                   grade=o.get(f"grade_{lang}", o["grade"]),
                                   score=f"{float(o['score']):.1f}")))
            if follow:
                d = follow[-1].detail
                console.print(escape(t("govern.cli.show.follow_up", year=d["year"],
                                       grade=d.get(f"grade_{lang}", d["grade"]),
                                       score=f"{float(d['score']):.1f}", run=d["run"])))
            else:
                console.print(escape(t("govern.cli.show.no_follow_up")))
        table = Table(title=t("govern.cli.history"))
        for col in ("seq", "effective", "kind", "state", "detail", "actor", "reason"):
            table.add_column(t(f"govern.cli.col.{col}"))
        for e in record.history:
            table.add_row(str(e.seq), e.effective, t(f"govern.kind.{e.kind}"),
                          escape(_state(register, e.to_state)),
                          escape(_detail(e)), escape(f"{e.actor} ({e.role})"), escape(e.reason))
        console.print(table)


def _today() -> dt.date:
    from cocity.govern.stats import china_today

    return china_today()


def _detail(event: Event) -> str:
    from cocity.i18n import t

    kind, detail = event.kind, event.detail
    if kind == "extend":
        return t("govern.cli.detail.extend", due=event.due)
    if kind == "assign":
        return str(detail.get("lead_department", ""))
    if kind == "escalate":
        return t(f"govern.escalate.{detail.get('to')}")
    if kind == "follow_up":
        score = float(detail.get("score", 0))
        grade = detail.get(f"grade_{_lang()}", detail.get("grade"))
        return f"{detail.get('year')}: {grade} ({score:.1f})"
    resolved = event.resolved
    if resolved is not None:
        return t("govern.cli.detail.resolved" if resolved else "govern.cli.detail.unresolved")
    return ""


@govern_app.command("import-rectification", help=both("govern.cli.import.help"))
def import_cmd(
    run: Annotated[Path | None, typer.Option("--run", help=both("govern.cli.opt.run"),
                                             show_default=False)] = None,
    year: Annotated[int | None, typer.Option("--year", help=both("govern.cli.opt.year"),
                                             show_default=False)] = None,
    level: Annotated[list[str] | None, typer.Option(
        "--level", help=both("govern.cli.opt.level"), show_default=False)] = None,
    db: DbOpt = None, actor: ActorOpt = None, role: RoleOpt = "secretary",
) -> None:
    from rich.markup import escape

    from cocity.cli import console
    from cocity.i18n import t

    levels = level or ["prefecture", "county"]
    with open_register(db, create=True) as register, refused():
        from cocity.datasets import open_store
        from cocity.fund.desk import grades_run
        from cocity.fund.run_grades import run_grades
        from cocity.govern.rectification import import_rectification

        store = open_store()
        for lv in levels:
            found = grades_run(run, store=store, level=lv, year=year, labels="govern.run")
            console.print(escape(found.how[_lang()]))
            grades = run_grades(found.run, level=lv)
            result = import_rectification(register, grades, actor=actor_of(actor), role=role)
            console.print(escape(t("govern.cli.import.done", run=grades.run, level=lv,
                                   opened=len(result.opened), found=len(result.found),
                                   kept=len(result.kept), follow=len(result.follow_ups),
                                   follow_found=len(result.follow_ups_found))))
            if grades.simulated_survey:
                console.print(escape(t("govern.cli.import.simulated_survey")))


def _lang() -> str:
    from cocity.i18n import current_lang

    return current_lang()


@govern_app.command("demo", help=both("govern.cli.demo.help"))
def demo_cmd(db: DbOpt = None) -> None:
    from rich.markup import escape

    from cocity.cli import console, progress_bar
    from cocity.i18n import t

    with open_register(db, create=True) as register, refused():
        from cocity.govern.demo import run_demo

        with progress_bar(bar=False) as bar:
            task = bar.add_task(t("govern.demo.step.year"), total=None)
            result = run_demo(register, progress=lambda key: bar.update(
                task, description=t(key)))
        console.print(escape(t("govern.cli.demo.simulated")))
        for step in result.steps:
            console.print(escape(step[_lang()]))
        if not result.already:
            for how in dict.fromkeys(run[f"how_{_lang()}"] for run in result.runs):
                console.print(escape(how))
            console.print(escape(t("govern.cli.demo.done", year=result.year, cases=result.cases,
                                   meetings=result.meetings, decisions=result.decisions,
                                   adoptions=result.adoptions,
                                   opened=result.rectification_opened,
                                   follow=result.follow_ups, where=register.records.where)))
        console.print(escape(t("govern.cli.demo.next")))
