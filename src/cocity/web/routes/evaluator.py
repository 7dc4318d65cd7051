"""The third-party evaluator's pages: every stored run with its status (draft / signed / in
force), and signing one as its year's edition and publishing the site — P's
:func:`cocity.publish.editions.sign_edition` (which re-hashes the run against its manifest and
refuses an edited run) then :func:`cocity.publish.site.build_site` into ``site_dir``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cocity.data.errors import CocityError
from cocity.web.deps import Principal, audit, portal, render, require
from cocity.web.errors import PortalError, Refusal, Shown
from cocity.web.roles import EVALUATOR

router = APIRouter(prefix="/evaluator")
NAV = [("/evaluator", "web.nav.evaluator", (EVALUATOR,))]
EVALUATOR_DEP = Depends(require(EVALUATOR))


def _page(request: Request, *, error: Any = None, done: str | None = None,
          status: int = 200) -> Response:
    from cocity.web.runs_view import run_rows

    state = portal(request)
    return render(request, "evaluator/home.html",
                  {"runs": run_rows(state.records, state.runs_root), "error": error,
                   "done": done}, status=status)


@router.get("", response_class=HTMLResponse)
def home(request: Request, who: Annotated[Principal, EVALUATOR_DEP],
         done: str | None = None) -> Response:
    return _page(request, done=done if done == "published" else None)


@router.post("/runs/{run_id}/sign", response_class=HTMLResponse)
def sign(request: Request, run_id: str, who: Annotated[Principal, EVALUATOR_DEP],
         evaluator: Annotated[str, Form(max_length=200)] = "",
         statement: Annotated[str, Form(max_length=4000)] = "") -> Response:
    from cocity.web.runs_view import find_run

    state = portal(request)
    row = find_run(state.records, state.runs_root, run_id)
    if row is None:
        raise Refusal(404, "web.err.not_found")
    try:
        if not evaluator.strip():
            raise PortalError("web.err.evaluator_missing")
        with state.jobs:
            edition = _sign(state, row.path, evaluator, statement, who.login)
            # the signature is recorded: audit it before the site is built
            audit(request, who, action="edition.sign", target=run_id,
                  detail={"year": edition.year, "edition": edition.id,
                          "evaluator": edition.evaluator,
                          "manifest_sha256": edition.manifest_sha256})
            site = _publish(state)
    except PortalError as exc:
        return _page(request, error=exc, status=exc.status)
    except CocityError as exc:
        return _page(request, error=Shown(exc), status=400)
    audit(request, who, action="site.publish", target=str(state.site_dir.name), detail=site)
    return RedirectResponse("/evaluator?done=published", status_code=303)


def _sign(state: Any, folder: Any, evaluator: str, statement: str, actor: str) -> Any:
    from cocity.publish.editions import sign_edition

    return sign_edition(state.records, folder, evaluator=evaluator, statement=statement,
                        actor=actor, role=EVALUATOR)


def _publish(state: Any) -> dict[str, Any]:
    """The site rebuilt into ``site_dir`` from the editions in force."""
    from cocity.datasets import open_store
    from cocity.publish.site import build_site

    store = open_store(state.workspace, read_only=True)
    try:
        result = build_site(out=state.site_dir, store=store, records=state.records,
                            runs_root=state.runs_root)
    finally:
        store.close()
    return _site_facts(result)


def _site_facts(result: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    from cocity.outputs import jsonable

    facts = asdict(result) if is_dataclass(result) and not isinstance(result, type) else {}
    return {k: jsonable(v) for k, v in facts.items()}
