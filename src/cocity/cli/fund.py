"""``cocity fund …``: the livelihood fund's books and its allocation (``docs/fund.md``).

The records database is ``--db`` (a file path or a ``postgresql+psycopg://`` URL), else
``COCITY_RECORDS``, else ``cocity-records.sqlite`` in the current folder. Who acts is
``--actor`` (else ``COCITY_ACTOR``, else the login name); every write records it with the role,
the time, the reason and the document. Amounts are yuan (``1.5亿``, ``300万``, ``12,345.67``);
the books keep integer fen.

The commands only parse and print; the work is :mod:`cocity.fund.desk`,
:class:`cocity.fund.ledger.Ledger` and :mod:`cocity.report.fund_report`, imported inside them.
Exit codes: 0 done, 1 ``verify`` found problems, 2 a request refused (nothing booked).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import app, console, err_console, fail, progress_bar, refused
from cocity.cli.workspace import WorkspaceOpt
from cocity.data.errors import CocityError
from cocity.i18n import both, current_lang, labels, t

if TYPE_CHECKING:
    from cocity.fund.ledger import Ledger, Posted

fund_app = typer.Typer(no_args_is_help=True, help=both("fund.cli.help"))
app.add_typer(fund_app, name="fund")

DbOpt = Annotated[str | None, typer.Option("--db", help=both("fund.cli.opt.db"),
                                           show_default=False)]
ActorOpt = Annotated[str | None, typer.Option("--actor", help=both("fund.cli.opt.actor"),
                                              show_default=False)]
RoleOpt = Annotated[str, typer.Option("--role", help=both("fund.cli.opt.role"))]
ReasonOpt = Annotated[str, typer.Option("--reason", help=both("fund.cli.opt.reason"))]
DocOpt = Annotated[str, typer.Option("--document", help=both("fund.cli.opt.document"))]
KeyOpt = Annotated[str | None, typer.Option("--key", help=both("fund.cli.opt.key"),
                                            show_default=False)]
RulesOpt = Annotated[str | None, typer.Option("--rules", help=both("fund.cli.opt.rules"),
                                              show_default=False)]
RunOpt = Annotated[Path | None, typer.Option("--run", help=both("fund.cli.opt.run"),
                                             show_default=False)]
OutDir = Annotated[Path, typer.Option("--out", "-o", help=both("fund.cli.opt.out_dir"))]


@contextmanager
def _ledger(db: str | None, *, create: bool = False) -> Iterator[Ledger]:
    """The ledger on the records database; a missing SQLite file is created only by the
    commands that set a fund up (``init``, ``demo``): the others say where they looked."""
    from cocity.fund.desk import DeskError
    from cocity.fund.ledger import Ledger
    from cocity.records import DEFAULT_FILE, open_records

    target = db or os.environ.get("COCITY_RECORDS") or None
    with refused():
        path = Path(target or DEFAULT_FILE) if target is None or "://" not in target else None
        if path is not None and not create and not path.exists():
            raise DeskError("fund.cli.err.no_records", path=str(path.resolve()))
        records = open_records(target)
        try:
            yield Ledger(records)
        finally:
            records.close()


def _actor(actor: str | None) -> str:
    from cocity.records import default_actor

    return actor or default_actor()


def _fen(text: str, *, zero: bool = False) -> int:
    from cocity.fund.money import parse_yuan

    return parse_yuan(text, zero=zero)


def _yuan(fen: int) -> str:
    from cocity.fund.money import format_yuan

    return format_yuan(fen)


def _wan(fen: int) -> str:
    """万元 with two decimals, for overview tables (the books and files keep the fen)."""
    return f"{fen / 1_000_000:,.2f}"


def _name(names: tuple[str, str]) -> str:
    return names[0] if current_lang() == "zh" else names[1]


def _unit(ledger: Ledger, text: str) -> str:
    from cocity.fund.desk import unit_code

    return unit_code(ledger, text)


def _use(ledger: Ledger, text: str) -> str:
    from cocity.fund.desk import use_id

    return use_id(ledger, text)


def _posted(posted: Posted, what: str) -> None:
    key = "fund.cli.replayed" if posted.replayed else "fund.cli.posted"
    console.print(escape(t(key, what=what, entry=posted.entry_id, seq=posted.seq,
                           ikey=posted.key, hash=posted.hash[:16])))


# ----------------------------------------------------------------------------- set-up
@fund_app.command("init", help=both("fund.cli.init.help"))
def init_cmd(db: DbOpt = None, name: Annotated[str | None, typer.Option(
        "--name", help=both("fund.cli.opt.name"), show_default=False)] = None,
        chart: Annotated[Path | None, typer.Option("--chart", help=both("fund.cli.opt.chart"),
                                                   show_default=False)] = None,
        rules: RulesOpt = None, workspace: Path | None = WorkspaceOpt) -> None:
    from cocity.datasets import open_store
    from cocity.fund.desk import recipient_units

    with refused():
        store = open_store(workspace, read_only=True)
        try:
            units = recipient_units(store, rules)
        finally:
            store.close()
    with _ledger(db, create=True) as ledger, refused():
        info = ledger.open_fund(name=name, chart=chart, units=units)
        console.print(escape(t("fund.cli.init.done", name=info.name, sources=len(info.sources),
                               uses=len(info.uses), units=len(info.units),
                               where=ledger.records.where)))


@fund_app.command("contribute", help=both("fund.cli.contribute.help"))
def contribute_cmd(source: Annotated[str, typer.Argument(help=both("fund.cli.arg.source"))],
                   amount: Annotated[str, typer.Argument(help=both("fund.cli.arg.amount"))],
                   reason: ReasonOpt, document: DocOpt = "", key: KeyOpt = None,
                   db: DbOpt = None, actor: ActorOpt = None,
                   role: RoleOpt = "fund_manager") -> None:
    with _ledger(db) as ledger, refused():
        fen = _fen(amount)
        known = ledger.fund().sources
        src = source if source in known else next(
            (s for s, n in known.items() if source in n), source)
        posted = ledger.contribute(src, fen, key=key or f"contribution:{src}:{fen}:{document}",
                                   actor=_actor(actor), role=role, reason=reason,
                                   document=document)
        _posted(posted, t("fund.cli.what.contribution", source=src, amount=_yuan(fen)))


@fund_app.command("pool", help=both("fund.cli.pool.help"))
def pool_cmd(amount: Annotated[str | None, typer.Argument(help=both("fund.cli.arg.pool"),
                                                          show_default=False)] = None,
             rules: RulesOpt = None, reason: Annotated[str | None, typer.Option(
                 "--reason", help=both("fund.cli.opt.reason"), show_default=False)] = None,
             key: KeyOpt = None, db: DbOpt = None, actor: ActorOpt = None,
             role: RoleOpt = "fund_manager") -> None:
    from cocity.fund.desk import pool_cash

    with _ledger(db) as ledger, refused():
        fen = None if amount is None else _fen(amount)
        posted, pools = pool_cash(ledger, rules=rules, amount_fen=fen, key=key,
                                  actor=_actor(actor), role=role, reason=reason)
        uses = ledger.fund().uses
        _posted(posted, t("fund.cli.what.pooling", pools="; ".join(
            f"{_name(uses[u])} {_yuan(a)}" for u, a in pools.items())))


# ----------------------------------------------------------------------------- allocation
@fund_app.command("allocate", help=both("fund.cli.allocate.help"))
def allocate_cmd(
    fund_size: Annotated[str | None, typer.Option("--fund-size", help=both(
        "fund.cli.opt.fund_size"), show_default=False)] = None,
    rules: RulesOpt = None, run: RunOpt = None,
    post: Annotated[bool, typer.Option("--post", help=both("fund.cli.opt.post"))] = False,
    explain: Annotated[str | None, typer.Option("--explain", help=both(
        "fund.cli.opt.explain"), show_default=False)] = None,
    vs_rules: Annotated[str | None, typer.Option("--vs-rules", help=both(
        "fund.cli.opt.vs_rules"), show_default=False)] = None,
    vs_fund_size: Annotated[str | None, typer.Option("--vs-fund-size", help=both(
        "fund.cli.opt.vs_fund_size"), show_default=False)] = None,
    vs_run: Annotated[Path | None, typer.Option("--vs-run", help=both("fund.cli.opt.vs_run"),
                                                show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help=both(
        "fund.cli.opt.alloc_out"), show_default=False)] = None,
    top: Annotated[int, typer.Option("--top", help=both("fund.cli.opt.top"))] = 10,
    db: DbOpt = None, actor: ActorOpt = None, role: RoleOpt = "fund_manager",
    reason: Annotated[str | None, typer.Option("--reason", help=both("fund.cli.opt.reason"),
                                               show_default=False)] = None,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    from cocity.datasets import open_store
    from cocity.fund import desk
    from cocity.fund.rules import load_rules

    scenario = any(v is not None for v in (vs_rules, vs_fund_size, vs_run))
    if scenario and post:
        raise fail(CocityError(t("fund.cli.err.post_scenario")))
    with _ledger(db) as ledger, refused():
        store = open_store(workspace, read_only=True)
        try:
            loaded = load_rules(rules)
            with progress_bar(bar=False) as bar:
                task = bar.add_task(t("fund.cli.step.grades"), total=None)
                found = desk.grades_run(run, store=store, level=loaded.level)
                bar.update(task, description=t("fund.cli.step.allocate"))
                size = None if fund_size is None else _fen(fund_size)
                allocation = desk.plan(ledger, store, rules=loaded, run=found.run,
                                       fund_fen=size)
                other = None
                if scenario:
                    bar.update(task, description=t("fund.cli.step.scenario"))
                    other_run = found if vs_run is None else desk.grades_run(
                        vs_run, store=store, level=loaded.level)
                    other = desk.plan(ledger, store, rules=vs_rules or loaded,
                                      run=other_run.run,
                                      fund_fen=allocation.fund_fen if vs_fund_size is None
                                      else _fen(vs_fund_size))
        finally:
            store.close()
        console.print(escape(found.how[current_lang()]))
        _print_allocation(allocation, top)
        if explain is not None:
            code = _unit(ledger, explain)
            console.print(escape(allocation.explain(code, current_lang())))
        if other is not None:
            _print_scenarios(allocation, other, top, out)
        elif out is not None:
            _write_allocation(allocation, out)
        if post:
            posted = desk.post(ledger, allocation, actor=_actor(actor), role=role,
                               reason=reason)
            _posted(posted, t("fund.cli.what.allocation", lines=len(allocation.lines()),
                              total=_yuan(allocation.fund_fen)))
        elif other is None:
            console.print(escape(t("fund.cli.allocate.dry", ikey=allocation.key)))


def _print_allocation(allocation: Any, top: int) -> None:
    lang = current_lang()
    for note in allocation.notes:
        console.print(f"[yellow]{escape(note[lang])}[/]")
    by_unit = allocation.by_unit()
    table = Table(title=escape(t("fund.cli.allocate.title", n=len(by_unit),
                                 total=_yuan(allocation.fund_fen), top=min(top, len(by_unit)))),
                  title_justify="left")
    table.add_column(t("fund.cli.col.unit"))
    uses = list(allocation.pools)
    names = allocation.table.drop_duplicates("unit").set_index("unit")
    grades = names.get("grade")
    for use in uses:
        short = f"fund.cli.use_short.{use}"
        name = t(short) if short in labels() else (allocation.rules.use(use).name_zh if
                                                   lang == "zh" else
                                                   allocation.rules.use(use).name_en)
        table.add_column(escape(name), justify="right")
    table.add_column(t("fund.cli.col.total"), justify="right", style="bold")
    table.add_column(t("fund.cli.col.grade"))
    order = by_unit.sort_values("total", ascending=False).head(top)
    for code, row in order.iterrows():
        grade = "" if grades is None else str(grades.get(code) or "")
        label = t(f"evaluate.grades.label.{grade}") if grade else "—"
        table.add_row(escape(f"{names.at[code, f'name_{lang}']} {code}"),
                      *(_wan(int(row.get(u, 0))) for u in uses), _wan(int(row["total"])),
                      escape(label))
    console.print(table)
    cond = allocation.conditional_lines()
    if cond:
        sep = "、" if lang == "zh" else ", "
        listed = sep.join(sorted({str(names.at[u, f"name_{lang}"]) for u, _, _ in cond}))
        console.print(escape(t("fund.cli.allocate.conditional", n=len(cond), units=listed)))


def _print_scenarios(base: Any, other: Any, top: int, out: Path | None) -> None:
    from cocity.fund.scenarios import compare

    lang = current_lang()
    table = compare({"base": base, "alt": other})
    totals = table[table["use"] == "total"].copy()
    head = totals[totals["unit"] == "*"]
    moved = totals[totals["unit"] != "*"].reindex(
        totals[totals["unit"] != "*"]["diff_alt"].abs().sort_values(ascending=False).index)
    view = Table(title=escape(t("fund.cli.scenario.title", top=top)), title_justify="left")
    for col in ("unit", "base", "alt", "diff"):
        view.add_column(t(f"fund.cli.scenario.col.{col}"), justify="left" if col == "unit"
                        else "right")
    for _, r in [*head.iterrows(), *moved.head(top).iterrows()]:
        label = t("fund.cli.scenario.fund") if r["unit"] == "*" else \
            f"{r[f'name_{lang}']} ({r['unit']})"
        view.add_row(escape(label), _yuan(int(r["amount_base"])), _yuan(int(r["amount_alt"])),
                     _yuan(int(r["diff_alt"])))
    console.print(view)
    if out is not None:
        from cocity.outputs import write_csv

        out.mkdir(parents=True, exist_ok=True)
        write_csv(table, out / "scenarios.csv")
        console.print(escape(t("fund.cli.wrote", path=str(out / "scenarios.csv"))))


def _write_allocation(allocation: Any, out: Path) -> None:
    from cocity.outputs import write_csv, write_json

    out.mkdir(parents=True, exist_ok=True)
    write_csv(allocation.table, out / "allocation.csv")
    write_csv(allocation.explanation, out / "allocation_explanation.csv")
    write_json(allocation.document(), out / "allocation.json")
    console.print(escape(t("fund.cli.wrote", path=str(out))))


# ----------------------------------------------------------------------------- payments
@fund_app.command("disburse", help=both("fund.cli.disburse.help"))
def disburse_cmd(unit: Annotated[str, typer.Argument(help=both("fund.cli.arg.unit"))],
                 use: Annotated[str, typer.Argument(help=both("fund.cli.arg.use"))],
                 amount: Annotated[str, typer.Argument(help=both("fund.cli.arg.amount"))],
                 document: Annotated[str, typer.Option("--document", help=both(
                     "fund.cli.opt.document_required"))],
                 reason: ReasonOpt, key: KeyOpt = None,
                 after: Annotated[Path | None, typer.Option("--after", help=both(
                     "fund.cli.opt.after"), show_default=False)] = None,
                 db: DbOpt = None, actor: ActorOpt = None,
                 role: RoleOpt = "fund_manager") -> None:
    from cocity.fund.desk import guard_conditional

    with _ledger(db) as ledger, refused():
        code, use_id, fen = _unit(ledger, unit), _use(ledger, use), _fen(amount)
        guard_conditional(ledger, code, use_id, after=after)
        rid = ledger.request_disbursement(
            code, use_id, fen, key=key or f"request:{code}:{use_id}:{fen}:{document}",
            actor=_actor(actor), role=role, reason=reason, document=document)
        info = ledger.fund()
        console.print(escape(t("fund.cli.disburse.booked", id=rid, amount=_yuan(fen),
                               unit=f"{_name(info.units[code])} ({code})",
                               use=_name(info.uses[use_id]))))


@fund_app.command("approve", help=both("fund.cli.approve.help"))
def approve_cmd(request: Annotated[int, typer.Argument(help=both("fund.cli.arg.request"))],
                reason: Annotated[str, typer.Option("--reason", help=both(
                    "fund.cli.opt.reason"))] = "",
                db: DbOpt = None, actor: ActorOpt = None,
                role: RoleOpt = "fund_approver") -> None:
    with _ledger(db) as ledger, refused():
        posted = ledger.approve(request, actor=_actor(actor), role=role, reason=reason)
        _posted(posted, t("fund.cli.what.disbursement", id=request))


@fund_app.command("reject", help=both("fund.cli.reject.help"))
def reject_cmd(request: Annotated[int, typer.Argument(help=both("fund.cli.arg.request"))],
               reason: ReasonOpt, db: DbOpt = None, actor: ActorOpt = None,
               role: RoleOpt = "fund_approver") -> None:
    with _ledger(db) as ledger, refused():
        ledger.reject(request, actor=_actor(actor), role=role, reason=reason)
        console.print(escape(t("fund.cli.reject.done", id=request)))


@fund_app.command("release", help=both("fund.cli.release.help"))
def release_cmd(unit: Annotated[str, typer.Argument(help=both("fund.cli.arg.unit"))],
                use: Annotated[str, typer.Argument(help=both("fund.cli.arg.use"))],
                reason: ReasonOpt, document: DocOpt = "", key: KeyOpt = None,
                db: DbOpt = None, actor: ActorOpt = None,
                role: RoleOpt = "fund_manager") -> None:
    with _ledger(db) as ledger, refused():
        code, use_id = _unit(ledger, unit), _use(ledger, use)
        posted = ledger.release(code, use_id, key=key or f"release:{code}:{use_id}:{reason}",
                                actor=_actor(actor), role=role, reason=reason,
                                document=document)
        _posted(posted, t("fund.cli.what.release", unit=code, use=use_id))


@fund_app.command("reverse", help=both("fund.cli.reverse.help"))
def reverse_cmd(entry: Annotated[int, typer.Argument(help=both("fund.cli.arg.entry"))],
                reason: ReasonOpt, document: DocOpt = "", key: KeyOpt = None,
                db: DbOpt = None, actor: ActorOpt = None,
                role: RoleOpt = "fund_manager") -> None:
    with _ledger(db) as ledger, refused():
        posted = ledger.reverse(entry, key=key or f"reverse:{entry}", actor=_actor(actor),
                                role=role, reason=reason, document=document)
        _posted(posted, t("fund.cli.what.reversal", entry=entry))


# ----------------------------------------------------------------------------- reads
@fund_app.command("balances", help=both("fund.cli.balances.help"))
def balances_cmd(db: DbOpt = None, every: Annotated[bool, typer.Option(
        "--all", help=both("fund.cli.opt.all"))] = False) -> None:
    with _ledger(db) as ledger, refused():
        frame = ledger.balances(nonzero=not every)
        sau = ledger.sources_and_uses()
        table = Table(title=escape(t("fund.cli.balances.title", name=ledger.fund().name)),
                      title_justify="left")
        for col in ("account", "kind", "normal", "balance"):
            table.add_column(t(f"fund.cli.col.{col}"), justify="right" if col == "balance"
                             else "left")
        rec: Any
        for rec in frame.to_dict("records"):
            table.add_row(escape(str(rec["account"])), t(f"fund.cli.kind.{rec['kind']}"),
                          t(f"fund.cli.normal.{rec['normal']}"), _yuan(int(rec["balance_fen"])))
        console.print(table)
        key = "fund.cli.balances.reconciles" if sau.reconciles else "fund.cli.balances.off"
        console.print(escape(t(key, contributed=_yuan(sau.contributed_fen),
                               disbursed=_yuan(sau.disbursed_fen), held=_yuan(sau.held_fen))))


@fund_app.command("statement", help=both("fund.cli.statement.help"))
def statement_cmd(account: Annotated[str | None, typer.Option("--account", help=both(
        "fund.cli.opt.account"), show_default=False)] = None,
        out: Annotated[Path | None, typer.Option("--out", "-o", help=both(
            "fund.cli.opt.csv"), show_default=False)] = None,
        last: Annotated[int, typer.Option("--last", help=both("fund.cli.opt.last"))] = 30,
        db: DbOpt = None) -> None:
    with _ledger(db) as ledger, refused():
        frame = ledger.statement(account)
        if out is not None:
            from cocity.outputs import write_csv

            write_csv(frame, out)
            console.print(escape(t("fund.cli.wrote", path=str(out))))
        table = Table(title=escape(t("fund.cli.statement.title", n=min(last, len(frame)),
                                     total=len(frame))), title_justify="left")
        cols = ["seq", "time", "kind", "actor", "account", "debit", "credit"]
        cols += ["balance"] if account else []
        for col in cols:
            table.add_column(t(f"fund.cli.col.{col}"),
                             justify="right" if col in ("seq", "debit", "credit", "balance")
                             else "left")
        r: Any
        for r in frame.tail(last).to_dict("records"):
            cells = [str(r["seq"]), str(r["time"])[:19], str(r["kind"]), escape(str(r["actor"])),
                     escape(str(r["account"])),
                     _yuan(int(r["debit_fen"])) if r["debit_fen"] else "",
                     _yuan(int(r["credit_fen"])) if r["credit_fen"] else ""]
            cells += [_yuan(int(r["balance_fen"]))] if account else []
            table.add_row(*cells)
        console.print(table)


@fund_app.command("requests", help=both("fund.cli.requests.help"))
def requests_cmd(status: Annotated[str | None, typer.Option("--status", help=both(
        "fund.cli.opt.status"), show_default=False)] = None, db: DbOpt = None) -> None:
    with _ledger(db) as ledger, refused():
        frame = ledger.requests(status=status)
        table = Table(title=escape(t("fund.cli.requests.title", n=len(frame))),
                      title_justify="left")
        cols = ["id", "unit", "use", "amount_fen", "status", "actor", "checker", "document"]
        for col in cols:
            table.add_column(t(f"fund.cli.col.{col}"),
                             justify="right" if col in ("id", "amount_fen") else "left")
        for r in frame.to_dict("records"):
            table.add_row(*(_yuan(int(r[c])) if c == "amount_fen" else escape(str(
                r.get(c) if r.get(c) is not None else "")) for c in cols))
        console.print(table)


@fund_app.command("verify", help=both("fund.cli.verify.help"))
def verify_cmd(db: DbOpt = None) -> None:
    with _ledger(db) as ledger, refused():
        problems = ledger.verify()
        seq, head = ledger.head()
        if not problems:
            console.print(escape(t("fund.cli.verify.ok", where=ledger.records.where, seq=seq,
                                   hash=head)))
            return
        err_console.print(escape(t("fund.cli.verify.bad", n=len(problems),
                                   where=ledger.records.where)))
        for p in problems:
            err_console.print(f"  [{escape(p.code)}] {escape(p.message)}")
    raise typer.Exit(1)


@fund_app.command("export", help=both("fund.cli.export.help"))
def export_cmd(out: Annotated[Path, typer.Option("--out", "-o", help=both(
        "fund.cli.opt.beancount"))] = Path("fund.beancount"), db: DbOpt = None) -> None:
    from cocity.fund.beancount import export_beancount

    with _ledger(db) as ledger, refused():
        path = export_beancount(ledger, out)
        console.print(escape(t("fund.cli.export.done", path=str(path))))


@fund_app.command("report", help=both("fund.cli.report.help"))
def report_cmd(out: OutDir = Path("cocity-fund"), db: DbOpt = None,
               pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help=both(
                   "fund.cli.opt.pdf"))] = True,
               workspace: Path | None = WorkspaceOpt) -> None:
    with _ledger(db) as ledger, refused():
        _report(ledger, out, pdf=pdf, workspace=workspace)


def _report(ledger: Ledger, out: Path, *, pdf: bool, workspace: Path | None) -> None:
    from cocity.datasets import open_store
    from cocity.fund.desk import latest_detail
    from cocity.report.fund_report import write_fund_report

    store = open_store(workspace, read_only=True)
    try:
        with progress_bar(bar=False) as bar:
            bar.add_task(t("fund.cli.step.report"), total=None)
            formats = ("html", "xlsx", "pdf") if pdf else ("html", "xlsx")
            write_fund_report(ledger, out=out, allocation=latest_detail(ledger), store=store,
                              formats=formats)
    finally:
        store.close()
    console.print(escape(t("fund.cli.report.done", path=str(out))))


@fund_app.command("demo", help=both("fund.cli.demo.help"))
def demo_cmd(out: OutDir = Path("cocity-fund"), db: DbOpt = None, run: RunOpt = None,
             pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help=both(
                 "fund.cli.opt.pdf"))] = True) -> None:
    from cocity.datasets import open_store
    from cocity.fund.demo import run_demo

    with _ledger(db, create=True) as ledger, refused():
        store = open_store()
        try:
            with progress_bar(bar=False) as bar:
                task = bar.add_task(t("fund.demo.step.open"), total=None)
                year = run_demo(ledger, store, run=run,
                                progress=lambda k: bar.update(task, description=t(k)))
        finally:
            store.close()
        lang = current_lang()
        console.print(f"[yellow]{escape(t('fund.demo.illustrative'))}[/]")
        console.print(escape(year.grades_how[lang]))
        for step in year.steps:
            console.print(f"• {escape(step[lang])}")
        _report(ledger, out, pdf=pdf, workspace=None)
        problems = ledger.verify()
        console.print(escape(t("fund.demo.verified" if not problems else "fund.demo.problems",
                               n=len(problems), where=ledger.records.where)))
