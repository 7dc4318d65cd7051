"""Clusters side by side (cocity.clusters.compare, cocity clusters compare): hand-checkable
facts against the national base, the Theil decomposition recomputed independently, every gap
explained, the report files and the command's refusals.

User clusters only (京津冀's 13 cities, the 9 Guangdong cities of the Greater Bay Area), so
that the tests do not depend on the shipped definitions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cocity.cli.clusters_compare  # noqa: F401  (registers `cocity clusters compare`)
from cocity.cli import app
from cocity.clusters.compare import Comparison, compare_clusters
from cocity.clusters.definition import user_cluster
from cocity.clusters.errors import ClusterError
from cocity.datasets import read_observations, read_units
from cocity.i18n import use_lang
from cocity.outputs import verify_outputs
from cocity.report.cluster_compare import write_compare_outputs
from tests.chromium import assert_clean_console, figure, marks, require_chromium, run_chromium

JJJ = ["北京", "天津", "石家庄", "唐山", "秦皇岛", "邯郸", "邢台", "保定", "张家口", "承德",
       "沧州", "廊坊", "衡水"]
GBA = ["广州", "深圳", "珠海", "佛山", "惠州", "东莞", "中山", "江门", "肇庆"]
# Few permutations keep the run short; hh_elevator_share was not asked in the 2010 census,
# so it must be dropped for every cluster (the σ/β years include 2010).
SPEC = {"indicators": ["urban_share", "hh_elevator_share", "schooling_years"],
        "inequality": {"permutations": 99}, "spatial": {"permutations": 99}}
runner = CliRunner()


@pytest.fixture(scope="module")
def cmp() -> Comparison:
    return compare_clusters([user_cluster(JJJ, key="jjj", name_zh="京津冀"),
                             user_cluster(GBA, key="gba", name_zh="大湾区广东九市")],
                            spec=SPEC)


@pytest.fixture(scope="module")
def base() -> tuple[pd.DataFrame, pd.DataFrame]:
    units = read_units("china")
    obs = read_observations("china")
    return units, obs.assign(unit=obs["unit"].astype(str))


def _codes(units: pd.DataFrame, names: list[str]) -> list[str]:
    pref = units[units["level"] == "prefecture"]
    return [str(pref.loc[pref["name_zh"].str.rstrip("市") == n, "code"].item()) for n in names]


def _value(obs: pd.DataFrame, indicator: str, year: int) -> pd.Series:
    sel = obs[(obs["indicator"] == indicator) & (obs["year"] == year)]
    return sel.set_index("unit")["value"].astype(float)


def test_one_column_per_cluster_and_the_same_rows(cmp: Comparison) -> None:
    assert list(cmp.table.columns) == ["jjj", "gba"]
    assert cmp.table.index.names == ["figure", "indicator"]
    assert not cmp.table.index.duplicated().any()
    assert cmp.indicators == ("urban_share", "schooling_years")


@pytest.mark.parametrize(("key", "names"), [("jjj", JJJ), ("gba", GBA)])
def test_population_and_units_match_the_national_base(cmp: Comparison, base, key, names
                                                      ) -> None:
    units, obs = base
    codes = _codes(units, names)
    pop = _value(obs, "pop_total", 2020)
    assert cmp.value("population", key) == pytest.approx(float(pop[codes].sum()), abs=0.5)
    assert cmp.value("prefectures", key) == len(names)
    counties = units[(units["level"] == "county") & units["parent"].isin(codes)]
    assert cmp.value("counties", key) == len(counties)


def test_population_of_a_partial_member_is_its_member_counties(tmp_path: Path, base) -> None:
    """Beijing whole and 保定 by two of its counties (涿州市, 定兴县): the cluster's residents are
    Beijing's total plus those two counties', and 保定 is not counted whole."""
    from cocity.clusters.build import cluster_data
    from cocity.clusters.compare_cells import member_population
    from cocity.clusters.definition import load_cluster

    path = tmp_path / "capital_part.yaml"
    path.write_text("name_zh: 测试\nname_en: Test\nkind: city_cluster\nmembers:\n  - 北京\n"
                    "  - {unit: 保定, counties: [涿州市, 定兴县]}\n", encoding="utf-8")
    data = cluster_data(load_cluster(path))
    _, obs = base
    pop = _value(obs, "pop_total", 2020)
    got = member_population(data.units.assign(code=data.units["code"].astype(str)), pop)
    assert got.to_dict() == pytest.approx({"110100": pop["110100"],
                                           "130600": pop["130681"] + pop["130626"]})
    assert got["130600"] < pop["130600"]


def test_jingjinji_is_three_provinces(cmp: Comparison, base) -> None:
    """The 13 cities are Beijing, Tianjin and all 11 prefectures of Hebei: the cluster's
    residents equal the three provincial totals of the census (Hebei 74,610,235)."""
    _, obs = base
    pop = _value(obs, "pop_total", 2020)
    assert pop["130000"] == 74_610_235
    assert cmp.value("population", "jjj") == pytest.approx(
        pop["110000"] + pop["120000"] + pop["130000"], abs=0.5)


@pytest.mark.parametrize(("key", "names"), [("jjj", JJJ), ("gba", GBA)])
def test_theil_recomputed_by_hand(cmp: Comparison, base, key, names) -> None:
    """T = Σ sᵢ ln(sᵢ/pᵢ) and T_between = Σ_g s_g ln(s_g/p_g) by prefecture, from the raw
    county data, equal the table's Theil and its between part; within + between = total."""
    units, obs = base
    codes = _codes(units, names)
    counties = units[(units["level"] == "county") & units["parent"].isin(codes)]
    group = counties.set_index("code")["parent"]
    for ind in cmp.indicators:
        y = _value(obs, ind, 2020).reindex(group.index)
        p = _value(obs, "pop_total", 2020).reindex(group.index)
        ok = y.notna() & p.notna()
        y, p, g = y[ok], p[ok], group[ok]
        s = p * y / float((p * y).sum())
        q = p / float(p.sum())
        total = float((s * np.log(s / q)).sum())
        sg, qg = s.groupby(g).sum(), q.groupby(g).sum()
        between = float((sg * np.log(sg / qg)).sum())
        theil = cmp.value("theil", key, ind)
        assert theil == pytest.approx(total, rel=1e-9)
        assert theil * cmp.value("theil_between_share", key, ind) == pytest.approx(
            between, rel=1e-9)
        assert (cmp.value("theil_within_share", key, ind)
                + cmp.value("theil_between_share", key, ind)) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("key", "names"), [("jjj", JJJ), ("gba", GBA)])
