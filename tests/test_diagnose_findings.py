"""``cocity diagnose`` findings an analyst can believe (issue #10): the partly-in-circle units
by their in-circle part, a homogeneous-competition list that discriminates, units of measure
on every figure, the units each section covers, the provenance from the store, independent
random streams from one seed, and a command module that stays light."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import cocity.cli.diagnose
from cocity.cli import app
from cocity.data.importers import import_observations
from cocity.data.store import Store
from cocity.datasets import open_store
from cocity.i18n import t
from cocity.metrics import inequality as ineq
from cocity.metrics import network as net
from cocity.metrics import spatial, weights
from cocity.metrics.diagnose import Diagnostics, load_spec, run_diagnostics
from cocity.metrics.streams import SECTIONS, Streams, stream
from cocity.outputs import sha256_file
from cocity.report.diagnose_report import write_diagnose_outputs
from tests.test_diagnose import URBAN_2010, URBAN_2020, grid_spec, grid_store

runner = CliRunner()
CQ, CD = "500100", "510100"


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setenv("COCITY_LANG", "zh")


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> tuple[Diagnostics, dict[str, Path],
                                                                str]:
    store = open_store()
    try:
        diag = run_diagnostics(store, load_spec())
    finally:
        store.close()
    paths = write_diagnose_outputs(diag, tmp_path_factory.mktemp("findings"))
    return diag, paths, paths["html"].read_text(encoding="utf-8")


def visible_text(page: str, lang: str = "zh") -> str:
    """The page's text in one language, without scripts, styles and tags."""
    other = "en" if lang == "zh" else "zh"
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    body = re.sub(rf'<span data-l="{other}"[^>]*>.*?</span>', " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", body.replace("&amp;", "&"))


def members(store: Store, parent: str) -> pd.Series:
    """Population 2020 of the member counties (full or partial) of ``parent``."""
    units = store.units().set_index("code")
    codes = units.index[(units["parent"] == parent)
                        & units["membership"].isin(["full", "partial"])]
    pop = store.panel(["pop_total"], years=[2020], level="county").xs(2020, level="year")
    return pop["pop_total"].reindex(codes)


# ---------------------------------------------------------------------- 1. partial units
def test_chongqing_enters_by_its_in_circle_part_and_is_a_core(
        default: tuple[Diagnostics, dict[str, Path], str]) -> None:
    diag, _paths, page = default
    store = open_store()
    pop = members(store, CQ)
    units = store.units().set_index("code")
    assert len(pop) == 29 and pop.notna().all()   # 27 districts in full + 开州, 云阳
    whole = store.panel(["pop_total", "gdp"], years=[2019, 2020], level="prefecture")
    whole_pop = float(whole.loc[(CQ, 2020), "pop_total"])
    whole_gdp = float(whole.loc[(CQ, 2019), "gdp"])
    assert pop.sum() == 27_880_799 and whole_pop == 32_054_159
    nw, st, pl = diag.network, diag.structure, diag.polycentricity
    assert nw is not None and st is not None and pl is not None
    # residents in 万人, summed over the member counties; GDP (no county data) scaled by the
    # in-circle share of residents
    assert nw.population[CQ] == pytest.approx(pop.sum() / 1e4, rel=1e-12)
    assert nw.gdp[CQ] == pytest.approx(whole_gdp * pop.sum() / whole_pop, rel=1e-12)
    assert pl.sizes[CQ] == pop.sum()
    # the point: the population-weighted centre of the member counties with a point
    pts = units.loc[pop.index, ["lon", "lat"]].dropna()
    w = pop[pts.index]
    assert nw.points.at[CQ, "lon"] == pytest.approx(float((pts["lon"] * w).sum() / w.sum()))
    assert nw.points.at[CQ, "lat"] == pytest.approx(float((pts["lat"] * w).sum() / w.sum()))
    old = net.great_circle_km(units.loc[[CQ, CD], ["lon", "lat"]]).to_numpy()[0, 1]
    assert old > 380 and nw.distance.at[CQ, CD] < 300   # centre of the municipality vs part
    # the employment structure of the in-circle part: residents-weighted county shares
    county = store.panel(["emp_share_manufacturing"], years=[2020], level="county") \
        .xs(2020, level="year")["emp_share_manufacturing"].reindex(pop.index)
    assert st.shares.at[CQ, "emp_share_manufacturing"] == pytest.approx(
        float((county * pop).sum() / pop.sum()), rel=1e-12)
    store.close()
    # a twin-core circle: both cores of the plan are in the network's core
    assert {CQ, CD} <= set(nw.core) and nw.core_method == "binary"
    assert not any(n.key.startswith("diagnose.note.core_outside") for n in diag.notes)
    keys = {n.key for n in diag.notes if n.section == "network"}
    assert {"diagnose.note.points_in_circle", "diagnose.note.partial_gdp_share"} <= keys
    text = visible_text(page)
    assert "重庆市 87.0%" in text and "重庆市 103 km" in text


