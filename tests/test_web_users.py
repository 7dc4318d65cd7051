"""The portal's user library (:mod:`cocity.web.users`) on SQLite and on a real PostgreSQL
server: password rules, Argon2id hashes and their renewal, roles, deactivation, the last
administrator, and an audit row written in the same transaction as each change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cocity.records.schema import portal_audit, portal_logins, portal_user_roles, portal_users
from cocity.web import users as U
from cocity.web.errors import LoginFailed, PasswordRejected, UserError
from tests.web_support import PASSWORD, fast_policy

POL = fast_policy()


def counts(records) -> tuple[int, int, int]:
    with records.read() as conn:
        return tuple(int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                     for t in (portal_users, portal_user_roles, portal_audit))


@pytest.mark.parametrize(("password", "login", "match"), [
    ("short", "wang", r"至少需要 12 个字符|at least 12"),
    ("x" * 129, "wang", r"最多 128|at most 128"),
    ("Password1234", "wang", r"过于常见|too common"),
    ("woaini1314520", "wang", r"过于常见|too common"),
    ("wang.long.login", "wang.long.login", r"不能与用户名相同|must not be the login"),
])
def test_passwords_breaking_the_rules_are_refused_and_nothing_is_written(
        records, password: str, login: str, match: str) -> None:
    with pytest.raises(PasswordRejected, match=match):
        U.add_user(records, login, password=password, roles=["analyst"], actor="t", pol=POL)
    assert counts(records) == (0, 0, 0)


def test_any_characters_and_no_composition_rules(records) -> None:
    for i, password in enumerate(["aaaa bbbb cccc", "成渝双城经济圈公共服务评价", "😀" * 12]):
        U.add_user(records, f"user{i}", password=password, roles=[], actor="t", pol=POL)
        assert U.authenticate(records, login=f"user{i}", password=password, client="c",
                              pol=POL).login == f"user{i}"


@pytest.mark.parametrize(("login", "roles", "match"), [
    ("", ["analyst"], r"无效|invalid"),
    ("has space", ["analyst"], r"无效|invalid"),
    ("ok", ["root"], r"未知角色|unknown role"),
])
def test_invalid_logins_and_roles_are_refused(records, login, roles, match) -> None:
    with pytest.raises(UserError, match=match):
        U.add_user(records, login, password=PASSWORD, roles=roles, actor="t", pol=POL)
    assert counts(records) == (0, 0, 0)


def test_a_user_is_added_with_an_argon2id_hash_roles_and_an_audit_row(records) -> None:
    user = U.add_user(records, "wang", password=PASSWORD, roles=["evaluator", "analyst"],
                      name="王五", actor="admin1", client="cli", pol=POL)
    assert (user.login, user.name, user.roles, user.active) == (
        "wang", "王五", frozenset({"analyst", "evaluator"}), True)
    with records.read() as conn:
        digest = conn.execute(sa.select(portal_users.c.password_hash)).scalar_one()
        audit = conn.execute(sa.select(portal_audit)).mappings().one()
    assert digest.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert PASSWORD not in digest
    assert (audit["actor"], audit["role"], audit["action"], audit["target"]) == (
        "admin1", "admin", "user.add", "wang")
    assert PASSWORD not in audit["detail"]
    with pytest.raises(UserError, match=r"已存在|exists already"):
        U.add_user(records, "wang", password=PASSWORD, roles=[], actor="admin1", pol=POL)
    assert counts(records) == (1, 2, 1)


def test_the_audit_row_and_the_change_are_one_transaction(records, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("audit write failed")

    monkeypatch.setattr(U, "write_audit", broken)
    with pytest.raises(RuntimeError, match="audit write failed"):
        U.add_user(records, "wang", password=PASSWORD, roles=["analyst"], actor="t", pol=POL)
    assert counts(records) == (0, 0, 0)


def test_roles_are_replaced_and_audited_with_before_and_after(records) -> None:
    U.add_user(records, "boss", password=PASSWORD, roles=["admin"], actor="t", pol=POL)
    U.add_user(records, "wang", password=PASSWORD, roles=["analyst"], actor="t", pol=POL)
    user = U.set_roles(records, "wang", roles=["evaluator", "secretary"], actor="boss")
    assert user.roles == frozenset({"evaluator", "secretary"})
    with records.read() as conn:
        row = conn.execute(sa.select(portal_audit.c.detail).where(
            portal_audit.c.action == "user.roles")).scalar_one()
    assert row == '{"after": ["evaluator", "secretary"], "before": ["analyst"]}'


def test_the_last_active_admin_keeps_the_role_and_stays_active(records) -> None:
    U.add_user(records, "boss", password=PASSWORD, roles=["admin"], actor="t", pol=POL)
    before = counts(records)
    with pytest.raises(UserError, match=r"最后一位|last active administrator"):
        U.set_roles(records, "boss", roles=["analyst"], actor="boss")
    with pytest.raises(UserError, match=r"最后一位|last active administrator"):
        U.deactivate(records, "boss", actor="boss")
    assert counts(records) == before
    U.add_user(records, "second", password=PASSWORD, roles=["admin"], actor="boss", pol=POL)
    assert not U.deactivate(records, "boss", actor="second").active
    assert U.has_admin(records)


def test_a_deactivated_user_cannot_sign_in_and_is_kept(records) -> None:
    U.add_user(records, "boss", password=PASSWORD, roles=["admin"], actor="t", pol=POL)
    U.add_user(records, "wang", password=PASSWORD, roles=["analyst"], actor="t", pol=POL)
    U.deactivate(records, "wang", actor="boss")
    with pytest.raises(LoginFailed, match=r"用户名或密码不正确|wrong login or password"):
        U.authenticate(records, login="wang", password=PASSWORD, client="c", pol=POL)
    assert [u.login for u in U.users(records)] == ["boss", "wang"]


def test_an_unknown_login_costs_a_password_check_too(records, monkeypatch) -> None:
    calls = []
    real = U._verify

    def counting(digest, password, pol):
        calls.append(digest)
        return real(digest, password, pol)

    monkeypatch.setattr(U, "_verify", counting)
    with pytest.raises(LoginFailed, match=r"用户名或密码不正确|wrong login or password"):
        U.authenticate(records, login="ghost", password=PASSWORD, client="c", pol=POL)
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_a_hash_with_old_parameters_is_renewed_at_sign_in(records) -> None:
    U.add_user(records, "wang", password=PASSWORD, roles=[], actor="t", pol=POL)
    stronger = fast_policy(argon2={"time_cost": 2, "memory_cost": 2048})
    U.authenticate(records, login="wang", password=PASSWORD, client="c", pol=stronger)
    with records.read() as conn:
        digest = conn.execute(sa.select(portal_users.c.password_hash)).scalar_one()
        logins = conn.execute(sa.select(portal_logins.c.ok)).scalars().all()
    assert digest.startswith("$argon2id$v=19$m=2048,t=2,p=1$")
    assert logins == [True]
    assert U.authenticate(records, login="wang", password=PASSWORD, client="c",
                          pol=stronger).login == "wang"


def test_changing_ones_own_password_needs_the_current_one(records) -> None:
    U.add_user(records, "wang", password=PASSWORD, roles=[], actor="t", pol=POL)
    with pytest.raises(PasswordRejected, match=r"当前密码不正确|current password is wrong"):
        U.set_password(records, "wang", password="a brand new passphrase", current="nope",
                       actor="wang", role="analyst", pol=POL)
    U.set_password(records, "wang", password="a brand new passphrase", current=PASSWORD,
                   actor="wang", role="analyst", pol=POL)
    assert U.authenticate(records, login="wang", password="a brand new passphrase",
                          client="c", pol=POL).login == "wang"
