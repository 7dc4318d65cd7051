"""State shared by the sections of one ``cocity diagnose`` run: the store, the spec, the notes,
the units analysed and how their values are read.

:class:`Context` reads a series of values for a set of units (units without a value are left
out with a note), replaces the figures of partly-in-circle prefecture-level units by their
in-circle part (:mod:`cocity.metrics.incircle`) when the spec asks for it, re-raises a
metric's error with where it arose, hands out the random streams (:mod:`cocity.metrics.streams`)
and records which units each section covers (:class:`~cocity.metrics.diagnose_result.UnitSet`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import pandas as pd

from cocity.data.errors import CocityError
from cocity.data.store import Store
from cocity.i18n import LANGS, current_lang, t
from cocity.i18n import labels as all_labels
from cocity.metrics import incircle
from cocity.metrics.diagnose_result import Note, UnitSet
from cocity.metrics.diagnose_spec import DiagnoseSpec
from cocity.metrics.errors import DiagnoseError
from cocity.metrics.streams import Streams

NO_METRO = "none"
_SHOW = 8  # unit names listed in a note
SEP = {"zh": "、", "en": ", "}


def names_of(units: pd.DataFrame, codes: Sequence[str], *, codes_shown: bool = True
             ) -> dict[str, str]:
    """Both languages of a list of unit names (the first few, with their codes)."""
    out = {}
    for lang in LANGS:
        shown = [(f"{units.at[c, f'name_{lang}']!s}" + (f" ({c})" if codes_shown else ""))
                 if c in units.index else str(c) for c in list(codes)[:_SHOW]]
        out[lang] = SEP[lang].join(shown) + (" …" if len(codes) > _SHOW else "")
    return out


def _ancestor(units: pd.DataFrame, code: str, level: str) -> str | None:
    """The code of ``code``'s unit or its first ancestor at ``level``."""
    seen: set[str] = set()
    cur: str | None = code
    while cur is not None and cur in units.index and cur not in seen:
        if units.at[cur, "level"] == level:
            return cur
        seen.add(cur)
        parent = units.at[cur, "parent"]
        cur = str(parent) if isinstance(parent, str) and parent else None
    return None


