"""Signing in and out of the portal, on SQLite and on a real PostgreSQL server: the session
cookie, its flags and its renewal at sign-in, the CSRF check, the role rules of ``require``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cocity.records.schema import portal_logins, portal_users
from tests.web_support import PASSWORD, Portal, add_user, make_app


@pytest.fixture
def app(tmp_path, records_url):
    application = make_app(tmp_path, records_url)
    add_user(application, "alice", "admin")
    add_user(application, "bob", "analyst")
    yield application
    application.state.portal.records.close()


def test_sign_in_stores_an_argon2_hash_and_opens_the_desk(app) -> None:
    with app.state.portal.records.read() as conn:
        stored = conn.execute(sa.select(portal_users.c.password_hash)
                              .where(portal_users.c.login == "alice")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    web = Portal(app)
    response = web.login("alice")
    assert response.status_code == 303
    assert response.headers["location"] == "/portal"
    page = web.get("/portal")
    assert page.status_code == 200
    assert "alice" in page.text
    assert page.headers["cache-control"] == "no-store"
    with app.state.portal.records.read() as conn:
        attempts = conn.execute(sa.select(portal_logins.c.login, portal_logins.c.ok)).all()
    assert attempts == [("alice", True)]


def test_a_wrong_password_is_refused_in_both_languages_and_recorded(app) -> None:
    web = Portal(app)
    response = web.login("alice", "not the password at all")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.text
    assert "wrong login or password" in response.text
    unknown = web.login("nobody", "not the password at all")
    assert unknown.status_code == 401
    assert "wrong login or password" in unknown.text
    assert web.get("/portal").status_code == 303
    with app.state.portal.records.read() as conn:
        attempts = conn.execute(sa.select(portal_logins.c.login, portal_logins.c.ok)
                                .order_by(portal_logins.c.id)).all()
    assert attempts == [("alice", False), ("nobody", False)]


def test_the_session_cookie_is_renewed_at_sign_in_and_has_its_flags(app) -> None:
    web = Portal(app)
    web.refresh_token()
    before = web.client.cookies.get("cocity_session")
    token_before = web.csrf
    response = web.login("alice")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test
    after = web.client.cookies.get("cocity_session")
    assert before and after and before != after
    assert web.csrf != token_before  # a new session: new CSRF token too


def test_the_session_cookie_is_secure_over_https(app) -> None:
    web = Portal(app, base_url="https://testserver")
    response = web.login("alice")
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_a_planted_session_cookie_does_not_survive_sign_in(app) -> None:
    # an attacker's cookie (a valid anonymous session) given to the victim before sign-in
    attacker = Portal(app)
    attacker.refresh_token()
    planted = attacker.client.cookies.get("cocity_session")
    victim = Portal(app)
    victim.client.cookies.set("cocity_session", planted)
    victim.csrf = attacker.csrf
    response = victim.client.post("/login", data={"login": "alice", "password": PASSWORD,
                                                  "csrf_token": attacker.csrf})
    assert response.status_code == 303
    issued = response.headers["set-cookie"].split(";")[0].removeprefix("cocity_session=")
    assert issued and issued != planted
    # the planted cookie is still anonymous: the attacker is not signed in
    assert attacker.get("/portal").status_code == 303


def test_sign_out_deletes_the_cookie_and_a_copy_of_it_stops_working(app) -> None:
    web = Portal(app)
    web.login("alice")
    copy = web.client.cookies.get("cocity_session")
    response = web.post("/logout")
    assert response.status_code == 303
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert web.get("/portal").status_code == 303
    thief = Portal(app)
    thief.client.cookies.set("cocity_session", copy)
    assert thief.get("/portal").status_code == 303


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(app) -> None:
    web = Portal(app)
    web.refresh_token()
    for data in ({"login": "alice", "password": PASSWORD},
                 {"login": "alice", "password": PASSWORD, "csrf_token": "forged"}):
        response = web.client.post("/login", data=data)
        assert response.status_code == 403
        assert "CSRF" in response.text
        assert "防跨站令牌" in response.text
    with app.state.portal.records.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(portal_logins)) \
            .scalar_one() == 0
    # the header works for JSON clients
    response = web.client.post("/login", data={"login": "alice", "password": PASSWORD},
                               headers={"X-CSRF-Token": web.csrf})
    assert response.status_code == 303


def test_roles_anonymous_goes_to_login_an_unrelated_role_is_forbidden(app) -> None:
    anonymous = Portal(app)
    response = anonymous.get("/portal?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fportal%3Fx%3D1"
    web = Portal(app)
    web.login("bob")
    assert web.get("/portal").status_code == 200


def test_next_after_sign_in_stays_on_this_site(app) -> None:
    web = Portal(app)
    web.refresh_token()
    for target, expected in (("/account/password", "/account/password"),
                             ("https://evil.example/", "/portal"),
                             ("//evil.example/", "/portal"), ("/\\evil.example", "/portal")):
        web.client.cookies.clear()
        web.refresh_token()
        response = web.client.post("/login", data={"login": "alice", "password": PASSWORD,
                                                   "csrf_token": web.csrf, "next": target})
        assert response.headers["location"] == expected


def test_the_language_switch_is_remembered(app) -> None:
    web = Portal(app)
    english = web.get("/login?lang=en")
    assert "Sign in" in english.text
    assert "lang=en" in english.headers["set-cookie"]
    assert "Sign in" in web.get("/login").text  # from the cookie
    assert "登录" in web.get("/login?lang=zh").text


def test_a_deactivated_user_loses_the_session(app) -> None:
    from cocity.web.users import deactivate

    web = Portal(app)
    web.login("bob")
    assert web.get("/portal").status_code == 200
    deactivate(app.state.portal.records, "bob", actor="alice")
    assert web.get("/portal").status_code == 303


def test_a_password_change_ends_the_other_sessions_and_renews_this_one(app) -> None:
    laptop, phone = Portal(app), Portal(app)
    laptop.login("bob")
    phone.login("bob")
    old_cookie = laptop.client.cookies.get("cocity_session")
    response = laptop.post("/account/password", {"current": PASSWORD,
                                                 "password": "a brand new passphrase",
                                                 "again": "a brand new passphrase"})
    assert response.status_code == 200
    assert "密码已修改" in response.text
    assert laptop.client.cookies.get("cocity_session") != old_cookie
    assert laptop.get("/portal").status_code == 200
    assert phone.get("/portal").status_code == 303


def test_idle_and_absolute_timeouts_end_a_session(app, monkeypatch) -> None:
    import time

    import itsdangerous.timed

    from cocity.web.session import PortalMiddleware

    web = Portal(app)
    web.login("bob")
    raw = web.client.cookies.get("cocity_session")
    pol = app.state.portal.settings.policy
    layer = PortalMiddleware(app, secret="test-secret-key-" + "x" * 32, policy=pol)
    now = time.time()
    assert layer.load(raw, now).login == "bob"
    assert layer.load(raw, now + pol.session.absolute_hours * 3600 + 1).login is None

    class Later:
        def __init__(self, minutes: float) -> None:
            self.minutes = minutes

        def time(self) -> float:
            return now + self.minutes * 60

    monkeypatch.setattr(itsdangerous.timed, "time", Later(pol.session.idle_minutes - 1))
    assert layer.load(raw, now).login == "bob"
    monkeypatch.setattr(itsdangerous.timed, "time", Later(pol.session.idle_minutes + 1))
    assert layer.load(raw, now).login is None
    # a forged cookie is anonymous
    assert layer.load(raw[:-3] + "abc", now).login is None
