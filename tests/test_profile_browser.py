"""Render the HTML data profile in headless Chromium: the maps are drawn, offline, in both
languages, with no console error (the page's Content-Security-Policy forbids every request)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cocity.data.store import Store
from cocity.datasets import dataset_dir, open_store
from cocity.report import Profile, build_profile, render_profile_html
from cocity.report.style import MEMBERSHIP_COLORS
from tests.chromium import assert_clean_console, require_chromium, run_chromium
from tests.test_profile import _workspace

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Profile, Path]:
    require_chromium()
    if (dataset_dir() / "observations.csv").exists():
        store = open_store()
    else:  # without the embedded dataset: the hand-made test workspace
        store = Store.open(_workspace(tmp_path_factory.mktemp("ws")))
    profile = build_profile(store)
    path = render_profile_html(profile, tmp_path_factory.mktemp("report") / "profile.html")
    return profile, path




def _legend(dom: str, fig_id: str) -> list[str]:
    """Legend entries drawn by plotly in the figure ``fig_id``."""
    start = dom.index(f'id="{fig_id}"')
    end = dom.find("</section>", start)
    return re.findall(r'class="legendtext"[^>]*>([^<]*)<', dom[start:end])




def test_maps_are_drawn_in_chinese_then_english(report: tuple[Profile, Path],
                                                tmp_path: Path) -> None:
    profile, path = report
    dom, console = run_chromium(path, tmp_path, "--dump-dom", size="1400,2400", budget_ms=15000)
    assert_clean_console(console)
    for fig_id in ("fig-membership", "fig-choropleth"):
        assert re.search(rf'id="{fig_id}"[^>]*data-drawn="1"', dom), fig_id
    # One SVG path per drawn unit (plus prefecture outlines on county maps).
    n_units = len(profile.membership) + len(profile.choropleth.values)
    assert dom.count('class="choroplethlocation"') >= n_units
    legend = _legend(dom, "fig-membership")
    assert any(x.startswith("全域纳入") for x in legend), legend
    assert not any(x.startswith("Full member") for x in legend)
    fills = set(re.findall(r'class="choroplethlocation" fill="([^"]+)"',
                           dom[dom.index('id="fig-choropleth"'):]))
    assert len(fills) >= 3  # a colour scale, not one flat colour

    dom_en, console = run_chromium(path, tmp_path, "--dump-dom", fragment="#en",
                                   size="1400,2400", budget_ms=15000)
    assert_clean_console(console)
    assert re.search(r'<html[^>]*data-lang="en"', dom_en)
    legend = _legend(dom_en, "fig-membership")
    assert any(x.startswith("Full member") for x in legend), legend
    assert not any(x.startswith("全域纳入") for x in legend)


def test_screenshot_shows_the_membership_map(report: tuple[Profile, Path],
                                             tmp_path: Path) -> None:
    from PIL import Image as image_mod  # in the test extra: missing, the test fails
    _profile, path = report
    png = tmp_path / "profile.png"
    _, console = run_chromium(path, tmp_path, f"--screenshot={png}", size="1400,2400",
                              budget_ms=15000)
    assert_clean_console(console)
    assert png.exists()
    with image_mod.open(png) as im:
        rgb = im.convert("RGB")
        assert rgb.size == (1400, 2400)
        full = tuple(int(MEMBERSHIP_COLORS["full"][i:i + 2], 16) for i in (1, 3, 5))
        colors = rgb.getcolors(maxcolors=1 << 24) or []
        counts = {c: n for n, c in colors}
    # The map region is not blank: thousands of pixels in the "full member" colour.
    assert counts.get(full, 0) > 5000
