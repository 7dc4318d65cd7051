"""``cocity evaluate``: the yearly public-service evaluation (公共服务评价) of the circle.

Runs the framework's evaluation year on a workspace (default: the embedded dataset), after the
framework's previous edition when no run of that year is stored yet, writes both as immutable
run folders under ``--out`` and prints a summary and the report's path.

Exit codes: 0 on success, 2 when the framework, the survey, the data or a parameter cannot be
used (the message says which and what to do).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cocity.cli import app, console, progress_bar, refused
from cocity.cli.executor_opts import Execution, ExecutorOpt, SchedulerOpt, WorkersOpt
from cocity.cli.workspace import WorkspaceOpt
from cocity.i18n import both, current_lang, t

if TYPE_CHECKING:
    from cocity.data.store import Store

FrameworkOpt = Annotated[str | None, typer.Option(
    "--framework", "-f", help=both("eval.cli.opt.framework"), show_default=False)]
YearOpt = Annotated[int | None, typer.Option("--year", "-y", help=both("eval.cli.opt.year"),
                                             show_default=False)]
SurveyOpt = Annotated[Path | None, typer.Option("--survey", help=both("eval.cli.opt.survey"),
                                                show_default=False)]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help=both("eval.cli.opt.out"))]
RepsOpt = Annotated[int | None, typer.Option("--replications", "-r",
                                             help=both("eval.cli.opt.replications"),
                                             show_default=False)]
SeedOpt = Annotated[int | None, typer.Option("--seed", help=both("eval.cli.opt.seed"),
                                             show_default=False)]
LevelOpt = Annotated[list[str] | None, typer.Option("--level", help=both("eval.cli.opt.level"),
                                                    show_default=False)]
PrevOpt = Annotated[bool, typer.Option("--previous/--no-previous",
                                       help=both("eval.cli.opt.previous"))]
PdfOpt = Annotated[bool, typer.Option("--pdf/--no-pdf", help=both("eval.cli.opt.pdf"))]
HistoryOpt = Annotated[bool, typer.Option("--history", help=both("eval.cli.opt.history"))]
RenderOpt = Annotated[int, typer.Option("--render-workers", help=both("eval.fast.opt.render"),
                                        min=0)]
DateOpt = Annotated[str | None, typer.Option("--publication-date",
                                             help=both("eval.cli.opt.date"),
                                             show_default=False)]


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        from cocity.evaluate.errors import EvaluationError

        raise EvaluationError(t("eval.err.date", value=text)) from None


@app.command(help=both("eval.cli.help"))
def evaluate(
    framework: FrameworkOpt = None,
    year: YearOpt = None,
    survey: SurveyOpt = None,
    workspace: Path | None = WorkspaceOpt,
    out: OutOpt = Path("cocity-evaluate"),
    replications: RepsOpt = None,
    seed: SeedOpt = None,
    level: LevelOpt = None,
    previous: PrevOpt = True,
    pdf: PdfOpt = True,
    publication_date: DateOpt = None,
    history: HistoryOpt = False,
    workers: WorkersOpt = 1,
    executor: ExecutorOpt = None,
    scheduler: SchedulerOpt = None,
    render_workers: RenderOpt = 1,
) -> None:
    """The yearly public-service evaluation of the circle."""
    from cocity.datasets import open_store
    from cocity.evaluate.framework import load_framework, workspace_framework
    from cocity.report.background import Background

    lang = current_lang()
    if history:
        _print_history(out, lang)
        return
    warnings: list[str] = []
    with refused():
        execution = Execution(executor, scheduler, workers).kwargs()  # refused before any work
        fw = load_framework(framework if framework is not None
                            else workspace_framework(workspace))
        pub = _date(publication_date)
        if replications is not None and replications < 0:
            from cocity.evaluate.errors import EvaluationError

            raise EvaluationError(t("eval.err.replications", value=replications))
        store = open_store(workspace, read_only=True)
        try:
            with progress_bar(counts=True) as bar, \
                    Background(render_workers, prepare=_load_writers(pdf)).start() as background:
                task = bar.add_task(t("eval.cli.step.framework"), total=None)

                def progress(stage: str, done: int, total: int) -> None:
                    kind, _, lv = stage.partition(":")
                    name = fw.level_label(lv, lang) if lv in fw.doc["levels"] else lv
                    label = t(f"eval.cli.step.{kind}", level=name)
                    bar.update(task, description=label, completed=done,
                               total=total or None)

                year_ = fw.year if year is None else year
                fw.edition(year_)  # an unknown year is refused before anything runs
                sv = _read_survey(survey, store, year_) if survey else None
                job = _Job(fw, store, out, replications, seed, level, pdf, progress, warnings,
                           execution, background)
                record, prev_record = job.run(year_, sv, pub, previous)
        finally:
            store.close()
    _print_summary(record, prev_record, lang, warnings)


def _load_writers(pdf: bool) -> Callable[[], None]:
    """What the background workers load as they start, while this process computes."""
    def load() -> None:
        import xlsxwriter  # noqa: F401

        if pdf:
            from cocity.report.pdf import load_engine, pdf_possible

            if pdf_possible(True, []):
                load_engine()
    return load


def _read_survey(path: Path, store: Store, year: int) -> Any:
    from cocity.evaluate.survey import read_survey

    return read_survey(path, store, year=year)


class _Job:
    """The editions of one ``cocity evaluate``: the previous edition (when it has no stored run)
    is computed first and its slow files (PDFs, workbooks) are written in the background while
    the evaluation year is computed, from the previous run's tables already on disk."""

    def __init__(self, fw: Any, store: Store, out: Path, replications: int | None,
                 seed: int | None, levels: list[str] | None, pdf: bool,
                 progress: Callable[[str, int, int], None], warnings: list[str],
                 execution: dict[str, Any], background: Any) -> None:
        self.fw, self.store, self.out = fw, store, out
        self.replications, self.seed, self.levels, self.pdf = replications, seed, levels, pdf
        self.progress, self.warnings = progress, warnings
        self.execution, self.background = execution, background

    def run(self, year: int, survey: Any, pub: dt.date | None, previous: bool
            ) -> tuple[Any, Any]:
        """The run of ``year`` and that of the previous edition (None without one)."""
        from cocity.evaluate.runs import latest, previous_run

        fw = self.fw
        prev_record = prev_pending = prev = None
        if previous and fw.previous is not None and fw.previous < year:
            prev_record = latest(self.out, fw.previous, fw.sha256)
            if prev_record is not None:
                prev = previous_run(prev_record)
            else:
                prev_pending = self._start(fw.previous, None, None, None)
        try:
            if prev_pending is not None:
                prev = prev_pending.previous()
            pending = self._start(year, survey, pub, prev)
            try:
                self.background.help()  # nothing left to compute: write files here too
                if prev_pending is not None:
                    prev_record = self._finish(prev_pending)
                    prev_pending = None
                record = self._finish(pending)
            except BaseException:
                pending.discard()
                raise
        except BaseException:
            if prev_pending is not None:
                prev_pending.discard()
            raise
        return record, prev_record

    def _start(self, year: int, survey: Any, pub: dt.date | None, prev: Any) -> Any:
        from cocity.evaluate.run import evaluate as run_evaluation
        from cocity.evaluate.runs import start_run
        from cocity.report.evaluate_report import start_run_outputs

        ev = run_evaluation(self.fw, self.store, year=year, survey=survey,
                            replications=self.replications, seed=self.seed, previous=prev,
                            publication_date=pub, levels=self.levels, progress=self.progress,
                            **self.execution)
        self.progress("write:", 0, 0)

        def write(e: Any, folder: Path) -> Any:
            return start_run_outputs(e, folder, pdf=self.pdf, warnings=self.warnings,
                                     background=self.background)

        return start_run(ev, self.out, write)

    def _finish(self, pending: Any) -> Any:
        self.progress("write:", 0, 0)
        record = pending.finish()
        if record.status == "repaired":
            self.warnings.append(t("eval.cli.term.repaired_files", files=", ".join(
                f"{f} ({t('eval.file.' + why)})" for f, why in record.repaired)))
        return record


