"""Column names and allowed values of the data model (units, indicators, observations)."""

from __future__ import annotations

import re

LEVELS = ("province", "prefecture", "county")
MEMBERSHIPS = ("full", "partial", "outside")
TIERS = ("core", "node", "hinterland")
# Metropolitan areas are named by the workspace (chengdu, chongqing in the chengyu dataset;
# any lower-case identifier elsewhere).
METRO_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# "banner" (旗, 自治旗) and "prefecture" (地区, 自治州, 盟: prefecture-level units that are not
# cities) occur in the national base (datasets/china).
KINDS = ("district", "county", "county_city", "stat_zone", "prefecture_city", "municipality",
         "province", "banner", "prefecture")
# +1: more is better; -1: less is better; 0: descriptive (no "better" direction, e.g. the
# sectoral structure of employment or a land area) — a framework must give its own direction.
DIRECTIONS = (1, -1, 0)
# Representative points must be plausible lon/lat degrees (China lies within these).
LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)
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
