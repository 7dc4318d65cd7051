"""The region every planning tool works on: its units, their population and the travel times
between them over the regional network.

Travel times come from :mod:`cocity.access.regional` (modelled road links between contiguous
county-level units plus the published rail times): all-pairs shortest paths by Dijkstra's
algorithm over every county-level unit with a boundary, so that a path may cross a unit outside
the circle. At the prefecture level the time between two prefecture-level units A and B is the
population-weighted mean of the times between their member county-level units,

    t_AB = Σ_{i∈A} Σ_{j∈B} p_i p_j t_ij / (P_A P_B),

the expected time between a resident of A and a resident of B (the diagonal is the mean trip
within a unit). Members are the county-level units whose parent is the prefecture, and only the
in-circle ones when ``in_circle`` (the in-circle part of a partly-in-circle prefecture, as in
:mod:`cocity.metrics.incircle`); a prefecture's population is then the sum over its members.

Road times are modelled figures (:mod:`cocity.access.regional`) and every tool that shows them
says so (``Region.note``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from cocity.data.errors import CocityError
from cocity.data.store import Store
from cocity.i18n import t
from cocity.plan.errors import PlanInputError

LEVELS = ("county", "prefecture")
POPULATION = "pop_total"


@dataclass(frozen=True)
class Region:
    """Units (index ``code``: name_zh, name_en, level, parent, tier, metro, membership, lon,
    lat, population) and ``minutes[i, j]``, the travel time from unit i to unit j in the order
    of ``units.index``."""

    level: str
    year: int
    units: pd.DataFrame
    minutes: np.ndarray
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return [str(c) for c in self.units.index]

    @property
    def population(self) -> np.ndarray:
        return self.units["population"].to_numpy(float)

    def positions(self, codes: Sequence[str]) -> np.ndarray:
        """Row positions of ``codes``; an unknown code is a :class:`PlanInputError`."""
        pos = {c: i for i, c in enumerate(self.codes)}
        missing = [str(c) for c in codes if str(c) not in pos]
        if missing:
            raise PlanInputError(t("plan.region.unknown_units", codes=", ".join(missing),
                                   level=t(f"plan.region.level.{self.level}")))
        return np.array([pos[str(c)] for c in codes], dtype=int)

    def times(self, origins: Sequence[str], destinations: Sequence[str]) -> np.ndarray:
        """The len(origins) × len(destinations) block of ``minutes``."""
        return self.minutes[np.ix_(self.positions(origins), self.positions(destinations))]

    def name(self, code: str, lang: str = "zh") -> str:
        return str(self.units.at[str(code), "name_zh" if lang == "zh" else "name_en"])

    @staticmethod
    def note(lang: str | None = None) -> str:
        """What the travel times are, for every page and table that shows them."""
        return t("plan.region.times_note", lang)


def resolve_units(store: Store, names: Sequence[object], *, level: str) -> list[str]:
    """Codes of units given by any of their names (成都 / 成都市 / Chengdu / 510100); every
    unknown or ambiguous name is listed in one :class:`PlanInputError`."""
    codes: list[str] = []
    bad: list[str] = []
    for name in names:
        try:
            codes.append(store.resolve(name, level))
        except CocityError as exc:
            bad.append(str(exc))
    if bad:
        raise PlanInputError("; ".join(bad))
    return codes


def _population(store: Store, codes: list[str], year: int | None) -> tuple[pd.Series, int]:
    obs = store.observations(indicators=[POPULATION])
    obs = obs[obs["unit"].astype(str).isin(codes)]
    if obs.empty:
        raise PlanInputError(t("plan.region.no_population", indicator=POPULATION))
    if year is None:
        year = int(obs["year"].max())
    sub = obs[obs["year"] == year]
    pop = sub.set_index(sub["unit"].astype(str))["value"].astype(float)
    missing = [c for c in codes if c not in pop.index]
    if missing:
        raise PlanInputError(t("plan.region.missing_population", year=year,
                               indicator=POPULATION, codes=", ".join(missing)))
    return pop.reindex(codes), year


def load_region(store: Store, *, level: str = "county", year: int | None = None,
                in_circle: bool = True,
                network: Mapping[str, Any] | None = None) -> Region:
    """The region of ``store`` at ``level`` (``county`` or ``prefecture``): units in the circle
    (``in_circle``) or all, population of ``year`` (default: the latest with population) and
    travel times (module docstring). ``network`` is a regional-network spec (default: the
    dataset's ``regional_chengyu.yaml``)."""
    from cocity.access.regional import build_regional_network
    from cocity.data.provenance import provenance

    if level not in LEVELS:
        raise PlanInputError(t("plan.region.bad_level", level=level, allowed=", ".join(LEVELS)))
    net = build_regional_network(store, network)
    full = dijkstra(net.matrix(), directed=True)
    units = store.units().copy()
    units["code"] = units["code"].astype(str)
    units = units.set_index("code")
    counties = [c for c in net.ids
                if not in_circle or units.at[c, "membership"] != "outside"]
    cpop, year = _population(store, counties, year)
    cpos = {c: i for i, c in enumerate(net.ids)}
    if level == "county":
        idx = [cpos[c] for c in counties]
        minutes = full[np.ix_(idx, idx)]
        table = units.loc[counties].copy()
        table["population"] = cpop.to_numpy()
    else:
        parents = units.loc[counties, "parent"].astype(str)
        prefs = [c for c in units.index[units["level"] == "prefecture"]
                 if (parents == c).any()]
        weights = np.zeros((len(prefs), len(counties)))
        for a, pref in enumerate(prefs):
            member = (parents == pref).to_numpy()
            weights[a, member] = cpop.to_numpy()[member]
        totals = weights.sum(axis=1)
        share = weights / totals[:, None]
        idx = [cpos[c] for c in counties]
        minutes = share @ full[np.ix_(idx, idx)] @ share.T
        table = units.loc[prefs].copy()
        table["population"] = totals
    if not np.isfinite(minutes).all():
        raise PlanInputError(t("plan.region.disconnected"))
    cols = ["name_zh", "name_en", "level", "parent", "tier", "metro", "membership", "lon",
            "lat", "population"]
    table = table[cols]
    table.index.name = "code"
    return Region(level=level, year=int(year), units=table, minutes=minutes,
                  provenance=provenance(store, indicators=[POPULATION], years=[int(year)]))


def load_boundaries(store: Store) -> pd.DataFrame:
    """The county-level boundaries every planning map is drawn on (``code``, ``name_zh``,
    ``name_en``, geometry), in the store's datum like the units' representative points."""
    geo = store.geodata(level="county")
    geo = geo[geo.geometry.notna()].reset_index(drop=True)
    geo["code"] = geo["code"].astype(str)
    return geo
