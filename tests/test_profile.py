"""`cocity profile`: the profile model, its figures, the HTML page and the command."""

from __future__ import annotations

import errno
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cocity import outputs
from cocity.cli import _register, app
from cocity.data.store import Store
from cocity.datasets import dataset_dir, open_store
from cocity.outputs import OutputError
from cocity.report import (
    EmptyWorkspaceError,
    NoDataError,
    UnknownIndicatorError,
    build_profile,
    profile_html,
    render_profile_html,
)
from cocity.report.charts import distribution_figure
from cocity.report.maps import choropleth_figure, membership_figure
from cocity.report.render import GEO_PREFIX, bilingual_figure
from tests.conftest import fill_tiny, tiny_units

COUNTIES = ["511002", "511011", "511102", "511111"]


def _obs(rows: list[tuple[str, int, str, float]], simulated: bool = False) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["unit", "year", "indicator", "value"])
    return df.assign(source="test", imputed=False, simulated=simulated)


def _drawn(fig: object) -> dict[str, list[str]]:
    """Codes drawn by each map trace that has a legend name (fill traces, not outlines)."""
    return {str(tr.name): list(tr.locations) for tr in fig.data  # type: ignore[attr-defined]
            if tr.name is not None and tr.hoverinfo != "skip"}


@pytest.fixture
def gappy_store(tiny_store: Store) -> Store:
    """tiny_store plus illiteracy_rate for 2010 and 2020: 2020 lacks 511111 and has a NULL for
    511102; 511011's 2020 value is simulated."""
    tiny_store.add_observations(_obs([
        ("511002", 2010, "illiteracy_rate", 6.0), ("511011", 2010, "illiteracy_rate", 7.0),
        ("511102", 2010, "illiteracy_rate", 5.0), ("511111", 2010, "illiteracy_rate", 9.0),
        ("511002", 2020, "illiteracy_rate", 3.0), ("511102", 2020, "illiteracy_rate", np.nan),
    ]))
    tiny_store.add_observations(_obs([("511011", 2020, "illiteracy_rate", 4.5)], simulated=True))
    return tiny_store


# ---------------------------------------------------------------------- the model
def test_defaults_counts_and_values_match_the_store(tiny_store: Store) -> None:
    p = build_profile(tiny_store)
    vm = p.choropleth
    assert (vm.indicator, vm.year, vm.level) == ("urban_share", 2020, "county")
    panel = tiny_store.panel(["urban_share"], years=[2020], level="county")["urban_share"]
    got = vm.values.set_index("code")["value"]
    pd.testing.assert_series_equal(got.sort_index(), panel.droplevel("year").sort_index(),
                                   check_names=False)
    assert p.unit_counts.loc["county", "full"] == 4
    assert p.unit_counts.loc["prefecture", "total"] == 2
    assert p.unit_counts["total"].sum() == len(tiny_units())
    assert p.years == (2020,) and p.n_observations == 8 and p.n_values == 8
    assert p.fill_rate == 1.0 and p.n_simulated == 0
    assert p.membership_level == "county"
    assert sorted(f["properties"]["code"] for f in p.boundaries["county"]["features"]) == COUNTIES
    assert set(p.boundaries) == {"county", "prefecture"}  # prefecture outlines on county maps
    assert [d.indicator for d in p.distributions] == ["pop_total", "urban_share"]
    assert p.title_zh == "未命名工作区" and p.title_en == "Unnamed workspace"


def test_coverage_and_missingness_by_hand(gappy_store: Store) -> None:
    p = build_profile(gappy_store, indicator="illiteracy_rate")
    cov = p.coverage.set_index(["indicator", "level", "year"])
    assert cov.loc[("illiteracy_rate", "county", 2010), "share"] == 1.0
    # 2020: 511002 and the simulated 511011 have values, 511102 is NULL, 511111 absent.
    assert cov.loc[("illiteracy_rate", "county", 2020), "non_missing"] == 2
    assert cov.loc[("illiteracy_rate", "county", 2020), "share"] == 0.5
    assert cov.loc[("illiteracy_rate", "county", 2020), "simulated"] == 1
    assert cov["simulated"].sum() == 1
    miss = p.missingness.loc["illiteracy_rate"]
    assert (miss["expected"], miss["observed"], miss["missing"]) == (8, 6, 2)
    assert miss["missing_share"] == 0.25 and miss["simulated"] == 1
    assert p.missingness.loc["urban_share", "missing"] == 0
    # 4 + 4 + 6 values out of 4 + 4 + 8 expected cells.
    assert p.fill_rate == pytest.approx(14 / 16)
    assert p.n_observations == 15 and p.n_values == 14 and p.n_simulated == 1
    assert p.catalog.loc["illiteracy_rate", "years"] == (2010, 2020)
    vm = p.choropleth
    assert vm.year == 2020  # latest year with data
    assert vm.values.set_index("code")["value"].isna().to_dict() == {
        "511002": False, "511011": False, "511102": True, "511111": True}
    assert vm.values.set_index("code").loc["511011", "simulated"]


