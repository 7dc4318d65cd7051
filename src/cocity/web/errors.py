"""The portal's refusals: each a :class:`CocityError` with a label, the HTTP status it maps to,
and both languages available (pages and the JSON API show Chinese and English together)."""

from __future__ import annotations

from fastapi import HTTPException

from cocity.data.errors import CocityError
from cocity.i18n import both, t


class PortalError(CocityError):
    """A refusal with the label ``key`` (formatted with ``fmt``) and an HTTP ``status``."""

    status = 400

    def __init__(self, key: str, *, status: int | None = None, **fmt: object) -> None:
        self.key = key
        self.fmt = fmt
        if status is not None:
            self.status = status
        super().__init__(key)

    def __str__(self) -> str:
        return t(self.key, None, **self.fmt)

    def text(self, lang: str) -> str:
        return t(self.key, lang, **self.fmt)

    def bilingual(self) -> str:
        return both(self.key, **self.fmt)


class UserError(PortalError):
    """A user-management request that cannot be carried out (nothing was changed)."""


class PasswordRejected(UserError):
    """A new password breaks the password rules."""


class LoginFailed(PortalError):
    """Wrong login or password (the message never says which)."""

    status = 401


class LoginLocked(PortalError):
    """Too many failed attempts for this login: locked for a while."""

    status = 423


class TooManyAttempts(PortalError):
    """Too many failed attempts from this client address."""

    status = 429


class UploadRefused(PortalError):
    """An uploaded file is too large, of a type not accepted, or not what its name says."""


class Refusal(HTTPException):
    """An HTTP refusal whose message is the label ``key`` (shown in both languages)."""

    def __init__(self, status: int, key: str, *, headers: dict[str, str] | None = None,
                 **fmt: object) -> None:
        super().__init__(status_code=status, detail=key, headers=headers)
        self.key = key
        self.fmt = fmt

    def bilingual(self) -> str:
        return both(self.key, **self.fmt)

    def text(self, lang: str) -> str:
        return t(self.key, lang, **self.fmt)


class Shown:
    """Any refusal as the pages show it: its message in both languages (``text(lang)``)."""

    def __init__(self, exc: Exception) -> None:
        from cocity.i18n import use_lang

        if isinstance(exc, PortalError | Refusal):
            self.zh, self.en = exc.text("zh"), exc.text("en")
            return
        with use_lang("zh"):
            self.zh = str(exc)
        with use_lang("en"):
            self.en = str(exc)

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en
