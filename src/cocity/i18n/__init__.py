"""User-facing labels, kept as data in ``i18n/*.yaml`` (every key has ``zh`` and ``en``).

Chinese (简体中文) is the default language. The language in force is a context variable: the
CLI's ``--lang en`` sets it for the command (:func:`set_lang`), code that needs another language
for a while uses ``with use_lang("en"):``; without either, ``COCITY_LANG`` in the environment is
read (never written).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGS = ("zh", "en")
_LANG: ContextVar[str | None] = ContextVar("cocity_lang", default=None)
# libyaml's safe loader when PyYAML was built with it (ten times faster: every command reads
# the labels at start-up), else the pure-Python one; both accept the same documents
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def labels() -> dict[str, dict[str, str]]:
    """All labels, merged from every YAML file of this package (a key may appear once)."""
    merged: dict[str, dict[str, str]] = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            data: dict[str, Any] = yaml.load(entry.read_text(encoding="utf-8"),
                                             Loader=_LOADER) or {}
            for key, value in data.items():
                if key in merged:
                    raise ValueError(f"label {key!r} defined twice (in {entry.name})")
                merged[key] = value
    return merged


def current_lang() -> str:
    """The language in force: the context's (``--lang``), else ``COCITY_LANG``, else ``zh``."""
    lang = _LANG.get() or os.environ.get("COCITY_LANG", "zh")
    return lang if lang in LANGS else "zh"


def set_lang(lang: str | None) -> Token[str | None]:
    """Set the language of the current context (``None``: back to the environment's)."""
    if lang is not None and lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, not {lang!r}")
    return _LANG.set(lang)


def reset_lang(token: Token[str | None]) -> None:
    """Undo the :func:`set_lang` call that returned ``token``."""
    _LANG.reset(token)


@contextmanager
def use_lang(lang: str | None) -> Iterator[None]:
    """Run a block in ``lang``; the previous language is restored afterwards."""
    token = set_lang(lang)
    try:
        yield
    finally:
        _LANG.reset(token)


def t(key: str, lang: str | None = None, **fmt: object) -> str:
    """The label ``key`` in ``lang`` (default: the current language), formatted with ``fmt``."""
    entry = labels()[key]
    text = entry[lang or current_lang()]
    return text.format(**fmt) if fmt else text


def both(key: str, **fmt: object) -> str:
    """``中文 / English`` for places that show both at once."""
    zh, en = t(key, "zh", **fmt), t(key, "en", **fmt)
    return zh if zh == en else f"{zh} / {en}"
