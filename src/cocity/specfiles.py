"""Specifications kept as YAML data: a shipped default beside a module, or the user's own."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml


def read_spec(package: str, default_name: str,
              source: str | Path | dict[str, Any] | None = None) -> dict[str, Any]:
    """``source`` as a mapping: given as one, read from a YAML file, or (``None``) the file
    ``default_name`` shipped in ``package``."""
    if isinstance(source, dict):
        return source
    if source is None:
        text = (resources.files(package) / default_name).read_text(encoding="utf-8")
    else:
        text = Path(source).read_text(encoding="utf-8")
    spec: dict[str, Any] = yaml.safe_load(text) or {}
    return spec