@pytest.mark.parametrize(("partial", "points"), [("whole", "unit"), ("in_circle", "in_circle")])
def test_a_core_city_outside_the_core_is_explained(english: None, partial: str,
                                                   points: str) -> None:
    spec = load_spec({"sections": ["network"], "partial_units": partial,
                      "network": {"points": points, "core_periphery": "weighted"}})
    store = open_store()
    diag = run_diagnostics(store, spec)
    store.close()
    nw = diag.network
    assert nw is not None and CQ not in nw.core and CD in nw.core
    notes = [n for n in diag.notes if n.key == "diagnose.note.core_outside_weighted"]
    assert len(notes) == 1
    text = notes[0].text("en")
    top = nw.edges.iloc[0]
    assert text.startswith("Chongqing, a core city of the plan, is not in the network's core")
    assert f"Chengdu–Deyang at {top['weight']:,.0f} 10⁴ persons·100 million yuan/km²" in text
    if partial == "whole":   # the whole municipality: its own figures
        assert nw.population[CQ] == pytest.approx(3205.4159)
        assert not any(n.key == "diagnose.note.partial_gdp_share" for n in diag.notes)


def test_partial_counties_are_whole_counties_and_say_so(
        default: tuple[Diagnostics, dict[str, Path], str]) -> None:
    diag, _paths, _page = default
    us = diag.unit_sets["inequality"]
    assert (us.used, us.scope, us.full, us.n_partial, us.total) == (144, 144, 142, 2, 158)
    assert us.treatment == "whole_county"
    assert "开州区、云阳县 只有部分在圈内，但县级数据为整县" in us.text("zh")
    assert "Kaizhou District, Yunyang County lie only partly in the circle" in us.text("en")


# ---------------------------------------------------------------------- 2. homogeneous competition
def test_homogeneous_competition_flags_a_small_explained_set(
        default: tuple[Diagnostics, dict[str, Path], str]) -> None:
    diag, paths, page = default
    st = diag.structure
    assert st is not None and st.homogeneity.method == "baseline"
    assert st.homogeneity.n_pairs == 120 and len(st.warnings) == 12
    assert st.excluded == ("emp_share_agriculture",)
    assert (st.warnings["excess"] > st.homogeneity.cutoff).all()
    assert all(st.warnings["shared"].str.len() > 0)      # each pair with its explanation
    csv = pd.read_csv(paths["csv:homogeneous_competition"])
    assert len(csv) == 12 and {"excess", "shared"} <= set(csv.columns)
    text = visible_text(page)
    assert "判定规则：两城市结构相似系数 S_ij 超出" in text and "共 12 对" in text
    assert "比较时不计农林牧渔业" in text
    # the old rule, kept for comparison, says nothing: 98 of 120 pairs (whole units, farming in)
    store = open_store()
    old = run_diagnostics(store, load_spec({
        "sections": ["structure"], "partial_units": "whole",
        "structure": {"homogeneous": {"method": "absolute", "exclude_sectors": []}}}))
    store.close()
    assert old.structure is not None and len(old.structure.warnings) == 98


# ---------------------------------------------------------------------- 3. units of measure
def test_every_figure_carries_its_unit_and_no_exponent(
        default: tuple[Diagnostics, dict[str, Path], str]) -> None:
    diag, paths, page = default
    nw = diag.network
    assert nw is not None
    assert nw.unit == {"zh": "万人·亿元/km²", "en": "10⁴ persons·100 million yuan/km²"}
    # R = k √(P G) √(P G) / D²: recomputed by hand for the strongest link, in 万人·亿元/km²
    top = nw.edges.iloc[0]
    a, b = str(top["a"]), str(top["b"])
    mass = np.sqrt(nw.population * nw.gdp)
    d = nw.distance.at[a, b]
    assert top["weight"] == pytest.approx(float(mass[a] * mass[b] / d ** 2), rel=1e-12)
    text = visible_text(page)
    sci = r"\b\d(?:\.\d+)?e[+-]\d{2}\b"   # 1.281e+07
    assert not re.search(sci, text), re.findall(sci, text)
    assert "联系强度 ( 万人·亿元/km² )" in text or "联系强度 (万人·亿元/km²)" in text
    assert f"{top['weight']:,.0f}" in text                  # 1,357, not 1.357e+03
    assert "R 的单位为 万人·亿元/km²" in text
    cols = pd.read_csv(paths["csv:columns"])
    row = cols[(cols["table"] == "linkage_units") & (cols["column"] == "total_linkage")]
    assert row["unit_zh"].tolist() == ["万人·亿元/km²"]
    values = pd.read_csv(paths["csv:values"])
    assert set(values.loc[values["indicator"] == "floor_area_pc", "unit_zh"]) == {"平方米/人"}


