"""The administrator's pages: users and roles, password resets, deactivation, the audit
trail. Every change goes through :mod:`cocity.web.users` (as ``cocity portal user …`` does),
which writes its ``portal_audit`` row in the same transaction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from cocity.web.deps import Principal, client_of, csrf_form, portal, render, require
from cocity.web.errors import PortalError
from cocity.web.roles import ADMIN, ROLES

router = APIRouter(prefix="/admin")
NAV = [("/admin/users", "web.nav.users", (ADMIN,)), ("/admin/audit", "web.nav.audit", (ADMIN,))]
ADMIN_DEP = Depends(require(ADMIN))
Login = Annotated[str, Form(max_length=64)]


def _page(request: Request, *, error: PortalError | None = None, done: str | None = None,
          status: int = 200) -> Response:
    from cocity.web.users import users

    return render(request, "admin/users.html",
                  {"users": users(portal(request).records), "all_roles": ROLES,
                   "error": error, "done": done}, status=status)


def _who(request: Request, who: Principal) -> dict[str, str]:
    return {"actor": who.login, "role": ADMIN, "client": client_of(request)}


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, who: Annotated[Principal, ADMIN_DEP],
               done: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    return _page(request, done=done)


@router.post("/users", response_class=HTMLResponse)
def add(request: Request, who: Annotated[Principal, ADMIN_DEP],
        form: Annotated[FormData, Depends(csrf_form)], login: Login = "",
        name: Annotated[str, Form(max_length=200)] = "",
        password: Annotated[str, Form(max_length=1024)] = "") -> Response:
    from cocity.web.users import add_user

    roles = [str(r) for r in form.getlist("roles")]
    try:
        add_user(portal(request).records, login, password=password, roles=roles, name=name,
                 pol=portal(request).settings.policy, **_who(request, who))
    except PortalError as exc:
        return _page(request, error=exc, status=exc.status)
    return RedirectResponse("/admin/users?done=add", status_code=303)


@router.post("/users/{login}/roles", response_class=HTMLResponse)
def roles(request: Request, login: str, who: Annotated[Principal, ADMIN_DEP],
          form: Annotated[FormData, Depends(csrf_form)]) -> Response:
    from cocity.web.users import set_roles

    try:
        set_roles(portal(request).records, login, roles=[str(r) for r in form.getlist("roles")],
                  **_who(request, who))
    except PortalError as exc:
        return _page(request, error=exc, status=exc.status)
    return RedirectResponse("/admin/users?done=roles", status_code=303)


@router.post("/users/{login}/password", response_class=HTMLResponse)
def reset_password(request: Request, login: str, who: Annotated[Principal, ADMIN_DEP],
                   password: Annotated[str, Form(max_length=1024)] = "") -> Response:
    from cocity.web.users import set_password

    try:
        set_password(portal(request).records, login, password=password,
                     pol=portal(request).settings.policy, **_who(request, who))
    except PortalError as exc:
        return _page(request, error=exc, status=exc.status)
    return RedirectResponse("/admin/users?done=password", status_code=303)


@router.post("/users/{login}/deactivate", response_class=HTMLResponse)
def deactivate(request: Request, login: str, who: Annotated[Principal, ADMIN_DEP]) -> Response:
    from cocity.web.users import deactivate as off

    try:
        off(portal(request).records, login, **_who(request, who))
    except PortalError as exc:
        return _page(request, error=exc, status=exc.status)
    return RedirectResponse("/admin/users?done=deactivate", status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, who: Annotated[Principal, ADMIN_DEP],
               action: Annotated[str | None, Query(max_length=64)] = None,
               actor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    from cocity.web.auditlog import audit_trail

    entries = audit_trail(portal(request).records, limit=500, action=action or None,
                          actor=actor or None)
    return render(request, "admin/audit.html", {"entries": entries, "action": action or "",
                                                "actor": actor or ""})
