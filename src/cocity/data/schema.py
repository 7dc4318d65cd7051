"""Column names and allowed values of the data model (units, indicators, observations)."""

from __future__ import annotations

LEVELS = ("province", "prefecture", "county")
MEMBERSHIPS = ("full", "partial", "outside")
TIERS = ("core", "node", "hinterland")
METROS = ("chengdu", "chongqing")
DIRECTIONS = (1, -1)
# Kinds of value an indicator holds; they decide the range checks on import.
VALUE_KINDS = ("count", "share_pct", "share_01", "ratio", "level")

UNIT_COLUMNS = (
    "code", "name_zh", "name_en", "level", "parent", "kind",
    "membership", "tier", "metro", "lon", "lat",
)
INDICATOR_COLUMNS = (
    "id", "name_zh", "name_en", "unit_zh", "unit_en", "direction", "value_kind",
    "definition_zh", "definition_en", "source", "license",
)
OBSERVATION_COLUMNS = ("unit", "year", "indicator", "value", "source", "imputed", "simulated")