def test_hospital_beds_weighted_by_residents(cmp: Comparison, base, key, names) -> None:
    units, obs = base
    codes = _codes(units, names)
    beds = _value(obs, "hospital_beds_per_1000", 2019).reindex(codes)
    pop = _value(obs, "pop_total", 2020).reindex(codes)
    have = beds.notna()
    assert cmp.value("beds_coverage", key) == int(have.sum())
    assert cmp.value("beds", key) == pytest.approx(
        float((beds[have] * pop[have]).sum() / pop[have].sum()), rel=1e-12)


def test_core_share_bounds_and_notes(cmp: Comparison, base) -> None:
    """The first member (Beijing / Guangzhou) is the core of a user cluster; its urban
    districts are 0 minutes away, so the share is at least their residents over all member
    residents (a lower bound: members off the network leave the denominator), at most 100 %."""
    from cocity.clusters.build import cluster_data

    units, obs = base
    pop = _value(obs, "pop_total", 2020)
    for key, names in (("jjj", JJJ), ("gba", GBA)):
        cores = cluster_data(user_cluster(names, key=key)).network["cores"]
        (core,) = cores.values()
        members = units[(units["level"] == "county") & units["parent"].isin(_codes(units, names))]
        floor = 100 * float(pop.reindex(core["counties"]).sum()) / float(
            pop.reindex(members["code"]).sum())
        share = cmp.value("core_share", key)
        assert floor > 5
        assert floor <= share < 100
        with use_lang("en"):
            assert ("Travel times are modelled road times only (no sourced rail times); "
                    "threshold 60 minutes") in cmp.notes_for(key, "core_share")