def _print_summary(record: Any, prev_record: Any, lang: str, warnings: list[str]) -> None:
    import json

    doc = json.loads(record.file("json").read_text(encoding="utf-8"))
    table = Table(title=escape(t("eval.cli.term.title", lang, year=record.year)),
                  title_justify="left")
    codes = list(doc["grade_labels"])
    for key in ("level", "units", *codes, "uncertain", "top"):
        label = (doc["grade_labels"][key][lang] if key in codes
                 else t(f"eval.cli.term.col.{key}", lang))
        table.add_column(label, justify="left" if key in ("level", "top") else "right",
                         overflow="fold")
    for lv in doc["levels"]:
        counts = lv["grade_counts"]
        top = lv["top"][:3]
        table.add_row(escape(lv[f"name_{lang}"]), str(lv["units"]),
                      *(str(counts.get(g, 0)) for g in codes),
                      str(lv["uncertain"]) if lv["replications"] else "—",
                      escape("、".join(u[f"name_{lang}"] for u in top) if lang == "zh"
                             else ", ".join(u[f"name_{lang}"] for u in top)))
    console.print(table)
    for lv in doc["levels"]:
        console.print(escape(t("eval.cli.term.units", lang, level=lv[f"name_{lang}"],
                               n=lv["units"], total=lv["units_in_data"], membership=" + ".join(
                                   t(f"eval.cli.term.membership.{m}", lang)
                                   for m in lv["membership"]))), soft_wrap=True)
        if lv.get("grade_counts_without_survey"):
            counts = lv["grade_counts_without_survey"]
            console.print(escape(t("eval.cli.term.without_survey", lang,
                                   level=lv[f"name_{lang}"], counts=" / ".join(
                                       str(counts.get(g, 0)) for g in codes))),
                          soft_wrap=True)
    from cocity.report.provenance import data_sentence, survey_sentence

    prov = doc["provenance"]
    console.print(escape(data_sentence(prov, lang)), soft_wrap=True)
    if prov.get("imports"):
        from cocity.report.provenance import import_lines

        for line in import_lines(prov, lang):
            console.print(f"  · {escape(line)}", soft_wrap=True)
    style = "[yellow]※ " if doc.get("simulated_survey") else ""
    console.print(f"{style}{escape(survey_sentence(prov.get('survey'), lang))}"
                  f"{'[/]' if style else ''}", soft_wrap=True)
    for note in doc["notes"]:
        if note["kind"] in ("warning", "replications"):
            console.print(escape(note[lang]), soft_wrap=True)
    for text in warnings:
        console.print(f"[yellow]{t('cli.warning', lang)}: {escape(text)}[/]", soft_wrap=True)
    state = t(f"eval.cli.term.{record.status}", lang)
    console.print(f"{t('eval.cli.term.run', lang)}: {escape(record.id)} ({state})")
    if prev_record is not None:
        console.print(f"{t('eval.cli.term.previous', lang)}: {escape(prev_record.id)}")
    html = record.file("html")
    console.print(f"{t('eval.cli.term.report', lang)}: [green]{escape(str(html))}[/]",
                  soft_wrap=True)
    key = "pdf" if lang == "zh" else f"pdf:{lang}"
    if key in record.outputs:
        console.print(f"PDF: {escape(str(record.file(key)))}", soft_wrap=True)
    console.print(f"{t('eval.cli.term.folder', lang)}: {escape(str(record.path))}",
                  soft_wrap=True)


def _print_history(out: Path, lang: str) -> None:
    """The stored runs under ``out``, oldest year first."""
    from cocity.evaluate.runs import registry

    runs = registry(out)
    if not runs:
        console.print(t("eval.cli.term.no_runs", lang, folder=str(out)))
        return
    table = Table(title=escape(t("eval.cli.term.history", lang, folder=str(out))),
                  title_justify="left")
    for key in ("run", "year", "created", "framework", "survey", "replications"):
        table.add_column(t(f"eval.cli.term.h.{key}", lang), overflow="fold")
    for r in runs:
        m = r.manifest
        sv = m["provenance"].get("survey", {})
        survey = (t("eval.r.simulated_tag", lang) if sv.get("simulated")
                  else str(sv.get("source") or "—"))
        reps = m["config"]["replications"]
        ran = max(reps["run"].values(), default=0)
        table.add_row(escape(r.id), str(r.year), m["created_utc"],
                      escape(f"{m['framework']['source']} ({m['framework']['sha256'][:10]})"),
                      escape(survey), f"{ran:,} ({reps['asked']:,})")
    console.print(table)