def test_year_and_level_choices(gappy_store: Store) -> None:
    p = build_profile(gappy_store, indicator="illiteracy_rate", year=2010, level="county")
    assert p.choropleth.year == 2010 and p.choropleth.values["value"].notna().all()
    # Indicators are also accepted by their exact Chinese or English name.
    assert build_profile(gappy_store, indicator="文盲率").choropleth.indicator == "illiteracy_rate"
    assert build_profile(gappy_store, indicator="urban share").choropleth.indicator == "urban_share"


def test_clear_errors(tiny_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCITY_LANG", "en")
    with pytest.raises(UnknownIndicatorError, match="did you mean: urban_share"):
        build_profile(tiny_store, indicator="urbn_share")
    with pytest.raises(UnknownIndicatorError, match="include: illiteracy_rate, pop_total"):
        build_profile(tiny_store, indicator="gdp")
    with pytest.raises(NoDataError, match=r"no values for 2010 .* years with data: 2020"):
        build_profile(tiny_store, year=2010)
    with pytest.raises(NoDataError, match="at level 'prefecture'; levels with data: county"):
        build_profile(tiny_store, level="prefecture")
    with pytest.raises(NoDataError, match="'illiteracy_rate' has no values"):
        build_profile(tiny_store, indicator="illiteracy_rate")
    with pytest.raises(UnknownIndicatorError, match="nope"):
        build_profile(tiny_store, distributions=["nope"])
    with pytest.raises(EmptyWorkspaceError, match="no units"):
        build_profile(Store.open(None))
    bare = Store.open(None)
    bare.add_units(tiny_units())
    with pytest.raises(EmptyWorkspaceError, match="no observations"):
        build_profile(bare)
    monkeypatch.setenv("COCITY_LANG", "zh")
    with pytest.raises(UnknownIndicatorError, match="未知指标"):
        build_profile(tiny_store, indicator="urbn_share")


# ---------------------------------------------------------------------- figures
def test_maps_draw_every_unit_with_its_value(gappy_store: Store) -> None:
    p = build_profile(gappy_store, indicator="illiteracy_rate")
    members = _drawn(membership_figure(p, "en"))
    assert members == {"Full member (4)": COUNTIES}
    fig = choropleth_figure(p, "en")
    drawn = _drawn(fig)
    assert drawn["No data (2)"] == ["511102", "511111"]
    assert sorted(drawn["Illiteracy rate"]) == ["511002", "511011"]
    assert sorted(c for codes in drawn.values() for c in codes) == COUNTIES
    values = next(tr for tr in fig.data if tr.name == "Illiteracy rate")
    panel = gappy_store.panel(["illiteracy_rate"], years=[2020], level="county")
    assert dict(zip(values.locations, values.z, strict=True)) == {
        "511002": panel.loc[("511002", 2020), "illiteracy_rate"],
        "511011": panel.loc[("511011", 2020), "illiteracy_rate"]}
    # Hover: Chinese and English names, and the simulated value is tagged.
    custom = {row[2]: list(row) for row in values.customdata}
    assert custom["511002"][:2] == ["市中区", "Shizhong District"]
    assert "simulated" in custom["511011"][3] and custom["511002"][3] == ""
    assert "%{customdata[0]}" in values.hovertemplate and "%{customdata[1]}" in values.hovertemplate
    outline = next(tr for tr in fig.data if str(tr.name).startswith("Simulated"))
    assert list(outline.locations) == ["511011"]
    assert all(tr.geojson == p.boundaries[tr.meta["geo"]] for tr in fig.data)
    geo = fig.layout.geo
    assert geo.visible is False and geo.fitbounds == "locations"


def test_distribution_marks_simulated_values(gappy_store: Store) -> None:
    p = build_profile(gappy_store, indicator="illiteracy_rate")
    dist = next(d for d in p.distributions if d.indicator == "illiteracy_rate")
    assert len(dist.values) == 6 and dist.values["value"].notna().all()
    fig = distribution_figure(p, dist, "zh")
    boxes = [tr for tr in fig.data if tr.type == "box"]
    assert [tr.name for tr in boxes] == ["2010", "2020"]
    assert sorted(boxes[1].x) == [3.0, 4.5]
    sim = [tr for tr in fig.data if tr.type == "scatter"]
    assert len(sim) == 1 and list(sim[0].x) == [4.5] and sim[0].name == "模拟"


def test_language_patches_switch_figure_text(tiny_store: Store) -> None:
    p = build_profile(tiny_store)
    spec = bilingual_figure(membership_figure, p, lang="zh")
    assert spec["data"][0]["name"] == "全域纳入 (4)"
    assert spec["data"][0]["geojson"] == GEO_PREFIX + "county"
    assert spec["i18n"]["en"]["traces"][0]["name"] == "Full member (4)"
    assert "locations" not in spec["i18n"]["en"]["traces"][0]  # data is shared, not repeated
    assert spec["i18n"]["zh"]["traces"][0] == {}
    p = build_profile(tiny_store, indicator="pop_total")
    spec = bilingual_figure(choropleth_figure, p, lang="en")
    assert spec["data"][0]["colorbar"]["title"]["text"] == "persons"
    assert spec["i18n"]["zh"]["traces"][0]["colorbar.title.text"] == "人"
    assert "常住人口" in spec["i18n"]["zh"]["traces"][0]["hovertemplate"]


# ---------------------------------------------------------------------- the page
def _without_plotlyjs(page: str) -> str:
    start = page.index("<script>/**")  # plotly.js starts with its licence comment
    return page[:start] + page[page.index("</script>", start):]


def test_page_is_self_contained_bilingual_and_labels_simulated(gappy_store: Store) -> None:
    p = build_profile(gappy_store, indicator="illiteracy_rate")
    page = profile_html(p)
    assert page.count("plotly.js v") == 1  # plotly.js inline, once
    assert 'default-src \'none\'' in page  # the browser may fetch nothing
    rest = _without_plotlyjs(page)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", rest)
    assert "<link" not in rest and "@import" not in rest and "@font-face" not in rest
    assert 'data-lang="zh"' in page and "Noto Sans CJK SC" in page
    for zh, en in (("指标目录", "Indicator catalog"), ("数据覆盖", "Coverage"),
                   ("缺失情况", "Missing values"), ("全域纳入", "Full member")):
        assert zh in page and en in page
    # Each boundary set is embedded once and referenced by the figures.
    geo = json.loads(re.search(r"var GEO = (\{.*?\});\n", page, re.S).group(1))  # type: ignore[union-attr]
    assert set(geo) == {GEO_PREFIX + "county", GEO_PREFIX + "prefecture"}
    assert rest.count('"features"') == 2
    figs = json.loads(re.search(r"var FIGS = (\[.*?\]);\n", page, re.S).group(1))  # type: ignore[union-attr]
    assert [f["id"] for f in figs][:2] == ["fig-membership", "fig-choropleth"]
    assert all(tr.get("geojson") in geo for f in figs[:2] for tr in f["data"])
    # Simulated values: badges, footer note, hover tags in both languages.
    # choropleth heading, catalog row, coverage cell, missingness row, footer (x2)
    assert rest.count('class="badge-sim"') >= 6
    assert "含 1 个模拟值" in page and "1 simulated values" in page
    assert "[模拟]" in page and "[simulated]" in page
    assert "WGS-84" in page  # the datum note
    assert '<html lang="en" data-lang="en">' in profile_html(p, lang="en")


def test_default_dataset_profile_is_structurally_right() -> None:
    assert (dataset_dir() / "observations.csv").is_file()  # package data, always shipped
    store = open_store()
    p = build_profile(store)
    geo = store.geodata()
    with_boundary = geo[geo.geometry.notna()]
    lvl = p.membership_level
    mapped = {f["properties"]["code"] for f in p.boundaries[lvl]["features"]}
    assert mapped == set(with_boundary.loc[with_boundary["level"] == lvl, "code"])
    drawn = _drawn(membership_figure(p, "zh"))
    assert sorted(c for codes in drawn.values() for c in codes) == sorted(mapped)
    # The choropleth shows every unit of its level with a boundary, and the store's values.
    vm = p.choropleth
    fig = choropleth_figure(p, "zh")
    shown = {c for tr in fig.data if tr.hoverinfo != "skip" for c in tr.locations}
    assert shown == {f["properties"]["code"] for f in p.boundaries[vm.level]["features"]}
    name = p.indicator_name(vm.indicator, "zh")
    values = next(tr for tr in fig.data if tr.name == name)
    panel = store.panel([vm.indicator], years=[vm.year], level=vm.level)[vm.indicator]
    expected = panel.droplevel("year").dropna()
    got = pd.Series(np.asarray(values.z, float), index=list(values.locations))
    pd.testing.assert_series_equal(got.sort_index(), expected[got.index].sort_index(),
                                   check_names=False)
    assert set(expected.index) - set(got.index) <= set(geo.loc[geo.geometry.isna(), "code"])
    assert p.datum == "GCJ-02"
    assert p.unit_counts["total"].sum() == len(store.units())
    assert ((p.coverage["share"] >= 0) & (p.coverage["share"] <= 1)).all()
    assert len(p.distributions) == len(p.catalog[p.catalog["n_values"] > 0])
    page = profile_html(p)
    for lic in p.catalog["license"].dropna().unique():
        assert str(lic) in page
    for src in p.info["sources"].values():
        assert src["license"] in page


# ---------------------------------------------------------------------- files and the command
def test_profile_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 tiny_store: Store) -> None:
    out = tmp_path / "report.html"
    out.write_text("old report", encoding="utf-8")

    def boom(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs.os, "replace", boom)
    with pytest.raises(OutputError, match=r"report\.html.*No space left"):
        render_profile_html(build_profile(tiny_store), out)
    assert out.read_text(encoding="utf-8") == "old report"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["report.html"]  # no temp file left


