"""The portal's users: accounts, roles, passwords and signing in (``portal_users``,
``portal_user_roles``, ``portal_logins``). The CLI (``cocity portal user …``) and the web app
both use these functions; every change is written to ``portal_audit`` in the same transaction.

Passwords (OWASP ASVS L1, chapter 2): at least ``password.min_length`` (12) characters and at
most ``password.max_length`` (128), any characters, no composition rules, not one of the common
passwords in ``common_passwords.txt`` and not the login itself. Stored as Argon2id hashes
(argon2-cffi's ``PasswordHasher`` with the parameters of ``security.yaml``); a hash made with
other parameters is redone at the next successful sign-in.

Signing in (:func:`authenticate`), limits from ``security.yaml``, all computed from the
append-only ``portal_logins`` table:

* a client address with ``client_limit.failures`` (20) failed attempts within the last
  ``client_limit.window_minutes`` (5) is refused (HTTP 429) before any password is checked;
* a login whose ``lockout.failures`` (5) most recent failures since its last success lie within
  ``lockout.window_minutes`` (15) of each other is locked until ``lockout.lock_minutes`` (15)
  after the last of them; attempts while locked are refused and not recorded (so an attacker
  cannot keep a user locked out for longer than one lock by trying on);
* an unknown or inactive login costs the same as a known one: a dummy hash is verified.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection

from cocity.records import Records
from cocity.records.schema import portal_logins, portal_user_roles, portal_users
from cocity.web.auditlog import parse_stamp, stamp, write_audit
from cocity.web.errors import (
    LoginFailed,
    LoginLocked,
    PasswordRejected,
    TooManyAttempts,
    UserError,
)
from cocity.web.policy import Policy, common_passwords, policy
from cocity.web.principal import Principal
from cocity.web.roles import ADMIN, ROLES

LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class User:
    id: int
    login: str
    name: str
    roles: frozenset[str]
    active: bool
    created_at: str
    created_by: str
    password_changed_at: str


@cache
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost,
                          parallelism=parallelism)


def hasher(pol: Policy | None = None) -> PasswordHasher:
    """The Argon2id hasher of the policy's parameters."""
    a = (pol or policy()).argon2
    return _hasher(a.time_cost, a.memory_cost, a.parallelism)


@cache
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_cost, parallelism).hash("cocity-dummy-password")


def check_password(password: str, *, login: str = "", pol: Policy | None = None) -> None:
    """Refuse a password that breaks the rules (:class:`PasswordRejected`)."""
    rules = (pol or policy()).password
    n = len(password)
    if n < rules.min_length:
        raise PasswordRejected("web.err.password_short", n=rules.min_length)
    if n > rules.max_length:
        raise PasswordRejected("web.err.password_long", n=rules.max_length)
    if password.lower() in common_passwords():
        raise PasswordRejected("web.err.password_common")
    if login and password.lower() == login.lower():
        raise PasswordRejected("web.err.password_login")


def _check_login(login: str) -> None:
    if not LOGIN_RE.match(login):
        raise UserError("web.err.login_invalid", login=login[:80])


def _check_roles(roles: Iterable[str]) -> list[str]:
    out = sorted(set(roles))
    bad = [r for r in out if r not in ROLES]
    if bad:
        raise UserError("web.err.role_unknown", role=", ".join(bad), roles=", ".join(ROLES))
    return out


def _row(conn: Connection, login: str) -> sa.RowMapping | None:
    return conn.execute(sa.select(portal_users).where(portal_users.c.login == login)) \
        .mappings().first()


def _roles_of(conn: Connection, user_id: int) -> frozenset[str]:
    rows = conn.execute(sa.select(portal_user_roles.c.role)
                        .where(portal_user_roles.c.user_id == user_id)).scalars().all()
    return frozenset(rows)


def _user(conn: Connection, row: sa.RowMapping) -> User:
    return User(id=row["id"], login=row["login"], name=row["name"],
                roles=_roles_of(conn, row["id"]), active=bool(row["active"]),
                created_at=row["created_at"], created_by=row["created_by"],
                password_changed_at=row["password_changed_at"])


def _existing(conn: Connection, login: str) -> sa.RowMapping:
    row = _row(conn, login)
    if row is None:
        raise UserError("web.err.user_unknown", login=login[:80])
    return row


# -- reading --------------------------------------------------------------------------------
def users(records: Records) -> list[User]:
    """Every user, active or not, by login."""
    with records.read() as conn:
        rows = conn.execute(sa.select(portal_users).order_by(portal_users.c.login)) \
            .mappings().all()
        return [_user(conn, r) for r in rows]


