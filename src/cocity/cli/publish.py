"""``cocity publish``: sign evaluation runs (optional) and build the static public site.

Parses and prints only: signing is :func:`cocity.publish.editions.sign_edition`, the site is
:func:`cocity.publish.site.build_site`. A records store that does not exist is not created
unless something is signed; without one, or without a signed edition, the command refuses and
prints the exact command that signs.

Exit codes: 0 on success, 2 when a run, the records store, the workspace or the output folder
cannot be used (the message says which and what to do).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from cocity.cli import app, console, progress_bar, refused
from cocity.cli.workspace import WorkspaceOpt
from cocity.i18n import both, t

if TYPE_CHECKING:
    from cocity.records import Records

OutOpt = Annotated[Path, typer.Option("--out", "-o", help=both("publish.cli.opt.out"))]
DbOpt = Annotated[str | None, typer.Option("--db", help=both("publish.cli.opt.db"),
                                           show_default=False)]
RunsOpt = Annotated[Path, typer.Option("--runs", help=both("publish.cli.opt.runs"))]
SignOpt = Annotated[str | None, typer.Option("--sign", help=both("publish.cli.opt.sign"),
                                             show_default=False)]
EvaluatorOpt = Annotated[str | None, typer.Option("--evaluator",
                                                  help=both("publish.cli.opt.evaluator"),
                                                  show_default=False)]
StatementOpt = Annotated[str, typer.Option("--statement", help=both("publish.cli.opt.statement"))]
ActorOpt = Annotated[str | None, typer.Option("--actor", help=both("govern.cli.opt.actor"),
                                              show_default=False)]
DiagOpt = Annotated[bool, typer.Option("--diagnostics/--no-diagnostics",
                                       help=both("publish.cli.opt.diagnostics"))]


def _sign_command(runs: Path, db: str | None) -> str:
    words = ["cocity", "publish", "--sign", "latest", "--evaluator", "评价机构名称"]
    if runs != Path("cocity-evaluate"):
        words += ["--runs", str(runs)]
    if db:
        words += ["--db", db]
    return shlex.join(words)


def _to_sign(sign: str, runs: Path) -> list[Path]:
    """The run folders ``--sign`` names: ``latest`` (the newest run of each year), a folder,
    or a run id under ``runs/runs/``."""
    from cocity.evaluate.runs import registry
    from cocity.publish.editions import EditionError

    if sign == "latest":
        newest: dict[int, Path] = {}
        for record in registry(runs):
            newest[record.year] = record.path  # oldest created first: the last one wins
        if not newest:
            raise EditionError("publish.err.no_runs", root=str(runs))
        return [newest[y] for y in sorted(newest)]
    for folder in (Path(sign), runs / "runs" / sign):
        if folder.is_dir():
            return [folder]
    raise EditionError("publish.err.no_run_year", run=sign, root=str(runs))


def _open_records(db: str | None, create: bool) -> Records | None:
    from cocity.records import DEFAULT_FILE, open_records

    target = db or os.environ.get("COCITY_RECORDS") or None
    if (target is None or "://" not in target) and not create and not Path(
            target or DEFAULT_FILE).exists():
        return None
    return open_records(target)


@app.command("publish", help=both("publish.cli.help"))
def publish(out: OutOpt = Path("cocity-site"), db: DbOpt = None,
            runs: RunsOpt = Path("cocity-evaluate"), workspace: Path | None = WorkspaceOpt,
            sign: SignOpt = None, evaluator: EvaluatorOpt = None, statement: StatementOpt = "",
            actor: ActorOpt = None, diagnostics: DiagOpt = True) -> None:
    """Sign evaluation runs (``--sign``) and build the static public site."""
    with refused():
        from cocity.datasets import open_store
        from cocity.publish.editions import EditionError, editions, sign_edition
        from cocity.publish.site import build_site
        from cocity.records import default_actor

        if sign is not None and not (evaluator or "").strip():
            raise EditionError("publish.err.sign_evaluator")
        folders = _to_sign(sign, runs) if sign is not None else []
        records = _open_records(db, create=sign is not None)
        try:
            if sign is not None:
                assert records is not None and evaluator is not None
                for folder in folders:
                    ed = sign_edition(records, folder, evaluator=evaluator,
                                      statement=statement, actor=actor or default_actor())
                    console.print(escape(t("publish.cli.signed", year=ed.year, run=ed.run_id,
                                           evaluator=ed.evaluator)))
            if records is None or not editions(records):
                from cocity.records import DEFAULT_FILE

                raise EditionError("publish.err.no_editions",
                                   db=getattr(records, "where", None) or db or DEFAULT_FILE,
                                   command=_sign_command(runs, db))
            store = open_store(workspace, read_only=True) if workspace else open_store()
            try:
                result = _build(build_site, store, records, out, runs, diagnostics)
            finally:
                store.close()
        finally:
            if records is not None:
                records.close()
    console.print(escape(t("publish.cli.done", pages=result.pages, files=result.files,
                           changed=result.changed,
                           years=", ".join(str(y) for y in result.years))), soft_wrap=True)
    if result.diagnostics_s:
        console.print(escape(f"{t('publish.cli.step.diagnostics')}: "
                             f"{result.diagnostics_s:.1f} s"))
    console.print(escape(t("publish.cli.open", path=str(result.home.resolve()))),
                  soft_wrap=True)


def _build(build_site: Any, store: Any, records: Any, out: Path, runs: Path,
           diagnostics: bool) -> Any:
    with progress_bar(counts=True) as bar:
        task = bar.add_task(t("publish.cli.step.read"), total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=t(f"publish.cli.step.{stage}"), completed=done,
                       total=total or None)

        return build_site(out=out, store=store, records=records, runs_root=runs,
                          progress=progress, diagnostics=diagnostics)
