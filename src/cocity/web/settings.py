"""What a running portal needs to know: where the records, the site, the runs and the data are,
and its secret key. ``cocity serve`` builds one from its options; tests build their own."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cocity.web.policy import Policy, policy

SECRET_ENV = "COCITY_SECRET_KEY"
KEY_FILE = "cocity-portal.key"


@dataclass(frozen=True)
class Settings:
    """``records``: the records database (a file path or URL; ``None``: ``cocity-records.sqlite``
    in the current folder); ``site_dir``: the published static site served at ``/``;
    ``runs_root``: the evaluation run folders; ``workspace``: the data workspace (``None``: the
    embedded dataset); ``uploads_dir``: where accepted uploads are kept (named by their
    SHA-256, never by the name they came with); ``secret_key``: the key that signs session
    cookies (``None``: read with :func:`secret_key`); ``policy``: the security limits
    (default ``security.yaml``)."""

    records: str | Path | None = None
    site_dir: Path = Path("cocity-site")
    runs_root: Path = Path("cocity-evaluate")
    workspace: Path | None = None
    uploads_dir: Path = Path("cocity-uploads")
    secret_key: str | None = None
    policy: Policy = field(default_factory=policy)


def _key_path(records: str | Path | None) -> Path:
    """The key file beside an SQLite records file (else in the current folder)."""
    if records is None or (isinstance(records, str) and "://" in records):
        if isinstance(records, str) and records.startswith("sqlite:///"):
            return Path(records.removeprefix("sqlite:///")).expanduser().resolve().parent \
                / KEY_FILE
        return Path.cwd() / KEY_FILE
    return Path(records).expanduser().resolve().parent / KEY_FILE


def secret_key(settings: Settings) -> str:
    """The key signing the session cookies: ``settings.secret_key``, else ``COCITY_SECRET_KEY``,
    else the key file ``cocity-portal.key`` beside the records database — created once (32
    random bytes, mode 0600, never overwritten)."""
    if settings.secret_key:
        return settings.secret_key
    env = os.environ.get(SECRET_ENV)
    if env:
        return env
    path = _key_path(settings.records)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text(encoding="ascii").strip()
