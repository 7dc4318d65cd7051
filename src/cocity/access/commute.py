"""1-hour commuting circles of a workspace: the regional network's minutes from each core to
every county-level unit (:func:`cocity.access.regional.commuting_circles`) and, with commuting
origin–destination data, the membership by commuting share
(:func:`cocity.access.regional.commuting_share_circles`) with the units on which the two
memberships differ. :func:`run_commute` is the whole run of ``cocity access commute``: it reads
the spec and the OD file, checks them, and returns a :class:`Commute` with the provenance of
the workspace's data; writing it is :mod:`cocity.report.access_report`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cocity.access.errors import AccessInputError
from cocity.access.inputs import row_list
from cocity.access.regional import (
    RegionalNetwork,
    RegionalSpec,
    build_regional_network,
    commuting_circles,
    commuting_share_circles,
    load_spec,
    workspace_spec,
)
from cocity.data.errors import AmbiguousUnitError, UnitNotFoundError
from cocity.data.provenance import provenance
from cocity.data.store import Store
from cocity.i18n import t

#: membership classes of the circles by time, and by commuting share
CIRCLE_CLASSES = ("both", "first", "second", "none")
FLOW_COLUMNS = ("origin", "destination", "commuters")


@dataclass
class Commute:
    """Commuting circles of a workspace: ``table`` (one row per county-level unit: ``unit``,
    names, ``minutes_<core>``, ``modelled_<core>``, ``within_<core>``, ``circle``), the
    regional ``network``, the county boundaries ``geo`` and the spec used.

    With commuting origin–destination data (``flows``: ``origin``, ``destination`` as unit
    codes, ``commuters``), the table also has ``share_<core>`` (share of the unit's outgoing
    commuters working in the core; empty where the data hold no outgoing commuters),
    ``within_share_<core>``, ``no_flows`` and ``circle_share`` (membership by commuting share,
    :func:`cocity.access.regional.commuting_share_circles`)."""

    table: pd.DataFrame
    network: RegionalNetwork
    geo: Any
    spec: RegionalSpec
    threshold: float
    datum: str
    source: str
    flows: pd.DataFrame | None = None
    share_threshold: float | None = None
    flows_source: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    units_in_data: int = 0  # county-level units in the workspace (with or without boundary)

    def coverage(self, lang: str | None = None) -> str:
        """Which units the circles cover, e.g. "158 county-level units with a boundary (the
        regional network) of 158 in the data"."""
        return t("access.commute.coverage", lang, n=len(self.table), total=self.units_in_data)

    @property
    def cores(self) -> list[str]:
        return list(self.spec.cores)

    @property
    def has_shares(self) -> bool:
        return self.flows is not None

    def core_name(self, core: str, lang: str) -> str:
        return str(getattr(self.spec.cores[core], f"name_{lang}") or core)

    def core_units(self) -> dict[str, list[str]]:
        return {core: list(self.spec.cores[core].counties) for core in self.cores}

    @property
    def classes(self) -> tuple[str, ...]:
        """The membership classes of this spec: both/first/second/none for two cores;
        first (in a core's circle; any core's when there are more than two)/none otherwise."""
        return CIRCLE_CLASSES if len(self.cores) == 2 else ("first", "none")

    def circle_label(self, circle: str, lang: str) -> str:
        cores = self.cores
        if circle == "first" and len(cores) > 2:
            return t("access.cli.commute.circle.any", lang, threshold=self.threshold)
        if circle == "both":
            return t("access.cli.commute.circle.both", lang, threshold=self.threshold)
        if circle == "none":
            return t("access.cli.commute.circle.none", lang, threshold=self.threshold)
        return t("access.cli.commute.circle.one", lang, core=self.core_name(
            cores[0] if circle == "first" else cores[1], lang), threshold=self.threshold)

    @property
    def share_pct(self) -> str:
        """The commuting-share threshold as a percentage, e.g. ``10%``."""
        return f"{100 * (self.share_threshold or 0):g}%"

    def share_label(self, circle: str, lang: str) -> str:
        """The label of a membership class by commuting share."""
        share = self.share_pct
        if circle in ("both", "none", "no_flows"):
            return t(f"access.cli.commute.share.{circle}", lang, share=share)
        if circle == "first" and len(self.cores) > 2:
            return t("access.cli.commute.share.any", lang, share=share)
        return t("access.cli.commute.share.one", lang, core=self.core_name(
            self.cores[0] if circle == "first" else self.cores[1], lang), share=share)


