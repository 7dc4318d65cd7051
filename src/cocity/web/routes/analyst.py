"""The analyst's pages: upload observations (CSV/XLSX) into the workspace through the same
importer as ``cocity import observations`` (every problem shown, nothing half-imported), upload
a survey file (validated with :func:`cocity.evaluate.survey.read_survey`), and run a DRAFT
evaluation.

Draft evaluations run synchronously in the request (the page answers when the run folder is
written), with at most :data:`MAX_REPLICATIONS` uncertainty replications and without PDFs
— a few seconds on the embedded data; the full yearly run with thousands of replications is
``cocity evaluate``. The run is saved with :func:`cocity.evaluate.runs.save_run` into
``runs_root`` exactly as the command saves it, and stays a draft until an evaluator signs it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from cocity.data.errors import CocityError
from cocity.web.deps import Principal, audit, csrf_form, portal, render, require
from cocity.web.errors import PortalError, Refusal, Shown
from cocity.web.roles import ANALYST, EVALUATOR

router = APIRouter(prefix="/analyst")
NAV = [("/analyst", "web.nav.analyst", (ANALYST,))]
ANALYST_DEP = Depends(require(ANALYST))
MAX_REPLICATIONS = 50
LEVELS = ("prefecture", "county")  # the levels of the default framework (one, or both)
SURVEY_META = ".json"


def _surveys(root: Path) -> list[dict[str, Any]]:
    folder = root / "surveys"
    if not folder.is_dir():
        return []
    metas = [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")]
    return sorted(metas, key=lambda m: m["at"], reverse=True)


def _page(request: Request, *, error: Any = None,
          issues: list[str] | None = None, done: str | None = None,
          status: int = 200) -> Response:
    from cocity.web.runs_view import run_rows

    state = portal(request)
    return render(request, "analyst/home.html", {
        "workspace": state.workspace, "surveys": _surveys(state.settings.uploads_dir),
        "runs": run_rows(state.records, state.runs_root), "error": error,
        "issues": issues or [], "done": done, "max_replications": MAX_REPLICATIONS},
        status=status)


def _refused(request: Request, exc: CocityError, upload: Any = None) -> Response:
    if isinstance(exc, PortalError):
        return _page(request, error=exc, status=exc.status)
    shown = Shown(exc)  # its message lists every problem of an IssuesError already
    if upload is not None:  # the file as the user named it, never where the portal keeps it
        for attr in ("zh", "en"):
            text = getattr(shown, attr).replace(str(upload.path), upload.name)
            setattr(shown, attr, text.replace(upload.path.name, upload.name))
    return _page(request, error=shown, status=400)


@router.get("", response_class=HTMLResponse)
def home(request: Request, who: Annotated[Principal, ANALYST_DEP],
         done: str | None = None) -> Response:
    return _page(request, done=done if done in ("import", "survey") else None)


def _year(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 1900 <= int(text) <= 2100:
        raise PortalError("web.err.year", value=text[:20])
    return int(text)


@router.post("/observations", response_class=HTMLResponse)
async def upload_observations(
        request: Request, who: Annotated[Principal, ANALYST_DEP],
        form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    from starlette.concurrency import run_in_threadpool

    from cocity.web.uploads import receive

    state = portal(request)
    upload = None
    try:
        if state.workspace is None:
            raise PortalError("web.err.no_workspace")
        layout = str(form.get("form") or "auto")
        if layout not in ("auto", "long", "wide"):
            raise PortalError("web.err.choice", field="form", value=layout[:20])
        year = _year(str(form.get("year") or ""))
        replace = form.get("replace") == "on"
        upload = await receive(form.get("file"), kind="observations",
                               root=state.settings.uploads_dir,
                               max_bytes=state.settings.policy.upload.max_bytes)
        result = await run_in_threadpool(_import, state.workspace, upload.path, layout, year,
                                         replace, upload.name, state.jobs)
    except CocityError as exc:
        return _refused(request, exc, upload)
    audit(request, who, action="data.import", target=upload.name,
          detail={"sha256": upload.sha256, "bytes": upload.size, "form": result.form,
                  "records": result.records, "added": result.added,
                  "changed": result.changed, "replace": replace})
    return RedirectResponse("/analyst?done=import", status_code=303)


def _import(workspace: Path, path: Path, layout: str, year: int | None, replace: bool,
            name: str, jobs: Any) -> Any:
    from cocity.data.importers import import_observations
    from cocity.data.store import Store

    with jobs:
        store = Store.open(workspace)
        try:
            return import_observations(store, path, form=layout, year=year, replace=replace,
                                       source=name)
        finally:
            store.close()


@router.post("/survey", response_class=HTMLResponse)
async def upload_survey(request: Request, who: Annotated[Principal, ANALYST_DEP],
                        form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    from starlette.concurrency import run_in_threadpool

    from cocity.web.auditlog import stamp
    from cocity.web.uploads import receive

    state = portal(request)
    upload = None
    try:
        year = _year(str(form.get("year") or ""))
        if year is None:
            raise PortalError("web.err.year", value="")
        upload = await receive(form.get("file"), kind="surveys",
                               root=state.settings.uploads_dir,
                               max_bytes=state.settings.policy.upload.max_bytes)
        respondents = await run_in_threadpool(_check_survey, state.workspace, upload.path,
                                              year, state.jobs)
    except CocityError as exc:
        return _refused(request, exc, upload)
    meta = {"id": upload.sha256, "name": upload.name, "year": year,
            "respondents": respondents, "file": upload.path.name, "by": who.login,
            "at": stamp()}
    from cocity.outputs import write_json

    write_json(meta, upload.path.with_suffix(SURVEY_META))
    audit(request, who, action="survey.upload", target=upload.name,
          detail={"sha256": upload.sha256, "year": year, "respondents": respondents})
    return RedirectResponse("/analyst?done=survey", status_code=303)


def _store(workspace: Path | None) -> Any:
    from cocity.datasets import open_store

    return open_store(workspace, read_only=True)


def _check_survey(workspace: Path | None, path: Path, year: int, jobs: Any) -> int:
    from cocity.evaluate.survey import read_survey

    with jobs:
        store = _store(workspace)
        try:
            survey = read_survey(path, store, year=year)
        finally:
            store.close()
    return len(survey.responses)


@router.post("/evaluate", response_class=HTMLResponse)
def run_draft(request: Request, who: Annotated[Principal, ANALYST_DEP],
              year: Annotated[str, Form(max_length=10)] = "",
              replications: Annotated[str, Form(max_length=10)] = "8",
              survey: Annotated[str, Form(max_length=64)] = "",
              level: Annotated[str, Form(max_length=20)] = "") -> Response:
    state = portal(request)
    try:
        yr = _year(year)
        reps_text = replications.strip() or "0"
        if not reps_text.isdigit() or int(reps_text) > MAX_REPLICATIONS:
            raise PortalError("web.err.replications", value=reps_text[:20],
                              max=MAX_REPLICATIONS)
        chosen = next((m for m in _surveys(state.settings.uploads_dir)
                       if m["id"] == survey), None) if survey else None
        if survey and chosen is None:
            raise PortalError("web.err.survey_unknown")
        if level not in ("", *LEVELS):
            raise PortalError("web.err.choice", field="level", value=level[:20])
        record = _evaluate(state, yr, int(reps_text), chosen, [level] if level else None)
    except CocityError as exc:
        return _refused(request, exc)
    audit(request, who, action="evaluate.draft", target=record.id,
          detail={"year": record.year, "replications": int(reps_text),
                  "survey": chosen["id"] if chosen else None, "level": level or "all",
                  "status": record.status})
    return RedirectResponse(f"/analyst/runs/{record.id}", status_code=303)


def _evaluate(state: Any, year: int | None, replications: int,
              survey: dict[str, Any] | None, levels: list[str] | None) -> Any:
    from cocity.evaluate.framework import load_framework
    from cocity.evaluate.run import evaluate
    from cocity.evaluate.runs import latest, previous_run, save_run
    from cocity.evaluate.survey import read_survey
    from cocity.report.evaluate_report import write_run_outputs

    fw = load_framework(None)
    year_ = fw.year if year is None else year
    fw.edition(year_)  # an unknown year is refused before anything runs
    with state.jobs:
        store = _store(state.workspace)
        try:
            sv = None
            if survey is not None:
                if survey["year"] != year_:
                    raise PortalError("web.err.survey_year", survey=survey["year"], year=year_)
                path = state.settings.uploads_dir / "surveys" / survey["file"]
                sv = read_survey(path, store, year=year_)
            prev = None
            if fw.previous is not None and fw.previous < year_:
                found = latest(state.runs_root, fw.previous, fw.sha256)
                prev = previous_run(found) if found is not None else None
            ev = evaluate(fw, store, year=year_, survey=sv, replications=replications,
                          previous=prev, levels=levels)
            return save_run(ev, state.runs_root,
                            lambda e, folder: write_run_outputs(e, folder, pdf=False))
        finally:
            store.close()


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str,
             who: Annotated[Principal, Depends(require(ANALYST, EVALUATOR))]) -> Response:
    from cocity.web.runs_view import find_run, summary

    state = portal(request)
    row = find_run(state.records, state.runs_root, run_id)
    if row is None:
        raise Refusal(404, "web.err.not_found")
    return render(request, "analyst/run.html", {"run": row,
                                                "levels": summary(row, request.state.lang)})
