"""``cocity serve``: the portal (FastAPI on uvicorn) — the published site at ``/``, the JSON API
under ``/api/v1``, and the signed-in pages of each role (docs/portal.md).

It refuses to start while no active admin user exists, printing the command that creates one.
Behind a reverse proxy (nginx with TLS), uvicorn takes the client address and the scheme from
``X-Forwarded-For``/``X-Forwarded-Proto`` sent by the addresses in ``--forwarded-allow-ips``
(default 127.0.0.1), so that cookies are ``Secure`` and rate limits count real clients.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cocity.cli import app, console, refused
from cocity.cli.portal import DbOpt, records_target
from cocity.i18n import both, t


@app.command(help=both("web.cli.serve.help"))
def serve(
    host: Annotated[str, typer.Option("--host", help=both("web.cli.opt.host"))] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535,
                                      help=both("web.cli.opt.port"))] = 8000,
    db: DbOpt = None,
    site: Annotated[Path, typer.Option("--site", help=both("web.cli.opt.site"))] = Path(
        "cocity-site"),
    runs: Annotated[Path, typer.Option("--runs", help=both("web.cli.opt.runs"))] = Path(
        "cocity-evaluate"),
    workspace: Annotated[Path | None, typer.Option("--workspace", "-w", help=both(
        "web.cli.opt.workspace"), show_default=False)] = None,
    uploads: Annotated[Path, typer.Option("--uploads", help=both("web.cli.opt.uploads"))] = Path(
        "cocity-uploads"),
    forwarded_allow_ips: Annotated[str, typer.Option(
        "--forwarded-allow-ips", help=both("web.cli.opt.forwarded"))] = "127.0.0.1",
) -> None:
    import uvicorn

    from cocity.web.app import create_app
    from cocity.web.errors import PortalError
    from cocity.web.settings import Settings
    from cocity.web.users import has_admin, users

    with refused():
        target = records_target(db)
        settings = Settings(records=target, site_dir=site, runs_root=runs, workspace=workspace,
                            uploads_dir=uploads)
        application = create_app(settings)
        records = application.state.portal.records
        if not has_admin(records):
            where = f" --db {target}" if target else ""
            records.close()
            raise PortalError("web.cli.no_admin",
                              command=f"cocity portal user add LOGIN --role admin{where}")
        active = [u for u in users(records) if u.active]
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    console.print(escape(t("web.cli.listening", url=f"http://{shown}:{port}/",
                           records=records.where, site=str(site.resolve()))), soft_wrap=True)
    console.print(escape(t("web.cli.who", users="; ".join(
        f"{u.login} ({', '.join(sorted(u.roles)) or '—'})" for u in active))), soft_wrap=True)
    uvicorn.run(application, host=host, port=port, proxy_headers=True,
                forwarded_allow_ips=forwarded_allow_ips, server_header=False,
                log_level="info")
