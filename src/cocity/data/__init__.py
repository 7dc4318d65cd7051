"""Data layer: units, indicator catalog, observations with provenance, geometries, importers.

The data layer knows nothing of the embedded datasets above it: open a workspace with
``Store.open(folder)``, or the embedded default with ``cocity.datasets.open_store()``.

The names below are imported on first use, so that ``import cocity.data.errors`` (which the
command line needs at start-up) does not load DuckDB and GeoPandas.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from cocity.data.errors import (
    AmbiguousUnitError,
    CocityError,
    Issue,
    UnitNotFoundError,
    ValidationError,
    WorkspaceDamagedError,
    WorkspaceError,
    WorkspaceLockedError,
    WorkspaceNotFoundError,
    WorkspaceReadOnlyError,
    WorkspaceWriteError,
)

if TYPE_CHECKING:
    from cocity.data.store import Store
    from cocity.data.units import UnitIndex

_LAZY = {"Store": "cocity.data.store", "UnitIndex": "cocity.data.units"}

__all__ = [
    "AmbiguousUnitError", "CocityError", "Issue", "Store", "UnitIndex",
    "UnitNotFoundError", "ValidationError", "WorkspaceDamagedError", "WorkspaceError",
    "WorkspaceLockedError", "WorkspaceNotFoundError", "WorkspaceReadOnlyError",
    "WorkspaceWriteError",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
