"""Render the ``cocity access`` reports in headless Chromium: the commuting-circle maps draw one
SVG path per county and the rail links, the life-circle map draws every home and street, in
Chinese and in English, offline, with no console or Content-Security-Policy error."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cocity.access.commute import Commute, build_commute
from cocity.access.life_circles import life_circles
from cocity.access.lifecircle_run import LifeCircleRun
from cocity.access.measure_run import MeasureParams, build_measure
from cocity.access.regional import default_spec
from cocity.datasets import open_store
from cocity.report.access_report import (
    CIRCLE_COLORS,
    write_commute_outputs,
    write_lifecircle_outputs,
    write_measure_outputs,
)
from tests.chromium import (
    assert_clean_console,
    figure,
    legend_texts,
    marks,
    require_chromium,
    run_chromium,
)
from tests.test_access_cli import generated_flows
from tests.test_access_life_circles import FACILITIES, HOMES, SPEC, grid

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module", autouse=True)
def _chromium_present() -> None:
    require_chromium()


@pytest.fixture(scope="module")
def commute_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Commute, Path]:
    store = open_store()
    try:
        c = build_commute(store, default_spec())
    finally:
        store.close()
    return c, write_commute_outputs(c, tmp_path_factory.mktemp("commute"))["html"]












def test_commute_maps_are_drawn_in_chinese_then_english(
        commute_page: tuple[Commute, Path], tmp_path: Path) -> None:
    c, path = commute_page
    dom, console = run_chromium(path, tmp_path, "--dump-dom")
    assert_clean_console(console)
    n_units = len(c.geo)
    rail = c.network.edges
    n_links = int(((rail["mode"] == "rail") & (rail["u"] < rail["v"])).sum())
    for fig_id in ("fig-minutes-0", "fig-minutes-1", "fig-circles"):
        part = figure(dom, fig_id)
        assert marks(part, "choroplethlocation") == n_units, fig_id
        assert marks(part, "js-line") == n_links, fig_id
    fills = set(re.findall(r'class="choroplethlocation" fill="([^"]+)"',
                           figure(dom, "fig-minutes-0")))
    assert len(fills) >= 10  # a colour scale
    counts = c.table["circle"].value_counts()
    shown = legend_texts(figure(dom, "fig-circles"))
    assert f"成都 60 分钟通勤圈 ({counts['first']})" in shown, shown
    dom_en, console = run_chromium(path, tmp_path, "--dump-dom", fragment="#en")
    assert_clean_console(console)
    assert re.search(r'<html[^>]*data-lang="en"', dom_en)
    shown = legend_texts(figure(dom_en, "fig-circles"))
    assert f"Chongqing 60-minute circle ({counts['second']})" in shown, shown


def test_commute_screenshot_shows_the_circles(commute_page: tuple[Commute, Path],
                                              tmp_path: Path) -> None:
    from PIL import Image as image_mod  # a test dependency: fails, never skips, without it

    _c, path = commute_page
    png = tmp_path / "commute.png"
    _, console = run_chromium(path, tmp_path, f"--screenshot={png}", size="1400,2200")
    assert_clean_console(console)
    with image_mod.open(png) as im:
        counts = {c: n for n, c in im.convert("RGB").getcolors(maxcolors=1 << 24) or []}

    def rgb_of(hex_color: str) -> tuple[int, ...]:
        return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))

    assert counts.get(rgb_of(CIRCLE_COLORS["first"]), 0) > 1500
    assert counts.get(rgb_of(CIRCLE_COLORS["second"]), 0) > 1500


def test_lifecircle_map_is_drawn(tmp_path: Path) -> None:
    net = grid()
    res = life_circles(net, HOMES, FACILITIES, spec=SPEC)
    path = write_lifecircle_outputs(LifeCircleRun(res, net, {}), tmp_path / "lc")["html"]
    dom, console = run_chromium(path, tmp_path, "--dump-dom")
    assert_clean_console(console)
    part = figure(dom, "fig-homes")
    assert marks(part, "point") == len(HOMES)
    assert marks(part, "js-line") == net.n_arcs // 2  # every street, one segment each
    shown = legend_texts(part)
    assert "甲（300 米）覆盖 (1)" in shown and "任何层级均未覆盖 (3)" in shown, shown
    bars = figure(dom, "fig-types")
    assert marks(bars, "point") == len(pd.unique(res.by_type["type"]))
    dom_en, console = run_chromium(path, tmp_path, "--dump-dom", fragment="#en")
    assert_clean_console(console)
    assert "covered at no level (3)" in legend_texts(figure(dom_en, "fig-homes"))


def test_share_map_is_drawn(tmp_path: Path) -> None:
    flows, _hand, _silent = generated_flows()
    store = open_store()
    try:
        codes = flows.assign(origin=[store.resolve(v, level="county") for v in flows["origin"]])
        c = build_commute(store, default_spec(), flows=codes, share_threshold=0.10,
                          flows_source="generated")
    finally:
        store.close()
    path = write_commute_outputs(c, tmp_path / "commute")["html"]
    dom, console = run_chromium(path, tmp_path, "--dump-dom")
    assert_clean_console(console)
    part = figure(dom, "fig-circles-share")
    assert marks(part, "choroplethlocation") == len(c.geo)
    counts = c.table["circle_share"].value_counts()
    shown = legend_texts(part)
    assert f"成都通勤圈（通勤比例 ≥ 10%） ({counts['first']})" in shown, shown
    assert f"OD 数据中无该单元的外出通勤 ({counts['no_flows']})" in shown, shown
    dom_en, console = run_chromium(path, tmp_path, "--dump-dom", fragment="#en")
    assert_clean_console(console)
    shown = legend_texts(figure(dom_en, "fig-circles-share"))
    assert f"in both circles (commuting share ≥ 10%) ({counts['both']})" in shown, shown


def test_measure_page_is_drawn(tmp_path: Path) -> None:
    from scipy import sparse

    demand = pd.DataFrame({"id": ["A", "B", "C"], "demand": [100.0, 200.0, 50.0],
                           "x": [0.0, 1000.0, 5000.0], "y": [0.0, 0.0, 5000.0]})
    supply = pd.DataFrame({"id": ["S1", "S2"], "capacity": [10.0, 5.0],
                           "x": [200.0, 900.0], "y": [0.0, 100.0]})
    cost = sparse.csr_matrix(([5.0, 20.0, 10.0, 8.0], [0, 1, 0, 1], [0, 2, 4, 4]),
                             shape=(3, 2))
    run = build_measure(cost, demand, supply, MeasureParams("two_step_fca", 15.0),
                        source="table", cost_unit="minutes", inputs={}, coords="xy")
    path = write_measure_outputs(run, tmp_path / "measure")["html"]
    dom, console = run_chromium(path, tmp_path, "--dump-dom")
    assert_clean_console(console)
    points = figure(dom, "fig-points")
    assert marks(points, "point") == len(demand) + len(supply)
    shown = legend_texts(points)
    assert "阈值内无供给 (1)" in shown and "需求点 (2)" in shown and "供给点 (2)" in shown, shown
    hist = figure(dom, "fig-hist")
    assert marks(hist, "point") >= 1  # bars drawn
    dom_en, console = run_chromium(path, tmp_path, "--dump-dom", fragment="#en")
    assert_clean_console(console)
    assert "No supply in reach (1)" in legend_texts(figure(dom_en, "fig-points"))
