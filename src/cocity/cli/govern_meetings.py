"""``cocity govern meeting …``: the committee's meetings — the calendar, each meeting's agenda
derived from the register, convening, minutes applying one decision per item, documents.

The commands only parse and print; the work is :mod:`cocity.govern.meetings` and
:mod:`cocity.report.govern_meeting`, imported inside them. Exit codes: 0 done, 2 a request
refused (nothing written).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import console, err_console, refused
from cocity.cli.govern import ActorOpt, DbOpt, RoleOpt, actor_of, govern_app, open_register
from cocity.i18n import both, current_lang, t

if TYPE_CHECKING:
    from cocity.govern.agenda import AgendaItem
    from cocity.govern.meetings import Meeting

meeting_app = typer.Typer(no_args_is_help=True, help=both("govern.meet.cli.help"))
govern_app.add_typer(meeting_app, name="meeting")

RulesOpt = Annotated[Path | None, typer.Option("--rules", help=both("govern.meet.cli.opt.rules"),
                                               show_default=False)]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help=both("govern.meet.cli.opt.out"),
                                             show_default=False)]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help=both("govern.cli.opt.reason"),
                                               show_default=False)]
MeetingArg = Annotated[str, typer.Argument(help=both("govern.meet.cli.arg.meeting"))]


def _kind(kind: str) -> str:
    return t(f"govern.meet.kind.{kind}") if kind in ("monthly", "quarterly") else kind


def _agenda_table(title: str, items: list[AgendaItem] | tuple[AgendaItem, ...],
                  decisions: dict[int, Any] | None = None) -> Table:
    from cocity.govern import calendar as cal
    from cocity.govern.machine import machine

    lang = current_lang()
    reasons = cal.rules().agenda.reasons
    table = Table(title=escape(title), title_justify="left")
    for col in ("pos", "case", "title", "lead", "state", "due", "reasons"):
        table.add_column(t(f"govern.meet.doc.c.{col}"), overflow="fold")
    if decisions is not None:
        table.add_column(t("govern.meet.doc.c.decision"), overflow="fold")
    states = machine().states
    for i in items:
        st = states.get(i.state)
        title_text = i.title + (f" [{t('govern.meet.doc.simulated_tag')}]" if i.simulated
                                else "")
        due = i.due_in_force + (f" ({t('govern.meet.doc.overdue')})" if i.overdue else "")
        row = [str(i.pos), str(i.case_id), escape(title_text), escape(i.lead_department),
               st.text(lang) if st else "", due,
               "；".join(getattr(reasons[r], lang) for r in i.reasons if r in reasons)]
        if decisions is not None:
            d = decisions.get(i.case_id)
            row.append(escape(_decision(d)) if d is not None else "—")
        table.add_row(*row)
    return table


def _decision(d: Any) -> str:
    from cocity.report.govern_meeting import _decision_text

    return _decision_text(d)["zh" if current_lang() == "zh" else "en"]


def _write_docs(meeting: Meeting, out: Path, *, draft: bool = False) -> None:
    from cocity.report.govern_meeting import write_meeting_documents

    facts = write_meeting_documents(meeting, out=out, draft=draft)
    console.print(escape(t("govern.meet.cli.written", n=len(facts["outputs"]) + 1,
                           out=str(out))))
    for w in facts["warnings"]:
        err_console.print(escape(w))


@meeting_app.command("plan", help=both("govern.meet.cli.plan.help"))
def plan_cmd(year: Annotated[int, typer.Option("--year", help=both("govern.meet.cli.opt.year"))],
             holidays: Annotated[Path | None, typer.Option(
                 "--holidays", help=both("govern.meet.cli.opt.holidays"),
                 show_default=False)] = None,
             rules: RulesOpt = None) -> None:
    with refused():
        from cocity.govern import meetings as M

        planned = M.plan(year, rules=rules, holidays=holidays)
        table = Table(title=escape(t("govern.meet.cli.plan.title", year=year, n=len(planned))),
                      title_justify="left")
        for col in ("key", "kind", "date", "nominal"):
            table.add_column(t(f"govern.meet.cli.col.{col}"))
        for m in planned:
            weekday = "一二三四五六日"[m.date.weekday()] if current_lang() == "zh" else \
                m.date.strftime("%a")
            moved = f"{m.nominal} → {t('govern.meet.cli.plan.shifted')}" if m.shifted else ""
            table.add_row(m.key, _kind(m.kind), f"{m.date} ({weekday})", moved)
        console.print(table)
        if holidays is None:
            console.print(escape(t("govern.meet.cli.plan.no_holidays")))


@meeting_app.command("agenda", help=both("govern.meet.cli.agenda.help"))
def agenda_cmd(date: Annotated[str, typer.Option("--date", help=both("govern.meet.cli.opt.date"))],
               kind: Annotated[str, typer.Option("--kind", help=both("govern.meet.cli.opt.kind"))],
               convene: Annotated[bool, typer.Option(
                   "--convene", help=both("govern.meet.cli.opt.convene"))] = False,
               out: OutOpt = None, db: DbOpt = None, actor: ActorOpt = None,
               role: RoleOpt = "secretary", reason: ReasonOpt = None,
               key: Annotated[str | None, typer.Option("--key", help=both("govern.cli.opt.key"),
                                                       show_default=False)] = None,
               simulated: Annotated[bool, typer.Option(
                   "--simulated", help=both("govern.meet.cli.opt.simulated"))] = False,
               rules: RulesOpt = None) -> None:
    with open_register(db, create=convene) as register, refused():
        from cocity.govern import meetings as M

        if convene:
            meeting = M.convene(register, date=date, kind=kind, key=key, actor=actor_of(actor),
                                role=role, simulated=simulated, rules=rules,
                                reason=reason or t("govern.meet.cli.default_convene",
                                                   kind=_kind(kind)))
            console.print(_agenda_table(t("govern.meet.cli.agenda.title", kind=_kind(kind),
                                          date=meeting.date, n=len(meeting.items)),
                                        meeting.items))
            label = "govern.meet.cli.replayed" if meeting.replayed else "govern.meet.cli.convened"
            console.print(escape(t(label, mkey=meeting.key, id=meeting.id,
                                   n=len(meeting.items))))
            if out is not None:
                _write_docs(meeting, out)
            return
        items = M.agenda(register, date=date, kind=kind, rules=rules)
        day = M.meeting_date(date)
        console.print(_agenda_table(t("govern.meet.cli.agenda.title", kind=_kind(kind), date=day,
                                      n=len(items)) + " " + t("govern.meet.cli.agenda.draft"),
                                    items))
        if out is not None:
            from cocity.govern.calendar import meeting_key

            draft = M.Meeting(id=0, key=key or meeting_key(kind, day), kind=kind, date=day,
                              simulated=simulated, created="", actor="", role="", reason="",
                              items=tuple(items))
            _write_docs(draft, out, draft=True)


@meeting_app.command("minutes", help=both("govern.meet.cli.minutes.help"))
def minutes_cmd(meeting: MeetingArg,
                decisions: Annotated[Path, typer.Option(
                    "--decisions", help=both("govern.meet.cli.opt.decisions"))],
                attendees: Annotated[str | None, typer.Option(
                    "--attendees", help=both("govern.meet.cli.opt.attendees"),
                    show_default=False)] = None,
                summary: Annotated[str | None, typer.Option(
                    "--summary", help=both("govern.meet.cli.opt.summary"),
                    show_default=False)] = None,
                out: OutOpt = None, db: DbOpt = None, actor: ActorOpt = None,
                role: RoleOpt = "secretary", reason: ReasonOpt = None,
                rules: RulesOpt = None) -> None:
    with open_register(db) as register, refused():
        from cocity.govern import meetings as M

        read = M.read_decisions(decisions)
        people = [p.strip() for p in attendees.replace("，", ",").split(",")] \
            if attendees else read.attendees
        done = M.record_minutes(register, meeting, decisions=read.decisions, attendees=people,
                                summary=summary if summary is not None else (read.summary or ""),
                                actor=actor_of(actor), role=role, rules=rules,
                                reason=reason or t("govern.meet.cli.default_minutes"))
        assert done.minutes is not None
        decided = {d.case: d for d in done.minutes.decisions}
        console.print(_agenda_table(t("govern.meet.doc.title.minutes", kind=_kind(done.kind),
                                      date=done.date), done.items, decided))
        if done.replayed:
            console.print(escape(t("govern.meet.cli.minutes.replayed", mkey=done.key)))
        else:
            console.print(escape(t("govern.meet.cli.minutes.done", mkey=done.key,
                                   n=len(decided),
                                   lead=sum(d.leading_group for d in decided.values()))))
        if out is not None:
            _write_docs(done, out)


@meeting_app.command("show", help=both("govern.meet.cli.show.help"))
def show_cmd(meeting: MeetingArg, out: OutOpt = None, db: DbOpt = None) -> None:
    with open_register(db) as register, refused():
        from cocity.govern import meetings as M

        found = M.meeting(register, meeting)
        decided = {d.case: d for d in found.minutes.decisions} if found.minutes else None
        doc = "minutes" if found.minutes else "agenda"
        console.print(_agenda_table(t(f"govern.meet.doc.title.{doc}", kind=_kind(found.kind),
                                      date=found.date), found.items, decided))
        if out is not None:
            _write_docs(found, out)


@meeting_app.command("list", help=both("govern.meet.cli.list.help"))
def list_cmd(db: DbOpt = None) -> None:
    with open_register(db) as register, refused():
        from cocity.govern import meetings as M

        found = M.meetings(register)
        table = Table(title=escape(t("govern.meet.cli.list.title", n=len(found))),
                      title_justify="left")
        for col in ("key", "kind", "date", "items", "minutes"):
            table.add_column(t(f"govern.meet.cli.col.{col}"))
        for m in found:
            sim = f" [{t('govern.meet.doc.simulated_tag')}]" if m.simulated else ""
            table.add_row(escape(m.key + sim), _kind(m.kind), m.date, str(len(m.items)),
                          t("govern.meet.cli.yes" if m.minutes else "govern.meet.cli.no"))
        console.print(table)
