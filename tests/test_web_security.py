"""The portal's security measures against hostile use: lock-out and rate limits, security
headers on every kind of response, SQL and template injection in every form field, query
parameter and path parameter, path traversal in static files and upload names, oversized and
wrong-type uploads — every refusal in both languages."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Depends

from cocity.records.schema import portal_audit, portal_logins, portal_users
from cocity.web.app import route_table
from cocity.web.deps import Principal, require
from cocity.web.roles import PUBLIC, ROLES
from cocity.web.session import CSP
from tests.web_support import PASSWORD, Portal, add_user, fast_policy, make_app

HOSTILE = ("' OR '1'='1' --", "x'; DROP TABLE portal_users; --", "{{7*7}}",
           "<script>alert(1)</script>", "../../etc/passwd", "%00\x00nul", "１２３４５" * 30)
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def app(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>site</title>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    (site / "leak").symlink_to(tmp_path / "secret.txt")
    pol = fast_policy(lockout={"failures": 3}, client_limit={"failures": 6},
                      upload={"max_bytes": 4096})
    application = make_app(tmp_path, tmp_path / "records.sqlite", site_dir=site,
                           workspace=None, uploads_dir=tmp_path / "uploads", policy=pol)
    add_user(application, "alice", "admin")
    add_user(application, "all", *ROLES)
    yield application
    application.state.portal.records.close()


def count(app, table) -> int:
    with app.state.portal.records.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def both_languages(text: str, zh: str, en: str) -> None:
    assert zh in text, text[-400:]
    assert en in text, text[-400:]


def test_a_login_is_locked_after_repeated_failures_and_says_so(app) -> None:
    web = Portal(app)
    statuses = [web.login("alice", "wrong password number 1").status_code for _ in range(3)]
    assert statuses == [401, 401, 423]
    locked = web.login("alice")  # even the right password is refused while locked
    assert locked.status_code == 423
    both_languages(locked.text, "已暂时锁定", "it is locked")
    with app.state.portal.records.read() as conn:
        oks = conn.execute(sa.select(portal_logins.c.ok).where(
            portal_logins.c.login == "alice")).scalars().all()
    assert oks == [False, False, False]  # attempts while locked are not recorded
    # another login is not locked
    assert web.login("all").status_code == 303


def test_the_lock_ends_after_its_minutes(app) -> None:
    import datetime as dt

    from cocity.web.errors import LoginFailed, LoginLocked
    from cocity.web.users import authenticate

    records = app.state.portal.records
    pol = app.state.portal.settings.policy
    start = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)
    for i in range(2):
        with pytest.raises(LoginFailed, match=r"wrong login or password|用户名或密码不正确"):
            authenticate(records, login="alice", password="nope nope nope", client="c",
                         now=start + dt.timedelta(minutes=i), pol=pol)
    with pytest.raises(LoginLocked, match="15"):
        authenticate(records, login="alice", password="nope nope nope", client="c",
                     now=start + dt.timedelta(minutes=2), pol=pol)
    with pytest.raises(LoginLocked, match=r"分钟|minutes"):
        authenticate(records, login="alice", password=PASSWORD, client="c",
                     now=start + dt.timedelta(minutes=16), pol=pol)
    found = authenticate(records, login="alice", password=PASSWORD, client="c",
                         now=start + dt.timedelta(minutes=17, seconds=1), pol=pol)
    assert found.login == "alice"


def test_too_many_failures_from_one_address_are_refused_with_429(app) -> None:
    web = Portal(app)
    for i in range(6):
        assert web.login(f"nobody{i}", "wrong password here").status_code == 401
    refused = web.login("all")
    assert refused.status_code == 429
    both_languages(refused.text, "来自您地址的失败登录过多", "too many failed sign-ins from your")


def test_security_headers_on_every_kind_of_response(app) -> None:
    web = Portal(app)
    web.login("all")
    responses = {
        "page": web.get("/portal"), "login page": web.get("/login"),
        "api": web.get("/api/v1/editions"), "openapi": web.get("/api/openapi.json"),
        "site file": web.get("/index.html"), "portal asset": web.get("/_portal/portal.css"),
        "404": web.get("/no/such/page"), "api 404": web.get("/api/v1/units/123456"),
        "redirect": Portal(app).get("/admin/users"),
        "403 csrf": web.client.post("/admin/users", data={"login": "x"}),
        "413": web.client.post("/analyst/survey", content=b"x" * 5000,
                               headers={"content-type": "application/octet-stream"}),
    }
    assert responses["404"].status_code == 404
    assert responses["413"].status_code == 413
    assert responses["redirect"].status_code == 303
    assert responses["403 csrf"].status_code == 403
    for kind, response in responses.items():
        h = response.headers
        assert h["content-security-policy"] == CSP, kind
        assert h["x-content-type-options"] == "nosniff", kind
        assert h["x-frame-options"] == "DENY", kind
        assert h["referrer-policy"] == "same-origin", kind
    assert responses["page"].headers["cache-control"] == "no-store"
    assert "openapi" in responses["openapi"].json()
    assert "/api/v1/editions" in responses["openapi"].json()["paths"]
    # the portal's pages hold no inline script or style (the CSP would block them)
    for kind in ("page", "login page", "404"):
        html = responses[kind].text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), kind
        assert "style=" not in html and "<style" not in html, kind


def _fields(route) -> list[str]:
    names = [p.alias for p in route.route.dependant.body_params]
    return names or ["form", "year", "login", "name", "password"]


def test_hostile_strings_in_every_field_parameter_and_path_are_inert(app) -> None:
    web = Portal(app)
    web.login("all")
    users_before = count(app, portal_users)
    failures = []
    for route in route_table(app):
        for value in HOSTILE:
            url = re.sub(r"{(\w+)(?::\w+)?}", lambda _m, v=value: quote(v, safe=""),
                         route.path)
            query = {p.alias: value for p in route.route.dependant.query_params}
            for method in sorted(route.methods):
                if method == "POST":
                    data = {name: value for name in _fields(route)}
                    data["csrf_token"] = web.csrf
                    response = web.client.post(url, params=query, data=data)
                    if route.path == "/logout":
                        web.login("all")
                else:
                    response = web.client.request(method, url, params=query)
                if response.status_code >= 500:
                    failures.append(f"{method} {url} {value!r}: {response.status_code}")
                body = response.text
                if SCRIPT in body or "<script>alert" in body:
                    failures.append(f"{method} {url}: unescaped script")
    assert not failures, "\n".join(failures)
    with app.state.portal.records.read() as conn:
        logins = set(conn.execute(sa.select(portal_users.c.login)).scalars())
        typed = set(conn.execute(sa.select(portal_logins.c.login)).scalars())
    assert count(app, portal_users) == users_before
    assert {"alice", "all"} <= logins
    # hostile logins were stored as the text typed (bound parameters, not SQL)
    assert "x'; DROP TABLE portal_users; --" in typed


def test_template_and_script_input_is_shown_escaped(app) -> None:
    web = Portal(app)
    response = web.login("{{7*7}}<script>alert(1)</script>", "whatever whatever")
    assert response.status_code == 401
    assert 'value="{{7*7}}&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text
    admin = Portal(app)
    admin.login("alice")
    admin.post("/admin/users", {"login": "mallory", "name": "{{7*7}}" + SCRIPT,
                                "password": PASSWORD})
    for page in (admin.get("/admin/users"), admin.get("/admin/audit")):
        assert "{{7*7}}" in page.text
        assert SCRIPT not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in admin.get("/admin/users").text


@pytest.mark.parametrize("path", ["/..%2f..%2fsecret.txt", "/%2e%2e/secret.txt", "/leak",
                                  "/_portal/..%2fsecurity.yaml", "/_portal/%2e%2e",
                                  "/_portal/..%5cdeps.py", "/index.html%00.txt"])
def test_path_traversal_in_static_files_is_404(app, path: str) -> None:
    response = Portal(app).get(path)
    assert response.status_code == 404
    assert "secret" not in response.text
    both_languages(response.text, "找不到该页面或文件", "no such page or file")


def upload(web: Portal, name: str, content: bytes, url: str = "/analyst/survey") -> object:
    return web.client.post(url, data={"csrf_token": web.csrf, "year": "2020"},
                           files={"file": (name, content, "application/octet-stream")})


def test_uploads_are_checked_by_extension_and_content_and_never_named_by_the_client(
        app, tmp_path) -> None:
    web = Portal(app)
    web.login("all")
    cases = {"data.exe": ("不接受文件", "not of an accepted type"),
             "fake.xlsx": ("不是有效的 XLSX", "not valid XLSX"),
             "nul.csv": ("不是有效的 CSV", "not valid CSV")}
    bodies = {"data.exe": b"MZ\x90\x00", "fake.xlsx": b"unit,year\n1,2\n",
              "nul.csv": b"unit\x00year\n"}
    for name, (zh, en) in cases.items():
        response = upload(web, name, bodies[name])
        assert response.status_code == 400
        both_languages(response.text, zh, en)
    hostile = upload(web, "../../../evil.csv", "respondent,unit\n1,成都\n".encode())
    assert hostile.status_code == 400  # not a valid survey; the name played no part
    assert not (tmp_path / "evil.csv").exists()
    assert not any(p.name == "evil.csv" for p in tmp_path.rglob("*"))
    assert count(app, portal_audit) == 2  # the two users added; no upload was accepted


def test_an_oversized_upload_is_refused_with_413_while_reading(app) -> None:
    web = Portal(app)
    web.login("all")
    big = upload(web, "big.csv", b"a," * 4000)
    assert big.status_code == 413
    both_languages(big.text, "请求内容过大", "too large")

    def chunks():
        for _ in range(10):
            yield b"x" * 1000

    streamed = web.client.post("/analyst/survey", content=chunks(),
                               headers={"content-type": "multipart/form-data; boundary=b",
                                        "x-csrf-token": web.csrf})
    assert streamed.status_code == 413
    both_languages(streamed.text, "请求内容过大", "too large")


def test_a_csrf_failure_writes_nothing(app) -> None:
    web = Portal(app)
    web.login("alice")
    before = (count(app, portal_users), count(app, portal_audit))
    for token in (None, "forged", web.csrf[:-2] + "xx"):
        data = {"login": "eve", "password": PASSWORD, "roles": "admin"}
        if token:
            data["csrf_token"] = token
        response = web.client.post("/admin/users", data=data)
        assert response.status_code == 403
        both_languages(response.text, "防跨站令牌", "anti-forgery (CSRF) token")
    api = web.client.post("/admin/users", json={"login": "eve"},
                          headers={"X-CSRF-Token": "forged"})
    assert api.status_code == 403
    assert (count(app, portal_users), count(app, portal_audit)) == before


def test_a_route_without_a_rule_is_found_by_the_route_table(tmp_path) -> None:
    app = make_app(tmp_path, tmp_path / "r.sqlite")
    naked = APIRouter()

    @naked.get("/naked")
    def handler() -> dict[str, str]:
        return {"ok": "yes"}

    app.include_router(naked)
    assert [r.path for r in route_table(app) if r.rule is None] == ["/naked"]
    app.state.portal.records.close()


def test_an_unexpected_error_is_a_bilingual_500_with_the_headers(tmp_path) -> None:
    from fastapi.testclient import TestClient


    app = make_app(tmp_path, tmp_path / "r.sqlite")
    broken = APIRouter()

    @broken.get("/broken")
    def handler(who: Annotated[Principal, Depends(require(PUBLIC))]) -> None:
        raise RuntimeError("a bug")

    app.router.routes.insert(0, broken.routes[0])
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/broken")
    assert response.status_code == 500
    assert response.headers["content-security-policy"] == CSP
    both_languages(response.text, "服务器内部错误", "internal server error")
    assert "a bug" not in response.text
    app.state.portal.records.close()
