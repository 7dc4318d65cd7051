"""The results of ``cocity diagnose`` as named tables (CSV files and workbook sheets), the
units of measure of their columns, and the headline rows the terminal prints.

Tables keep machine-readable column names and full precision; :func:`column_units` is their
data dictionary (every column that has a unit of measure, with it, in both languages), which
the workbook shows in its headers and the CSV folder carries as ``columns.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cocity.i18n import LANGS, t
from cocity.metrics import quantities as qty
from cocity.metrics.diagnose_result import Diagnostics

PERCENT = {"zh": "%", "en": "%"}
KM = {"zh": "km", "en": "km"}
YEARS = {"zh": "年", "en": "years"}
SHARE = {"zh": "比例（0–1）", "en": "share (0–1)"}


def result_tables(diag: Diagnostics) -> dict[str, pd.DataFrame]:
    """Every result as a named table (for CSV and XLSX): units carry both names; values of
    indicators carry the indicator's unit of measure."""
    names = diag.units[["name_zh", "name_en"]]

    def named(frame: pd.DataFrame, col: str = "unit") -> pd.DataFrame:
        out = frame.copy()
        codes = out[col].astype(str)
        pos = list(out.columns).index(col) + 1
        out.insert(pos, f"{col}_name_zh", codes.map(names["name_zh"]).to_numpy())
        out.insert(pos + 1, f"{col}_name_en", codes.map(names["name_en"]).to_numpy())
        return out

    def matrix(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        out.index = pd.Index([str(c) for c in out.index], name="unit")
        return named(out.reset_index())

    def group_names(frame: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
        out = frame.copy()
        for col in cols:
            pos = list(out.columns).index(col) + 1
            for i, lg in enumerate(LANGS):
                out.insert(pos + i, f"{col}_name_{lg}",
                           [diag.group_name(g, lg) for g in out[col]])
        return out

    def with_unit(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for lg in LANGS:
            out[f"unit_{lg}"] = [diag.indicator_unit(str(i), lg) for i in out["indicator"]]
        return out

    tables: dict[str, pd.DataFrame] = {
        "scope": named(diag.scope.reset_index(drop=True).rename(columns={"code": "unit"})
                       .drop(columns=["name_zh", "name_en"])),
        "unit_sets": pd.DataFrame([u.record() for u in diag.unit_sets.values()]),
        "groups": diag.groups.reset_index(),
        "values": with_unit(named(diag.values)),
    }
    if (q := diag.inequality) is not None:
        tables["inequality"] = with_unit(q.summary)
        tables["theil_groups"] = group_names(q.theil_groups, ["group"])
        tables["dagum_groups"] = group_names(q.dagum_groups, ["group"])
        tables["dagum_pairs"] = group_names(q.dagum_pairs, ["group_j", "group_h"])
    if (c := diag.convergence) is not None:
        tables["sigma"] = c.sigma
        if not c.sigma_trend.empty:
            tables["sigma_trend"] = c.sigma_trend
        tables["beta"] = c.beta
        tables["beta_points"] = named(c.points)
    if (s := diag.structure) is not None:
        tables["shares"] = matrix(s.shares)
        tables["location_quotients"] = matrix(s.lq)
        tables["krugman"] = named(s.krugman.rename("krugman_vs_rest").rename_axis("unit")
                                  .reset_index())
        tables["krugman_pairwise"] = matrix(s.krugman_pairwise)
        tables["similarity"] = matrix(s.similarity)
        tables["homogeneous_competition"] = named(named(s.warnings, "unit_a"), "unit_b")
        tables["roles"] = named(s.roles.reset_index())
    if (n := diag.network) is not None:
        tables["linkage_units"] = named(named(n.units.reset_index()), "top_partner")
        tables["linkage_matrix"] = matrix(n.linkage)
        tables["distance_km"] = matrix(n.distance)
        tables["linkage_edges"] = named(named(n.edges, "a"), "b")
        tables["network_summary"] = n.summary.rename("value").rename_axis("measure") \
            .reset_index()
    if (p := diag.polycentricity) is not None:
        rs = p.rank_size
        rows = [("primacy_" + str(k), float(v)) for k, v in p.primacy.items()]
        rows += [("zipf_q", rs.q), ("zipf_se", rs.se), ("zipf_se_gi", rs.se_gi),
                 ("zipf_intercept", rs.intercept), ("zipf_r2", rs.r2), ("zipf_n", rs.n)]
        rows += [(str(k), float(v)) for k, v in p.morphological.items()]
        if p.functional is not None:
            rows += [("functional_" + str(k), float(v)) for k, v in p.functional.items()]
        tables["polycentricity"] = pd.DataFrame(rows, columns=["measure", "value"])
        tables["sizes"] = named(p.sizes.rename("size").rename_axis("unit").reset_index())
    if (sp := diag.spatial) is not None:
        tables["moran"] = sp.moran
        tables["lisa"] = named(sp.lisa)
    if (pcr := diag.people_circle) is not None:
        tables["coupling"] = named(pcr.scores)
        tables["coupling_summary"] = pcr.summary
        tables["coupling_grades"] = pcr.grades
    tables["notes"] = pd.DataFrame(
        [{"section": n.section, "note_zh": n.text("zh"), "note_en": n.text("en")}
         for n in diag.notes], columns=["section", "note_zh", "note_en"])
    tables["columns"] = column_units(diag, tables)
    return tables


def column_units(diag: Diagnostics,
                 tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The data dictionary: ``table``, ``column``, ``unit_zh``, ``unit_en`` for every column
    of :func:`result_tables` that holds a quantity with a unit of measure. A column whose unit
    varies by row (an indicator's values) names the row's ``unit_zh``/``unit_en`` columns."""
    rows: list[tuple[str, str, dict[str, str]]] = []
    by_row = {lg: t("diagnose.units.by_row", lg) for lg in LANGS}
    rows += [("values", "value", by_row)]
    if diag.inequality is not None:
        rows += [("inequality", "mean", by_row)]
        rows += [("inequality", c, PERCENT) for c in (
            "dagum_within_pct", "dagum_net_between_pct", "dagum_transvariation_pct")]
        rows += [("inequality", "theil_between_share", SHARE)]
    if diag.convergence is not None:
        rows += [("beta", "half_life", YEARS), ("beta", "horizon", YEARS),
                 ("beta", "speed", {"zh": "每年", "en": "per year"})]
    if diag.structure is not None:
        rows += [("shares", "*", PERCENT)]
    if (n := diag.network) is not None:
        rows += [("linkage_units", "population", dict(n.pop_unit)),
                 ("linkage_units", "gdp", dict(n.gdp_unit)),
                 ("linkage_units", "total_linkage", dict(n.unit)),
                 ("linkage_units", "top_affiliation", SHARE),
                 ("linkage_units", "strength", dict(n.unit)),
                 ("linkage_matrix", "*", dict(n.unit)), ("distance_km", "*", KM),
                 ("linkage_edges", "weight", dict(n.unit)),
                 ("linkage_edges", "distance_km", KM)]
    if (p := diag.polycentricity) is not None:
        rows += [("sizes", "size", dict(p.size_unit))]
    return pd.DataFrame([{"table": tb, "column": col, "unit_zh": u["zh"], "unit_en": u["en"]}
                         for tb, col, u in rows],
                        columns=["table", "column", "unit_zh", "unit_en"])


def linkage_label(diag: Diagnostics, value: float, lang: str) -> str:
    """A linkage strength for a person: rounded, with its unit."""
    assert diag.network is not None
    return f"{qty.human(value)} {diag.network.unit[lang]}"


# ----------------------------------------------------------------------------- terminal
def headline_table(diag: Diagnostics, lang: str) -> tuple[list[str], list[list[str]]]:
    """The terminal's headline table in ``lang``: column titles (with units) and one row of
    formatted figures per indicator of the main year."""
    year = diag.spec.main_year
    cols: list[str] = [t("diagnose.page.col.indicator", lang)]
    getters = []
    if (q := diag.inequality) is not None:
        s = q.summary[q.summary["year"] == year].set_index("indicator")
        cols += [t("diagnose.cli.col.gini", lang), t("diagnose.cli.col.between", lang),
                 t("diagnose.cli.col.net_between", lang)]
        getters += [lambda i, s=s: qty.fixed(s.at[i, "gini"], 4),
                    lambda i, s=s: qty.percent(s.at[i, "theil_between_share"], 2, scale=100),
                    lambda i, s=s: qty.percent(s.at[i, "dagum_net_between_pct"], 1)]
    if (c := diag.convergence) is not None:
        b = c.beta.set_index("indicator")
        cols += ["β", t("diagnose.cli.col.half_life", lang)]
        getters += [lambda i, b=b: qty.fixed(b.at[i, "beta"], 4),
                    lambda i, b=b: qty.fixed(b.at[i, "half_life"], 1)]
    if (sp := diag.spatial) is not None:
        m = sp.moran[sp.moran["year"] == year].set_index("indicator")
        cols += [t("diagnose.cli.col.moran", lang)]
        getters += [lambda i, m=m: f"{qty.fixed(m.at[i, 'I'], 4)} "
                                   f"(p {qty.pvalue(m.at[i, 'p_sim'])})"]
    rows = [[diag.indicator_name(ind, lang), *(g(ind) for g in getters)]
            for ind in diag.spec.indicators]
    return cols, rows


def headline_facts(diag: Diagnostics, lang: str) -> list[tuple[str, str]]:
    """The terminal's lines for the other sections, the units each covers and the data's
    provenance, in ``lang``."""
    out: list[tuple[str, str]] = []
    sep = "、" if lang == "zh" else ", "
    if (st := diag.structure) is not None:
        poles = st.roles[st.roles["poles"] != ""]
        h = st.homogeneity
        rule = t(f"diagnose.cli.rule.{h.method}", lang, cutoff=qty.fixed(h.cutoff, 4))
        out.append((t("diagnose.section.structure", lang), t(
            "diagnose.cli.structure_v2", lang, pairs=len(st.warnings), rule=rule,
            roles="; ".join(f"{diag.unit_name(u, lang)} {r[f'role_label_{lang}']}"
                            for u, r in poles.iterrows()) or "—")))
    if (nw := diag.network) is not None:
        top = nw.edges.iloc[0] if len(nw.edges) else None
        out.append((t("diagnose.section.network", lang), t(
            "diagnose.cli.network_v2", lang, density=qty.fixed(nw.summary["density"], 3),
            link="—" if top is None else
            f"{diag.unit_name(top['a'], lang)}–{diag.unit_name(top['b'], lang)}",
            weight="—" if top is None else f"{qty.human(top['weight'])} {nw.unit[lang]}",
            core=sep.join(diag.unit_name(u, lang) for u in nw.core))))
    if (pl := diag.polycentricity) is not None:
        prim = ", ".join(f"{str(k).upper()} {qty.fixed(v, 3)}" for k, v in pl.primacy.items())
        out.append((t("diagnose.section.polycentricity", lang), t(
            "diagnose.cli.polycentricity", lang, primacy=prim or "—",
            q=qty.fixed(pl.rank_size.q, 3))))
    if (pc := diag.people_circle) is not None:
        out.append((t("diagnose.section.people_circle", lang), "; ".join(
            t("diagnose.cli.coupling", lang, year=y, mean=qty.fixed(d, 4), n=n)
            for y, d, n in zip(pc.summary["year"], pc.summary["mean_D"], pc.summary["n"],
                               strict=True))))
    for section, us in diag.unit_sets.items():
        out.append((f"{t('diagnose.cli.units', lang)} · {t(f'diagnose.section.{section}', lang)}",
                    us.text(lang)))
    prov = diag.provenance
    if prov.get("user_data"):
        text = t("diagnose.page.prov.user", lang, n=len(prov.get("imports", [])))
        text += "".join(f"\n  {i['file']} ({str(i.get('sha256') or '—')[:12]}…)"
                        for i in prov.get("imports", []))
    else:
        text = t("diagnose.page.prov.embedded", lang, dataset=prov.get("dataset") or "—")
    out.append((t("diagnose.cli.provenance", lang), text))
    return out