def user(records: Records, login: str) -> User | None:
    """The user ``login`` (``None`` when there is none)."""
    with records.read() as conn:
        row = _row(conn, login)
        return None if row is None else _user(conn, row)


def has_admin(records: Records) -> bool:
    """Whether an active user holds the admin role."""
    query = (sa.select(sa.func.count()).select_from(portal_users.join(portal_user_roles))
             .where(portal_users.c.active.is_(True), portal_user_roles.c.role == ADMIN))
    with records.read() as conn:
        return bool(conn.execute(query).scalar_one())


# -- changing -------------------------------------------------------------------------------
def add_user(records: Records, login: str, *, password: str, roles: Iterable[str],
             name: str = "", actor: str, role: str = ADMIN, client: str = "cli",
             pol: Policy | None = None) -> User:
    """Create the user ``login`` with ``roles`` (audited as ``user.add``)."""
    _check_login(login)
    wanted = _check_roles(roles)
    check_password(password, login=login, pol=pol)
    digest = hasher(pol).hash(password)
    now = stamp()
    with records.transaction() as conn:
        if _row(conn, login) is not None:
            raise UserError("web.err.user_exists", login=login)
        user_id = conn.execute(portal_users.insert().values(
            login=login, name=name.strip() or login, password_hash=digest, active=True,
            created_at=now, created_by=actor, password_changed_at=now)
            .returning(portal_users.c.id)).scalar_one()
        for r in wanted:
            conn.execute(portal_user_roles.insert().values(user_id=user_id, role=r))
        write_audit(conn, actor=actor, role=role, action="user.add", target=login,
                    detail={"name": name.strip() or login, "roles": wanted}, client=client)
        return _user(conn, _existing(conn, login))


def set_roles(records: Records, login: str, *, roles: Iterable[str], actor: str,
              role: str = ADMIN, client: str = "cli") -> User:
    """Replace the roles of ``login`` (audited as ``user.roles`` with before and after). The
    last active admin cannot give up the admin role."""
    wanted = _check_roles(roles)
    with records.transaction() as conn:
        row = _existing(conn, login)
        before = sorted(_roles_of(conn, row["id"]))
        if ADMIN in before and ADMIN not in wanted:
            _keep_an_admin(conn, row["id"])
        conn.execute(portal_user_roles.delete().where(portal_user_roles.c.user_id == row["id"]))
        for r in wanted:
            conn.execute(portal_user_roles.insert().values(user_id=row["id"], role=r))
        write_audit(conn, actor=actor, role=role, action="user.roles", target=login,
                    detail={"before": before, "after": wanted}, client=client)
        return _user(conn, row)


def _keep_an_admin(conn: Connection, user_id: int) -> None:
    others = conn.execute(
        sa.select(sa.func.count()).select_from(portal_users.join(portal_user_roles))
        .where(portal_users.c.active.is_(True), portal_user_roles.c.role == ADMIN,
               portal_users.c.id != user_id)).scalar_one()
    if not others:
        raise UserError("web.err.last_admin")


def set_password(records: Records, login: str, *, password: str, actor: str,
                 role: str = ADMIN, client: str = "cli", current: str | None = None,
                 pol: Policy | None = None) -> User:
    """Set the password of ``login`` (audited as ``user.password``; the password itself never
    is). With ``current`` (a user changing their own), the current password must match.
    Sessions made before the change stop being valid."""
    check_password(password, login=login, pol=pol)
    with records.transaction() as conn:
        row = _existing(conn, login)
        if current is not None and not _verify(row["password_hash"], current, pol):
            raise PasswordRejected("web.err.password_current")
        conn.execute(portal_users.update().where(portal_users.c.id == row["id"]).values(
            password_hash=hasher(pol).hash(password), password_changed_at=stamp()))
        write_audit(conn, actor=actor, role=role, action="user.password", target=login,
                    detail={"own": current is not None}, client=client)
        return _user(conn, _existing(conn, login))


def deactivate(records: Records, login: str, *, actor: str, role: str = ADMIN,
               client: str = "cli") -> User:
    """Make ``login`` inactive (never deleted, so the audit trail keeps the name); audited
    as ``user.deactivate``. The last active admin cannot be made inactive."""
    with records.transaction() as conn:
        row = _existing(conn, login)
        if ADMIN in _roles_of(conn, row["id"]):
            _keep_an_admin(conn, row["id"])
        conn.execute(portal_users.update().where(portal_users.c.id == row["id"])
                     .values(active=False))
        write_audit(conn, actor=actor, role=role, action="user.deactivate", target=login,
                    detail={}, client=client)
        return _user(conn, _existing(conn, login))