def test_every_gap_is_explained(cmp: Comparison) -> None:
    gaps = cmp.table.isna().stack()
    gaps = gaps[gaps]
    assert len(gaps) == 1  # S11 needs 11 cities; the Greater Bay Area list has 9
    (figure, _indicator, key), = gaps.index
    assert (figure, key) == ("primacy_s11", "gba")
    with use_lang("en"):
        assert cmp.notes_for("gba", "primacy_s11") == [
            "Needs at least 11 cities; this cluster has 9"]


def test_dropped_indicator_is_noted_for_all(cmp: Comparison) -> None:
    assert cmp.dropped == ("hh_elevator_share",)
    assert "hh_elevator_share" not in set(cmp.table.index.get_level_values("indicator"))
    note = cmp.notes[(cmp.notes["cluster"] == "") & (cmp.notes["indicator"]
                                                     == "hh_elevator_share")]
    assert len(note) == 1
    assert "jjj 2010" in note["text_en"].item() and "gba 2010" in note["text_en"].item()


def test_every_figure_is_defined(cmp: Comparison) -> None:
    figures = set(cmp.table.index.get_level_values("figure"))
    defs = cmp.definitions.set_index("figure")
    assert figures == set(defs.index)
    for col in ("name_zh", "name_en", "formula_zh", "formula_en", "source_zh", "source_en"):
        assert defs[col].str.strip().str.len().gt(0).all(), col


def test_a_refused_or_skipped_section_empties_only_its_own_cells() -> None:
    """One city has no division of labour and no rank–size line (the toolbox refuses), and
    its counties form one prefecture, so no between/within decomposition (it skips, with a
    note); three cities are too few for the linkage network (skipped). Those cells carry the
    reason in both languages; the other sections still fill theirs."""
    cmp = compare_clusters([user_cluster(["北京"], key="bj"),
                            user_cluster(["珠海", "中山", "江门"], key="pearl")],
                           spec={**SPEC, "indicators": ["urban_share"]})
    with use_lang("en"):
        assert cmp.notes_for("bj", "krugman_mean") == [
            "This diagnostics section cannot be computed: Division of labour: the employment "
            "matrix needs at least 2 unit(s) and 1 sector; got 1 unit(s) and 20 sector(s)"]
        assert cmp.notes_for("bj", "gini", "urban_share") == [
            "The diagnostics did not compute urban_share (2020): the units with data fall in "
            "fewer than two groups (see the cluster's notes)"]
        assert cmp.notes_for("pearl", "functional_poly") == [
            "The linkage network was not built: too few units with data (see the cluster's "
            "notes)"]
    with use_lang("zh"):
        (zh,) = cmp.notes_for("bj", "krugman_mean")
        assert zh.startswith("该诊断部分无法计算：")
    for key in ("bj", "pearl"):
        assert np.isfinite(cmp.value("moran_i", key, "urban_share"))
        assert np.isfinite(cmp.value("beta", key, "urban_share"))
    assert np.isnan(cmp.value("krugman_mean", "bj"))
    assert np.isnan(cmp.value("zipf_q", "bj"))
    assert np.isnan(cmp.value("functional_poly", "pearl"))
    assert np.isfinite(cmp.value("gini", "pearl", "urban_share"))
    # polycentricity without the network: the size-based figures remain
    assert cmp.value("primacy_s2", "pearl") > 1
    assert np.isfinite(cmp.value("zipf_q", "pearl"))
    assert np.isnan(cmp.value("primacy_s4", "pearl"))


