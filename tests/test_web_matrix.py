"""The role × route matrix, generated from the app's route table: every route must declare its
roles with ``require(...)`` (a route without one fails here), and for every route and every
principal — anonymous and a user holding each stored role — the response is a role refusal
(303 to the sign-in page, 401 on the API, 403) exactly when the rule does not admit them.
POSTs carry a valid CSRF token, so that the role check, not the CSRF check, is what is tested;
path parameters are filled with existing ids."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cocity.i18n import t
from cocity.web.app import route_table
from cocity.web.roles import PUBLIC, ROLES
from tests.web_support import Portal, add_user, make_app, store_small_run

# existing ids for the path parameters of the routes (a new parameter needs a value here)
SAMPLES: dict[str, str] = {"login": "target", "path": "", "name": "portal.css",
                           # ids of the fund's and the committee's pages (routes/fund.py,
                           # govern.py): require() runs before their handlers, so the role
                           # check is the same whether or not such a record exists here
                           "request_id": "1", "case_id": "1", "meeting_id": "1"}
# the parameters above filled with ids that exist in the fixture (an admitted GET succeeds: 2xx)
EXISTING = {"login", "path", "name", "run_id", "year", "code"}
# form data that keeps a POST cheap and harmless while still reaching the route's own code
# (the role check happens before any of it)
FORMS: dict[str, dict[str, str]] = {"/analyst/evaluate": {"replications": "many"}}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("matrix")
    application = make_app(root, root / "records.sqlite")
    SAMPLES["run_id"] = store_small_run(root / "runs")
    from cocity.publish.editions import sign_edition

    edition = sign_edition(application.state.portal.records,
                           root / "runs" / "runs" / SAMPLES["run_id"], evaluator="测试评价机构",
                           statement="", actor="u_evaluator")
    SAMPLES["year"] = str(edition.year)
    SAMPLES["code"] = "510100"  # 成都市, evaluated at the prefecture level
    from cocity.fund.ledger import Ledger

    # a fund, so that its public API answers 200 (without one it is 404: no fund yet)
    Ledger(application.state.portal.records).open_fund(units={"510300": ("自贡市", "Zigong")})
    for role in ROLES:
        add_user(application, f"u_{role}", role)
    add_user(application, "target", "analyst")
    add_user(application, "spare_admin", "admin")
    yield application
    application.state.portal.records.close()


def test_every_route_declares_its_roles(app) -> None:
    table = route_table(app)
    assert len(table) >= 20
    missing = [f"{sorted(r.methods)} {r.path}" for r in table if r.rule is None]
    assert not missing, "routes without require(...):\n" + "\n".join(missing)


def _url(path: str) -> str:
    names = re.findall(r"{(\w+)(?::\w+)?}", path)
    unknown = [n for n in names if n not in SAMPLES]
    assert not unknown, f"{path}: add sample values for {unknown} to SAMPLES"
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: SAMPLES[m.group(1)], path)


def role_refusal(response: Any) -> bool:
    """Whether ``response`` is ``require``'s refusal (not another failure of the route)."""
    if response.status_code == 303:
        return str(response.headers.get("location", "")).startswith("/login?next=")
    if response.status_code == 401:
        return t("web.err.login_required", "en") in response.text
    if response.status_code == 403:
        return "your roles do not allow this" in response.text
    return False


PRINCIPALS = [PUBLIC, *ROLES]


@pytest.mark.parametrize("who", PRINCIPALS)
def test_the_matrix(app, who: str) -> None:
    web = Portal(app)
    if who != PUBLIC:
        assert web.login(f"u_{who}").status_code == 303
    else:
        web.refresh_token()
    wrong = []
    checked = 0
    table = route_table(app)
    for route in table:
        assert route.rule is not None
        admitted = PUBLIC in route.rule.roles or who in route.rule.roles
        for method in sorted(route.methods):
            url = _url(route.path)
            if method == "POST":
                response = web.post(url, FORMS.get(route.path, {}))
            else:
                response = web.client.request(method, url)
            checked += 1
            params = set(re.findall(r"{(\w+)", route.path))
            if (method == "GET" and admitted and params <= EXISTING
                    and not 200 <= response.status_code < 300):
                wrong.append(f"GET {url}: {response.status_code} (admitted, existing ids)")
            if role_refusal(response) == admitted:
                wrong.append(f"{method} {url}: {response.status_code} "
                             f"({'admitted' if admitted else 'not admitted'})")
            if method == "POST":  # it may have ended the session (/logout)
                if who == PUBLIC:
                    web.refresh_token()
                else:
                    web.login(f"u_{who}")
    assert checked > len(table)
    assert not wrong, f"{who}:\n" + "\n".join(wrong)