# ---------------------------------------------------------------------- 6. provenance
def test_the_page_states_the_provenance_from_the_store(
        default: tuple[Diagnostics, dict[str, Path], str], tmp_path: Path) -> None:
    _diag, _paths, page = default
    assert t("diagnose.page.prov.embedded", "zh", dataset="chengyu") in visible_text(page)
    store = grid_store({2010: URBAN_2010, 2020: URBAN_2020})
    csv = tmp_path / "urban_2021.csv"
    codes = store.units(level="county")["code"]
    csv.write_text("code,year,indicator,value\n" + "".join(
        f"{c},2021,urban_share,{50 + i}\n" for i, c in enumerate(codes)), encoding="utf-8")
    import_observations(store, csv)
    diag = run_diagnostics(store, load_spec(grid_spec(sections=["inequality"])))
    assert diag.provenance["user_data"] is True
    imports = diag.provenance["imports"]
    entry = next(e for e in imports if e["file"].endswith("urban_2021.csv"))
    assert entry["sha256"] == sha256_file(csv) and entry["added"] == 9
    paths = write_diagnose_outputs(diag, tmp_path / "out")
    text = visible_text(paths["html"].read_text(encoding="utf-8"))
    assert f"含用户导入的数据：{len(imports)} 次导入" in text and sha256_file(csv) in text
    assert "的真实数据，未经用户导入改动" not in text
    manifest = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    assert sha256_file(csv) in {e["sha256"] for e in manifest["provenance"]["imports"]}


# ---------------------------------------------------------------------- 7. unit sets
def test_each_section_says_which_units_it_covers(
        default: tuple[Diagnostics, dict[str, Path], str]) -> None:
    diag, paths, page = default
    text = visible_text(page)
    assert ("144 个县级单元（所选范围 144 个：全域在圈内 142 个、部分在圈内 2 个；"
            "数据中该级共 158 个）") in text
    assert "142 个县级单元（所选范围 144 个" in text          # spatial: two without boundary
    assert "136 个县级单元（所选范围 144 个" in text          # convergence: balanced panel
    assert ("16 个地级单元（所选范围 16 个：全域在圈内 12 个、部分在圈内 4 个；"
            "数据中该级共 16 个）。部分在圈内的 重庆市、绵阳市、达州市、雅安市 按其圈内部分计"
            ) in text
    table = pd.read_csv(paths["csv:unit_sets"]).set_index("section")
    assert table.loc["spatial", "used"] == 142 and table.loc["network", "partial"] == 4
    assert set(table.index) == set(diag.spec.sections)


