"""Render the ``cocity diagnose`` report of the default dataset in headless Chromium: every map
draws one SVG path per mapped unit, every chart draws its marks, in Chinese and in English,
offline, with no console or Content-Security-Policy error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from cocity.datasets import open_store
from cocity.metrics.diagnose import Diagnostics, load_spec, run_diagnostics
from cocity.report.diagnose_report import LISA_COLORS, write_diagnose_outputs
from tests.chromium import (
    assert_clean_console,
    figure,
    legend_texts,
    marks,
    require_chromium,
    run_chromium,
)

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Diagnostics, Path]:
    require_chromium()
    store = open_store()
    try:
        diag = run_diagnostics(store, load_spec())
    finally:
        store.close()
    paths = write_diagnose_outputs(diag, tmp_path_factory.mktemp("diagnose"))
    return diag, paths["html"]


def test_maps_and_charts_are_drawn_in_chinese_then_english(
        report: tuple[Diagnostics, Path], tmp_path: Path) -> None:
    diag, path = report
    dom, console = run_chromium(path, tmp_path, "--dump-dom", size="1400,16000", budget_ms=30000)
    assert_clean_console(console)
    assert diag.geo is not None and diag.spatial is not None and diag.network is not None
    assert diag.people_circle is not None and diag.convergence is not None
    mapped = int((diag.geo["level"] == "county").sum())
    outlines = int((diag.geo["level"] == "prefecture").sum())
    assert mapped == 142 and outlines == 16
    maps = [f"fig-map-{i}" for i in range(len(diag.spec.indicators))]
    maps += [f"fig-lisa-{i}" for i in range(len(diag.spec.indicators))]
    maps += ["fig-cc-2010", "fig-cc-2020"]
    for fig_id in maps:
        # one SVG path per mapped county and per prefecture outline drawn over them
        assert marks(figure(dom, fig_id), "choroplethlocation") == mapped + outlines, \
            fig_id
    fills = set(re.findall(r'class="choroplethlocation" fill="([^"]+)"',
                           figure(dom, "fig-map-0")))
    assert len(fills) >= 10  # a colour scale, not one flat colour
    lisa = figure(dom, "fig-lisa-0")
    assert any(x.startswith("高-高") for x in legend_texts(lisa)), legend_texts(lisa)
    counts = diag.spatial.lisa.query("indicator == 'urban_share' and year == 2020")[
        "cluster"].value_counts()
    assert f"高-高 ({counts['HH']})" in legend_texts(lisa)

    network = figure(dom, "fig-network")
    assert marks(network, "choroplethlocation") == outlines
    assert marks(network, "js-line") >= len(diag.network.edges)
    assert marks(network, "point") >= 16  # the unit points

    lorenz = figure(dom, "fig-lorenz")
    assert marks(lorenz, "js-line") == len(diag.spec.indicators) + 1
    n_groups = len(diag.groups)
    assert marks(figure(dom, "fig-groups"), "point") == \
        len(diag.spec.indicators) * (n_groups + 1)
    assert marks(figure(dom, "fig-dagum"), "point") == 3 * len(diag.spec.indicators) * 2
    assert marks(figure(dom, "fig-sigma"), "js-line") == len(diag.spec.indicators)
    assert marks(figure(dom, "fig-beta"), "point") >= len(diag.convergence.points)
    assert "<image" in figure(dom, "fig-similarity")  # the heat map's raster
    assert marks(figure(dom, "fig-ranksize"), "point") == 16

    dom_en, console = run_chromium(path, tmp_path, "--dump-dom", size="1400,16000", budget_ms=30000,
                                   fragment="#en")
    assert_clean_console(console)
    assert re.search(r'<html[^>]*data-lang="en"', dom_en)
    shown = legend_texts(figure(dom_en, "fig-lisa-0"))
    assert f"High-high ({counts['HH']})" in shown and not any("高-高" in x for x in shown)
    assert any("Serious disorder" in x for x in legend_texts(figure(dom_en, "fig-cc-2010")))


def test_screenshot_shows_the_maps(report: tuple[Diagnostics, Path], tmp_path: Path) -> None:
    _diag, path = report
    png = tmp_path / "diagnose.png"
    _, console = run_chromium(path, tmp_path, f"--screenshot={png}", size="1400,3000",
                              budget_ms=30000)
    assert_clean_console(console)
    with Image.open(png) as im:
        rgb = im.convert("RGB")
        assert rgb.size == (1400, 3000)
        counts = {c: n for n, c in rgb.getcolors(maxcolors=1 << 24) or []}

    def rgb_of(hex_color: str) -> tuple[int, ...]:
        return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))

    # The LISA maps at the top are not blank: thousands of pixels in the cluster colours.
    assert counts.get(rgb_of(LISA_COLORS["HH"]), 0) > 3000
    assert counts.get(rgb_of(LISA_COLORS["LL"]), 0) > 3000
