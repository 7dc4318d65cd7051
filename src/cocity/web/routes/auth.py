"""Signing in and out, and changing one's own password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cocity.web.deps import Principal, client_of, portal, render, require, session_of
from cocity.web.errors import PortalError
from cocity.web.roles import PUBLIC, ROLES

router = APIRouter()
NAV = [("/account/password", "web.nav.password", ROLES)]


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no host, no ``//``) is followed after sign-in."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return "/portal"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, who: Annotated[Principal, Depends(require(PUBLIC))],
               next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None,
                                          "login": ""})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, who: Annotated[Principal, Depends(require(PUBLIC))],
          login: Annotated[str, Form(max_length=200)] = "",
          password: Annotated[str, Form(max_length=1024)] = "",
          next: Annotated[str, Form(max_length=2000)] = "/portal") -> Response:
    from cocity.web.users import sign_in

    state = portal(request)
    try:
        found = sign_in(state.records, login=login, password=password,
                        client=client_of(request), pol=state.settings.policy)
    except PortalError as exc:
        return render(request, "login.html", {"next": _safe_next(next), "login": login,
                                              "error": exc}, status=exc.status)
    session_of(request).begin(login=found.login, password_stamp=found.password_changed_at)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, who: Annotated[Principal, Depends(require(PUBLIC))]) -> Response:
    session_of(request).end()
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request,
                  who: Annotated[Principal, Depends(require(*ROLES))]) -> Response:
    return render(request, "password.html", {"error": None, "done": False})


@router.post("/account/password", response_class=HTMLResponse)
def change_password(request: Request, who: Annotated[Principal, Depends(require(*ROLES))],
                    current: Annotated[str, Form(max_length=1024)] = "",
                    password: Annotated[str, Form(max_length=1024)] = "",
                    again: Annotated[str, Form(max_length=1024)] = "") -> Response:
    from cocity.web.users import set_password

    state = portal(request)
    try:
        if password != again:
            raise PortalError("web.err.password_mismatch")
        changed = set_password(state.records, who.login, password=password, current=current,
                               actor=who.login, role=request.state.acting_role,
                               client=client_of(request), pol=state.settings.policy)
    except PortalError as exc:
        return render(request, "password.html", {"error": exc, "done": False},
                      status=exc.status)
    # the change voids older sessions; this one continues under a new id
    session_of(request).begin(login=who.login, password_stamp=changed.password_changed_at)
    return render(request, "password.html", {"error": None, "done": True})