def test_the_command_prints_units_sets_and_provenance(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("sections: [inequality, network]\ninequality: {permutations: 9}\n",
                    encoding="utf-8")
    result = runner.invoke(app, ["diagnose", "--spec", str(spec), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = re.sub(r"\s+", " ", result.output)
    assert "144 个县级单元" in out and "16 个地级单元" in out
    assert "内置数据集 chengyu 的真实数据" in out
    assert "万人·亿元/km²" in out and not re.search(r"\de[+-]\d", out)


# ---------------------------------------------------------------------- 8. random streams
def twin_store() -> Store:
    """The grid with a second indicator holding exactly the values of the first."""
    store = grid_store({2010: URBAN_2010, 2020: URBAN_2020})
    store.add_indicators(pd.DataFrame([("urban_twin", "城镇化率副本", "Urban share twin", "%", "%",
                                        1, "share_pct")],
                                      columns=["id", "name_zh", "name_en", "unit_zh",
                                               "unit_en", "direction", "value_kind"]))
    obs = store.observations(["urban_share"], [2010, 2020], "county").assign(
        indicator="urban_twin")
    obs["source"], obs["imputed"], obs["simulated"] = "test", False, False
    store.add_observations(obs[["unit", "year", "indicator", "value", "source", "imputed",
                                "simulated"]])
    return store


def test_random_streams_are_independent_and_reproducible() -> None:
    spec = load_spec(grid_spec(indicators=["urban_share", "urban_twin"], years=[2020],
                               sections=["inequality", "spatial"]))
    a = run_diagnostics(twin_store(), spec)
    b = run_diagnostics(twin_store(), spec)
    assert a.spatial is not None and b.spatial is not None and a.inequality is not None
    # reproducible for a seed
    pd.testing.assert_frame_equal(a.spatial.lisa, b.spatial.lisa)
    pd.testing.assert_frame_equal(a.inequality.summary, b.inequality.summary)
    # the same data under two indicators: the same statistics, different random draws
    lisa = a.spatial.lisa.set_index(["indicator", "unit"])
    np.testing.assert_array_equal(lisa.loc["urban_share", "I"], lisa.loc["urban_twin", "I"])
    assert not np.array_equal(lisa.loc["urban_share", "p_sim"], lisa.loc["urban_twin", "p_sim"])
    # each draw is the documented stream: task k = i·Y + y, streams 2k and 2k + 1
    store = twin_store()
    w = weights.queen(store.geodata("county"))
    y = store.panel(["urban_share"], years=[2020], level="county").xs(
        2020, level="year")["urban_share"]
    for i, ind in enumerate(("urban_share", "urban_twin")):
        m = spatial.moran(y[list(w.ids)], w, permutations=99,
                          seed=stream(spec.seed, "spatial", 2 * i))
        row = a.spatial.moran.set_index("indicator").loc[ind]
        assert row["p_sim"] == pytest.approx(m.p_sim)
    groups = pd.Series([i // 3 for i in range(9)], index=y.index)
    pop = store.panel(["pop_total"], years=[2020], level="county").xs(
        2020, level="year")["pop_total"]
    th = ineq.theil_decomposition(y, groups, pop, permutations=99,
                                  seed=stream(spec.seed, "inequality", 2))
    assert a.inequality.summary.set_index("indicator").at["urban_twin", "theil_p_value"] \
        == pytest.approx(th.p_value)
    # a section's streams do not depend on which other sections run
    alone = run_diagnostics(twin_store(), load_spec(grid_spec(
        indicators=["urban_share", "urban_twin"], years=[2020], sections=["spatial"])))
    assert alone.spatial is not None
    pd.testing.assert_frame_equal(alone.spatial.moran, a.spatial.moran)
    # and another seed draws otherwise
    other = run_diagnostics(twin_store(), load_spec(grid_spec(
        indicators=["urban_share", "urban_twin"], years=[2020], sections=["spatial"],
        seed=1)))
    assert other.spatial is not None
    assert not np.array_equal(other.spatial.lisa["p_sim"], a.spatial.lisa["p_sim"])


def test_streams_follow_the_seed_sequence_tree() -> None:
    gens = Streams(7).generators("network", 3)
    root = np.random.SeedSequence(7).spawn(len(SECTIONS))[SECTIONS.index("network")]
    expected = [np.random.default_rng(s).random(4) for s in root.spawn(3)]
    for g, e in zip(gens, expected, strict=True):
        np.testing.assert_array_equal(g.random(4), e)
    np.testing.assert_array_equal(stream(7, "network", 2).random(4), expected[2])


# ---------------------------------------------------------------------- 4. a light command
LIGHT = {"typer", "rich", "cocity.i18n", "cocity.cli", "cocity.data.errors"}


def test_the_command_module_imports_only_light_modules_at_module_level() -> None:
    source = Path(cocity.cli.diagnose.__file__).read_text(encoding="utf-8")
    heavy = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            light = (top in {"enum", "pathlib", "typing"} or top in {"typer", "rich"}
                     or any(name == m or name.startswith(m + ".") for m in LIGHT))
            if not light:
                heavy.append(name)
    assert heavy == []


def test_the_workbook_heads_quantities_with_their_units(
        default: tuple[Diagnostics, dict[str, Path], str]) -> None:
    import openpyxl

    _diag, paths, _page = default
    book = openpyxl.load_workbook(paths["xlsx"], read_only=True)
    ws = book["linkage_units"]
    header = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]
    assert "total_linkage（万人·亿元/km²）" in header and "population（万人）" in header
    assert "gdp（亿元）" in header and "unit_name_zh" in header
    second = next(ws.iter_rows(min_row=2, max_row=2))
    cell = second[header.index("total_linkage（万人·亿元/km²）")]
    assert cell.number_format == "#,##0.0" and float(cell.value) > 1000
    shares = book["shares"]
    assert "emp_share_manufacturing（%）" in [c.value for c in next(shares.iter_rows(
        min_row=1, max_row=1))]
    book.close()