def _circle_classes(within: np.ndarray, n_cores: int) -> np.ndarray:
    """``both``/``first``/``second``/``none`` from a units × cores membership matrix."""
    if n_cores == 2:
        return np.select([within.all(axis=1), within[:, 0], within[:, 1]],
                         ["both", "first", "second"], "none")
    return np.where(within.any(axis=1), "first", "none")


def build_commute(store: Store, spec: RegionalSpec | Mapping[str, Any] | None = None, *,
                  source: str = "",
                  flows: pd.DataFrame | None = None, share_threshold: float = 0.10,
                  flows_source: str = "") -> Commute:
    """The regional network and the commuting circles of ``spec`` on the store's counties;
    with ``flows`` (origin and destination as county codes, commuters) also the membership by
    commuting share at ``share_threshold``."""
    sp = workspace_spec(store) if spec is None else load_spec(spec)
    net = build_regional_network(store, sp)
    circles = commuting_circles(net, sp)
    units = store.units(level="county").set_index("code")
    table = circles.reset_index()
    table.insert(1, "name_zh", table["unit"].map(units["name_zh"]))
    table.insert(2, "name_en", table["unit"].map(units["name_en"]))
    table.insert(3, "parent", table["unit"].map(units["parent"]))
    cores = list(sp.cores)
    within = table[[f"within_{c}" for c in cores]].to_numpy(bool)
    table["circle"] = _circle_classes(within, len(cores))
    table["nearest_core"] = [cores[i] for i in np.argmin(
        table[[f"minutes_{c}" for c in cores]].to_numpy(float), axis=1)]
    geo = store.geodata(level="county")
    geo = geo[geo.geometry.notna()].reset_index(drop=True)
    c = Commute(table, net, geo, sp, sp.threshold_minutes, str(geo.attrs.get("datum", "")),
                source, provenance=provenance(store, indicators=[]),
                units_in_data=len(units))
    if flows is not None:
        c.flows = flows.reset_index(drop=True)
        c.share_threshold = float(share_threshold)
        c.flows_source = flows_source
        _add_shares(c)
    return c


def _add_shares(c: Commute) -> None:
    """Columns of the membership by commuting share (see :class:`Commute`)."""
    assert c.flows is not None and c.share_threshold is not None
    members = c.core_units()
    shares = commuting_share_circles(c.flows[["origin", "destination", "commuters"]], members,
                                     threshold=c.share_threshold)
    codes = c.table["unit"].astype(str)
    found = shares.reindex(codes)
    no_flows = ~found["no_flows"].eq(False).to_numpy()
    within = np.empty((len(codes), len(c.cores)), dtype=bool)
    for j, core in enumerate(c.cores):
        c.table[f"share_{core}"] = np.where(no_flows, np.nan,
                                            found[f"share_{core}"].to_numpy(float))
        within[:, j] = found[f"within_{core}"].eq(True).to_numpy() | codes.isin(
            members[core]).to_numpy()
        c.table[f"within_share_{core}"] = within[:, j]
    c.table["no_flows"] = no_flows
    circle = _circle_classes(within, len(c.cores))
    c.table["circle_share"] = np.where(no_flows & (circle == "none"), "no_flows", circle)


def commute_comparison(c: Commute) -> pd.DataFrame:
    """Units in a core's circle by time but not by commuting share (``time_only``) and the
    reverse (``share_only``); units without outgoing commuters in the data are left out."""
    cols = ["core", "difference", "unit", "name_zh", "name_en", "minutes", "share"]
    if not c.has_shares:
        return pd.DataFrame(columns=cols)
    tab = c.table[~c.table["no_flows"]]
    parts = []
    for core in c.cores:
        time_in = tab[f"within_{core}"].to_numpy(bool)
        share_in = tab[f"within_share_{core}"].to_numpy(bool)
        for kind, sel in (("time_only", time_in & ~share_in), ("share_only", share_in & ~time_in)):
            sub = tab[sel]
            parts.append(pd.DataFrame({
                "core": core, "difference": kind, "unit": sub["unit"].to_numpy(),
                "name_zh": sub["name_zh"].to_numpy(), "name_en": sub["name_en"].to_numpy(),
                "minutes": sub[f"minutes_{core}"].to_numpy(float),
                "share": sub[f"share_{core}"].to_numpy(float)}))
    return pd.concat(parts, ignore_index=True)[cols]


def commute_counts(c: Commute, column: str = "circle") -> list[tuple[str, int]]:
    """Units per membership class of ``column`` (``circle`` or ``circle_share``)."""
    counts = c.table[column].value_counts()
    keys = (*c.classes, "no_flows") if column == "circle_share" else c.classes
    return [(k, int(counts.get(k, 0))) for k in keys]


