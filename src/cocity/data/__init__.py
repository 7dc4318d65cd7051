"""Data layer: units, indicator catalog, observations with provenance, geometries, importers."""

from cocity.data.errors import (
    AmbiguousUnitError,
    CocityError,
    Issue,
    UnitNotFoundError,
    ValidationError,
    WorkspaceNotFoundError,
)
from cocity.data.store import Store, open_store
from cocity.data.units import UnitIndex

__all__ = [
    "AmbiguousUnitError", "CocityError", "Issue", "Store", "UnitIndex",
    "UnitNotFoundError", "ValidationError", "WorkspaceNotFoundError", "open_store",
]
