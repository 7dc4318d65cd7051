"""What-if scenarios: hospital beds, a new hospital or a faster link between two units, carried
through the whole chain — accessibility → derived indicators → scores, ranks and grades → the
fund's allocation — beside the published edition, without changing it.

**The chain.** :func:`what_if` turns the changes into in-memory adjustments of the inputs of
the evaluation (:class:`cocity.evaluate.derive.Adjustments`) and of the fund's need data, then
runs the evaluation twice with the same framework, year, levels, survey, replications, seed,
publication date and previous edition — once as stored (the *baseline*) and once adjusted (the
*scenario*) — so that every difference between the two comes from the changes alone; the
published run, when given, is read from its folder (checked against its manifest) and shown
beside them. The store and the run folder are only read. A full evaluation without replications
takes about a second per run on the embedded data, so everything is recomputed rather than
patched (``benchmarks/bench_whatif.py`` measures it).

**What the changes change.** In the default framework hospital resources enter through three
yearbook rates published for prefectures only — beds, licensed doctors and registered nurses
per 1,000 residents (``hospital_beds_per_1000``, ``doctors_per_1000``, ``nurses_per_1000``) —
which feed the prefecture-level shortfalls below the circle's level (``beds_shortfall``,
``doctors_shortfall``, ``nurses_shortfall``), the E2SFCA access to beds at both levels
(``beds_access``) and the fund's facility needs (components ``beds``, ``doctors``, ``nurses``,
read at the county's parent prefecture).

* :class:`AddBeds` ``(unit, beds)``: ``B`` beds in prefecture ``k`` (the unit, or the county's
  parent) raise its rate by ``Δr_k = 1000 · B / P_k`` with ``P_k`` the census resident
  population of the edition's census year — the population :func:`~cocity.evaluate.derive.
  e2sfca` multiplies the rate by, so that its supply grows by exactly ``B`` beds. Beds given to
  a county-level unit stand at that unit in the E2SFCA; beds given to a prefecture are spread
  over its urban districts like its existing beds.
* :class:`AddHospital` ``(unit, beds, doctors=None, nurses=None)``: the beds as above, all at
  one place — the county-level unit, or for a prefecture its station unit of the regional
  network (``rail.stations``) or else its most populous in-circle urban district (where the
  E2SFCA places a city's beds; an assumption) — plus ``D`` doctors and ``N`` nurses raising
  those rates by ``1000 · D / P_k`` and ``1000 · N / P_k``. Staff not given are those of the
  prefecture's own published ratio, ``D = B · d_k / b_k`` (``d_k``, ``b_k``: its doctors and
  beds per 1,000 of the edition's yearbook year, else the latest year in the store). A hospital
  changes nothing else: the count of hospitals is not an indicator of the framework, doctors and
  nurses do not enter the accessibility (the E2SFCA supply is beds), staff are new rather than
  moved from other institutions, and demand, patient flows, satisfaction, population and the
  time to build are unchanged.
* :class:`FasterLink` ``(a, b, minutes)``: a direct link of ``minutes`` both ways between the two
  units' nodes of the regional network (a prefecture stands for its station or seat unit, as
  above) when it is faster than the network's present shortest time ``t_ab`` between them;
  otherwise nothing changes. The new minutes go into every shortest path (Dijkstra), hence into
  the E2SFCA catchments, the minutes to the core cities and the share of population within an
  hour of a core.

The fund's needs read the rates of the rules' year (2019 in the default rules); the same
``Δr_k`` is added there. The allocation (:func:`cocity.fund.allocation.allocate`) of the same
fund size follows each run's grades of the rules' level, and :func:`cocity.fund.scenarios.
compare` sets the two side by side per unit and use.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cocity.data.errors import AmbiguousUnitError, CocityError, UnitNotFoundError
from cocity.i18n import current_lang, t

if TYPE_CHECKING:
    from cocity.access.regional import RegionalNetwork, RegionalSpec
    from cocity.data.store import Store
    from cocity.evaluate.derive import Adjustments, Edition
    from cocity.evaluate.framework import EvalFramework
    from cocity.evaluate.run import Evaluation, Previous
    from cocity.fund.allocation import Allocation
    from cocity.fund.needs import NeedData
    from cocity.fund.rules import AllocationRules

BEDS = "hospital_beds_per_1000"
DOCTORS = "doctors_per_1000"
NURSES = "nurses_per_1000"
POP = "pop_total"
PER = 1000.0
MEMBERS = ("full", "partial")
LANGS = ("zh", "en")


class WhatIfError(CocityError, ValueError):
    """A what-if that cannot be computed as asked; the message names the unit, the link or the
    file and says what to do (from ``i18n/whatif.yaml``)."""

    def __init__(self, label: str, **fmt: Any) -> None:
        self.label = label
        super().__init__(t(label, **fmt))


# ---------------------------------------------------------------------- the changes
@dataclass(frozen=True)
class AddBeds:
    """``beds`` hospital beds in ``unit`` (a prefecture- or county-level unit, any name
    :class:`~cocity.data.units.UnitIndex` resolves)."""

    unit: str
    beds: float


@dataclass(frozen=True)
class AddHospital:
    """A hospital of ``beds`` beds in ``unit``, with ``doctors`` and ``nurses`` (None: the
    prefecture's own ratio of staff to beds; see the module docstring)."""

    unit: str
    beds: float
    doctors: float | None = None
    nurses: float | None = None


@dataclass(frozen=True)
class FasterLink:
    """The travel time between units ``a`` and ``b`` on the regional network set to
    ``minutes``, if that is faster than now."""

    a: str
    b: str
    minutes: float


Change = AddBeds | AddHospital | FasterLink


# ---------------------------------------------------------------------- changes as text
def _split(text: str, option: str, form: str) -> tuple[str, str]:
    """``left:right`` (a full-width colon too), both parts non-empty."""
    raw = text.replace("：", ":")
    left, sep, right = raw.rpartition(":")
    if not sep or not left.strip() or not right.strip():
        raise WhatIfError("whatif.err.spec", text=text, option=option, form=form)
    return left.strip(), right.strip()


def _amount(text: str, whole: str, option: str, form: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise WhatIfError("whatif.err.spec", text=whole, option=option, form=form) from None


def parse_changes(*, beds: Sequence[str] = (), hospitals: Sequence[str] = (),
                  links: Sequence[str] = ()) -> list[Change]:
    """The changes as people type them — the command line's ``--beds UNIT:BEDS``,
    ``--hospital UNIT:BEDS``, ``--link A-B:MINUTES`` and the what-if page's fields (a full-width
    colon is accepted); the values are checked by :func:`what_if`."""
    out: list[Change] = []
    for text in beds:
        unit, n = _split(text, "--beds", "UNIT:BEDS")
        out.append(AddBeds(unit, _amount(n, text, "--beds", "UNIT:BEDS")))
    for text in hospitals:
        unit, n = _split(text, "--hospital", "UNIT:BEDS")
        out.append(AddHospital(unit, _amount(n, text, "--hospital", "UNIT:BEDS")))
    for text in links:
        pair, m = _split(text, "--link", "A-B:MINUTES")
        ends = [p.strip() for p in pair.split("-")]
        if len(ends) != 2 or not all(ends):
            raise WhatIfError("whatif.err.spec", text=text, option="--link", form="A-B:MINUTES")
        out.append(FasterLink(ends[0], ends[1], _amount(m, text, "--link", "A-B:MINUTES")))
    return out


# ---------------------------------------------------------------------- the published edition
@dataclass(frozen=True)
class Published:
    """The published edition read from a stored run folder: per level, the ranking
    (``score``, ``rank``, ``grade`` by unit) and the derived indicator values (units ×
    indicators, before imputation), and the run's JSON document and manifest."""

    run: str
    year: int
    path: Path
    ranking: dict[str, pd.DataFrame]
    values: dict[str, pd.DataFrame]
    doc: dict[str, Any]
    manifest: dict[str, Any]

    @property
    def publication_date(self) -> dt.date | None:
        text = self.doc.get("publication_date")
        return dt.date.fromisoformat(str(text)) if text else None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WhatIfError("whatif.err.run_unreadable", path=str(path), error=str(exc)) from None


def read_published(run: Any) -> Published:
    """The published edition of a run folder (a path, or a
    :class:`~cocity.evaluate.runs.RunRecord`): its files are first checked against its
    ``manifest.json`` — an edited or missing file is refused."""
    from cocity.evaluate.tables import read_table
    from cocity.outputs import verify_outputs

    folder = Path(run.path) if hasattr(run, "path") and hasattr(run, "manifest") else Path(run)
    mpath = folder / "manifest.json"
    if not mpath.is_file():
        raise WhatIfError("whatif.err.not_run", path=str(folder))
    manifest = _read_json(mpath)
    if not isinstance(manifest, dict) or manifest.get("kind") != "cocity evaluate":
        raise WhatIfError("whatif.err.not_run", path=str(folder))
    problems = verify_outputs(manifest, folder)
    if problems:
        raise WhatIfError("whatif.err.run_edited", path=str(folder),
                          files=", ".join(f"{f} ({p})" for f, p in problems))
    outputs = manifest.get("outputs", {})
    doc = _read_json(folder / outputs.get("json", {}).get("file", "evaluation.json"))
    ranking: dict[str, pd.DataFrame] = {}
    values: dict[str, pd.DataFrame] = {}
    for lv in doc.get("levels", []):
        level = str(lv["level"])
        rk = pd.DataFrame([{"unit": str(r["unit"]), "score": float(r["score"]),
                            "rank": r.get("rank"), "grade": str(r["grade"])}
                           for r in lv["ranking"]]).set_index("unit")
        rk["rank"] = pd.to_numeric(rk["rank"]).round().astype("Int64")
        ranking[level] = rk
        key = f"csv:{level}_indicators"
        if key in outputs:
            long = read_table(folder / outputs[key]["file"])
            wide = long.pivot(index="unit", columns="indicator", values="value")
            wide.index = wide.index.astype(str)
            values[level] = wide.astype(float)
    return Published(str(manifest.get("run", folder.name)), int(doc["year"]), folder, ranking,
                     values, doc, manifest)


def _previous(published: Published) -> Previous | None:
    """The previous edition the published run was compared with, when its grades depended on
    it (the improvement rule) and its folder is beside the run; None otherwise."""
    from cocity.evaluate.runs import RunRecord, previous_run

    prev = published.doc.get("previous_run")
    if not prev or not published.doc.get("improvement_applies"):
        return None
    folder = published.path.parent / str(prev)
    if not (folder / "manifest.json").is_file():
        return None
    m = _read_json(folder / "manifest.json")
    return previous_run(RunRecord(str(m["run"]), int(m["year"]), folder, m))


# ---------------------------------------------------------------------- resolving the changes
@dataclass
class _Inputs:
    """The changes as adjustments: rate changes per prefecture, resources sited at a county,
    extra links; a row per change for the result and the notes that explain it."""

    deltas: dict[str, dict[str, float]] = field(default_factory=dict)
    sited: dict[str, dict[str, float]] = field(default_factory=dict)
    links: list[tuple[str, str, float]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)

    def add(self, table: dict[str, dict[str, float]], indicator: str, unit: str,
            amount: float) -> None:
        per = table.setdefault(indicator, {})
        per[unit] = per.get(unit, 0.0) + amount

    def adjustments(self) -> Adjustments:
        from cocity.evaluate.derive import Adjustments

        return Adjustments(
            values={k: pd.Series(v, dtype=float) for k, v in self.deltas.items()},
            sited={k: pd.Series(v, dtype=float) for k, v in self.sited.items()},
            links=tuple(self.links))


def _both(key: str, **fmt: Any) -> dict[str, str]:
    return {lang: t(key, lang, **fmt) for lang in LANGS}


def _number(value: Any, what: str, change: str, *, positive: bool = True) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise WhatIfError("whatif.err.number", what=what, value=value, change=change) from None
    if not math.isfinite(x) or x < 0 or (positive and x == 0):
        raise WhatIfError("whatif.err.number", what=what, value=value, change=change)
    return x


class _Resolver:
    """Units by name, their prefecture, their node on the regional network, populations and
    the published rates."""

    def __init__(self, store: Store, edition: Edition, net: RegionalNetwork,
                 spec: RegionalSpec):
        from cocity.data.units import UnitIndex

        units = store.units()
        self.index = UnitIndex(units)
        self.units = units.set_index("code", drop=False)
        self.net = net
        self.ids = set(net.ids)
        self.spec = spec
        self.edition = edition
        census = edition.sources.get("census")
        pop = store.observations(indicators=[POP], years=[int(census)]) if census else None
        self.pop = (pop.set_index("unit")["value"].astype(float) if pop is not None
                    else pd.Series(dtype=float))
        rates = store.observations(indicators=[BEDS, DOCTORS, NURSES])
        self.rates = rates.pivot_table(index=["unit", "year"], columns="indicator",
                                       values="value")
        self._minutes: dict[str, np.ndarray] = {}

    def name(self, code: str, lang: str | None = None) -> str:
        """The unit's name in ``lang`` (default: the current language)."""
        if (lang or current_lang()) == "zh":
            return self.index.qualified_name(code)
        return str(self.units.at[code, "name_en"])

    def resolve(self, text: str, change: str) -> str:
        try:
            code = self.index.resolve(str(text).strip())
        except (UnitNotFoundError, AmbiguousUnitError) as exc:
            raise WhatIfError("whatif.err.unit", change=change, error=str(exc)) from None
        if self.units.at[code, "level"] not in ("prefecture", "county"):
            raise WhatIfError("whatif.err.level", change=change, unit=self.name(code))
        return code

    def prefecture(self, code: str) -> str:
        if self.units.at[code, "level"] == "prefecture":
            return code
        return str(self.units.at[code, "parent"])

    def node(self, code: str, change: str) -> str:
        """The unit's node: itself (county level); for a prefecture its station of the
        network's rail links, else its most populous urban district (its most populous
        county-level unit when it has no district) among its in-circle members."""
        u = self.units
        if u.at[code, "level"] == "county":
            if code not in self.ids:
                raise WhatIfError("whatif.err.not_regional", change=change,
                                  unit=self.name(code))
            return code
        station = self.spec.rail.stations.get(code)
        if station in self.ids:
            return str(station)
        members = u[(u["parent"] == code) & (u["level"] == "county")
                    & u["membership"].isin(MEMBERS) & u.index.isin(list(self.ids))]
        if members.empty:
            raise WhatIfError("whatif.err.not_regional", change=change, unit=self.name(code))
        districts = members[members["kind"] == "district"]
        pool = districts if not districts.empty else members
        pop = self.pop.reindex(pool.index).fillna(0.0)
        return str(pop.sort_index().idxmax())

    def population(self, pref: str, change: str) -> float:
        p = float(self.pop.get(pref, np.nan))
        if not math.isfinite(p) or p <= 0:
            raise WhatIfError("whatif.err.no_population", change=change, unit=self.name(pref),
                              year=self.edition.sources.get("census"))
        return p

    def rate(self, pref: str, indicator: str) -> tuple[float, int | None]:
        """The prefecture's published rate of the edition's yearbook year, else of the latest
        year in the store: ``(value, year)`` (NaN, None when there is none)."""
        try:
            rows = self.rates.xs(pref, level="unit")[indicator].dropna()
        except KeyError:
            return np.nan, None
        year = self.edition.sources.get("yearbook")
        if year is not None and int(year) in rows.index:
            return float(rows[int(year)]), int(year)
        if rows.empty:
            return np.nan, None
        last = int(max(rows.index))
        return float(rows[last]), last

    def minutes(self, a: str, b: str) -> float:
        """The network's present shortest time from node ``a`` to node ``b``."""
        from scipy.sparse.csgraph import dijkstra

        if a not in self._minutes:
            pos = self.net.ids.index(a)
            self._minutes[a] = np.asarray(dijkstra(self.net.matrix(), directed=True,
                                                   indices=[pos]))[0]
        return float(self._minutes[a][self.net.ids.index(b)])


def _fmt(x: float, places: int = 0) -> str:
    return f"{x:,.{places}f}"


def _resolve(changes: Sequence[Change], res: _Resolver) -> _Inputs:
    """The changes as adjustments (see the module docstring for the formulas)."""
    out = _Inputs()
    for i, ch in enumerate(changes):
        label = f"#{i + 1} {ch!r}"
        if isinstance(ch, AddBeds | AddHospital):
            _resolve_beds(ch, label, res, out)
        elif isinstance(ch, FasterLink):
            _resolve_link(ch, label, res, out)
        else:
            raise WhatIfError("whatif.err.change", change=label)
    return out


def _resolve_beds(ch: AddBeds | AddHospital, label: str, res: _Resolver, out: _Inputs) -> None:
    beds = _number(ch.beds, "beds", label)
    code = res.resolve(ch.unit, label)
    pref = res.prefecture(code)
    pop = res.population(pref, label)
    rate, _ = res.rate(pref, BEDS)
    if not math.isfinite(rate):
        raise WhatIfError("whatif.err.no_rate", change=label, unit=res.name(pref),
                          indicator=BEDS)
    hospital = isinstance(ch, AddHospital)
    site: str | None = code if res.units.at[code, "level"] == "county" else None
    if site is not None and site not in res.ids:
        raise WhatIfError("whatif.err.not_regional", change=label, unit=res.name(code))
    if hospital and site is None:
        site = res.node(code, label)
    added = {BEDS: beds}
    staff_note: dict[str, str] | None = None
    if isinstance(ch, AddHospital):
        for ind, given in ((DOCTORS, ch.doctors), (NURSES, ch.nurses)):
            if given is not None:
                added[ind] = _number(given, ind, label, positive=False)
                continue
            r, year = res.rate(pref, ind)
            if not math.isfinite(r) or rate <= 0:
                raise WhatIfError("whatif.err.no_staffing", change=label, unit=res.name(pref),
                                  indicator=ind)
            added[ind] = beds * r / rate
            staff_note = _both("whatif.note.staffing", unit=res.name(pref, "zh"),
                               unit_en=res.name(pref, "en"), year=year)
    row: dict[str, Any] = {"change": "hospital" if hospital else "beds", "unit": code,
                           "name_zh": res.name(code, "zh"), "name_en": res.name(code, "en"),
                           "prefecture": pref, "site": site or "", "beds": beds,
                           "doctors": added.get(DOCTORS, 0.0), "nurses": added.get(NURSES, 0.0),
                           "population": pop}
    for ind, amount in added.items():
        delta = PER * amount / pop
        out.add(out.deltas, ind, pref, delta)
        row[f"delta_{ind}"] = delta
    if site is not None:
        out.add(out.sited, BEDS, site, beds)
    out.rows.append(row)
    where = (_both("whatif.note.sited", site=res.name(site, "zh"), site_en=res.name(site, "en"))
             if site is not None else
             _both("whatif.note.spread", unit=res.name(pref, "zh"), unit_en=res.name(pref, "en")))
    out.notes.append({lang: t("whatif.note.beds", lang, unit=res.name(code, lang),
                              beds=_fmt(beds), pref=res.name(pref, lang),
                              delta=f"{row['delta_' + BEDS]:.4f}", rate=f"{rate:.2f}",
                              year=res.edition.sources.get("census"),
                              pop=_fmt(pop / 1e4, 1), pop_en=_fmt(pop / 1e6, 2),
                              where=where[lang])
                      for lang in LANGS} | {"kind": "beds"})
    if isinstance(ch, AddHospital):
        out.notes.append({lang: t("whatif.note.hospital", lang, unit=res.name(code, lang),
                                  doctors=_fmt(added[DOCTORS], 1), nurses=_fmt(added[NURSES], 1),
                                  how=staff_note[lang] if staff_note else
                                  t("whatif.note.staff_given", lang))
                          for lang in LANGS} | {"kind": "hospital"})


def _resolve_link(ch: FasterLink, label: str, res: _Resolver, out: _Inputs) -> None:
    minutes = _number(ch.minutes, "minutes", label)
    a, b = res.resolve(ch.a, label), res.resolve(ch.b, label)
    if a == b:
        raise WhatIfError("whatif.err.same_unit", change=label, unit=res.name(a))
    na, nb = res.node(a, label), res.node(b, label)
    if na == nb:
        raise WhatIfError("whatif.err.same_node", change=label, a=res.name(a), b=res.name(b),
                          node=res.name(na))
    before = res.minutes(na, nb)
    faster = minutes < before
    if faster:
        out.links.append((na, nb, minutes))
    out.rows.append({"change": "link", "unit": a, "name_zh": res.name(a, "zh"),
                     "name_en": res.name(a, "en"), "unit_b": b, "name_b_zh": res.name(b, "zh"),
                     "name_b_en": res.name(b, "en"), "node_a": na, "node_b": nb,
                     "minutes_before": before, "minutes": minutes, "applied": faster})
    key = "whatif.note.link" if faster else "whatif.note.link_slower"
    out.notes.append({lang: t(key, lang, a=res.name(a, lang), b=res.name(b, lang),
                              na=res.name(na, lang), nb=res.name(nb, lang),
                              before=f"{before:.1f}", minutes=f"{minutes:.1f}")
                      for lang in LANGS} | {"kind": "link"})


# ---------------------------------------------------------------------- the result
@dataclass
class LevelWhatIf:
    """One level: ``units`` — per unit (index: code, ordered by the scenario's rank) names, the
    published edition's ``published_score/rank/grade`` (when a run was given), the baseline's
    and the scenario's ``score``, ``rank``, ``grade`` (with replications also ``score_low``,
    ``score_high``, ``uncertain``), and ``score_change`` (scenario −
    baseline), ``rank_change`` (baseline rank − scenario rank: places gained), ``grade_changed``
    and ``changed`` (anything of the unit changed: an indicator, the score, rank or grade);
    ``indicators`` — the derived indicators that changed (long: unit, indicator, names, the
    ``published`` value when a run was given, ``baseline``, ``scenario``, ``change``)."""

    level: str
    units: pd.DataFrame
    indicators: pd.DataFrame

    @property
    def changed(self) -> pd.DataFrame:
        return self.units[self.units["changed"]]


@dataclass
class WhatIf:
    """A what-if (see the module docstring): the changes as applied (``applied``: one row per
    change), every level's :class:`LevelWhatIf`, the baseline and scenario
    :class:`~cocity.evaluate.run.Evaluation`, the allocations (``allocations``: baseline and
    scenario, ``allocation``: :func:`cocity.fund.scenarios.compare` of the two; None without a
    fund size), the published edition, notes in both languages (``kind``, ``zh``, ``en``) and
    the seconds it took."""

    year: int
    changes: tuple[Change, ...]
    applied: pd.DataFrame
    levels: dict[str, LevelWhatIf]
    baseline: Evaluation
    scenario: Evaluation
    allocations: dict[str, Allocation] | None
    allocation: pd.DataFrame | None
    published: Published | None
    notes: list[dict[str, str]]
    seconds: float
    replications: int
    seed: int
    provenance: dict[str, Any] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The what-if as plain data (JSON-able; no timestamps)."""
        from cocity.outputs import jsonable

        def records(frame: pd.DataFrame | None, index: bool = False) -> Any:
            if frame is None:
                return None
            f = frame.reset_index() if index else frame
            return jsonable(f.astype(object).where(f.notna(), None).to_dict("records"))

        return {
            "kind": "cocity what-if", "year": self.year,
            "changes": records(self.applied),
            "published_run": None if self.published is None else self.published.run,
            "replications": self.replications, "seed": self.seed,
            "levels": {lv: {"units": records(r.units, index=True),
                            "indicators": records(r.indicators)}
                       for lv, r in self.levels.items()},
            "allocation": records(self.allocation),
            "notes": self.notes, "provenance": self.provenance,
        }


def _unit_table(base: Any, scen: Any, published: pd.DataFrame | None,
                indicators: pd.DataFrame) -> pd.DataFrame:
    units = base.units[["name_zh", "name_en", "parent"]].copy()
    out = units.rename_axis("unit")
    if published is not None:
        out["published_score"] = published["score"].reindex(out.index)
        out["published_rank"] = published["rank"].reindex(out.index)
        out["published_grade"] = published["grade"].reindex(out.index)
    for name, res in (("baseline", base), ("scenario", scen)):
        g = res.graded
        out[f"{name}_score"] = g["score"].reindex(out.index).astype(float)
        out[f"{name}_rank"] = pd.array(np.round(g["rank"].reindex(out.index).to_numpy(float)),
                                       dtype="Int64")
        out[f"{name}_grade"] = g["grade"].reindex(out.index).astype(object)
        for col in ("score_low", "score_high", "uncertain"):  # with replications only
            if col in g:
                out[f"{name}_{col}"] = g[col].reindex(out.index)
    out["score_change"] = out["scenario_score"] - out["baseline_score"]
    out["rank_change"] = out["baseline_rank"] - out["scenario_rank"]
    out["grade_changed"] = out["baseline_grade"] != out["scenario_grade"]
    touched = set(indicators["unit"]) if not indicators.empty else set()
    out["changed"] = (out["score_change"].abs() > 0) | (out["rank_change"] != 0) \
        | out["grade_changed"] | out.index.isin(list(touched))
    out["changed"] = out["changed"].astype(bool)
    return out.sort_values(["scenario_rank", "scenario_score"], ascending=[True, False])


def _changed_indicators(base: Any, scen: Any) -> pd.DataFrame:
    cols = ["unit", "name_zh", "name_en", "indicator", "indicator_zh", "indicator_en",
            "baseline", "scenario", "change"]
    b, s = base.raw, scen.raw.reindex(index=base.raw.index, columns=base.raw.columns)
    same = (b == s) | (b.isna() & s.isna())
    rows = []
    fw = base.framework
    for unit, code in zip(*np.nonzero(~same.to_numpy()), strict=True):
        u, c = str(b.index[unit]), str(b.columns[code])
        node = fw.nodes[c]
        bv, sv = float(b.iat[unit, code]), float(s.iat[unit, code])
        rows.append({"unit": u, "name_zh": base.units.at[u, "name_zh"],
                     "name_en": base.units.at[u, "name_en"], "indicator": c,
                     "indicator_zh": node.name_zh, "indicator_en": node.name_en,
                     "baseline": bv, "scenario": sv, "change": sv - bv})
    return pd.DataFrame(rows, columns=cols)


def _adjusted_needs(data: NeedData, deltas: Mapping[str, Mapping[str, float]]) -> NeedData:
    """The fund's need data with the rate changes added (every year the rules read)."""
    from cocity.fund.needs import NeedData

    values = data.values.copy()
    values["value"] = values["value"].astype(float)
    for ind, per in deltas.items():
        mask = values["indicator"] == ind
        values.loc[mask, "value"] += values.loc[mask, "unit"].astype(str).map(
            dict(per)).fillna(0.0).astype(float)
    return NeedData(data.units, data.catalog, values)


def _has_fund_size(rules: AllocationRules, fund_fen: int | None) -> bool:
    return fund_fen is not None or rules.spec.fund_yuan is not None or all(
        rules.use(u).share is None for u in rules.uses)


def what_if(store: Store, *, changes: Iterable[Change],
            framework: EvalFramework | str | Path | None = None, year: int | None = None,
            level: str | None = None, run: Any = None, fund_fen: int | None = None,
            rules: Any = None, replications: int = 0, seed: int | None = None,
            survey: Any = None, progress: Callable[[str], None] | None = None) -> WhatIf:
    """Apply ``changes`` in memory and recompute the evaluation and the allocation (see the
    module docstring for the chain and the formulas).

    ``framework``: an evaluation framework (default: the shipped one); ``year``: the
    evaluation year (default: the run's, else the framework's); ``level``: one level to
    evaluate (default: every level of the framework; the fund's level is added when an
    allocation is computed); ``run``: the published run folder (or ``RunRecord``) shown beside
    the baseline, whose publication date, survey and previous edition the recomputation takes;
    ``fund_fen``: the fund size (default: the rules'; without one no allocation is computed and
    a note says so); ``rules``: the allocation rules (default: the shipped ones);
    ``replications`` and ``seed``: the uncertainty analysis of both runs (0: point grades);
    ``survey``: the satisfaction survey (default: the published run's must be the simulated
    one, which is drawn again). Nothing is written.
    """
    from cocity.access.regional import build_regional_network
    from cocity.evaluate.framework import EvalFramework, load_framework
    from cocity.evaluate.run import evaluate
    from cocity.fund.rules import load_rules

    t0 = time.perf_counter()
    say = progress or (lambda _step: None)
    changes = tuple(changes)
    fw = framework if isinstance(framework, EvalFramework) else load_framework(framework)
    published = read_published(run) if run is not None else None
    if year is None:
        year = published.year if published is not None else fw.year
    if published is not None and published.year != int(year):
        raise WhatIfError("whatif.err.run_year", run=published.run, year=published.year,
                          asked=year)
    year = int(year)
    if replications < 0:
        raise WhatIfError("whatif.err.number", what="replications", value=replications,
                          change="replications")
    edition = fw.edition(year)
    levels = [level] if level is not None else list(fw.doc["levels"])
    unknown = [lv for lv in levels if lv not in fw.doc["levels"]]
    if unknown:
        raise WhatIfError("whatif.err.level_name", level=", ".join(unknown),
                          known=", ".join(fw.doc["levels"]))
    loaded = load_rules(rules)
    fund = _has_fund_size(loaded, fund_fen)
    evaluated = list(levels)
    if fund and loaded.level not in evaluated:
        evaluated.append(loaded.level)
    notes: list[dict[str, str]] = []
    previous = None
    pub_date = None
    if published is not None:
        sv = (published.doc.get("provenance") or {}).get("survey") or {}
        if sv.get("kind") == "file" and survey is None:
            raise WhatIfError("whatif.err.survey_file", run=published.run,
                              path=sv.get("source") or "—")
        previous = _previous(published)
        if published.doc.get("improvement_applies") and previous is None:
            notes.append(_both("whatif.note.no_previous", run=published.doc.get("previous_run"))
                         | {"kind": "previous"})
        pub_date = published.publication_date
        if published.manifest.get("framework", {}).get("sha256") != fw.sha256:
            notes.append(_both("whatif.note.framework", run=published.run) |
                         {"kind": "framework"})
    say("resolve")
    spec = _network_spec(fw, store)
    net = build_regional_network(store, spec)
    inputs = _resolve(changes, _Resolver(store, edition, net, spec))
    notes.extend(inputs.notes)
    if inputs.deltas and edition.sources.get("yearbook") is None:
        notes.append(_both("whatif.note.no_yearbook", year=year) | {"kind": "yearbook"})
    say("baseline")
    common: dict[str, Any] = {"year": year, "replications": replications, "seed": seed,
                              "previous": previous, "publication_date": pub_date,
                              "levels": evaluated}
    base = evaluate(fw, store, survey=survey, **common)
    say("scenario")
    scen = evaluate(fw, store, survey=base.survey, adjust=inputs.adjustments(), **common)
    out_levels: dict[str, LevelWhatIf] = {}
    for lv in evaluated:
        b, s = base.levels[lv], scen.levels[lv]
        ind = _changed_indicators(b, s)
        if published is not None and lv in published.values:
            pv = published.values[lv].stack(future_stack=True).astype(float).to_dict()
            ind.insert(6, "published", [pv.get((u, c), np.nan)
                                        for u, c in zip(ind["unit"], ind["indicator"],
                                                        strict=True)])
        pub = published.ranking.get(lv) if published is not None else None
        out_levels[lv] = LevelWhatIf(lv, _unit_table(b, s, pub, ind), ind)
        if pub is not None and published is not None:
            diff = (b.graded["score"] - pub["score"].reindex(b.graded.index)).abs().max()
            if not diff <= 1e-9:
                notes.append(_both("whatif.note.published_differs", level=lv,
                                   diff=f"{diff:.4g}", run=published.run)
                             | {"kind": "published"})
    say("allocation")
    allocations = allocation = None
    if fund:
        allocations, allocation = _allocations(store, loaded, base, scen, fund_fen, inputs)
        if inputs.deltas:
            years = sorted({y for y, ids in loaded.reads().items()
                            if set(ids) & set(inputs.deltas)})
            notes.append(_both("whatif.note.fund_years", years=", ".join(map(str, years)) or "—")
                         | {"kind": "fund"})
    else:
        notes.append(_both("whatif.note.no_fund") | {"kind": "fund"})
    if base.simulated_survey:
        notes.append(_both("whatif.note.simulated") | {"kind": "simulated"})
    if replications == 0:
        notes.append(_both("whatif.note.point_grades") | {"kind": "replications"})
    applied = pd.DataFrame(inputs.rows)
    return WhatIf(year, changes, applied, out_levels, base, scen, allocations, allocation,
                  published, notes, time.perf_counter() - t0, replications, base.seed,
                  provenance=_provenance(store, base, loaded if fund else None))


def _provenance(store: Store, base: Evaluation, rules: AllocationRules | None
                ) -> dict[str, Any]:
    """The evaluation's provenance record, with the imports touching what the fund's needs
    read when an allocation was computed."""
    from cocity.data.provenance import provenance

    out = dict(base.provenance)
    if rules is not None:
        reads = rules.reads()
        fund = provenance(store, indicators=sorted({i for v in reads.values() for i in v}),
                          years=sorted(reads))
        imports = list(out.get("imports", []))
        imports += [e for e in fund["imports"] if e not in imports]
        out["imports"] = imports
        out["user_data"] = bool(imports)
    return out


def _network_spec(fw: EvalFramework, store: Store) -> RegionalSpec:
    """The framework's regional network specification, as :func:`evaluate` reads it."""
    from cocity.access.regional import load_spec, workspace_spec

    name = fw.doc.get("network")
    return workspace_spec(store) if name in (None, "regional_chengyu") else load_spec(name)


def _allocations(store: Store, rules: AllocationRules, base: Evaluation, scen: Evaluation,
                 fund_fen: int | None, inputs: _Inputs
                 ) -> tuple[dict[str, Allocation], pd.DataFrame]:
    """The allocation of the same fund by the same rules after each run's grades, with the
    scenario's need data adjusted, and the two side by side."""
    from cocity.fund.allocation import allocate
    from cocity.fund.needs import compute_needs, read_need_data
    from cocity.fund.run_grades import from_evaluation
    from cocity.fund.scenarios import compare

    data = read_need_data(store, rules)
    a_base = allocate(rules, compute_needs(rules, data), fund_fen=fund_fen,
                      grades=from_evaluation(base, level=rules.level))
    a_scen = allocate(rules, compute_needs(rules, _adjusted_needs(data, inputs.deltas)),
                      fund_fen=fund_fen, grades=from_evaluation(scen, level=rules.level))
    both = {"baseline": a_base, "scenario": a_scen}
    return both, compare(both)
