"""``cocity govern standards …``: the committee's register of unified standards and mutual
recognition (统一标准、资质互认) — the items, adoption records, the status in force, the
coverage report (``cocity.govern.standards``, ``cocity.report.govern_standards``).

The commands only parse and print; the work is imported inside them.
Exit codes: 0 done, 2 a request refused (nothing written).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import console, progress_bar, refused
from cocity.cli.govern import (
    ActorOpt,
    DbOpt,
    KeyOpt,
    OutDir,
    actor_of,
    govern_app,
    open_register,
)
from cocity.i18n import both, current_lang, t

if TYPE_CHECKING:
    import pandas as pd

    from cocity.govern import Register
    from cocity.govern.standards import Standards

standards_app = typer.Typer(no_args_is_help=True, help=both("govern.std.cli.help"))
govern_app.add_typer(standards_app, name="standards")

AsOfOpt = Annotated[str | None, typer.Option("--as-of", help=both("govern.std.cli.opt.as_of"),
                                             show_default=False)]
StandardOpt = Annotated[str | None, typer.Option(
    "--standard", help=both("govern.std.cli.opt.standard"), show_default=False)]
UnitOpt = Annotated[str | None, typer.Option("--unit", help=both("govern.std.cli.opt.unit"),
                                             show_default=False)]


def _standards(register: Register) -> Standards:
    from cocity.govern.standards import Standards

    return Standards(register.records, units=register.units)


@standards_app.command("list", help=both("govern.std.cli.list.help"))
def list_items() -> None:
    from cocity.govern.machine import vocabularies
    from cocity.govern.standards import catalogue

    lang = current_lang()
    cat, cats = catalogue(), vocabularies().categories
    table = Table(title=escape(t("govern.std.cli.list.title", n=len(cat.items))),
                  title_justify="left")
    for key in ("id", "item", "category", "adoption", "source"):
        table.add_column(escape(t(f"govern.std.r.c.{key}")), overflow="fold")
    for item_id, item in cat.items.items():
        sources = [f"{s.file}「{s.quote}」" for s in item.source.texts]
        if item.source.policy is not None:
            sources.append(item.source.policy.text(lang))
        table.add_row(item_id, escape(item.text(lang)), escape(cats[item.category].text(lang)),
                      escape(item.adoption.text(lang)), escape("\n".join(sources)))
    console.print(table)
    statuses = "、".join(f"{k} ({s.text(lang)})" for k, s in cat.statuses.items())
    console.print(escape(t("govern.std.cli.list.statuses", statuses=statuses)))


@standards_app.command("record", help=both("govern.std.cli.record.help"))
def record(
    standard: Annotated[str, typer.Argument(help=both("govern.std.cli.arg.standard"))],
    unit: Annotated[str, typer.Argument(help=both("govern.std.cli.arg.unit"))],
    status: Annotated[str, typer.Argument(help=both("govern.std.cli.arg.status"))],
    date: Annotated[str, typer.Option("--date", help=both("govern.std.cli.opt.date"))],
    document: Annotated[str, typer.Option("--document",
                                          help=both("govern.std.cli.opt.document"))],
    reason: Annotated[str | None, typer.Option(
        "--reason", help=both("govern.std.cli.opt.reason"), show_default=False)] = None,
    key: KeyOpt = None,
    db: DbOpt = None,
    actor: ActorOpt = None,
    role: Annotated[str, typer.Option("--role", help=both("govern.cli.opt.role"))] = (
        "secretariat"),
) -> None:
    # the default key is made from what was typed: a retried command writes nothing twice
    idem = key or "cli-" + hashlib.sha256(json.dumps(
        [standard, unit, status, date, document], ensure_ascii=False).encode()).hexdigest()[:24]
    with open_register(db, create=True) as register, refused():
        reg = _standards(register)
        done = reg.record(standard, unit, status, date=date, document=document,
                          actor=actor_of(actor), role=role,
                          reason=reason or t("govern.std.cli.default_reason", document=document),
                          key=idem)
        cat = reg.catalogue
        label = "govern.std.cli.record.replayed" if done.replayed else "govern.std.cli.record.done"
        console.print(escape(t(label, id=done.id, item=cat.items[done.standard].text(),
                               unit=_unit_name(reg, done.unit),
                               status=cat.statuses[done.status].text(), date=done.date)))


def _unit_name(reg: Standards, code: str) -> str:
    frame = reg.units.units
    name = str(frame.at[code, f"name_{current_lang()}"]) if code in frame.index else code
    return f"{name} ({code})"


@standards_app.command("status", help=both("govern.std.cli.status.help"))
def status(as_of: AsOfOpt = None, standard: StandardOpt = None, unit: UnitOpt = None,
           db: DbOpt = None) -> None:
    with open_register(db) as register, refused():
        reg = _standards(register)
        item = None if standard is None else reg.standard(standard)
        code = None if unit is None else reg.unit(unit)
        units = None if code is None else [code]
        frame = reg.status(as_of=as_of, standard=item, units=units)
        cov = reg.coverage(as_of=as_of)
    if code is not None:
        frame = frame[frame["unit_code"] == code]
    _print_coverage(reg, cov if item is None else cov[cov["standard"] == item])
    shown = frame if (item is not None or code is not None) else frame[
        frame["status"] != "none"]
    _print_status(reg, shown, as_of)


def _print_coverage(reg: Standards, cov: pd.DataFrame) -> None:
    cat = reg.catalogue
    ids = [*cat.statuses, "none"]
    n = int(cov["units"].iloc[0]) if len(cov) else 0
    table = Table(title=escape(t("govern.std.cli.status.coverage", n=n)), title_justify="left")
    table.add_column(escape(t("govern.std.r.c.item")))
    for s in ids:
        name = t("govern.std.none") if s == "none" else cat.statuses[s].text()
        table.add_column(escape(name), justify="right")
    table.add_column(escape(t("govern.std.r.c.share")), justify="right")
    for _, r in cov.iterrows():
        table.add_row(escape(cat.items[str(r["standard"])].text()),
                      *(str(int(r[s])) for s in ids), f"{100 * float(r['share_adopted']):.1f}%")
    console.print(table)


def _print_status(reg: Standards, frame: pd.DataFrame, as_of: str | None) -> None:
    cat = reg.catalogue
    if frame.empty:
        console.print(escape(t("govern.std.cli.status.none")))
        return
    title = (t("govern.std.cli.status.latest") if as_of is None else
             t("govern.std.cli.status.title", day=as_of))
    table = Table(title=escape(title), title_justify="left")
    for key in ("item", "unit", "status", "date", "document", "simulated"):
        table.add_column(escape(t(f"govern.std.r.c.{key}")))
    for _, r in frame.iterrows():
        st = str(r["status"])
        table.add_row(escape(cat.items[str(r["standard"])].text()),
                      escape(_unit_name(reg, str(r["unit_code"]))),
                      escape(t("govern.std.none") if st == "none" else cat.statuses[st].text()),
                      "" if st == "none" else str(r["date"]),
                      "" if st == "none" else escape(str(r["document"])),
                      f"[red]{escape(t('govern.std.simulated'))}[/]" if bool(r["simulated"])
                      else "")
    console.print(table)


@standards_app.command("report", help=both("govern.std.cli.report.help"))
def report(out: OutDir, as_of: AsOfOpt = None, db: DbOpt = None) -> None:
    with open_register(db) as register, refused():
        from cocity.datasets import open_store
        from cocity.report.govern_standards import write_standards_report

        reg = _standards(register)
        with progress_bar(bar=False) as bar:
            bar.add_task(t("govern.std.cli.report.working"), total=None)
            facts = write_standards_report(reg, out=Path(out), store=open_store(),
                                           as_of=as_of)
    for w in facts["warnings"]:
        console.print(f"[yellow]{escape(w)}[/]")
    if facts["simulated_records"]:
        note = t("govern.std.cli.report.simulated", n=facts["simulated_records"])
        console.print(f"[red]{escape(note)}[/]")
    console.print(escape(t("govern.std.cli.report.done", path=str(out),
                           n=len(facts["outputs"]) + 1)))