def test_refusals() -> None:
    one = user_cluster(GBA, key="gba")
    with use_lang("en"), pytest.raises(ClusterError,
                                       match=r"needs at least two clusters \(1 given\)"):
        compare_clusters([one])
    with use_lang("en"), pytest.raises(ClusterError, match="given more than once: gba"):
        compare_clusters([one, user_cluster(JJJ, key="gba")])


def test_report_files(cmp: Comparison, tmp_path: Path) -> None:
    paths = write_compare_outputs(cmp, tmp_path / "out")
    doc = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    assert verify_outputs(doc, tmp_path / "out") == []
    assert doc["provenance"]["dataset"] == "china"
    assert set(doc["cluster_provenance"]) == {"jjj", "gba"}
    assert doc["dropped"] == ["hh_elevator_share"]
    wide = pd.read_csv(paths["csv:comparison"], dtype={"indicator": str})
    assert list(wide.columns[-2:]) == ["jjj", "gba"]
    html = paths["html"].read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    markup = re.sub(r"<script>.*?</script>", "", html, flags=re.S)  # plotly.js inline
    assert "plotly" in html and len(markup) < len(html) / 3
    assert not re.search(r"""(src|href)=["']https?:""", markup)
    assert html.count('data-testid="cluster-col"') == 2
    for chart in ("theil", "sigma", "services"):
        assert f'data-testid="chart-{chart}"' in html
    assert "需要至少 11 个城市" in html and "Needs at least 11 cities" in html
    sheets = pd.read_excel(paths["xlsx"], sheet_name=None)
    assert {"comparison", "definitions", "notes"} <= set(sheets)


def test_cli_writes_and_refuses(tmp_path: Path) -> None:
    small_a = tmp_path / "pearl.txt"
    small_a.write_text("珠海\n中山\n江门\n", encoding="utf-8")
    small_b = tmp_path / "capital.txt"
    small_b.write_text("北京\n天津\n廊坊\n", encoding="utf-8")
    spec = tmp_path / "fast.yaml"
    spec.write_text(json.dumps(SPEC), encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["--lang", "en", "clusters", "compare", f"@{small_a}",
                              f"@{small_b}", "--out", str(out), "--spec", str(spec)])
    assert res.exit_code == 0, res.output
    assert "pearl" in res.output and "capital" in res.output
    assert "Resident population" in res.output
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert verify_outputs(doc, out) == []
    assert (out / "cluster_compare.html").is_file() and (out / "cluster_compare.xlsx").is_file()

    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    for args, message in (([f"@{small_a}"], "at least two clusters"),
                          ([f"@{small_a}", "no_such_cluster"], "No cluster definition called"),
                          ([f"@{small_a}", f"@{empty}"], "The list of units is empty")):
        target = tmp_path / "refused"
        res = runner.invoke(app, ["--lang", "en", "clusters", "compare", *args,
                                  "--out", str(target)])
        assert res.exit_code == 2, res.output
        assert message in res.output
        assert not target.exists()


def test_page_draws_its_charts_offline(cmp: Comparison, tmp_path: Path) -> None:
    """Headless Chromium: the three charts draw (bars per cluster), nothing is refused by the
    Content-Security-Policy, no console error."""
    require_chromium()
    paths = write_compare_outputs(cmp, tmp_path / "out")
    dom, console = run_chromium(paths["html"], tmp_path, "--dump-dom")
    assert_clean_console(console)
    theil = figure(dom, "fig-theil")
    # 2 clusters × (within, between) traces × 2 indicators
    assert marks(theil, "point") == 8
    assert marks(figure(dom, "fig-sigma"), "point") == 8   # 2 clusters × 2 years × 2
    assert marks(figure(dom, "fig-services"), "point") == 10  # 2 clusters × 5 figures
