"""The portal's security limits as data: ``security.yaml`` read as a typed spec.

Every number the portal enforces — password length, Argon2id parameters, lock-out and rate
limits, session timeouts, the upload size limit — lives in ``security.yaml`` beside this module;
:func:`policy` reads it once (tests and deployments may pass another :class:`Policy` in
:class:`cocity.web.settings.Settings`). The short list of refused common passwords is
``common_passwords.txt``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pydantic

from cocity.spec import Spec, load_spec


class PasswordRules(Spec):
    min_length: int = pydantic.Field(ge=8)
    max_length: int = pydantic.Field(ge=64)


class Argon2Params(Spec):
    time_cost: int = pydantic.Field(ge=1)
    memory_cost: int = pydantic.Field(ge=8)
    parallelism: int = pydantic.Field(ge=1)


class Lockout(Spec):
    failures: int = pydantic.Field(ge=1)
    window_minutes: float = pydantic.Field(gt=0)
    lock_minutes: float = pydantic.Field(gt=0)


class ClientLimit(Spec):
    failures: int = pydantic.Field(ge=1)
    window_minutes: float = pydantic.Field(gt=0)


class SessionLimits(Spec):
    idle_minutes: float = pydantic.Field(gt=0)
    absolute_hours: float = pydantic.Field(gt=0)


class UploadLimits(Spec):
    max_bytes: int = pydantic.Field(ge=1024)


class Policy(Spec):
    password: PasswordRules
    argon2: Argon2Params
    lockout: Lockout
    client_limit: ClientLimit
    session: SessionLimits
    upload: UploadLimits


@cache
def policy() -> Policy:
    """The shipped limits (``security.yaml``)."""
    return load_spec(Policy, None, package=__package__, default="security.yaml")


@cache
def common_passwords() -> frozenset[str]:
    """The refused common passwords (lower case), from ``common_passwords.txt``."""
    text = (resources.files(__package__) / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))
