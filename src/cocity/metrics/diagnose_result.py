"""What ``cocity diagnose`` found: plain data (frames and dataclasses, no figures, no I/O).

:class:`Diagnostics` holds one result per section (``None`` when the section was not run), the
notes of the run, which units each section covers (:class:`UnitSet`) and the provenance of the
data read (:func:`cocity.data.provenance.provenance`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd

from cocity.i18n import LANGS, current_lang, t
from cocity.metrics import polycentricity as poly
from cocity.metrics.diagnose_spec import DiagnoseSpec
from cocity.metrics.structure import Homogeneity

Bilingual = Mapping[str, str]


@dataclass(frozen=True)
class Note:
    """A remark of the run shown in the report and the terminal: ``key`` is an i18n label,
    ``params`` its fields (a field may be a ``{"zh": …, "en": …}`` mapping)."""

    section: str
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        lg = lang or current_lang()
        fmt: dict[str, Any] = {k: (v[lg] if isinstance(v, Mapping) else v)
                               for k, v in self.params.items()}
        return t(self.key, lg, **fmt)


@dataclass(frozen=True)
class UnitSet:
    """Which units a section covers, so that its counts are explained.

    ``used`` units entered the computation, out of ``scope`` units of the ``level`` selected by
    the membership filter (``full`` + ``partial`` of them in and partly in the circle), out of
    ``total`` units of that level in the data. ``partial`` names the partly-in-circle units
    used and ``treatment`` how their figures were taken: ``in_circle`` (their member
    counties), ``whole`` (the whole unit: the option, or no county data) or ``whole_county``
    (county data are whole counties).
    """

    section: str
    level: str
    used: int
    scope: int
    total: int
    full: int
    partial: Bilingual          # names of the partial units used, both languages
    n_partial: int
    treatment: str

    def text(self, lang: str | None = None) -> str:
        lg = lang or current_lang()
        head = t("diagnose.units.head", lg, used=self.used, level=t(f"level.{self.level}", lg),
                 scope=self.scope, full=self.full, n_partial=self.n_partial, total=self.total)
        if not self.n_partial:
            return head
        return head + t(f"diagnose.units.partial.{self.treatment}", lg,
                        units=self.partial[lg], n=self.n_partial)

    def record(self) -> dict[str, Any]:
        return {"section": self.section, "level": self.level, "used": self.used,
                "scope": self.scope, "total": self.total, "full": self.full,
                "partial": self.n_partial, "treatment": self.treatment,
                **{f"text_{lg}": self.text(lg) for lg in LANGS}}


@dataclass(frozen=True)
class InequalityResult:
    """One row of ``summary`` per (indicator, year); group tables in long form."""

    summary: pd.DataFrame       # indicator, year, n, n_groups, mean, gini, theil, …
    theil_groups: pd.DataFrame  # indicator, year, group, n, pop_share, income_share, …
    dagum_groups: pd.DataFrame  # indicator, year, group, n, pop_share, …, gini, within
    dagum_pairs: pd.DataFrame   # indicator, year, group_j, group_h, gini, affluence, …
    lorenz: pd.DataFrame        # indicator, year, pop_share, value_share (cumulative)


@dataclass(frozen=True)
class ConvergenceResult:
    years: tuple[int, ...]
    measure: str
    sigma: pd.DataFrame         # indicator, year, n, sigma
    sigma_trend: pd.DataFrame   # indicator, slope, t_stat, p_value, r2 (≥ 3 years only)
    beta: pd.DataFrame          # indicator, n, beta, se, t_stat, p_value, alpha, r2, …
    points: pd.DataFrame        # indicator, unit, y0, y1, ln_y0, growth


@dataclass(frozen=True)
class StructureResult:
    year: int
    level: str
    sectors: tuple[str, ...]
    shares: pd.DataFrame        # unit × sector (the input shares, %)
    lq: pd.DataFrame            # unit × sector
    krugman: pd.Series          # unit → K against the rest of the cluster
    krugman_pairwise: pd.DataFrame
    similarity: pd.DataFrame
    homogeneity: Homogeneity    # the 同质化竞争 rule, its cut-off and the flagged pairs
    excluded: tuple[str, ...]   # sectors left out of the homogeneity comparison
    roles: pd.DataFrame         # per unit: tier, poles, labels and reasons in zh and en

    @property
    def warnings(self) -> pd.DataFrame:
        """The flagged pairs: unit_a, unit_b, similarity, excess, shared."""
        return self.homogeneity.pairs


@dataclass(frozen=True)
class NetworkResult:
    level: str
    population: pd.Series       # in ``pop_unit``
    gdp: pd.Series              # in ``gdp_unit``
    points: pd.DataFrame        # lon, lat of each unit (the points the distances use)
    distance: pd.DataFrame      # km
    linkage: pd.DataFrame       # R (directed), in ``unit``
    units: pd.DataFrame         # per unit: total_linkage, rank, top_partner, affiliation, …
    edges: pd.DataFrame         # a, b, weight (the kept links), distance_km
    summary: pd.Series
    graph: nx.Graph
    core: list[str]
    core_fit: float
    core_method: str            # binary or weighted
    unit: Bilingual             # unit of the linkage strengths, e.g. 万人·亿元/km²
    pop_unit: Bilingual
    gdp_unit: Bilingual


@dataclass(frozen=True)
class PolycentricityResult:
    sizes: pd.Series
    primacy: pd.Series
    rank_size: poly.RankSize
    morphological: pd.Series
    functional: pd.Series | None
    size_unit: Bilingual


@dataclass(frozen=True)
class SpatialResult:
    contiguity: str
    weights: Mapping[str, Any]  # summary of the weights of the main year's first indicator
    moran: pd.DataFrame         # indicator, year, n, I, expected, z_norm, p_norm, p_sim, z_sim
    lisa: pd.DataFrame          # indicator, year, unit, value, I, quadrant, p_sim, cluster
    links: pd.DataFrame         # focal, neighbour (of the main year's first indicator)

    def cluster_counts(self, year: int, indicators: list[str],
                       clusters: list[str]) -> pd.DataFrame:
        """Units per LISA cluster and indicator in ``year``."""
        lisa = self.lisa[self.lisa["year"] == year]
        counts = lisa.groupby(["indicator", "cluster"]).size().unstack(fill_value=0)
        return counts.reindex(index=indicators, columns=clusters, fill_value=0)


@dataclass(frozen=True)
class PeopleCircleResult:
    name_zh: str
    name_en: str
    scores: pd.DataFrame        # unit, year, U_*, C, T, D, grade, grade_zh, grade_en
    summary: pd.DataFrame       # year, n, mean_D, median_D, min_D, max_D
    grades: pd.DataFrame        # year, grade, grade_zh, grade_en, n


@dataclass(frozen=True)
class Diagnostics:
    """Everything :func:`~cocity.metrics.diagnose.run_diagnostics` found; sections not run
    are ``None``."""

    spec: DiagnoseSpec
    provenance: Mapping[str, Any]  # cocity.data.provenance.provenance of the data read
    units: pd.DataFrame          # every unit of the store (code, names, level, parent, …)
    scope: pd.DataFrame          # analysed units: code, names, group
    groups: pd.DataFrame         # group → name_zh, name_en (index: group)
    catalog: pd.DataFrame        # indicators used
    values: pd.DataFrame         # unit, year, indicator, value (the inputs of the sections)
    geo: gpd.GeoDataFrame | None
    inequality: InequalityResult | None
    convergence: ConvergenceResult | None
    structure: StructureResult | None
    network: NetworkResult | None
    polycentricity: PolycentricityResult | None
    spatial: SpatialResult | None
    people_circle: PeopleCircleResult | None
    unit_sets: Mapping[str, UnitSet]
    notes: tuple[Note, ...]

    @property
    def source(self) -> str:
        """The embedded dataset or workspace the data came from."""
        return str(self.provenance.get("dataset") or self.provenance.get("workspace") or "")

    @property
    def datum(self) -> str:
        return str(self.provenance.get("datum") or "WGS-84")

    def unit_name(self, code: object, lang: str) -> str:
        code = str(code)
        if code in self.units.index:
            return str(self.units.at[code, f"name_{lang}"])
        return code

    def group_name(self, group: object, lang: str) -> str:
        if group in self.groups.index:
            return str(self.groups.at[group, f"name_{lang}"])
        return str(group)

    def indicator_name(self, indicator: str, lang: str) -> str:
        return str(self.catalog.at[indicator, f"name_{lang}"])

    def indicator_unit(self, indicator: str, lang: str) -> str:
        """The indicator's unit of measure from the catalog (``""`` when it has none)."""
        if indicator not in self.catalog.index:
            return ""
        value = self.catalog.at[indicator, f"unit_{lang}"]
        return "" if value is None or (isinstance(value, float) and value != value) \
            else str(value)

    def headline(self) -> dict[str, Any]:
        """The headline figures (main year, first indicator first) as plain values."""
        out: dict[str, Any] = {"main_year": self.spec.main_year}
        if self.inequality is not None:
            s = self.inequality.summary
            main = s[s["year"] == self.spec.main_year].set_index("indicator")
            out["gini"] = main["gini"].to_dict()
            out["theil_between_share"] = main["theil_between_share"].to_dict()
            out["dagum_net_between_pct"] = main["dagum_net_between_pct"].to_dict()
        if self.convergence is not None:
            b = self.convergence.beta.set_index("indicator")
            out["beta"] = b["beta"].to_dict()
            out["half_life"] = {k: (None if pd.isna(v) else float(v))
                                for k, v in b["half_life"].items()}
        if self.spatial is not None:
            m = self.spatial.moran
            main_m = m[m["year"] == self.spec.main_year].set_index("indicator")
            out["moran_i"] = main_m["I"].to_dict()
            out["moran_p_sim"] = main_m["p_sim"].to_dict()
        if self.structure is not None:
            out["homogeneous_pairs"] = len(self.structure.warnings)
        if self.network is not None:
            top = self.network.edges.head(1)
            out["strongest_link"] = (None if top.empty else
                                     [str(top.iloc[0]["a"]), str(top.iloc[0]["b"])])
            out["network_density"] = float(self.network.summary["density"])
            out["network_core"] = list(self.network.core)
        if self.polycentricity is not None:
            out["primacy"] = self.polycentricity.primacy.to_dict()
            out["zipf_q"] = self.polycentricity.rank_size.q
        if self.people_circle is not None:
            out["coupling_mean_D"] = self.people_circle.summary.set_index("year")[
                "mean_D"].to_dict()
        return out
