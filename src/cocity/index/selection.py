"""Which observations an index is built on: one year, one level, some circle memberships.

Without a year, the latest year in which every indicator has values at the level is used;
without a level, the finest level where every indicator has values (county, then prefecture,
then province); ``membership`` keeps the units of those circle memberships (full, partial,
outside). The panel has one row per unit with at least one value; selected units without any
value are listed as dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cocity.data.errors import Issue
from cocity.data.schema import LEVELS, MEMBERSHIPS
from cocity.data.store import Store
from cocity.i18n import current_lang, t
from cocity.index.errors import BuildError, FrameworkError
from cocity.index.framework import Framework

LEVEL_PREFERENCE = ("county", "prefecture", "province")


@dataclass(frozen=True)
class Selection:
    """Which observations an index is built on, and how many units that is: ``in_level``
    units of the level in the data, ``selected`` of them of the memberships asked,
    ``evaluated`` with at least one value."""

    year: int
    level: str
    membership: tuple[str, ...] | None
    in_level: int = 0
    selected: int = 0
    evaluated: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"year": self.year, "level": self.level,
                "membership": list(self.membership) if self.membership else None}

    def coverage(self, lang: str | None = None) -> str:
        """Which set of units the index covers, e.g. "144 county-level units in the circle
        (full + partial) of 158 in the data"."""
        level = t(f"level.{self.level}", lang)
        level = level.lower() if (lang or current_lang()) == "en" else level
        if self.membership:
            members = " + ".join(t(f"membership.{m}", lang) for m in self.membership)
            text = t("index.sel.coverage", lang, n=self.evaluated, level=level,
                     membership=members, total=self.in_level)
        else:
            text = t("index.sel.coverage_all", lang, n=self.evaluated, level=level,
                     total=self.in_level)
        dropped = self.selected - self.evaluated
        return text + (t("index.sel.coverage_dropped", lang, n=dropped) if dropped else "")


def _membership(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    bad = [str(m) for m in items if m not in MEMBERSHIPS]
    if bad:
        raise FrameworkError([Issue(t("index.cli.err.membership", values=", ".join(bad),
                                      allowed=", ".join(MEMBERSHIPS)), key="data.membership")])
    return tuple(str(m) for m in items)


def load_panel(store: Store, framework: Framework, *, year: int | None = None,
               level: str | None = None, membership: Sequence[str] | str | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame, Selection, list[str]]:
    """The indicators of ``framework`` for one year at one level, one row per unit code.

    Returns the panel, the units it covers (code, names, level, parent, membership, tier,
    metro), the resolved selection and the codes of selected units dropped for having no
    value at all.
    """
    catalog = store.catalog()
    absent = [c for c in framework.indicators if c not in catalog.index]
    if absent:
        raise BuildError(t("index.cli.err.missing_indicators", codes=", ".join(absent)))
    if level is not None and level not in LEVELS:
        raise BuildError(t("index.cli.err.level", level=level, levels=", ".join(LEVELS)))
    members = _membership(membership)
    obs = store.observations(framework.indicators)
    obs = obs[obs["value"].notna()]
    level_of = store.units().set_index("code")["level"]
    obs = obs.assign(level=obs["unit"].map(level_of))
    inds = set(framework.indicators)
    if level is None:
        complete = [lv for lv in LEVEL_PREFERENCE
                    if set(obs.loc[obs["level"] == lv, "indicator"]) >= inds]
        level = complete[0] if complete else next(
            (lv for lv in LEVEL_PREFERENCE if (obs["level"] == lv).any()), "county")
    at_level = obs[obs["level"] == level]
    if year is None:
        by_year = at_level.groupby("year")["indicator"].agg(set)
        full_years = [int(str(y)) for y, have in by_year.items() if have >= inds]
        if full_years:
            year = max(full_years)
        elif len(by_year):
            year = int(by_year.index.max())
        else:
            raise BuildError(t("index.cli.err.no_values", codes=", ".join(sorted(inds)),
                                   year="—", level=t(f"level.{level}")))
    in_level = len(store.units(level=level))
    units = store.units(level=level, membership=list(members) if members else None)
    if units.empty:
        raise BuildError(t("index.cli.err.empty", level=t(f"level.{level}"),
                               membership=", ".join(members or ()) or "—"))
    sel = at_level[(at_level["year"] == int(year)) & at_level["unit"].isin(units["code"])]
    no_values = [c for c in framework.indicators if c not in set(sel["indicator"])]
    if no_values:
        raise BuildError(t("index.cli.err.no_values", codes=", ".join(no_values),
                               year=int(year), level=t(f"level.{level}")))
    panel = (sel.pivot(index="unit", columns="indicator", values="value")
             .reindex(columns=framework.indicators).astype(float).sort_index())
    panel.columns.name = None
    dropped = sorted(set(units["code"]) - set(panel.index))
    units = units.set_index("code").loc[panel.index]
    units.index.name = "unit"
    selection = Selection(int(year), level, members, in_level=in_level,
                          selected=len(units) + len(dropped), evaluated=len(panel))
    return panel, units, selection, dropped
