"""``cocity portal …`` and ``cocity serve`` as an administrator uses them in an empty folder:
the first admin, listing, roles, the audit trail, refusals that write nothing, a server that
refuses to start without an admin and one that starts and answers."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from typer.testing import CliRunner, Result

from cocity.cli import app
from tests.web_support import PASSWORD

runner = CliRunner()


def run(*args: str, input: str | None = None, lang: str = "en") -> Result:
    return runner.invoke(app, ["--lang", lang, *args], input=input, env={"COLUMNS": "200"})


def test_the_first_admin_then_users_roles_and_the_audit_trail(tmp_path: Path) -> None:
    with contextlib.chdir(tmp_path):
        refused = run("serve")
        assert refused.exit_code == 2
        text = " ".join(refused.output.split())
        assert "no active administrator" in text
        assert "cocity portal user add LOGIN --role admin" in text
        assert "Traceback" not in refused.output

        added = run("portal", "user", "add", "boss", "--role", "admin", "--name", "王五",
                    "--actor", "installer", input=f"{PASSWORD}\n{PASSWORD}\n")
        assert added.exit_code == 0, added.output
        assert "user boss added with roles: admin" in added.output
        piped = run("portal", "user", "add", "ana", "--role", "analyst", "--role",
                    "evaluator", "--password-stdin", input=f"{PASSWORD}\n")
        assert piped.exit_code == 0, piped.output

        short = run("portal", "user", "add", "x", "--role", "admin", "--password-stdin",
                    input="short\n")
        assert short.exit_code == 2
        assert "at least 12 characters" in short.output
        unknown = run("portal", "user", "roles", "ana", "--role", "root")
        assert unknown.exit_code == 2
        assert "unknown role: root" in unknown.output

        roles = run("portal", "user", "roles", "ana", "--role", "secretary")
        assert roles.exit_code == 0
        assert "ana now holds: secretary" in roles.output
        listing = run("portal", "user", "list", lang="zh")
        assert listing.exit_code == 0
        assert "王五" in listing.output and "委员会秘书" in listing.output
        from cocity.records import open_records
        from cocity.web.users import users

        with open_records(tmp_path / "cocity-records.sqlite") as records:
            assert [u.login for u in users(records)] == ["ana", "boss"]  # x was refused

        audit = run("portal", "audit", "--action", "user.add")
        assert audit.exit_code == 0
        assert "installer" in audit.output and "boss" in audit.output
        full = run("portal", "audit")
        assert "user.roles" in full.output
        key = tmp_path / "cocity-portal.key"
        assert key.is_file() and (key.stat().st_mode & 0o777) == 0o600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_listens_and_serves_the_portal(tmp_path: Path) -> None:
    assert run("portal", "user", "add", "boss", "--role", "admin", "--password-stdin",
               "--db", str(tmp_path / "r.sqlite"), input=f"{PASSWORD}\n").exit_code == 0
    port = _free_port()
    env = {**os.environ, "COCITY_LANG": "en"}
    proc = subprocess.Popen([sys.executable, "-m", "cocity", "serve", "--port", str(port),
                             "--db", str(tmp_path / "r.sqlite"), "--site",
                             str(tmp_path / "site")], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as r:
                    body, headers = json.loads(r.read()), r.headers
                break
            except OSError:
                time.sleep(0.2)
        assert body == {"status": "ok"}
        assert headers["X-Frame-Options"] == "DENY"
        assert "server" not in {k.lower() for k in headers}
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"the portal listens at http://localhost:{port}/" in " ".join(out.split())
    assert "who can sign in: boss (admin)" in out


def test_help_of_the_portal_commands_loads_no_web_or_numerical_stack() -> None:
    probe = ("import sys; sys.argv=['cocity', 'serve', '--help']\n"
             "from cocity.cli import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "import json; print('@@' + json.dumps(sorted({m.split('.')[0] "
             "for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env={**os.environ, "COLUMNS": "100"}).stdout
    loaded = set(json.loads(out.rsplit("@@", 1)[1]))
    assert not loaded & {"numpy", "pandas", "fastapi", "uvicorn", "argon2", "sqlalchemy"}
