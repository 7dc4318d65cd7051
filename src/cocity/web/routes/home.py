"""The signed-in user's start page: who they are and what each of their roles may do."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from cocity.web.deps import Principal, render, require
from cocity.web.roles import ROLES

router = APIRouter()
NAV = [("/portal", "web.nav.portal", ROLES)]


@router.get("/portal", response_class=HTMLResponse)
def home(request: Request, who: Annotated[Principal, Depends(require(*ROLES))]) -> Response:
    return render(request, "home.html", {})
