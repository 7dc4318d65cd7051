"""Helpers of the portal's tests (tests/test_web_*.py): a fast password policy, an app on a
given records database, and a client that signs in and carries the CSRF token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cocity.web.policy import Policy, policy

PASSWORD = "long enough passphrase 甲乙"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def fast_policy(**changes: Any) -> Policy:
    """The shipped policy with cheap Argon2 parameters (tests only) and ``changes`` laid over
    its sections, e.g. ``lockout={"failures": 3}``."""
    data = policy().model_dump()
    data["argon2"] = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    for section, values in changes.items():
        data[section] = {**data[section], **values}
    return Policy.model_validate(data)


def make_app(tmp_path: Path, records: str | Path, **settings: Any) -> Any:
    from cocity.web.app import create_app
    from cocity.web.settings import Settings

    settings.setdefault("site_dir", tmp_path / "site")
    settings.setdefault("runs_root", tmp_path / "runs")
    settings.setdefault("secret_key", "test-secret-key-" + "x" * 32)
    settings.setdefault("policy", fast_policy())
    return create_app(Settings(records=records, **settings))


def token_of(html: str) -> str:
    found = _TOKEN.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


class Portal:
    """A TestClient that knows the session's CSRF token."""

    def __init__(self, app: Any, *, base_url: str = "http://testserver") -> None:
        self.app = app
        self.client = TestClient(app, base_url=base_url, follow_redirects=False)
        self.csrf = ""

    def refresh_token(self) -> str:
        self.csrf = token_of(self.client.get("/login").text)
        return self.csrf

    def login(self, login: str, password: str = PASSWORD) -> Any:
        self.refresh_token()
        response = self.client.post("/login", data={"login": login, "password": password,
                                                    "csrf_token": self.csrf})
        if response.status_code == 303:
            self.refresh_token()
        return response

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kw)

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)


def add_user(app: Any, login: str, *roles: str, password: str = PASSWORD) -> None:
    from cocity.web.users import add_user as add

    add(app.state.portal.records, login, password=password, roles=roles, actor="test",
        pol=app.state.portal.settings.policy)


def store_small_run(runs_root: Path, *, replications: int = 2) -> str:
    """A real evaluation run of the framework's year on the embedded data (the 16
    prefecture-level units, few replications, no PDFs) saved under ``runs_root`` as
    ``cocity evaluate`` saves it; returns its id."""
    from cocity.datasets import open_store
    from cocity.evaluate.framework import load_framework
    from cocity.evaluate.run import evaluate
    from cocity.evaluate.runs import save_run
    from cocity.report.evaluate_report import write_run_outputs

    fw = load_framework(None)
    store = open_store()
    try:
        ev = evaluate(fw, store, year=fw.year, replications=replications, seed=7,
                      levels=["prefecture"])
        record = save_run(ev, runs_root, lambda e, folder: write_run_outputs(e, folder,
                                                                             pdf=False))
    finally:
        store.close()
    return record.id


def copy_runs(source: Path, target: Path) -> None:
    """A copy of a stored runs folder (tests that sign or change runs work on their own)."""
    import shutil

    shutil.copytree(source, target, dirs_exist_ok=True)
