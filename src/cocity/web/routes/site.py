"""Public files: the published static site at ``/`` (built by ``cocity publish`` into
``settings.site_dir``), the portal's own style sheet and script under ``/_portal/``, and
``/healthz``. Files are looked up safely: the path is resolved and must stay inside its folder
(no ``..``, no absolute paths, no symbolic links out); anything else is 404."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from cocity.web.deps import Principal, portal, render, require
from cocity.web.errors import Refusal
from cocity.web.roles import PUBLIC

router = APIRouter()
NAV = [("/", "web.nav.site", (PUBLIC,))]
PUBLIC_DEP = Depends(require(PUBLIC))


def safe_file(root: Path, relative: str) -> Path | None:
    """The file ``relative`` inside ``root`` (a folder: its ``index.html``), or ``None`` when
    it does not exist or would lie outside ``root``."""
    if "\x00" in relative or "\\" in relative:
        return None
    base = root.resolve()
    try:
        path = (base / relative.lstrip("/")).resolve()
    except (OSError, RuntimeError):
        return None
    if path != base and base not in path.parents:
        return None
    try:
        if path.is_dir():
            path = path / "index.html"
        return path if path.is_file() else None
    except OSError:  # e.g. a name longer than the file system allows
        return None


@router.get("/healthz")
def healthz(request: Request, who: Annotated[Principal, PUBLIC_DEP]) -> JSONResponse:
    """Liveness and the records database's reachability."""
    import sqlalchemy as sa

    with portal(request).records.read() as conn:
        conn.execute(sa.text("SELECT 1"))
    return JSONResponse({"status": "ok"})


@router.get("/favicon.ico")
def favicon(request: Request, who: Annotated[Principal, PUBLIC_DEP]) -> Response:
    """No icon: 204 rather than a 404 that browsers log as an error on every first visit."""
    return Response(status_code=204)


@router.get("/_portal/{name}")
def portal_asset(name: str, request: Request,
                 who: Annotated[Principal, PUBLIC_DEP]) -> Response:
    """The portal's own static files (CSS, the small script)."""
    path = safe_file(Path(str(resources.files("cocity.web") / "static")), name)
    if path is None:
        raise Refusal(404, "web.err.not_found")
    return FileResponse(path)


@router.api_route("/{path:path}", methods=["GET", "HEAD"])
def site_file(path: str, request: Request, who: Annotated[Principal, PUBLIC_DEP]) -> Response:
    """A file of the published site; ``/`` is its ``index.html``."""
    site = portal(request).site_dir
    found = safe_file(site, path) if site.is_dir() else None
    if found is None:
        if path in ("", "index.html"):
            return render(request, "unpublished.html", {}, status=200)
        raise Refusal(404, "web.err.not_found")
    return FileResponse(found)
