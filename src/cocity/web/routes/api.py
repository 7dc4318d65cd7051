"""The public JSON API (``/api/v1``) and its OpenAPI document (``/api/openapi.json``; no
Swagger UI: it would load scripts from a CDN).

The documents are built by P's pure functions of :mod:`cocity.publish.api` from the editions
in force — the very functions that write the static site's ``api/v1/*.json`` files — so the
API and the published files say the same. Each path also answers with a ``.json`` suffix, so
the paths written in the static documents (``api/v1/editions/2020.json``) work here too.

Endpoints: ``/api/v1/editions`` (the editions in force with their signatures),
``/api/v1/editions/{year}`` (one edition: rankings with intervals, grades, reward and
rectification lists), ``/api/v1/units`` (every evaluated unit), ``/api/v1/units/{code}`` (one
unit across the editions). Unknown years and units are 404 with a bilingual message.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from cocity.web.deps import Principal, portal, require
from cocity.web.errors import Refusal
from cocity.web.roles import PUBLIC

router = APIRouter(prefix="/api")
PUBLIC_DEP = Depends(require(PUBLIC))
Who = Annotated[Principal, PUBLIC_DEP]


def published(request: Request) -> tuple[list[Any], list[Any]]:
    """The editions in force as :class:`cocity.publish.sources.Published` (cached until the
    signatures change) and the whole signature history."""
    from cocity.publish.editions import edition_history
    from cocity.publish.sources import load_published

    state = portal(request)
    history = edition_history(state.records)
    in_force: dict[int, Any] = {}
    for ed in history:
        in_force[ed.year] = ed
    chosen = [in_force[y] for y in sorted(in_force)]
    key = "published:" + ",".join(f"{e.id}:{e.manifest_sha256}" for e in chosen)
    with state.cache_lock:
        found = state.cache.get(key)
        if found is None:
            found = [load_published(e, state.runs_root) for e in chosen]
            state.cache.clear()
            state.cache[key] = found
    return found, history


def _year(text: str) -> int:
    text = text.removesuffix(".json")
    if not text.isdigit() or len(text) != 4:
        raise Refusal(404, "web.err.not_found")
    return int(text)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, who: Who) -> JSONResponse:
    """This API's OpenAPI document."""
    return JSONResponse(request.app.openapi())


@router.get("/v1/editions", summary="The editions in force / 现行评价版次")
@router.get("/v1/editions.json", include_in_schema=False)
def editions(request: Request, who: Who) -> JSONResponse:
    """The editions in force, oldest first: year, signature (evaluator, when, manifest hash),
    framework, grade counts per level, whether the survey is simulated, and the signatures
    each superseded."""
    from cocity.publish.api import editions_index

    found, history = published(request)
    return JSONResponse(editions_index(found, history=history))


@router.get("/v1/editions/{year}", summary="One edition / 一个评价版次")
def edition(year: str, request: Request, who: Who) -> JSONResponse:
    """One edition in force (``year``, optionally ``2020.json``): per level the ranking with
    score and rank intervals, grades, reward and rectification lists with obstacles and
    deadlines."""
    from cocity.publish.api import edition_document

    wanted = _year(year)
    found, history = published(request)
    pub = next((p for p in found if p.year == wanted), None)
    if pub is None:
        raise Refusal(404, "web.err.no_edition", year=wanted)
    return JSONResponse(edition_document(pub, history=history))


@router.get("/v1/units", summary="The evaluated units / 评价单元")
@router.get("/v1/units.json", include_in_schema=False)
def units(request: Request, who: Who) -> JSONResponse:
    """Every unit an edition in force evaluated: code, names, level, parent, years, newest
    grade."""
    from cocity.publish.api import units_index

    found, _ = published(request)
    return JSONResponse(units_index(found))


@router.get("/v1/units/{code}", summary="One unit across the editions / 一个单元的历次评价")
def unit(code: str, request: Request, who: Who) -> JSONResponse:
    """One unit (GB/T 2260 code, optionally ``510100.json``) across the editions in force:
    score, rank, interval, grade, lists and largest obstacles per edition."""
    from cocity.publish.api import unit_document

    plain = code.removesuffix(".json")
    if not plain.isdigit() or len(plain) > 12:
        raise Refusal(404, "web.err.not_found")
    found, _ = published(request)
    doc = unit_document(plain, found)
    if doc is None:
        raise Refusal(404, "web.err.no_unit", code=plain)
    return JSONResponse(doc)