class Context:
    """State shared by the sections of one run."""

    def __init__(self, store: Store, spec: DiagnoseSpec,
                 on_step: Callable[[str], None] | None = None):
        self.store = store
        self.spec = spec
        self.on_step = on_step or (lambda _section: None)
        self.streams = Streams(spec.seed)
        self.notes: list[Note] = []
        self.unit_sets: dict[str, UnitSet] = {}
        self._seen: set[str] = set()
        self._drops: dict[tuple[int, tuple[str, ...]], list[dict[str, str]]] = {}
        units = store.units()
        units["code"] = units["code"].astype(str)
        self.units = units.set_index("code", drop=False)
        self.catalog = store.catalog()
        if self.units.empty:
            raise DiagnoseError(t("diagnose.err.no_units_store"))

    # ------------------------------------------------------------------ helpers
    def note(self, section: str, key: str, **params: Any) -> None:
        ident = json.dumps([section, key, params], sort_keys=True, ensure_ascii=False,
                           default=str)
        if ident not in self._seen:
            self._seen.add(ident)
            self.notes.append(Note(section, key, params))

    def names(self, codes: Sequence[str], *, codes_shown: bool = True) -> dict[str, str]:
        return names_of(self.units, codes, codes_shown=codes_shown)

    def indicator(self, ind: str, where: str) -> dict[str, str]:
        if ind not in self.catalog.index:
            raise DiagnoseError(t("diagnose.err.unknown_indicator", indicator=ind,
                                  where=where))
        return {lg: str(self.catalog.at[ind, f"name_{lg}"]) for lg in LANGS}

    def unit_of(self, ind: str) -> dict[str, str]:
        """The catalog's unit of measure of ``ind`` in both languages (``""`` if none)."""
        out = {}
        for lg in LANGS:
            v = self.catalog.at[ind, f"unit_{lg}"] if ind in self.catalog.index else None
            out[lg] = "" if v is None or (isinstance(v, float) and v != v) else str(v)
        return out

    @contextmanager
    def guard(self, section: str, indicator: str | None = None,
              year: int | None = None) -> Iterator[None]:
        """Re-raise a metric's error with the section, indicator and year it arose in."""
        try:
            yield
        except DiagnoseError:
            raise
        except CocityError as exc:
            where = t(f"diagnose.section.{section}")
            if indicator is not None:
                name = str(self.catalog.at[indicator, f"name_{current_lang()}"]) \
                    if indicator in self.catalog.index else indicator
                where += f" · {name}"
            if year is not None:
                where += f" · {year}"
            raise DiagnoseError(t("diagnose.err.in_section", where=where,
                                  detail=str(exc))) from exc

    # ------------------------------------------------------------------ units and values
    def scope_units(self, level: str) -> pd.DataFrame:
        sel = self.units[self.units["level"] == level]
        if self.spec.membership is not None:
            sel = sel[sel["membership"].isin(self.spec.membership)]
        if sel.empty:
            members = ", ".join(self.spec.membership or ()) or "—"
            raise DiagnoseError(t("diagnose.err.no_units", level=t(f"level.{level}"),
                                  membership=members))
        return sel

    def in_circle(self, level: str) -> bool:
        """Whether partly-in-circle units of ``level`` are taken by their in-circle part."""
        return self.spec.partial_units == "in_circle" and level != "county"

    def series(self, section: str, ind: str, year: int, units: pd.DataFrame, *,
               partial: bool = True) -> pd.Series:
        """Values of ``ind`` in ``year`` for ``units``; units without one are noted, not
        returned. With ``partial`` and ``partial_units: in_circle``, a partly-in-circle
        unit above county level gets the value of its in-circle part where county data
        allow (:meth:`in_circle_values`); where they do not, its whole value, with a note."""
        names = self.indicator(ind, section)
        level = str(units["level"].iloc[0])
        obs = self.store.observations([ind], [year], level)
        s = (obs.assign(unit=obs["unit"].astype(str)).set_index("unit")["value"]
             .astype(float).reindex(units.index))
        if partial and self.in_circle(level):
            part = [c for c in units.index if units.at[c, "membership"] == "partial"]
            if part:
                values, lacking = self.in_circle_values(ind, year, part)
                s.update(values)
                whole = [c for c in lacking if pd.notna(s.get(c))]
                if whole:
                    self.note(section, "diagnose.note.partial_whole", indicator=names,
                              year=year, units=self.names(whole))
        missing = list(s.index[s.isna()])
        if len(missing) == len(s):
            raise DiagnoseError(t("diagnose.err.no_data", indicator=ind, year=year,
                                  level=t(f"level.{level}")))
        if missing:
            self.dropped(names, year, missing)
        return s.dropna()

    def in_circle_values(self, ind: str, year: int, parents: Sequence[str], *,
                         how: str | None = None) -> tuple[pd.Series, list[str]]:
        """The in-circle values of ``parents`` from their member counties: summed for a
        count indicator (``value_kind: count``) or ``how="sum"`` (a total such as GDP),
        otherwise weighted by the spec's population of the same year
        (:func:`cocity.metrics.incircle.aggregate`). Returns the values and the parents
        whose member counties lack data."""
        members = incircle.member_counties(self.units, parents)
        if members.empty:
            return pd.Series(dtype=float), list(parents)
        obs = self.store.observations([ind], [year], "county")
        x = obs.assign(unit=obs["unit"].astype(str)).set_index("unit")["value"].astype(float)
        kind = self.catalog.at[ind, "value_kind"] if ind in self.catalog.index else None
        if how == "sum" or (how is None and kind == "count"):
            values, lacking = incircle.aggregate(x, members, how="sum")
        else:
            pop = self.store.observations([self.spec.population], [year], "county")
            w = pop.assign(unit=pop["unit"].astype(str)).set_index("unit")["value"]
            values, lacking = incircle.aggregate(x, members, how="mean", weights=w)
        lacking += [p for p in parents if p not in set(members)]
        return values, sorted(set(lacking))

    def dropped(self, names: Mapping[str, str], year: int, codes: Sequence[str]) -> None:
        """Record units left out for lack of data; one note per (year, units) lists every
        indicator they lack (see :meth:`data_notes`)."""
        entry = self._drops.setdefault((year, tuple(codes)), [])
        if dict(names) not in entry:
            entry.append(dict(names))

    def data_notes(self) -> list[Note]:
        return [Note("data", "diagnose.note.dropped", {
            "indicators": {lg: SEP[lg].join(n[lg] for n in names) for lg in LANGS},
            "year": year, "n": len(codes), "units": self.names(codes)})
            for (year, codes), names in self._drops.items()]

    def cover(self, section: str, level: str, used: Sequence[str]) -> None:
        """Record which units ``section`` covers (:class:`UnitSet`)."""
        scope = self.scope_units(level)
        used_set = {str(c) for c in used}
        partial = [c for c in scope.index if c in used_set
                   and scope.at[c, "membership"] == "partial"]
        treatment = ("whole_county" if level == "county" else
                     "in_circle" if self.in_circle(level) else "whole")
        self.unit_sets[section] = UnitSet(
            section=section, level=level, used=len(used_set), scope=len(scope),
            total=int((self.units["level"] == level).sum()),
            full=int((scope["membership"] == "full").sum()),
            partial=self.names(partial, codes_shown=False), n_partial=len(partial),
            treatment=treatment)

    # ------------------------------------------------------------------ groups
    def groups(self, scope: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
        by = self.spec.group_by
        if by == "metro":
            labels = scope["metro"].where(scope["metro"].notna(), NO_METRO).astype(str)
            keys = sorted(set(labels), key=lambda k: (k == NO_METRO, k))
            names = pd.DataFrame(
                {f"name_{lg}": [t(f"metro.{k}", lg) if f"metro.{k}" in all_labels()
                                else k for k in keys] for lg in LANGS}, index=keys)
        else:
            labels = pd.Series({c: _ancestor(self.units, c, by) for c in scope.index},
                               dtype=object)
            if by == "province" and labels.dropna().nunique() < 2 and self.spec.level == \
                    "county":
                # a cluster inside one province: its prefectures are the groups
                self.note("inequality", "diagnose.note.one_province",
                          province={lg: self.group_label(str(labels.dropna().iloc[0]), lg)
                                    for lg in LANGS} if labels.notna().any() else "—")
                by = "prefecture"
                self.spec = self.spec.model_copy(update={"group_by": by})
                labels = pd.Series({c: _ancestor(self.units, c, by) for c in scope.index},
                                   dtype=object)
            lost = list(labels.index[labels.isna()])
            if lost:
                self.note("inequality", "diagnose.note.no_group", n=len(lost),
                          units=self.names(lost),
                          level={lg: t(f"level.{by}", lg) for lg in LANGS})
            labels = labels.dropna().astype(str)
            keys = sorted(set(labels))
            names = self.units.loc[keys, ["name_zh", "name_en"]]
        names.index.name = "group"
        return labels, names

    def group_label(self, group: str, lang: str) -> str:
        if self.spec.group_by == "metro":
            key = f"metro.{group}"
            return t(key, lang) if key in all_labels() else group
        return str(self.units.at[group, f"name_{lang}"]) if group in self.units.index \
            else group


def boundaries(store: Store, ctx: Context) -> gpd.GeoDataFrame | None:
    """Boundaries of the analysed units, and of the prefectures around counties (outlines,
    network map); ``None`` when the store has none."""
    spec = ctx.spec
    levels = [spec.level] + (["prefecture"] if spec.level == "county" else [])
    if "network" in spec.sections and spec.network.level not in levels:
        levels.append(spec.network.level)
    frames = []
    for lv in levels:
        g = store.geodata(lv)
        g["code"] = g["code"].astype(str)
        keep = g["code"][g["code"].isin(ctx.scope_units(lv).index)] \
            if lv == spec.level else g["code"]
        frames.append(g[g["code"].isin(keep) & g.geometry.notna()])
    geo = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                           crs="EPSG:4326")
    return None if geo.empty else geo
