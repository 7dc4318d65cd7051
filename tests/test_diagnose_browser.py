"""Render the ``cocity diagnose`` report of the default dataset in headless Chromium: every map
draws one SVG path per mapped unit, every chart draws its marks, in Chinese and in English,
offline, with no console or Content-Security-Policy error."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cocity.data.store import open_store
from cocity.metrics.diagnose import Diagnostics, load_spec, run_diagnostics
from cocity.report.diagnose_report import LISA_COLORS, write_diagnose_outputs

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
# A tall window, so that the lazily drawn figures further down are drawn too.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=30000", "--enable-logging=stderr", "--v=0")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Diagnostics, Path]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is absent (apt-get install chromium fonts-noto-cjk)")
    store = open_store()
    try:
        diag = run_diagnostics(store, load_spec())
    finally:
        store.close()
    paths = write_diagnose_outputs(diag, tmp_path_factory.mktemp("diagnose"))
    return diag, paths["html"]


def _chromium(path: Path, tmp: Path, *args: str, size: str = "1400,16000",
              fragment: str = "") -> tuple[str, str]:
    """Run headless Chromium on the page; return (stdout, console messages)."""
    cmd = [str(CHROMIUM), *FLAGS, f"--window-size={size}",
           f"--user-data-dir={tmp / 'chromium'}", *args, path.as_uri() + fragment]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
    console = "\n".join(line for line in done.stderr.splitlines() if ":CONSOLE" in line)
    return done.stdout, console


def _assert_clean_console(console: str) -> None:
    bad = [line for line in console.splitlines()
           if re.search(r"error|uncaught|refused|content security policy|failed", line, re.I)]
    assert not bad, "\n".join(bad)


def _figure(dom: str, fig_id: str) -> str:
    """The DOM of one figure: from its element to the next figure's."""
    match = re.search(rf'<div id="{fig_id}"[^>]*>', dom)
    assert match, fig_id
    assert 'data-drawn="1"' in match.group(0), f"{fig_id} not drawn"
    end = dom.find('<div id="fig-', match.end())
    return dom[match.start():end if end > 0 else len(dom)]


def _marks(part: str, css_class: str) -> int:
    """How many SVG elements of ``css_class`` a figure draws in its plot area (the legend,
    which draws a sample of each trace, lives in the info layer after it)."""
    end = part.find('class="infolayer"')
    area = part[:end if end > 0 else len(part)]
    return len(re.findall(rf'class="{re.escape(css_class)}[" ]', area))


def _legend(part: str) -> list[str]:
    return re.findall(r'class="legendtext"[^>]*>([^<]*)<', part)


def test_maps_and_charts_are_drawn_in_chinese_then_english(
        report: tuple[Diagnostics, Path], tmp_path: Path) -> None:
    diag, path = report
    dom, console = _chromium(path, tmp_path, "--dump-dom")
    _assert_clean_console(console)
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
        assert _marks(_figure(dom, fig_id), "choroplethlocation") == mapped + outlines, \
            fig_id
    fills = set(re.findall(r'class="choroplethlocation" fill="([^"]+)"',
                           _figure(dom, "fig-map-0")))
    assert len(fills) >= 10  # a colour scale, not one flat colour
    lisa = _figure(dom, "fig-lisa-0")
    assert any(x.startswith("高-高") for x in _legend(lisa)), _legend(lisa)
    counts = diag.spatial.lisa.query("indicator == 'urban_share' and year == 2020")[
        "cluster"].value_counts()
    assert f"高-高 ({counts['HH']})" in _legend(lisa)

    network = _figure(dom, "fig-network")
    assert _marks(network, "choroplethlocation") == outlines
    assert _marks(network, "js-line") >= len(diag.network.edges)
    assert _marks(network, "point") >= 16  # the unit points

    lorenz = _figure(dom, "fig-lorenz")
    assert _marks(lorenz, "js-line") == len(diag.spec.indicators) + 1
    n_groups = len(diag.groups)
    assert _marks(_figure(dom, "fig-groups"), "point") == \
        len(diag.spec.indicators) * (n_groups + 1)
    assert _marks(_figure(dom, "fig-dagum"), "point") == 3 * len(diag.spec.indicators) * 2
    assert _marks(_figure(dom, "fig-sigma"), "js-line") == len(diag.spec.indicators)
    assert _marks(_figure(dom, "fig-beta"), "point") >= len(diag.convergence.points)
    assert "<image" in _figure(dom, "fig-similarity")  # the heat map's raster
    assert _marks(_figure(dom, "fig-ranksize"), "point") == 16

    dom_en, console = _chromium(path, tmp_path, "--dump-dom", fragment="#en")
    _assert_clean_console(console)
    assert re.search(r'<html[^>]*data-lang="en"', dom_en)
    legend = _legend(_figure(dom_en, "fig-lisa-0"))
    assert f"High-high ({counts['HH']})" in legend and not any("高-高" in x for x in legend)
    assert any("Serious disorder" in x for x in _legend(_figure(dom_en, "fig-cc-2010")))


def test_screenshot_shows_the_maps(report: tuple[Diagnostics, Path], tmp_path: Path) -> None:
    image_mod = pytest.importorskip("PIL.Image")
    _diag, path = report
    png = tmp_path / "diagnose.png"
    _, console = _chromium(path, tmp_path, f"--screenshot={png}", size="1400,3000")
    _assert_clean_console(console)
    with image_mod.open(png) as im:
        rgb = im.convert("RGB")
        assert rgb.size == (1400, 3000)
        counts = {c: n for n, c in rgb.getcolors(maxcolors=1 << 24) or []}

    def rgb_of(hex_color: str) -> tuple[int, ...]:
        return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))

    # The LISA maps at the top are not blank: thousands of pixels in the cluster colours.
    assert counts.get(rgb_of(LISA_COLORS["HH"]), 0) > 3000
    assert counts.get(rgb_of(LISA_COLORS["LL"]), 0) > 3000
