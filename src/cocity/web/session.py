"""Sessions, response headers and the request-size limit: one ASGI middleware.

The session lives in a signed cookie ``cocity_session`` (itsdangerous ``URLSafeTimedSerializer``
with the portal's secret key; nothing is stored server-side): a random session id, the CSRF
token, the signed-in login with the time its password last changed, the session's start and
last use. The cookie is ``HttpOnly``, ``SameSite=Lax``, ``Path=/``, and ``Secure`` when the
request came over HTTPS (behind a reverse proxy: uvicorn's ``--proxy-headers`` sets the scheme
from ``X-Forwarded-Proto``). A session unused for ``session.idle_minutes`` or older than
``session.absolute_hours`` (``security.yaml``) is void. Signing in starts a NEW session (new id,
new CSRF token: no fixation); signing out deletes the cookie and revokes the session id (in this
process, until the cookie would have expired: a copy of the cookie stops working too).

The language of the request is ``?lang=zh|en`` (then remembered in the ``lang`` cookie), else
the ``lang`` cookie, else Chinese; it is set as the i18n context language for the request.

Every response gets the security headers (:data:`SECURITY_HEADERS`, a strict
Content-Security-Policy among them) and ``Cache-Control: no-store`` when a user is signed in. A
request body larger than ``upload.max_bytes`` is refused with 413 — from ``Content-Length``
before reading, or while reading when the length is not announced.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cocity.i18n import LANGS, reset_lang, set_lang
from cocity.web.errors import Refusal
from cocity.web.policy import Policy

SESSION_COOKIE = "cocity_session"
LANG_COOKIE = "lang"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
REFRESH_S = 60  # the cookie is re-signed (idle timer restarted) at most once a minute


class BodyTooLarge(Refusal):
    """A request body over the limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, "web.err.too_large", mb=round(limit / 1048576, 1))


class Session:
    """The state of one visitor's session (see the module docstring)."""

    def __init__(self, data: dict[str, Any] | None, *, now: float) -> None:
        self.data: dict[str, Any] = dict(data or {})
        self.now = now
        self.dirty = False
        self.cleared = False
        self.ended: str | None = None

    @property
    def sid(self) -> str | None:
        return self.data.get("sid")

    @property
    def login(self) -> str | None:
        return self.data.get("login")

    @property
    def password_stamp(self) -> str | None:
        return self.data.get("pwd")

    def _ensure(self) -> None:
        if "sid" not in self.data:
            self.data = {"sid": secrets.token_urlsafe(18), "csrf": secrets.token_urlsafe(32),
                         "created": self.now, "seen": self.now}
            self.dirty = True

    @property
    def csrf_token(self) -> str:
        """The session's CSRF token (a session is started when there is none yet)."""
        self._ensure()
        return str(self.data["csrf"])

    def stored_csrf(self) -> str | None:
        """The CSRF token of the session the request came with (``None``: none)."""
        return self.data.get("csrf")

    def begin(self, *, login: str, password_stamp: str) -> None:
        """Sign ``login`` in: a new session (new id and CSRF token)."""
        self.data = {}
        self._ensure()
        self.data.update(login=login, pwd=password_stamp)

    def end(self) -> None:
        """Sign out: the session is gone (the cookie is deleted and its id revoked)."""
        if self.data.get("sid"):
            self.ended = str(self.data["sid"])
        self.data = {}
        self.cleared = True
        self.dirty = True


def _cookie(name: str, value: str, *, max_age: int, secure: bool, http_only: bool = True) -> str:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "SameSite=Lax"]
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


class PortalMiddleware:
    """The portal's outermost layer (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, secret: str, policy: Policy) -> None:
        self.app = app
        self.serializer = URLSafeTimedSerializer(secret, salt="cocity-session")
        self.policy = policy
        self.idle_s = int(policy.session.idle_minutes * 60)
        self.absolute_s = int(policy.session.absolute_hours * 3600)
        # ids of sessions signed out, until their cookie would have expired anyway
        self.revoked: dict[str, float] = {}

    def revoke(self, sid: str, now: float) -> None:
        self.revoked = {k: v for k, v in self.revoked.items() if v > now}
        self.revoked[sid] = now + self.idle_s + REFRESH_S

    def load(self, raw: str | None, now: float) -> Session:
        if not raw:
            return Session(None, now=now)
        try:
            data = self.serializer.loads(raw, max_age=self.idle_s)
        except BadSignature:  # forged, damaged or expired (SignatureExpired is a subclass)
            return Session(None, now=now)
        if (not isinstance(data, dict) or not isinstance(data.get("sid"), str)
                or not isinstance(data.get("csrf"), str)
                or not isinstance(data.get("created"), int | float)
                or now - float(data["created"]) > self.absolute_s
                or self.revoked.get(data["sid"], 0.0) > now):
            return Session(None, now=now)
        session = Session(data, now=now)
        if now - float(data.get("seen", 0)) > REFRESH_S:
            session.data["seen"] = now
            session.dirty = True
        return session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        now = time.time()
        session = self.load(conn.cookies.get(SESSION_COOKIE), now)
        asked = conn.query_params.get("lang")
        lang = asked if asked in LANGS else conn.cookies.get(LANG_COOKIE)
        lang = lang if lang in LANGS else "zh"
        state = scope.setdefault("state", {})
        state["session"] = session
        state["lang"] = lang
        secure = scope.get("scheme") == "https"
        limit = self.policy.upload.max_bytes

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                if session.ended:
                    self.revoke(session.ended, now)
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers[key] = value
                if session.login:
                    headers["cache-control"] = "no-store"
                if session.dirty:
                    if session.cleared and not session.data:
                        headers.append("set-cookie", _cookie(SESSION_COOKIE, "", max_age=0,
                                                             secure=secure))
                    else:
                        value = self.serializer.dumps(session.data)
                        headers.append("set-cookie", _cookie(SESSION_COOKIE, value,
                                                             max_age=self.idle_s,
                                                             secure=secure))
                if asked in LANGS:
                    headers.append("set-cookie", _cookie(LANG_COOKIE, lang,
                                                         max_age=365 * 86400, secure=secure))
            await send(message)

        declared = conn.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, send_wrapped, limit)
            return
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_wrapped(message)

        token = set_lang(lang)
        try:
            await self.app(scope, receive_limited, send_tracked)
        except Exception:
            if not started:  # a bug: answer 500 with the headers, then let it be logged
                await self._plain(send_wrapped, 500, "web.err.internal")
            raise
        finally:
            reset_lang(token)

    async def _too_large(self, scope: Scope, send: Send, limit: int) -> None:
        await self._plain(send, 413, "web.err.too_large", mb=round(limit / 1048576, 1))

    async def _plain(self, send: Send, status: int, key: str, **fmt: object) -> None:
        from cocity.i18n import both

        body = both(key, **fmt).encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

