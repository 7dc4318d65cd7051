'''What every route of the portal uses: who is asking (:class:`Principal`, :func:`require`),
the CSRF check (:func:`csrf_form`), the app's state (:func:`portal`), pages (:func:`render`)
and the audit trail (:func:`audit`).

How to write a route (a page author's guide)
============================================

A route lives in ``cocity/web/routes/<area>.py`` in a plain ``APIRouter`` called ``router``
(``create_app`` includes it; add the module to ``ROUTE_MODULES`` in ``app.py``). EVERY route
declares who may call it with ``require(...)`` — a route without it fails the role × route
matrix test (tests/test_web_matrix.py). Roles are the strings of :mod:`cocity.web.roles`;
``require(PUBLIC)`` is for pages anyone may see. Anonymous callers of other routes are sent
to ``/login`` (pages) or get 401 (``/api/…``); signed-in users without the role get 403.

A GET page::

    from typing import Annotated
    from fastapi import APIRouter, Depends, Request
    from fastapi.responses import HTMLResponse
    from cocity.web.deps import Principal, portal, render, require
    from cocity.web.roles import FUND_MANAGER, FUND_APPROVER

    router = APIRouter()
    NAV = [("/fund", "web.nav.fund", (FUND_MANAGER, FUND_APPROVER))]  # menu entry by role

    @router.get("/fund", response_class=HTMLResponse)
    def fund_home(request: Request,
                  who: Annotated[Principal, Depends(require(FUND_MANAGER, FUND_APPROVER))]):
        records = portal(request).records
        return render(request, "fund/home.html", {"balances": ...})

Templates extend ``base.html`` (``{% extends "base.html" %}``, fill ``{% block content %}``);
they get ``t`` (``{{ t("label.key") }}`` in the request's language), ``lang``, ``principal``,
``csrf_token`` and ``nav``. Jinja2 autoescapes everything: never mark user data ``|safe``. No
inline ``<script>`` or ``style=""`` (the Content-Security-Policy blocks them): put CSS in
``static/`` and link it as ``/_portal/<file>``.

A POST form (a state-changing request)::

    @router.post("/fund/requests", response_class=HTMLResponse)
    def fund_request(request: Request,
                     who: Annotated[Principal, Depends(require(FUND_MANAGER))],
                     form: Annotated[FormData, Depends(csrf_form)]):
        try:
            entry = Ledger(portal(request).records).request_disbursement(...,
                                                                          actor=who.login)
        except CocityError as exc:          # show the refusal on the page, status 400
            return render(request, "fund/home.html", {"error": str(exc)}, status=400)
        audit(request, who, action="fund.request", target=entry.key, detail={...})
        return RedirectResponse("/fund", status_code=303)

and in the template ``<form method="post" action="/fund/requests">`` with
``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">``. ``require`` checks the
CSRF token of EVERY POST/PUT/PATCH/DELETE (form field ``csrf_token`` or header
``X-CSRF-Token``) before anything else: a missing or wrong token is 403 and nothing runs.
``csrf_form`` returns the parsed form. Writes go through the same library functions as the
CLI; after a successful write call :func:`audit` (or, better, have the library write the audit
row in its own transaction with :func:`cocity.web.auditlog.write_audit`).
'''

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from cocity.i18n import LANGS, t
from cocity.records import Records
from cocity.web.errors import Refusal
from cocity.web.principal import ANONYMOUS, Principal
from cocity.web.roles import PUBLIC, ROLES, role_label
from cocity.web.session import Session
from cocity.web.settings import Settings

__all__ = ["ANONYMOUS", "Portal", "Principal", "Require", "audit", "csrf_form", "portal",
           "render", "require"]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"




@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # an i18n key
    roles: tuple[str, ...]


@dataclass
class Portal:
    """The running portal's state (``app.state.portal``). ``jobs`` serialises the heavy
    writes of this process (imports into the workspace, evaluations, publishing) — DuckDB
    allows one writer, and two evaluations at once would only share two cores."""

    records: Records
    site_dir: Path
    runs_root: Path
    workspace: Path | None
    settings: Settings
    nav: list[NavItem]
    jobs: threading.Lock = field(default_factory=threading.Lock)
    cache: dict[str, Any] = field(default_factory=dict)
    cache_lock: threading.Lock = field(default_factory=threading.Lock)


def portal(request: Request) -> Portal:
    """The app's :class:`Portal` (records, site_dir, runs_root, workspace, settings)."""
    return request.app.state.portal


def session_of(request: Request) -> Session:
    return request.state.session


