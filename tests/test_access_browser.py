"""Render the ``cocity access`` reports in headless Chromium: the commuting-circle maps draw one
SVG path per county and the rail links, the life-circle map draws every home and street, in
Chinese and in English, offline, with no console or Content-Security-Policy error."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from cocity.access.life_circles import life_circles
from cocity.access.regional import default_spec
from cocity.data.store import open_store
from cocity.report.access_report import (
    CIRCLE_COLORS,
    Commute,
    build_commute,
    write_commute_outputs,
    write_lifecircle_outputs,
)
from tests.test_access_life_circles import FACILITIES, HOMES, SPEC, grid

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=20000", "--enable-logging=stderr", "--v=0")


@pytest.fixture(scope="module", autouse=True)
def _chromium_present() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is absent (apt-get install chromium fonts-noto-cjk)")


@pytest.fixture(scope="module")
def commute_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Commute, Path]:
    store = open_store()
    try:
        c = build_commute(store, default_spec())
    finally:
        store.close()
    return c, write_commute_outputs(c, tmp_path_factory.mktemp("commute"))["html"]


def _chromium(path: Path, tmp: Path, *args: str, size: str = "1400,6000",
              fragment: str = "") -> tuple[str, str]:
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
    match = re.search(rf'<div id="{fig_id}"[^>]*>', dom)
    assert match, fig_id
    assert 'data-drawn="1"' in match.group(0), f"{fig_id} not drawn"
    end = dom.find('<div id="fig-', match.end())
    return dom[match.start():end if end > 0 else len(dom)]


def _marks(part: str, css_class: str) -> int:
    end = part.find('class="infolayer"')
    area = part[:end if end > 0 else len(part)]
    return len(re.findall(rf'class="{re.escape(css_class)}[" ]', area))


def _legend(part: str) -> list[str]:
    return re.findall(r'class="legendtext"[^>]*>([^<]*)<', part)


def test_commute_maps_are_drawn_in_chinese_then_english(
        commute_page: tuple[Commute, Path], tmp_path: Path) -> None:
    c, path = commute_page
    dom, console = _chromium(path, tmp_path, "--dump-dom")
    _assert_clean_console(console)
    n_units = len(c.geo)
    rail = c.network.edges
    n_links = int(((rail["mode"] == "rail") & (rail["u"] < rail["v"])).sum())
    for fig_id in ("fig-minutes-0", "fig-minutes-1", "fig-circles"):
        part = _figure(dom, fig_id)
        assert _marks(part, "choroplethlocation") == n_units, fig_id
        assert _marks(part, "js-line") == n_links, fig_id
    fills = set(re.findall(r'class="choroplethlocation" fill="([^"]+)"',
                           _figure(dom, "fig-minutes-0")))
    assert len(fills) >= 10  # a colour scale
    counts = c.table["circle"].value_counts()
    legend = _legend(_figure(dom, "fig-circles"))
    assert f"成都 60 分钟通勤圈 ({counts['first']})" in legend, legend
    dom_en, console = _chromium(path, tmp_path, "--dump-dom", fragment="#en")
    _assert_clean_console(console)
    assert re.search(r'<html[^>]*data-lang="en"', dom_en)
    legend = _legend(_figure(dom_en, "fig-circles"))
    assert f"Chongqing 60-minute circle ({counts['second']})" in legend, legend


def test_commute_screenshot_shows_the_circles(commute_page: tuple[Commute, Path],
                                              tmp_path: Path) -> None:
    image_mod = pytest.importorskip("PIL.Image")
    _c, path = commute_page
    png = tmp_path / "commute.png"
    _, console = _chromium(path, tmp_path, f"--screenshot={png}", size="1400,2200")
    _assert_clean_console(console)
    with image_mod.open(png) as im:
        counts = {c: n for n, c in im.convert("RGB").getcolors(maxcolors=1 << 24) or []}

    def rgb_of(hex_color: str) -> tuple[int, ...]:
        return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))

    assert counts.get(rgb_of(CIRCLE_COLORS["first"]), 0) > 1500
    assert counts.get(rgb_of(CIRCLE_COLORS["second"]), 0) > 1500


def test_lifecircle_map_is_drawn(tmp_path: Path) -> None:
    net = grid()
    res = life_circles(net, HOMES, FACILITIES, spec=SPEC)
    path = write_lifecircle_outputs(res, net, tmp_path / "lc", inputs={})["html"]
    dom, console = _chromium(path, tmp_path, "--dump-dom")
    _assert_clean_console(console)
    part = _figure(dom, "fig-homes")
    assert _marks(part, "point") == len(HOMES)
    assert _marks(part, "js-line") == net.n_arcs // 2  # every street, one segment each
    legend = _legend(part)
    assert "甲（300 米）覆盖 (1)" in legend and "任何层级均未覆盖 (3)" in legend, legend
    bars = _figure(dom, "fig-types")
    assert _marks(bars, "point") == len(pd.unique(res.by_type["type"]))
    dom_en, console = _chromium(path, tmp_path, "--dump-dom", fragment="#en")
    _assert_clean_console(console)
    assert "covered at no level (3)" in _legend(_figure(dom_en, "fig-homes"))
