"""The one specification layer: every YAML/JSON specification (frameworks, grading rules,
survey schema, diagnostics, networks, life circles …) is read by :func:`load_spec` into a typed
pydantic model, and every problem found — unreadable file, YAML syntax, wrong type, unknown or
missing key, bad value — comes back the same way: one :class:`SpecError` listing every issue
with the file and the key path (``levels.county.membership[1]``), in the user's language.

A specification is a shipped default beside its module (``package`` and ``default``), the
user's own file, or a mapping given directly. With ``overlay=True`` a user file holds only the
keys it changes and is merged over the shipped default (mappings merged key by key, anything
else replaced).

Models derive from :class:`Spec` (unknown keys are errors, so a typo is reported rather than
ignored). Cross-field rules go in pydantic validators that raise ``ValueError`` with a
message from :func:`cocity.i18n.t`; it is reported like the others.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from cocity.data.errors import Issue, IssuesError
from cocity.i18n import t


class Spec(pydantic.BaseModel):
    """Base of every specification model: unknown keys are refused."""

    model_config = pydantic.ConfigDict(extra="forbid", populate_by_name=True)


class OpenSpec(pydantic.BaseModel):
    """Base of specification parts that keep keys they do not name (free-form parameters)."""

    model_config = pydantic.ConfigDict(extra="allow", populate_by_name=True)


M = TypeVar("M", bound=pydantic.BaseModel)


class SpecError(IssuesError):
    """A specification cannot be used; ``issues`` lists every problem found."""

    headline = "spec.err.title"
    max_shown = 25


def location(loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic location as a key path: ``('levels', 'county', 'membership', 1)`` →
    ``levels.county.membership[1]``."""
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker of a mapping's key (the key itself precedes it)
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


# pydantic error types with a message of our own; others keep pydantic's (English) text
_KNOWN = ("missing", "extra_forbidden", "int_parsing", "float_parsing", "bool_parsing",
          "string_type", "list_type", "dict_type", "literal_error", "greater_than",
          "greater_than_equal", "less_than", "less_than_equal", "too_short", "enum",
          "int_type", "float_type", "date_from_datetime_parsing", "date_parsing", "value_error",
          "model_type", "model_attributes_type", "finite_number", "string_too_short")


def _message(err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    ctx = dict(err.get("ctx") or {})
    if kind == "value_error":
        return str(ctx.get("error", err.get("msg", "")))
    if kind in _KNOWN:
        return t(f"spec.err.{kind}", value=_short(err.get("input")),
                 expected=ctx.get("expected", ""), limit=ctx.get("gt", ctx.get(
                     "ge", ctx.get("lt", ctx.get("le", ctx.get("min_length", ""))))))
    return str(err.get("msg", kind))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def issues_of(exc: pydantic.ValidationError, origin: str) -> list[Issue]:
    """Every pydantic error as an :class:`Issue` naming ``origin`` and the key path."""
    out = []
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if not (isinstance(p, str) and (
            p.startswith("function-") or p in ("tagged-union",)))]
        out.append(Issue(_message(err), origin, key=location(loc) or None))
    return out


def read_yaml(source: str | Path | None = None, *, package: str | None = None,
              default: str | None = None) -> tuple[Any, str]:
    """The parsed document and its name: the user's file ``source``, or the shipped file
    ``default`` of ``package``. A missing file or a YAML syntax error is a :class:`SpecError`
    (with the line and column of the error)."""
    if source is None:
        if package is None or default is None:
            raise ValueError("read_yaml needs a source or a shipped default")
        origin = default
        text = (resources.files(package) / default).read_text(encoding="utf-8")
    else:
        origin = str(source)
        path = Path(source)
        if not path.is_file():
            raise SpecError([Issue(t("spec.err.no_file"), origin,
                                   hint=t("spec.err.no_file_hint"))])
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise SpecError([Issue(t("spec.err.encoding"), origin)]) from None
    try:
        return yaml.safe_load(text), origin
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([Issue(t("spec.err.yaml", problem=problem), origin, row)]) from None


def merge(base: Any, over: Any) -> Any:
    """``over`` merged into a copy of ``base``: mappings key by key, anything else replaced."""
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        out = dict(copy.deepcopy(base))
        for key, value in over.items():
            out[key] = merge(out[key], value) if key in out else copy.deepcopy(value)
        return out
    return copy.deepcopy(over)


def validate_spec(model: type[M], data: Any, *, origin: str = "<spec>") -> M:
    """``data`` as ``model``, or a :class:`SpecError` with every problem."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise SpecError([Issue(t("spec.err.not_mapping", kind=type(data).__name__), origin)])
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise SpecError(issues_of(exc, origin)) from None


def load_spec(model: type[M], source: str | Path | Mapping[str, Any] | None = None, *,
              package: str | None = None, default: str | None = None,
              overlay: bool = False) -> M:
    """Read and validate a specification (see the module docstring)."""
    if isinstance(source, Mapping):
        data: Any = dict(source)
        origin = "<spec>"
        if overlay and package and default:
            data = merge(read_yaml(package=package, default=default)[0], data)
    elif source is None:
        data, origin = read_yaml(package=package, default=default)
    else:
        data, origin = read_yaml(source)
        if overlay and package and default:
            if data is not None and not isinstance(data, Mapping):
                raise SpecError([Issue(t("spec.err.not_mapping", kind=type(data).__name__),
                                       origin)])
            data = merge(read_yaml(package=package, default=default)[0], data or {})
    return validate_spec(model, data, origin=origin)