def read_flows(path: Path, store: Store) -> pd.DataFrame:
    """Commuting OD data from CSV or XLSX: ``origin``, ``destination`` (codes or names of
    county-level units, resolved with the store's name matching) and ``commuters``.

    Returns ``row`` (the spreadsheet row, header = row 1), ``origin_input``,
    ``destination_input``, ``origin``, ``destination`` (codes) and ``commuters``. Every name
    that names no county-level unit, or more than one, is reported at once with its rows."""
    if not path.is_file():
        raise AccessInputError(t("access.net.err.no_file", path=str(path)))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    elif suffix in (".xlsx", ".xlsm"):
        raw = pd.read_excel(path, dtype=str, keep_default_na=False)
    else:
        raise AccessInputError(t("access.cli.commute.err.flows_format", path=str(path)))
    raw.columns = [str(col).strip().lower() for col in raw.columns]
    missing = [col for col in FLOW_COLUMNS if col not in raw.columns]
    if missing:
        raise AccessInputError(t("access.cli.commute.err.flows_columns", path=str(path),
                                 columns=", ".join(missing)))
    rows = np.arange(len(raw)) + 2
    counts = pd.to_numeric(raw["commuters"].str.strip(), errors="coerce")
    bad = (counts.isna() | (counts < 0)).to_numpy()
    if bad.any():
        raise AccessInputError(t("access.cli.commute.err.flows_values", path=str(path),
                                 n=int(bad.sum()), rows=row_list(rows[bad].tolist())))
    codes: dict[str, str | None] = {}
    ambiguous: set[str] = set()
    failed: dict[tuple[str, str], list[int]] = {}
    resolved: dict[str, list[str]] = {}
    for column in ("origin", "destination"):
        out = []
        for row, value in zip(rows, raw[column].astype(str).str.strip(), strict=True):
            if value not in codes:
                try:
                    codes[value] = store.resolve(value, level="county") if value else None
                except AmbiguousUnitError:
                    codes[value] = None
                    ambiguous.add(value)
                except UnitNotFoundError:
                    codes[value] = None
            code = codes[value]
            if code is None:
                failed.setdefault((column, value), []).append(int(row))
            out.append(code or "")
        resolved[column] = out
    if failed:
        items = [t("access.cli.commute.err.flows_item", column=column,
                   name=name or t("access.cli.commute.err.empty_name"), rows=row_list(rws),
                   why=t("access.cli.commute.err.ambiguous") if name in ambiguous else "")
                 for (column, name), rws in failed.items()]
        raise AccessInputError(t("access.cli.commute.err.flows_units", path=str(path),
                                 n=len(failed), items="; ".join(items)))
    return pd.DataFrame({"row": rows, "origin_input": raw["origin"].to_numpy(),
                         "destination_input": raw["destination"].to_numpy(),
                         "origin": resolved["origin"], "destination": resolved["destination"],
                         "commuters": counts.to_numpy(float)})


def run_commute(store: Store, *, spec: str | Path | Mapping[str, Any] | None = None,
                threshold: float | None = None, flows: str | Path | None = None,
                share_threshold: float = 0.10) -> Commute:
    """The commuting circles of ``cocity access commute`` on ``store``: the spec (a YAML file,
    a mapping, or None: the workspace's own network, :func:`~cocity.access.regional.
    workspace_spec`) with ``threshold`` (minutes) in place
    of its own, and with ``flows`` (an OD file, see :func:`read_flows`) the membership by
    commuting share at ``share_threshold``. Every input is checked before anything is
    computed."""
    if flows is not None and not 0 < share_threshold <= 1:
        raise AccessInputError(t("access.cli.commute.err.share_threshold",
                                 value=share_threshold))
    if threshold is not None and not threshold > 0:
        raise AccessInputError(t("access.reg.bad_threshold", value=threshold))
    sp = workspace_spec(store) if spec is None else load_spec(spec)
    if threshold is not None:
        sp = load_spec({**sp.as_dict(), "threshold_minutes": threshold})
    od = None if flows is None else read_flows(Path(flows), store)
    own = "workspace:network" if store.meta().get("network") else \
        "cocity.access/regional_chengyu.yaml"
    return build_commute(store, sp, source=str(spec) if isinstance(spec, (str, Path)) else
                         own, flows=od,
                         share_threshold=share_threshold,
                         flows_source=str(flows) if flows is not None else "")
