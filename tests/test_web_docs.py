"""docs/portal.md says what the app does: its role × route table is the app's route table, the
limits it states are those of security.yaml, and the API endpoints it lists exist and are
public."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cocity.web.app import roles_table, route_table
from cocity.web.policy import policy
from cocity.web.roles import PUBLIC
from tests.web_support import make_app

DOC = Path(__file__).resolve().parents[1] / "docs" / "portal.md"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    application = make_app(root, root / "records.sqlite")
    yield application
    application.state.portal.records.close()


def test_the_roles_table_is_the_apps(app) -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- roles-table:start -->\n(.*?)<!-- roles-table:end -->", text,
                      re.S)
    assert found is not None
    expected = roles_table(app)
    assert found.group(1) == expected, (
        "docs/portal.md's role table differs from the app's; replace it with:\n" + expected)


def test_the_stated_limits_are_those_of_security_yaml() -> None:
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    p = policy()
    for phrase in (f"passwords of {p.password.min_length} to {p.password.max_length} characters",
                   f"time cost {p.argon2.time_cost}, memory {p.argon2.memory_cost // 1024} MiB, "
                   f"parallelism {p.argon2.parallelism}",
                   f"{p.lockout.failures} failures of a login within "
                   f"{p.lockout.window_minutes:g} minutes lock it for "
                   f"{p.lockout.lock_minutes:g} minutes",
                   f"{p.client_limit.failures} failures from one address within "
                   f"{p.client_limit.window_minutes:g} minutes → 429",
                   f"after {p.session.idle_minutes:g} idle minutes and "
                   f"{p.session.absolute_hours:g} hours at most",
                   f"above {p.upload.max_bytes // 1048576} MiB → 413"):
        assert phrase in text, phrase


def test_the_documented_endpoints_exist_and_are_public(app) -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"`GET (/[^` ]+)`", text))
    assert {"/api/v1/editions", "/api/v1/editions/{year}", "/api/v1/units",
            "/api/v1/units/{code}", "/api/openapi.json", "/healthz"} <= documented
    routes = {r.path: r for r in route_table(app) if "GET" in r.methods}
    for path in documented:
        assert path in routes, path
        assert routes[path].rule is not None and PUBLIC in routes[path].rule.roles, path
