"""User-facing labels, kept as data in ``i18n/*.yaml`` (every key has ``zh`` and ``en``).

Chinese (简体中文) is the default language; set ``COCITY_LANG=en`` or pass ``--lang en`` to the CLI.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGS = ("zh", "en")


@cache
def labels() -> dict[str, dict[str, str]]:
    """All labels, merged from every YAML file of this package (a key may appear once)."""
    merged: dict[str, dict[str, str]] = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            data: dict[str, Any] = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
            for key, value in data.items():
                if key in merged:
                    raise ValueError(f"label {key!r} defined twice (in {entry.name})")
                merged[key] = value
    return merged


def current_lang() -> str:
    lang = os.environ.get("COCITY_LANG", "zh")
    return lang if lang in LANGS else "zh"


def t(key: str, lang: str | None = None, **fmt: object) -> str:
    """The label ``key`` in ``lang`` (default: the current language), formatted with ``fmt``."""
    entry = labels()[key]
    text = entry[lang or current_lang()]
    return text.format(**fmt) if fmt else text


def both(key: str, **fmt: object) -> str:
    """``中文 / English`` for places that show both at once."""
    zh, en = t(key, "zh", **fmt), t(key, "en", **fmt)
    return zh if zh == en else f"{zh} / {en}"