# -- signing in -----------------------------------------------------------------------------
def _verify(digest: str, password: str, pol: Policy | None) -> bool:
    try:
        return bool(hasher(pol).verify(digest, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _record(conn: Connection, login: str, client: str, ok: bool, now: dt.datetime) -> None:
    conn.execute(portal_logins.insert().values(login=login[:200], client=client[:64],
                                               at=stamp(now), ok=ok))


def lock_until(conn: Connection, login: str, *, now: dt.datetime,
               pol: Policy | None = None) -> dt.datetime | None:
    """When the lock of ``login`` ends (``None``: not locked); see the module docstring."""
    rule = (pol or policy()).lockout
    last_ok = conn.execute(sa.select(sa.func.max(portal_logins.c.id)).where(
        portal_logins.c.login == login[:200], portal_logins.c.ok.is_(True))).scalar_one()
    query = (sa.select(portal_logins.c.at)
             .where(portal_logins.c.login == login[:200], portal_logins.c.ok.is_(False))
             .order_by(portal_logins.c.id.desc()).limit(rule.failures))
    if last_ok is not None:
        query = query.where(portal_logins.c.id > last_ok)
    times = [parse_stamp(a) for a in conn.execute(query).scalars().all()]
    if len(times) < rule.failures:
        return None
    if times[0] - times[-1] > dt.timedelta(minutes=rule.window_minutes):
        return None
    until = times[0] + dt.timedelta(minutes=rule.lock_minutes)
    return until if now < until else None


def _client_blocked(conn: Connection, client: str, now: dt.datetime, pol: Policy | None) -> bool:
    rule = (pol or policy()).client_limit
    since = stamp(now - dt.timedelta(minutes=rule.window_minutes))
    failures = conn.execute(sa.select(sa.func.count()).select_from(portal_logins).where(
        portal_logins.c.client == client[:64], portal_logins.c.ok.is_(False),
        portal_logins.c.at >= since)).scalar_one()
    return bool(failures >= rule.failures)


def _minutes_left(until: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def authenticate(records: Records, *, login: str, password: str, client: str,
                 now: dt.datetime | None = None, pol: Policy | None = None) -> Principal:
    """Sign ``login`` in with ``password`` from ``client`` (an address): the
    :class:`Principal`, or a refusal (see :func:`sign_in`)."""
    found = sign_in(records, login=login, password=password, client=client, now=now, pol=pol)
    return Principal(login=found.login, name=found.name, roles=found.roles)


def sign_in(records: Records, *, login: str, password: str, client: str,
            now: dt.datetime | None = None, pol: Policy | None = None) -> User:
    """Sign ``login`` in with ``password`` from ``client`` (an address); every attempt is
    recorded in ``portal_logins``. Returns the :class:`User` (with the time its password
    changed, which the session keeps). Raises :class:`TooManyAttempts` (429),
    :class:`LoginLocked` (423) or :class:`LoginFailed` (401, never saying whether the login
    exists)."""
    now = now or dt.datetime.now(dt.UTC)
    a = (pol or policy()).argon2
    with records.transaction() as conn:
        if _client_blocked(conn, client, now, pol):
            raise TooManyAttempts("web.err.too_many")
        until = lock_until(conn, login, now=now, pol=pol)
        if until is not None:
            raise LoginLocked("web.err.locked", minutes=_minutes_left(until, now))
        row = _row(conn, login) if len(login) <= 64 else None
        if row is None or not row["active"]:
            _verify(_dummy_hash(a.time_cost, a.memory_cost, a.parallelism), password, pol)
            ok = False
        else:
            ok = _verify(row["password_hash"], password, pol)
        _record(conn, login, client, ok, now)
        if ok and row is not None:
            if hasher(pol).check_needs_rehash(row["password_hash"]):
                conn.execute(portal_users.update().where(portal_users.c.id == row["id"])
                             .values(password_hash=hasher(pol).hash(password)))
            return _user(conn, row)
        until = lock_until(conn, login, now=now, pol=pol)
    # the failure is committed before refusing
    if until is not None:
        raise LoginLocked("web.err.locked", minutes=_minutes_left(until, now))
    raise LoginFailed("web.err.login_failed")
