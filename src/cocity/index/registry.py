"""Methods registered by name, so that framework files and the pipeline can select them.

Every method of the composite-indicator engine is a small function registered under a *kind*
(``impute``, ``treat``, ``normalise``, ``weight``, ``aggregate``) and a *name*::

    @register("normalise", "minmax")
    def minmax(X, directions, *, low=0.0, high=100.0): ...

Array conventions shared by all methods (they are what makes uncertainty analysis vectorise
across replications instead of rebuilding a pipeline per replication):

- ``X`` is a float ``ndarray`` of shape ``(..., n, m)``: ``n`` units (rows) × ``m`` indicators
  (columns); any leading axes are replications and must broadcast. ``NaN`` is a missing value.
- ``directions`` is an ``ndarray`` of shape ``(m,)`` holding +1 (more is better) or −1.
- ``normalise(X, directions, **params) -> ndarray`` of X's shape, oriented so that a higher
  score is always better (directions are handled here, once, and nowhere else).
- ``weight(X, **params) -> ndarray`` of shape ``(..., m)`` summing to 1 over the columns.
- ``aggregate(Y, w, **params) -> ndarray`` of shape ``(..., n)`` from children scores ``Y``
  ``(..., n, k)`` and weights ``w`` ``(k,)`` or ``(..., k)``; units with too few children
  (see the availability threshold) get ``NaN``.
- ``impute(X, **params) -> ndarray`` of X's shape; observed values never change.
- ``treat(X, **params) -> (ndarray, dict)``: treated values and a record of what was done.

Cores take and return arrays: no pandas, no files, no printing. The pipeline wraps them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, TypeVar

from cocity.data.errors import CocityError
from cocity.i18n import t

KINDS = ("impute", "treat", "normalise", "weight", "aggregate")

F = TypeVar("F", bound=Callable[..., Any])
_REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {kind: {} for kind in KINDS}


class UnknownMethodError(CocityError, KeyError):
    """No method of that name is registered (the message lists the available ones)."""

    def __str__(self) -> str:
        return str(self.args[0])


def register(kind: str, name: str) -> Callable[[F], F]:
    """Register ``fn`` as method ``name`` of ``kind`` (a name may be registered once)."""
    if kind not in _REGISTRY:
        raise ValueError(f"unknown method kind {kind!r}; kinds: {', '.join(KINDS)}")

    def deco(fn: F) -> F:
        if name in _REGISTRY[kind]:
            raise ValueError(f"{kind} method {name!r} registered twice")
        _REGISTRY[kind][name] = fn
        return fn

    return deco


def get(kind: str, name: str) -> Callable[..., Any]:
    """The method ``name`` of ``kind``; a clear error lists the available ones."""
    _load_all()
    try:
        return _REGISTRY[kind][name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY.get(kind, {})))
        raise UnknownMethodError(f"unknown {kind} method {name!r}; available: {known}") from None


def unknown_method(kind: str, name: str, *, step: str | None = None) -> str | None:
    """``None`` when ``name`` is a registered ``kind`` method, else the message that says so,
    with the closest name and the available ones (``step``: the pipeline step named)."""
    names = available(kind)
    if name in names:
        return None
    close = difflib.get_close_matches(str(name), names, n=1)
    return t("index.cli.err.unknown_method", step=step or kind, method=name,
             available=", ".join(names),
             hint=t("index.cli.err.did_you_mean", name=close[0]) if close else "")


def available(kind: str) -> list[str]:
    _load_all()
    return sorted(_REGISTRY[kind])


def _load_all() -> None:
    # Importing the method modules fills the registry.
    from cocity.index import aggregate, impute, normalise, treat, weights  # noqa: F401
