"""The portal's FastAPI application: ``create_app(settings)``.

Routers are plain ``APIRouter``s in ``cocity/web/routes/<area>.py`` listed in
:data:`ROUTE_MODULES` (a module not present yet is skipped — the fund and committee pages are
another part's); each may expose ``NAV``, its menu entries ``(path, label key, roles)``. The
public site's catch-all route comes last. There is no Swagger UI (it loads scripts from a CDN):
the OpenAPI document is served as JSON at ``/api/openapi.json``.

Errors become pages (or JSON under ``/api/``) showing the message in Chinese and English:
HTTP refusals (:class:`cocity.web.errors.Refusal`), the portal's own
(:class:`cocity.web.errors.PortalError`), any other :class:`CocityError` (400) and invalid
request fields (422).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from cocity.data.errors import CocityError
from cocity.i18n import t, use_lang
from cocity.records import RecordsError, open_records
from cocity.web.deps import NavItem, Portal, Require, current_principal, render
from cocity.web.errors import PortalError, Refusal
from cocity.web.session import PortalMiddleware
from cocity.web.settings import Settings, secret_key

ROUTE_MODULES = ("auth", "home", "admin", "analyst", "evaluator", "fund", "govern", "whatif",
                 "api", "site")


@dataclass(frozen=True)
class RouteRule:
    """One route of the app as the role × route matrix sees it."""

    path: str
    methods: frozenset[str]
    rule: Require | None  # None: the route declares no roles (a test fails on it)
    route: BaseRoute


def rule_of(route: BaseRoute) -> Require | None:
    """The ``require(...)`` rule among the route's dependencies (searched recursively)."""
    if not isinstance(route, APIRoute):
        return None
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop(0)
        if isinstance(dep.call, Require):
            return dep.call
        stack.extend(dep.dependencies)
    return None


def route_table(app: FastAPI) -> list[RouteRule]:
    """Every route of ``app`` with its full path, methods and roles (routers included with
    ``include_router`` are walked into)."""
    out = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        methods = frozenset(getattr(route, "methods", None) or ())
        out.append(RouteRule(path=str(ctx.path or getattr(route, "path", "")), methods=methods,
                             rule=rule_of(route), route=route))
    return out


def roles_table(app: FastAPI) -> str:
    """The role × route table of ``app`` as Markdown (docs/portal.md holds it; a test checks
    that it is the app's): one row per route, ✓ where the role may call it."""
    from cocity.web.roles import PUBLIC, ROLES

    columns = [PUBLIC, *ROLES]
    lines = ["| method | route | " + " | ".join(columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for entry in route_table(app):
        roles = entry.rule.roles if entry.rule is not None else frozenset()
        marks = ["✓" if PUBLIC in roles or c in roles else "" for c in columns]
        lines.append(f"| {', '.join(sorted(entry.methods))} | `{entry.path}` | "
                     + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"


def _templates() -> Jinja2Templates:
    folder = str(resources.files("cocity.web") / "templates")
    env = Environment(loader=FileSystemLoader(folder), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return Jinja2Templates(env=env)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The portal on ``settings`` (its records database is opened — and created or migrated —
    now, and closed when the app shuts down)."""
    settings = settings or Settings()
    records = open_records(settings.records)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        records.close()

    app = FastAPI(title="cocity portal", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None,
                  description="cocity 公开门户 / the cocity public portal: published "
                              "evaluation editions as JSON (docs/portal.md)")
    nav: list[NavItem] = []
    for name in ROUTE_MODULES:
        module_name = f"cocity.web.routes.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        # only the JSON API belongs in the OpenAPI document; pages and files do not (the
        # fund's and the committee's modules mark their pages include_in_schema=False)
        app.include_router(module.router, include_in_schema=name in ("api", "fund", "govern"))
        nav += [NavItem(path, label, tuple(roles))
                for path, label, roles in getattr(module, "NAV", [])]
    app.state.portal = Portal(records=records, site_dir=settings.site_dir,
                              runs_root=settings.runs_root, workspace=settings.workspace,
                              settings=settings, nav=nav)
    app.state.templates = _templates()
    app.add_middleware(PortalMiddleware, secret=secret_key(settings), policy=settings.policy)
    _handlers(app)
    return app


def _texts(exc: Exception, status: int) -> tuple[str, str]:
    if isinstance(exc, Refusal | PortalError):
        return exc.text("zh"), exc.text("en")
    if isinstance(exc, RequestValidationError):
        return t("web.err.invalid_request", "zh"), t("web.err.invalid_request", "en")
    if isinstance(exc, CocityError):
        with use_lang("zh"):
            zh = str(exc)
        with use_lang("en"):
            en = str(exc)
        return zh, en
    key = {404: "web.err.not_found", 405: "web.err.method"}.get(status, "web.err.http")
    return t(key, "zh", status=status), t(key, "en", status=status)


async def _error_response(request: Request, exc: Exception, status: int,
                          headers: Mapping[str, str] | None = None) -> Response:
    if 300 <= status < 400 and headers and "Location" in headers:
        return RedirectResponse(headers["Location"], status_code=status)
    zh, en = _texts(exc, status)
    if request.url.path.startswith("/api/"):
        body: dict[str, Any] = {"error": {"status": status, "zh": zh, "en": en}}
        if isinstance(exc, RequestValidationError):
            body["error"]["fields"] = [".".join(str(p) for p in e.get("loc", ()))
                                       for e in exc.errors()]
        return JSONResponse(body, status_code=status, headers=headers)
    with contextlib.suppress(CocityError):  # the refusal is shown even without the records
        await current_principal(request)
    response = render(request, "error.html", {"status": status, "message_zh": zh,
                                              "message_en": en}, status=status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return await _error_response(request, exc, exc.status_code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return await _error_response(request, exc, 422)

    @app.exception_handler(CocityError)
    async def refused(request: Request, exc: CocityError) -> Response:
        status = (exc.status if isinstance(exc, PortalError)
                  else 503 if isinstance(exc, RecordsError) else 400)
        return await _error_response(request, exc, status)