def _workspace(folder: Path) -> Path:
    fill_tiny(Store.open(folder, create=True)).close()
    return folder


def test_cli_writes_report_and_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCITY_LANG", "zh")
    _register()
    ws = _workspace(tmp_path / "ws")
    out = tmp_path / "out" / "p.html"
    runner = CliRunner()
    res = runner.invoke(app, ["profile", "-w", str(ws), "--out", str(out), "--lang", "en"],
                        terminal_width=200)
    assert res.exit_code == 0, res.output
    assert out.exists() and out.stat().st_size > 1_000_000  # plotly.js is inline
    text = res.output
    assert "Data profile: ws" in text and str(out) in re.sub(r"[\s│]", "", text)
    assert "Urban share [urban_share], 2020, County" in text
    assert re.search(r"County\s+│\s+4\s+│\s+0\s+│\s+4", text)
    assert "100.0%" in text
    html = out.read_text(encoding="utf-8")
    assert 'data-lang="en"' in html and 'data-indicator="urban_share"' in html
    res = runner.invoke(app, ["profile", "-w", str(ws), "--out", str(out), "-i", "pop_total",
                              "--level", "county", "--year", "2020"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert 'data-indicator="pop_total"' in out.read_text(encoding="utf-8")
    res = runner.invoke(app, ["profile", "-w", str(ws), "--out", str(out), "-i", "nope"])
    assert isinstance(res.exception, UnknownIndicatorError)
    res = runner.invoke(app, ["profile", "-w", str(ws), "--level", "village"])
    assert res.exit_code == 2 and "village" in res.output
    res = runner.invoke(app, ["profile", "-w", str(tmp_path / "missing")])
    assert res.exit_code != 0 and not (tmp_path / "missing").exists()


def test_a_metropolitan_area_of_another_cluster_is_shown_by_its_name(tiny_store: Store
                                                                      ) -> None:
    """Metro identifiers are the user's data: one without a label shows as it is."""
    from cocity.report.render import profile_html

    tiny_store.con.execute("UPDATE units SET metro = 'jingjin' WHERE level = 'county'")
    page = profile_html(build_profile(tiny_store))
    assert ">jingjin<" in page
