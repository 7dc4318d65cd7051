"""``cocity diagnose``: the figures of the report are those of the metrics functions, every
result is written, and bad input gets a clear error or a documented result (never NaN)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

import cocity.cli.diagnose  # noqa: F401  (registers `cocity diagnose`)
from cocity.cli import app
from cocity.data.store import Store
from cocity.datasets import open_store
from cocity.i18n import t
from cocity.metrics import convergence as conv
from cocity.metrics import inequality as ineq
from cocity.metrics import people_circle as pc
from cocity.metrics import spatial, weights
from cocity.metrics.diagnose import (
    SECTIONS,
    DiagnoseError,
    Diagnostics,
    load_spec,
    result_tables,
    run_diagnostics,
)
from cocity.metrics.errors import MetricInputError
from cocity.metrics.streams import stream
from cocity.outputs import verify_outputs
from cocity.report.diagnose_report import (
    HTML_NAME,
    MANIFEST_NAME,
    XLSX_NAME,
    write_diagnose_outputs,
)
from cocity.spec import SpecError
from tests.test_index_cli import assert_self_contained

runner = CliRunner()
MEMBERS = ["full", "partial"]


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setenv("COCITY_LANG", "zh")  # restored after `--lang en` changed it


# ---------------------------------------------------------------------- the default dataset
@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[Diagnostics, dict[str, Path], str]:
    store = open_store()
    try:
        diag = run_diagnostics(store, load_spec())
    finally:
        store.close()
    paths = write_diagnose_outputs(diag, tmp_path_factory.mktemp("diagnose"))
    return diag, paths, paths["html"].read_text(encoding="utf-8")


def _province(units: pd.DataFrame, code: str) -> str:
    while units.at[code, "level"] != "province":
        code = str(units.at[code, "parent"])
    return code


def test_headline_figures_match_the_metrics_functions(
        default_run: tuple[Diagnostics, dict[str, Path], str]) -> None:
    _diag, paths, page = default_run
    store = open_store()
    units = store.units().set_index("code", drop=False)
    scope = store.units(level="county", membership=MEMBERS)["code"]
    data = store.panel(["urban_share", "pop_total"], years=[2020], level="county") \
        .xs(2020, level="year")
    data = data[data.index.isin(scope)].dropna()
    y, p = data["urban_share"], data["pop_total"]
    groups = pd.Series([_province(units, c) for c in data.index], index=data.index)
    gini = ineq.gini(y, p)
    theil = ineq.theil_decomposition(y, groups, p, index="T")
    dagum = ineq.dagum_decomposition(y, groups, p)
    gdf = store.geodata("county")
    gdf = gdf[gdf["code"].isin(data.index) & gdf.geometry.notna()]
    w = weights.queen(gdf, islands="nearest")
    # urban_share is the first indicator and 2020 the first year: task 0, Moran's I draws
    # from stream 0 of the spatial section
    moran = spatial.moran(y.reindex(list(w.ids)), w, permutations=999,
                          seed=stream(0, "spatial", 0))
    pc_spec = pc.default_spec()
    coupling = pc.people_circle(pc.people_circle_panel(store, pc_spec), pc_spec)
    store.close()

    inequality = pd.read_csv(paths["csv:inequality"])
    row = inequality[(inequality["indicator"] == "urban_share")
                     & (inequality["year"] == 2020)].iloc[0]
    assert row["n"] == len(y) == 144
    assert row["gini"] == pytest.approx(gini, rel=1e-12)
    assert row["theil_between_share"] == pytest.approx(theil.between_share, rel=1e-12)
    assert row["dagum_net_between"] == pytest.approx(dagum.net_between, rel=1e-12)
    assert row["dagum_within"] + row["dagum_net_between"] + row["dagum_transvariation"] \
        == pytest.approx(gini, rel=1e-12)
    table = page[page.index('data-testid="inequality-table"'):]
    assert f"<b>{gini:.4f}</b>" in table
    assert f"{100 * theil.between_share:.2f}%" in table

    moran_csv = pd.read_csv(paths["csv:moran"])
    m = moran_csv[(moran_csv["indicator"] == "urban_share") & (moran_csv["year"] == 2020)]
    assert m["n"].iloc[0] == w.n == 142  # two statistical zones have no boundary
    assert m["I"].iloc[0] == pytest.approx(moran.value, rel=1e-12)
    assert m["p_sim"].iloc[0] == pytest.approx(moran.p_sim)
    assert f"<b>{moran.value:.4f}</b>" in page[page.index('data-testid="moran-table"'):]

    table_d = pd.read_csv(paths["csv:coupling"], dtype={"unit": str}) \
        .set_index(["unit", "year"])["D"]
    expected_d = coupling["D"].rename(index=str, level="unit")
    pd.testing.assert_series_equal(table_d.sort_index(), expected_d.sort_index(),
                                   check_names=False, check_index_type=False, rtol=1e-12)
    # One unit's D from its two subsystem scores by the coupling formula itself.
    best = coupling.xs(2020, level="year")["D"].idxmax()
    u1, u2 = coupling.loc[(best, 2020), ["U_circle", "U_people"]]
    d = np.sqrt(2 * np.sqrt(u1 * u2) / (u1 + u2) * (u1 + u2) / 2)
    assert table_d[(str(best), 2020)] == pytest.approx(d, rel=1e-12)
    assert f"<b>{d:.4f}</b>" in page[page.index('data-testid="coupling-units"'):]
    mean_2020 = float(coupling.xs(2020, level="year")["D"].mean())
    assert f"<b>{mean_2020:.4f}</b>" in page[page.index('data-testid="coupling-summary"'):]


def test_other_sections_on_the_default_dataset(
        default_run: tuple[Diagnostics, dict[str, Path], str]) -> None:
    diag, _paths, _page = default_run
    assert diag.structure is not None and diag.network is not None
    assert diag.polycentricity is not None and diag.convergence is not None
    # 16 prefecture-level units; the sparse international-organisations sector is dropped,
    # with a note saying so.
    assert len(diag.structure.lq) == 16 and "emp_share_international" not in diag.structure.lq
    assert any(n.key == "diagnose.note.sector_dropped" for n in diag.notes)
    assert set(diag.structure.roles.loc[["510100", "500100"], "tier"]) == {"core"}
    assert len(diag.network.units) == 16 and diag.network.summary["connected"]
    assert diag.network.edges["weight"].is_monotonic_decreasing
    assert diag.polycentricity.primacy["s2"] == pytest.approx(
        diag.polycentricity.sizes.iloc[0] / diag.polycentricity.sizes.iloc[1])
    # Only two census years: the report says so and runs no trend test.
    assert diag.convergence.years == (2010, 2020) and diag.convergence.sigma_trend.empty
    assert any(n.key == "diagnose.note.two_years" for n in diag.notes)
    beta = diag.convergence.beta.set_index("indicator")
    assert (beta["n"] == 136).all() and (beta["beta"] < 0).all()
    # Qianjiang has no neighbour among the circle's counties: linked, and the report says so.
    joined = [n for n in diag.notes if n.key == "diagnose.note.islands_joined"]
    assert joined and "500114" in joined[0].text("en")


def test_every_result_is_written_without_silent_nan(
        default_run: tuple[Diagnostics, dict[str, Path], str]) -> None:
    diag, paths, page = default_run
    tables = result_tables(diag)
    for name, frame in tables.items():
        numeric = frame.select_dtypes("number")
        assert not numeric.isna().to_numpy().any(), name
        csv = paths[f"csv:{name}"]
        assert csv.parent.name == "tables" and len(pd.read_csv(csv)) == len(frame), name
    assert {"inequality", "theil_groups", "dagum_pairs", "sigma", "beta", "location_quotients",
            "similarity", "homogeneous_competition", "roles", "linkage_units",
            "linkage_edges", "polycentricity", "moran", "lisa", "coupling",
            "notes"} <= set(tables)
    sheets = pd.read_excel(paths["xlsx"], sheet_name=None)
    assert set(sheets) == set(tables)
    assert paths["xlsx"].name == XLSX_NAME and paths["html"].name == HTML_NAME
    manifest = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    assert manifest["kind"] == "diagnose" and manifest["format"] == 2
    assert manifest["spec_sha256"] == diag.spec.sha256
    assert manifest["provenance"]["dataset"] == "chengyu"
    assert manifest["provenance"]["user_data"] is False
    assert manifest["config"]["network"]["points"] == "in_circle"
    assert manifest["headline"]["gini"]["urban_share"] == pytest.approx(
        diag.inequality.summary.iloc[0]["gini"])  # type: ignore[union-attr]
    assert HTML_NAME in {o["file"] for o in manifest["outputs"].values()}
    assert "tables/inequality.csv" in {o["file"] for o in manifest["outputs"].values()}
    assert verify_outputs(manifest, paths["manifest"].parent) == []
    assert paths["manifest"].name == MANIFEST_NAME
    assert_self_contained(page)
    assert page.count('class="map"') >= 2 * len(diag.spec.indicators) + 3


# ---------------------------------------------------------------------- a small grid
CODES = [["511002", "511011", "511024"],      # Neijiang (row 0)
         ["511102", "511111", "511112"],      # Leshan (row 1)
         ["511502", "511503", "511504"]]      # Yibin (row 2)
PREFS = ["511000", "511100", "511500"]


def grid_store(urban: dict[int, list[float]], *, parents: list[str] | None = None,
               far: str | None = None, missing: tuple[str, int] | None = None) -> Store:
    """Nine counties on a 3 × 3 grid of touching squares in three prefectures; ``urban``
    holds each year's nine urban shares (row by row), ``far`` moves one county away (an
    island), ``missing`` leaves one (county, year) value out."""
    flat = [c for row in CODES for c in row]
    parents = parents or [PREFS[i // 3] for i in range(9)]
    rows = [("510000", "四川省", "Sichuan Province", "province", None, "province", None, None,
             None, 104.0, 30.0)]
    rows += [(p, f"地级{i}", f"Prefecture {i}", "prefecture", "510000", "prefecture_city",
              "full", "node", None, 104.0 + i, 30.0) for i, p in enumerate(PREFS)]
    rows += [(c, f"县{i}", f"County {i}", "county", parents[i], "county", "full", "node",
              "chengdu" if i < 3 else None, 104.0 + i % 3, 29.0 + i // 3)
             for i, c in enumerate(flat)]
    cols = ["code", "name_zh", "name_en", "level", "parent", "kind", "membership", "tier",
            "metro", "lon", "lat"]
    catalog = pd.DataFrame([
        ("pop_total", "常住人口", "Resident population", "人", "persons", 1, "count"),
        ("urban_share", "城镇化率", "Urban share", "%", "%", 1, "share_pct"),
    ], columns=["id", "name_zh", "name_en", "unit_zh", "unit_en", "direction", "value_kind"])
    obs = []
    for year, values in urban.items():
        for i, c in enumerate(flat):
            obs.append((c, year, "pop_total", 1000.0 * (i + 1)))
            if missing != (c, year):
                obs.append((c, year, "urban_share", values[i]))
    frame = pd.DataFrame(obs, columns=["unit", "year", "indicator", "value"])
    frame["source"], frame["imputed"], frame["simulated"] = "test", False, False
    boxes = []
    for i, c in enumerate(flat):
        x, y = (i % 3, i // 3) if c != far else (10, 10)
        boxes.append(shapely.box(104 + x, 29 + y, 105 + x, 30 + y))
    store = Store.open(None)
    store.add_units(pd.DataFrame(rows, columns=cols))
    store.add_indicators(catalog)
    store.add_observations(frame)
    store.add_geometries(gpd.GeoDataFrame({"code": flat}, geometry=boxes, crs="EPSG:4326"),
                         datum="WGS-84")
    return store


URBAN_2010 = [20.0, 30.0, 25.0, 40.0, 45.0, 50.0, 60.0, 65.0, 70.0]
URBAN_2020 = [35.0, 42.0, 38.0, 52.0, 55.0, 60.0, 68.0, 72.0, 75.0]


def grid_spec(**changes: object) -> dict[str, object]:
    spec: dict[str, object] = {
        "scope": {"membership": None}, "indicators": ["urban_share"], "years": [2020, 2010],
        "sections": ["inequality", "convergence", "spatial"],
        "inequality": {"group_by": "prefecture", "permutations": 99},
        "spatial": {"permutations": 99, "islands": "raise"},
    }
    spec.update(changes)
    return spec


def test_grid_run_equals_the_metrics_on_the_same_units() -> None:
    store = grid_store({2010: URBAN_2010, 2020: URBAN_2020})
    diag = run_diagnostics(store, load_spec(grid_spec()))
    y, p = pd.Series(URBAN_2020), pd.Series(1000.0 * np.arange(1, 10))
    groups = [i // 3 for i in range(9)]
    row = diag.inequality.summary.iloc[0]  # type: ignore[union-attr]
    assert row["gini"] == pytest.approx(ineq.gini(y, p), rel=1e-12)
    assert row["theil"] == pytest.approx(ineq.theil(y, p), rel=1e-12)
    assert row["theil_between_share"] == pytest.approx(
        ineq.theil_decomposition(y, groups, p).between_share, rel=1e-12)
    assert row["williamson_cv"] == pytest.approx(ineq.williamson_cv(y, p), rel=1e-12)
    panel = pd.DataFrame({2010: URBAN_2010, 2020: URBAN_2020})
    beta = conv.beta_convergence(panel)
    b = diag.convergence.beta.iloc[0]  # type: ignore[union-attr]
    assert b["beta"] == pytest.approx(beta.beta, rel=1e-12)
    assert b["half_life"] == pytest.approx(beta.half_life, rel=1e-12)
    w = weights.queen(store.geodata("county"))
    assert w.nnz == 40  # a 3 × 3 queen grid: 4·3 + 4·5 + 8 links
    m = spatial.moran(pd.Series(URBAN_2020, index=[c for r in CODES for c in r]), w,
                      permutations=99, seed=0)
    assert diag.spatial.moran.iloc[0]["I"] == pytest.approx(m.value, rel=1e-12)  # type: ignore[union-attr]
    assert diag.groups["n"].tolist() == [3, 3, 3]


def test_three_years_get_a_sigma_trend_test() -> None:
    urban = {2000: [u - 10 for u in URBAN_2010], 2010: URBAN_2010, 2020: URBAN_2020}
    store = grid_store(urban)
    diag = run_diagnostics(store, load_spec(grid_spec(
        sections=["convergence"], convergence={"years": [2000, 2010, 2020]})))
    c = diag.convergence
    assert c is not None and not any(n.key == "diagnose.note.two_years" for n in diag.notes)
    panel = pd.DataFrame(urban)
    pop = pd.DataFrame({y: 1000.0 * np.arange(1, 10) for y in urban})
    expected = conv.sigma_convergence(panel, measure="cv", p=pop)
    assert c.sigma["sigma"].tolist() == pytest.approx(expected.series.tolist(), rel=1e-12)
    assert c.sigma_trend.iloc[0]["slope"] == pytest.approx(expected.slope, rel=1e-12)


def test_one_member_group_is_documented_or_refused(english: None) -> None:
    parents = [PREFS[0]] * 8 + [PREFS[2]]        # Yibin has a single county
    store = grid_store({2010: URBAN_2010, 2020: URBAN_2020}, parents=parents)
    diag = run_diagnostics(store, load_spec(grid_spec(sections=["inequality"])))
    notes = [n for n in diag.notes if n.key == "diagnose.note.single_group"]
    assert notes and "Prefecture 2" in notes[0].text("en")
    groups = diag.inequality.dagum_groups.set_index(["year", "group"])  # type: ignore[union-attr]
    assert groups.loc[(2020, PREFS[2]), "gini"] == 0.0
    assert groups.loc[(2020, PREFS[2]), "n"] == 1
    with pytest.raises(DiagnoseError, match="Inequality and its decomposition") as err:
        run_diagnostics(store, load_spec(grid_spec(
            sections=["inequality"], inequality={"group_by": "prefecture",
                                                 "min_group_size": 2})))
    with pytest.raises(MetricInputError, match="group 1") as ref:
        ineq.dagum_decomposition(URBAN_2020, [0] * 8 + [1], np.arange(1, 10),
                                 min_group_size=2)
    message = str(err.value)
    assert message.startswith("Inequality and its decomposition · Urban share · 2020: ")
    assert str(ref.value).replace("group 1 ", f"group {PREFS[2]} ") in message


def test_all_equal_values(english: None) -> None:
    flat = [50.0] * 9
    store = grid_store({2010: flat, 2020: flat})
    diag = run_diagnostics(store, load_spec(grid_spec(sections=["inequality"])))
    s = diag.inequality.summary  # type: ignore[union-attr]
    assert (s[["gini", "theil", "williamson_cv", "dagum_gini"]].to_numpy() == 0).all()
    assert (s[["dagum_within_pct", "dagum_net_between_pct"]].to_numpy() == 0).all()
    assert any(n.key == "diagnose.note.all_equal" for n in diag.notes)
    assert not result_tables(diag)["inequality"].select_dtypes("number").isna().any().any()
    # Moran's I and β-convergence need variation: clear errors, the metric's own message.
    for section, call in (("spatial", lambda: spatial.moran(
            flat, weights.queen(store.geodata("county")))),
                          ("convergence", lambda: conv.beta_convergence(
                              pd.DataFrame({2010: flat, 2020: flat})))):
        with pytest.raises(MetricInputError, match=r"same value|collinear") as ref:
            call()
        with pytest.raises(DiagnoseError, match=t(f"diagnose.section.{section}")) as err:
            run_diagnostics(store, load_spec(grid_spec(sections=[section])))
        assert str(ref.value) in str(err.value)
        assert t(f"diagnose.section.{section}") in str(err.value)


def test_zero_where_logs_are_taken(english: None) -> None:
    start = [0.0, *URBAN_2010[1:]]
    store = grid_store({2010: start, 2020: URBAN_2020})
    with pytest.raises(MetricInputError, match="positive") as ref:
        conv.beta_convergence(pd.DataFrame({2010: start, 2020: URBAN_2020}))
    with pytest.raises(DiagnoseError, match="Convergence · Urban share") as err:
        run_diagnostics(store, load_spec(grid_spec(sections=["convergence"])))
    assert str(ref.value) in str(err.value) and "Urban share" in str(err.value)
    # Theil L takes logs too; Theil T and the Gini accept a zero.
    with pytest.raises(DiagnoseError, match="Theil L"):
        run_diagnostics(store, load_spec(grid_spec(
            sections=["inequality"], inequality={"group_by": "prefecture", "theil": "L"})))
    diag = run_diagnostics(store, load_spec(grid_spec(sections=["inequality"])))
    assert diag.inequality.summary["gini"].gt(0).all()  # type: ignore[union-attr]


def test_islands_raise_or_are_joined_and_listed(english: None) -> None:
    store = grid_store({2010: URBAN_2010, 2020: URBAN_2020}, far="511504")
    with pytest.raises(DiagnoseError, match="511504") as err:
        run_diagnostics(store, load_spec(grid_spec(sections=["spatial"])))
    assert "Spatial autocorrelation" in str(err.value)
    diag = run_diagnostics(store, load_spec(grid_spec(
        sections=["spatial"], spatial={"islands": "nearest", "permutations": 99})))
    joined = [n for n in diag.notes if n.key == "diagnose.note.islands_joined"]
    assert joined and "511504" in joined[0].text("en") and "511504" in joined[0].text("zh")
    assert diag.spatial.weights["joined_islands"] == ["511504"]  # type: ignore[union-attr]


def test_units_without_data_are_left_out_with_a_note(english: None) -> None:
    store = grid_store({2010: URBAN_2010, 2020: URBAN_2020}, missing=("511111", 2020))
    diag = run_diagnostics(store, load_spec(grid_spec()))
    s = diag.inequality.summary.set_index("year")  # type: ignore[union-attr]
    assert s.at[2020, "n"] == 8 and s.at[2010, "n"] == 9
    assert diag.convergence.beta.iloc[0]["n"] == 8  # type: ignore[union-attr]
    dropped = [n for n in diag.notes if n.key == "diagnose.note.dropped"]
    assert len(dropped) == 1 and "County 4 (511111)" in dropped[0].text("en")
    assert "2020" in dropped[0].text("en") and "县4 (511111)" in dropped[0].text("zh")
    lisa = diag.spatial.lisa  # type: ignore[union-attr]
    assert "511111" not in set(lisa[lisa["year"] == 2020]["unit"])
    for name, frame in result_tables(diag).items():
        assert not frame.select_dtypes("number").isna().any().any(), name


# ---------------------------------------------------------------------- the specification
def test_spec_merges_over_the_default_and_checks_every_key(english: None,
                                                            tmp_path: Path) -> None:
    spec = load_spec({"inequality": {"group_by": "metro"}}, year=2010)
    assert spec.group_by == "metro" and spec.years == [2010]
    assert spec.inequality.permutations == 999 and tuple(spec.sections) == SECTIONS
    assert load_spec(group_by="prefecture").group_by == "prefecture"
    bad = [({"inequalty": {}}, "inequalty"),
           ({"inequality": {"group_by": "county"}}, "inequality.group_by"),
           ({"sections": ["inequality", "magic"]}, r"sections\[1\]"),
           ({"convergence": {"years": [2020, 2010]}}, "convergence.years"),
           ({"spatial": {"alpha": 2}}, "spatial.alpha"),
           ({"network": {"gdp": "gdp"}}, "network.gdp"),
           ({"network": {"gdp": {"year": "2019x"}}}, "network.gdp.year"),
           ({"network": {"core_periphery": "kcore"}}, "network.core_periphery"),
           ({"structure": {"homogeneous": {"method": "cosine"}}},
            "structure.homogeneous.method"),
           ({"people_circle": {"subsystems": {"a": {"indicators": {"x": 2}}}}},
            "people_circle")]
    for raw, where in bad:
        with pytest.raises(SpecError, match=where):
            load_spec(raw)
    # every problem of a user file at once, with the file and the key paths
    several = tmp_path / "several.yaml"
    several.write_text("seed: -1\nspatial: {islands: sometimes, colour: red}\n"
                       "network: {top_k: 0}\nstructure: {homogeneous: {k: -1}}\n",
                       encoding="utf-8")
    with pytest.raises(SpecError, match="5 problem") as err:
        load_spec(several)
    for where in ("seed", "spatial.islands", "spatial.colour", "network.top_k",
                  "structure.homogeneous.k"):
        assert f"key {where}:" in str(err.value)
    assert str(several) in str(err.value)
    broken = tmp_path / "spec.yaml"
    broken.write_text("inequality: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match="YAML"):
        load_spec(broken)
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "absent.yaml")
    roles = tmp_path / "roles.yaml"
    roles.write_text("groups: {}\ntiers: {rules: [], default: megacity}\npoles: []\n",
                     encoding="utf-8")
    with pytest.raises(SpecError, match=r"tiers\.default"):
        load_spec({"structure": {"roles": str(roles)}})
    store = grid_store({2010: URBAN_2010, 2020: URBAN_2020})
    with pytest.raises(DiagnoseError, match="schooling_years"):
        run_diagnostics(store, load_spec(grid_spec(indicators=["schooling_years"])))
    with pytest.raises(DiagnoseError, match="no County data in 2015"):
        run_diagnostics(store, load_spec(grid_spec(years=[2015])))


# ---------------------------------------------------------------------- the command
def test_cli_group_by_metro_for_one_year(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("sections: [inequality, spatial, polycentricity]\n"
                    "inequality: {permutations: 99}\nspatial: {permutations: 99}\n",
                    encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["diagnose", "--spec", str(spec), "--group-by", "metro",
                                 "--year", "2020", "--out", str(out)])
    assert result.exit_code == 0, result.output
    groups = pd.read_csv(out / "tables" / "groups.csv")
    assert groups["group"].tolist() == ["chengdu", "chongqing", "none"]
    assert groups["n"].sum() == 144
    inequality = pd.read_csv(out / "tables" / "inequality.csv")
    assert inequality["year"].tolist() == [2020] * 5 and (inequality["n_groups"] == 3).all()
    assert not (out / "tables" / "beta.csv").exists()
    gini = inequality.set_index("indicator").at["urban_share", "gini"]
    assert "按都市圈分组" in result.output and f"{gini:.4f}" in result.output
    assert str(out / "diagnose.html") in result.output


def test_cli_errors_exit_2_in_the_chosen_language(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("inequality: {group_by: county}\n", encoding="utf-8")
    result = runner.invoke(app, ["diagnose", "--spec", str(spec), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "错误" in result.output and "inequality.group_by" in result.output
    assert "取值 'county' 不在允许范围内" in result.output
    result = runner.invoke(app, ["--lang", "en", "diagnose", "--spec", str(spec),
                                 "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "Error" in result.output and "'county' is not one of" in result.output
    assert not (tmp_path / HTML_NAME).exists()