def client_of(request: Request) -> str:
    """The client's address (behind a proxy: from ``X-Forwarded-For`` via uvicorn's
    ``--proxy-headers``)."""
    return request.client.host if request.client else "unknown"


async def check_csrf(request: Request) -> None:
    """Refuse (403) a request whose CSRF token (header ``X-CSRF-Token`` or form field
    ``csrf_token``) is missing or is not the session's."""
    expected = session_of(request).stored_csrf()
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        kind = request.headers.get("content-type", "")
        if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(expected.encode(),
                                                            given.encode()):
        raise Refusal(403, "web.err.csrf")


async def current_principal(request: Request) -> Principal:
    """The signed-in user of the request's session, read afresh from the records (an
    inactive user, changed password or unknown login ends the session), else
    :data:`ANONYMOUS`."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    session = session_of(request)
    principal = ANONYMOUS
    if session.login:
        from cocity.web.users import user

        found = await run_in_threadpool(user, portal(request).records, session.login)
        if (found is None or not found.active
                or found.password_changed_at != session.password_stamp):
            session.end()
        else:
            principal = Principal(login=found.login, name=found.name, roles=found.roles)
    request.state.principal = principal
    return principal


class Require:
    """The dependency made by :func:`require`; ``roles`` says who may call the route."""

    def __init__(self, roles: Iterable[str]) -> None:
        self.roles = frozenset(roles)

    def admits(self, principal: Principal) -> bool:
        return any(principal.has(r) for r in self.roles)

    async def __call__(self, request: Request) -> Principal:
        if request.method in UNSAFE_METHODS:
            await check_csrf(request)
        principal = await current_principal(request)
        if PUBLIC in self.roles:
            request.state.acting_role = next((r for r in ROLES if r in principal.roles),
                                             PUBLIC)
            return principal
        if principal.anonymous:
            if request.url.path.startswith("/api/"):
                raise Refusal(401, "web.err.login_required")
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            from urllib.parse import quote

            raise Refusal(303, "web.err.login_required",
                          headers={"Location": "/login?next=" + quote(target, safe="")})
        held = [r for r in ROLES if r in self.roles and r in principal.roles]
        if not held:
            raise Refusal(403, "web.err.forbidden", roles=", ".join(sorted(self.roles)))
        request.state.acting_role = held[0]
        return principal

    def __repr__(self) -> str:
        return f"require({', '.join(sorted(self.roles))})"


def require(*roles: str) -> Require:
    """The dependency admitting ``roles`` (``PUBLIC``: anyone); it returns the
    :class:`Principal` and checks the CSRF token of state-changing requests first."""
    if not roles:
        raise ValueError("require() needs at least one role")
    unknown = [r for r in roles if r != PUBLIC and r not in ROLES]
    if unknown:
        raise ValueError(f"unknown roles {unknown}; known: {PUBLIC}, {', '.join(ROLES)}")
    return Require(roles)


async def csrf_form(request: Request) -> FormData:
    """The parsed form of a POST, after checking its CSRF token (403 when missing/wrong)."""
    await check_csrf(request)
    return await request.form()


def translator(lang: str) -> Any:
    def tr(key: str, **fmt: object) -> str:
        return t(key, lang, **fmt)

    return tr


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status: int = 200) -> HTMLResponse:
    """The page ``template`` (extending ``base.html``) with ``context`` and the layout's
    own: ``t``, ``lang``, ``other_lang``, ``principal``, ``csrf_token``, ``nav``,
    ``role_label``."""
    lang = request.state.lang
    principal = getattr(request.state, "principal", None) or ANONYMOUS
    state = portal(request)
    ctx: dict[str, Any] = {
        "t": translator(lang),
        "lang": lang,
        "other_lang": next(x for x in LANGS if x != lang),
        "principal": principal,
        "csrf_token": session_of(request).csrf_token,
        "nav": [item for item in state.nav if any(principal.has(r) for r in item.roles)],
        "role_label": lambda role: role_label(role, lang),
        "path": request.url.path,
    }
    ctx.update(context or {})
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, ctx,
                                      status_code=status)


def audit(request: Request, principal: Principal, *, action: str, target: str,
          detail: dict[str, Any] | None = None) -> None:
    """Append a ``portal_audit`` row: ``principal`` acting in the role the route admitted
    them for, from the request's client address."""
    from cocity.web.auditlog import write_audit

    role = getattr(request.state, "acting_role", None) or PUBLIC
    with portal(request).records.transaction() as conn:
        write_audit(conn, actor=principal.login or "anonymous", role=role, action=action,
                    target=target, detail=detail, client=client_of(request))
