"""Static SVG figures (cocity.report.svg) and PDF output (cocity.report.pdf)."""

from __future__ import annotations

import itertools
import math
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from cocity.data.errors import CocityError
from cocity.outputs import OutputError
from cocity.report import pdf as pdfmod
from cocity.report.pdf import PRINT_CSS, PdfRenderError, PdfUnavailableError, write_pdf
from cocity.report.style import NO_DATA_COLOR
from cocity.report.svg import (
    bar_chart_svg,
    choropleth_svg,
    interval_chart_svg,
    line_chart_svg,
    nice_ticks,
    sample_palette,
)

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def units(root: ET.Element) -> list[ET.Element]:
    return [p for p in root.iter(f"{NS}path") if p.get("class") == "unit"]


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter(f"{NS}text")]


def absolute_points(d: str) -> list[list[tuple[float, float]]]:
    """Rings of a path written as ``M x y l dx dy … z`` (what the builder emits), absolute."""
    rings = []
    for sub in re.findall(r"M([^Mz]*)z", d):
        head, _, rel = sub.partition("l")
        nums = [float(v) for v in re.findall(r"-?\d*\.?\d+", head + " " + rel)]
        x, y = nums[0], nums[1]
        ring = [(x, y)]
        for dx, dy in zip(nums[2::2], nums[3::2], strict=True):
            x, y = x + dx, y + dy
            ring.append((round(x, 6), round(y, 6)))
        rings.append(ring)
    return rings


@pytest.fixture()
def toy() -> gpd.GeoDataFrame:
    """Four units: a square with a hole (the enclave inside it is unit D), a two-part unit and
    a unit without geometry, at 30° N."""
    donut = Polygon(box(104, 30, 105, 31).exterior.coords,
                    [box(104.4, 30.4, 104.6, 30.6).exterior.coords])
    two = MultiPolygon([box(105, 30, 105.5, 30.5), box(105, 30.6, 105.5, 31)])
    return gpd.GeoDataFrame(
        {"code": ["A", "B", "C", "D"], "name_zh": ["甲<区>", "乙", "丙", "丁"],
         "name_en": ["A", "B", "C", "D"]},
        geometry=[donut, two, None, box(104.4, 30.4, 104.6, 30.6)], crs="EPSG:4326")


# ---------------------------------------------------------------------- SVG builders
def test_choropleth_categories_paths_fills_holes_legend(toy: gpd.GeoDataFrame) -> None:
    values = pd.Series({"A": "<a&b>", "B": "二", "C": "二"})  # D has no value, C no geometry
    colors = {"<a&b>": "#112233", "二": "#445566"}
    svg = choropleth_svg(toy, values, colors=colors, title="图 <1> & 地图")
    root = parse(svg)
    paths = {p.get("data-code"): p for p in units(root)}
    assert list(paths) == ["A", "B", "D"]  # one path per unit with a geometry, none for C
    assert paths["A"].get("fill") == "#112233"
    assert paths["B"].get("fill") == "#445566"
    assert paths["D"].get("fill") == NO_DATA_COLOR
    assert all(p.get("fill-rule") == "evenodd" for p in paths.values())
    # the hole is a second ring of A, inside the first; B has one ring per part
    ring_a, hole = absolute_points(paths["A"].get("d", ""))
    xs, ys = [x for x, _ in ring_a], [y for _, y in ring_a]
    assert all(min(xs) < x < max(xs) and min(ys) < y < max(ys) for x, y in hole)
    assert len(absolute_points(paths["B"].get("d", ""))) == 2
    # legend: counts of drawn units only, no data, escaped labels come back intact
    labels = texts(root)
    assert "<a&b> (1)" in labels and "二 (1)" in labels and "无数据 (1)" in labels
    assert "图 <1> & 地图" in labels
    assert "<a&b>" not in svg and "&lt;a&amp;b&gt;" in svg
    assert paths["A"].findtext(f"{NS}title") == "甲<区> (A)"
    legend = next(g for g in root.iter(f"{NS}g") if g.get("class") == "legend")
    assert [r.get("fill") for r in legend.iter(f"{NS}rect")] == ["#112233", "#445566",
                                                                NO_DATA_COLOR]


def test_choropleth_auto_colours_for_unlisted_categories(toy: gpd.GeoDataFrame) -> None:
    root = parse(choropleth_svg(toy, pd.Series({"A": "x", "B": "y", "D": "x"}), lang="en"))
    fills = {p.get("data-code"): p.get("fill") for p in units(root)}
    assert fills["A"] == fills["D"] != fills["B"]
    assert NO_DATA_COLOR not in fills.values()
    assert not any("No data" in s for s in texts(root))


def test_choropleth_numbers_in_classes(toy: gpd.GeoDataFrame) -> None:
    values = pd.Series({"A": 0.31, "B": 0.87, "D": 0.55})
    root = parse(choropleth_svg(toy, values, palette=("#000000", "#ffffff"), bins=5,
                                legend_title="得分"))
    fills = {p.get("data-code"): p.get("fill") for p in units(root)}
    # about five classes with round breaks 0.2, 0.4, …, 1: four classes from black to white
    classes = sample_palette(("#000000", "#ffffff"), 4)
    assert classes == ["#000000", "#555555", "#aaaaaa", "#ffffff"]
    assert fills == {"A": classes[0], "B": classes[3], "D": classes[1]}
    labels = texts(root)
    assert labels[0] == "得分"
    assert labels[1:] == ["0.2 – 0.4 (1)", "0.4 – 0.6 (1)", "0.6 – 0.8 (0)", "0.8 – 1 (1)"]
    explicit = parse(choropleth_svg(toy, values, bins=[0, 0.5, 1], palette=("#000000", "#ffffff")))
    assert {p.get("fill") for p in units(explicit)} == {"#000000", "#ffffff"}


def test_choropleth_highlight_legend_override_and_projection(toy: gpd.GeoDataFrame) -> None:
    values = pd.Series({"A": "p", "B": "q", "D": "p"})
    svg = choropleth_svg(toy, values, colors={"p": "#010101", "q": "#020202"},
                         legend=[("自定义", "#abcdef")], highlight=["B"], highlight_label="模拟",
                         width=500, title=None)
    root = parse(svg)
    assert [s for s in texts(root)] == ["自定义", "模拟"]
    high = next(g for g in root.iter(f"{NS}g") if g.get("class") == "highlight")
    assert len(list(high)) == 1
    # equirectangular scaled by cos(30.5°): the 1.5° × 1° extent keeps its ground proportions
    pts = [pt for p in units(root) for ring in absolute_points(p.get("d", "")) for pt in ring]
    w = max(x for x, _ in pts) - min(x for x, _ in pts)
    h = max(y for _, y in pts) - min(y for _, y in pts)
    assert w / h == pytest.approx(1.5 * math.cos(math.radians(30.5)), rel=0.01)
    assert float(root.get("width", 0)) == 500
    assert "图" not in "".join(texts(parse(choropleth_svg(toy, values, legend=None))))
    with pytest.raises(ValueError, match="duplicate"):
        choropleth_svg(toy, pd.Series([1.0, 2.0], index=["A", "A"]))


def test_county_map_size_and_simplification() -> None:
    from cocity.datasets import open_store

    store = open_store()
    geo, pref = store.geodata(level="county"), store.geodata(level="prefecture")
    svg = choropleth_svg(geo, geo.set_index("code")["membership"], outline=pref,
                         title="成渝地区双城经济圈")
    root = parse(svg)
    assert len(units(root)) == int(geo.geometry.notna().sum()) > 150
    assert len(svg.encode()) < 300_000


def test_interval_chart() -> None:
    labels = ["成都市", "重庆市", "A<&>B"]
    svg = interval_chart_svg(labels, [2, 1, np.nan], [1, 1, 2], [4, 2, 3],
                             colors=["#aa0000", "#00aa00", "#0000aa"], axis_title="排名 & 区间",
                             reference=2.5)
    root = parse(svg)
    assert texts(root)[-3:] == labels
    assert "排名 & 区间" in texts(root)
    dots = list(root.iter(f"{NS}circle"))
    assert [c.get("fill") for c in dots] == ["#aa0000", "#00aa00"]  # no dot for the NaN value
    whiskers = [p for p in root.iter(f"{NS}path") if p.get("class") == "whisker"]
    assert len(whiskers) == 3
    # the dot lies on its whisker: value 2 between 1 and 4
    x0, x1 = (float(v) for v in re.findall(r"M(-?[\d.]+) [\d.]+H(-?[\d.]+)",
                                           whiskers[0].get("d", ""))[0])
    assert x0 < float(dots[0].get("cx", 0)) < x1
    assert (float(dots[0].get("cx", 0)) - x0) / (x1 - x0) == pytest.approx(1 / 3, abs=0.01)
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        interval_chart_svg(labels, [1, 2], [1, 2], [1, 2])


def test_bar_chart() -> None:
    svg = bar_chart_svg(["甲", "乙"], {"公共服务": [0.5, -0.25], "交通 <&>": [1.0, np.nan]},
                        colors={"公共服务": "#123456"}, axis_title="得分", show_values=True)
    root = parse(svg)
    bars = [r for r in root.iter(f"{NS}rect") if r.get("class") == "bar"]
    assert [b.get("data-series") for b in bars] == ["公共服务", "交通 <&>", "公共服务"]
    assert bars[0].get("fill") == "#123456" and bars[1].get("fill") != "#123456"
    x = [float(b.get("x", 0)) for b in bars]
    w = [float(b.get("width", 0)) for b in bars]
    zero = x[0]
    assert x[1] == zero and x[2] < zero and x[2] + w[2] == pytest.approx(zero, abs=0.1)
    assert w[1] == pytest.approx(2 * w[0], abs=0.2) and w[2] == pytest.approx(w[0] / 2, abs=0.2)
    assert {"公共服务", "交通 <&>", "-0.25"} <= set(texts(root))


def test_line_chart() -> None:
    """Lines break at missing values, markers sit on their values, long category axes are
    thinned to at most `max_labels` labels, the last always shown."""
    labels = [f"2024Q{i % 4 + 1}-{i}" for i in range(30)]
    vals = [float(i) for i in range(30)]
    gappy = [np.nan if i in (10, 11) else 50.0 for i in range(30)]
    root = parse(line_chart_svg(labels, {"登记": vals, "解决率 <&>": gappy}, domain=(0, 100),
                                axis_title="%", max_labels=6))
    lines = [p for p in root.iter(f"{NS}polyline") if p.get("class") == "line"]
    assert [p.get("data-series") for p in lines] == ["登记", "解决率 <&>", "解决率 <&>"]
    assert [len(p.get("points", "").split()) for p in lines] == [30, 10, 18]
    dots = [c for c in root.iter(f"{NS}circle") if c.get("data-series") == "登记"]
    ys = [float(c.get("cy", 0)) for c in dots]
    assert ys == sorted(ys, reverse=True)  # rising values are drawn higher
    shown = [e.text for e in root.iter(f"{NS}text") if e.get("class") == "x-label"]
    assert len(shown) <= 7 and shown[0] == labels[0] and shown[-1] == labels[-1]
    xs = [float(e.get("x", 0)) for e in root.iter(f"{NS}text") if e.get("class") == "x-label"]
    assert min(b - a for a, b in itertools.pairwise(xs)) > 40  # no overlapping labels


def test_nice_ticks() -> None:
    assert nice_ticks(0.31, 0.87) == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0.31, 0.87, 10) == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert nice_ticks(1, 16) == [0, 5, 10, 15, 20]
    assert nice_ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(5, 5)[0] < 5 < nice_ticks(5, 5)[-1]


# ---------------------------------------------------------------------- PDF
SICHUAN, CHONGQING = "#e6550d", "#3182bd"
HEADING = "成渝地区公共服务评估报告"


def require_poppler() -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is absent (apt-get install poppler-utils)")


def run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cocity.datasets import open_store

    geo = open_store().geodata(level="county")
    values = pd.Series(np.where(geo["code"].str.startswith("50"), "重庆", "四川"),
                       index=geo["code"])
    values = values.drop("510104")  # one unit without a value: grey
    svg = choropleth_svg(geo, values, colors={"四川": SICHUAN, "重庆": CHONGQING},
                         title="县级单元")
    rows = "".join(f"<tr><td>{n}</td><td class='num'>{i}</td></tr>"
                   for i, n in enumerate(geo["name_zh"].head(40)))
    page = (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
            f"<style>{PRINT_CSS}</style></head><body><h1>{HEADING}</h1>"
            f"<figure>{svg}<figcaption>图 1　四川与重庆</figcaption></figure>"
            f"<h2>附表</h2><table><thead><tr><th>单元</th><th class='num'>序号</th></tr>"
            f"</thead><tbody>{rows}</tbody></table></body></html>")
    out = tmp_path_factory.mktemp("pdf") / "report.pdf"
    assert write_pdf(page, out) == out
    return out


def test_pdf_fonts_embedded(report_pdf: Path) -> None:
    require_poppler()
    rows = run("pdffonts", str(report_pdf)).splitlines()[2:]
    assert rows
    assert any(re.match(r"\S*Noto-?Sans-?CJK", r) for r in rows), rows
    for row in rows:
        assert "Type 3" not in row, row
        flags = re.search(r"\s(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", row)
        assert flags and flags.group(1) == "yes", row  # embedded
    info = run("pdfinfo", str(report_pdf))
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 2  # type: ignore[union-attr]


def test_pdf_text_comes_back(report_pdf: Path) -> None:
    require_poppler()
    text = run("pdftotext", "-layout", str(report_pdf), "-")
    assert HEADING in text
    assert "县级单元" in text and "四川" in text and "无数据 (1)" in text  # SVG text
    assert "附表" in text and "万州区" in text
    pages = text.count("\f")
    for page in range(1, pages + 1):  # page numbers from @page: "1 / 2", "2 / 2"
        assert re.search(rf"\b{page}\s*/\s*{pages}\b", text), page


def test_pdf_page_one_shows_the_map(report_pdf: Path, tmp_path: Path) -> None:
    require_poppler()
    from PIL import Image

    run("pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(report_pdf),
        str(tmp_path / "page"))
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    px = np.asarray(image).astype(int)
    assert (px.sum(axis=2) < 600).mean() > 0.05  # not blank

    def where(color: str) -> np.ndarray:
        rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])
        return np.argwhere(np.abs(px - rgb).max(axis=2) <= 8)

    sichuan, chongqing, grey = where(SICHUAN), where(CHONGQING), where(NO_DATA_COLOR)
    assert len(sichuan) > 3000 and len(chongqing) > 1000 and len(grey) > 20
    # the fills are in the map, below the heading, Sichuan west of Chongqing
    assert sichuan[:, 0].min() > 0.1 * px.shape[0]
    assert np.median(sichuan[:, 1]) < np.median(chongqing[:, 1])


def test_pdf_holes_stay_empty(toy: gpd.GeoDataFrame, tmp_path: Path) -> None:
    require_poppler()
    from PIL import Image

    svg = choropleth_svg(toy.iloc[:1], pd.Series({"A": "x"}), colors={"x": "#ff0000"},
                         legend=None, width=400)
    out = write_pdf(f"<html><body style='margin:0'>{svg}</body></html>", tmp_path / "h.pdf")
    run("pdftoppm", "-r", "72", "-png", "-singlefile", str(out), str(tmp_path / "h"))
    px = np.asarray(Image.open(tmp_path / "h.png").convert("RGB")).astype(int)
    red = np.argwhere((px[:, :, 0] > 200) & (px[:, :, 1] < 60) & (px[:, :, 2] < 60))
    (top, left), (bottom, right) = red.min(axis=0), red.max(axis=0)
    cy, cx = (top + bottom) // 2, (left + right) // 2
    assert tuple(px[cy, cx]) == (255, 255, 255)  # the hole
    ring = px[top + 5, left + 5]
    assert ring[0] > 200 and ring[1] < 60 and ring[2] < 60  # the ring around it is filled


def test_write_pdf_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.pdf"
    target.write_bytes(b"old")
    import weasyprint

    def broken(self: object, *args: object, **kwargs: object) -> None:
        fh = args[0]
        fh.write(b"%PDF-half")  # type: ignore[attr-defined]
        raise RuntimeError("layout failed")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    with pytest.raises(PdfRenderError, match="layout failed") as info:
        write_pdf("<p>中文</p>", target)
    assert isinstance(info.value, CocityError)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pdf"]
    monkeypatch.undo()

    # a directory in the way: the rename fails after a full write, the temp file goes too
    (tmp_path / "dir.pdf").mkdir()
    with pytest.raises(OutputError, match=r"dir\.pdf"):
        write_pdf("<p>中文</p>", tmp_path / "dir.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.pdf", "out.pdf"]

    write_pdf("<p>中文</p>", target)
    assert target.read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.pdf", "out.pdf"]
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_missing_weasyprint_is_a_clear_error(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import raises ImportError
    with pytest.raises(PdfUnavailableError, match="pip install") as info:
        write_pdf("<p>x</p>", tmp_path / "x.pdf")
    message = str(info.value)
    assert isinstance(info.value, CocityError)
    assert "pip install" in message and "libpango-1.0-0" in message
    assert "请安装" in message and "install WeasyPrint" in message
    assert list(tmp_path.iterdir()) == []


def test_no_network_urls(tmp_path: Path) -> None:
    fetch = pdfmod.offline_url_fetcher()
    for url in ("https://example.com/font.woff2", "http://127.0.0.1:9/x.css",
                "ftp://example.com/x"):
        with pytest.raises(ValueError, match="protocol"):
            fetch(url)
    got = fetch("data:text/plain,hi")
    assert (got["string"] if isinstance(got, dict) else got.read()) == b"hi"
    # a page that links remote resources still renders, without them
    page = ("<html><head><link rel='stylesheet' href='http://127.0.0.1:9/x.css'></head>"
            "<body><img src='https://127.0.0.1:9/x.png'><p>中文</p></body></html>")
    assert write_pdf(page, tmp_path / "n.pdf").stat().st_size > 500


def test_base_url_resolves_local_files(toy: gpd.GeoDataFrame, tmp_path: Path) -> None:
    require_poppler()
    from PIL import Image

    svg = choropleth_svg(toy.iloc[:1], pd.Series({"A": "x"}), colors={"x": "#00ff00"},
                         legend=None, width=300)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "map.svg").write_text(svg, encoding="utf-8")
    page = "<html><body><p>图</p><img src='assets/map.svg'></body></html>"
    out = write_pdf(page, tmp_path / "out" / "b.pdf", base_url=tmp_path)
    run("pdftoppm", "-r", "40", "-png", "-singlefile", str(out), str(tmp_path / "b"))
    px = np.asarray(Image.open(tmp_path / "b.png").convert("RGB")).astype(int)
    green = (px[:, :, 1] > 200) & (px[:, :, 0] < 60) & (px[:, :, 2] < 60)
    assert green.sum() > 100


def test_pdf_possible_says_why_not(monkeypatch: pytest.MonkeyPatch) -> None:
    import cocity.report.pdf as pdfmod

    warnings: list[str] = []
    assert pdfmod.pdf_possible(False, warnings) is False and warnings == []
    monkeypatch.setattr(pdfmod, "cjk_font_count", lambda: 0)
    assert pdfmod.pdf_possible(True, warnings) is False
    assert len(warnings) == 1 and "font" in warnings[0].lower()
    monkeypatch.setattr(pdfmod, "cjk_font_count", lambda: 3)
    assert pdfmod.pdf_possible(True, warnings) is True and len(warnings) == 1


def test_inline_svgs_become_images_of_the_same_svg(toy: gpd.GeoDataFrame) -> None:
    import base64

    from cocity.report.pdf import svg_as_images

    svg = choropleth_svg(toy, pd.Series({"A": "x"}), title="图 & map")
    bare = '<svg width="10" height="10"><rect width="5" height="5"/></svg>'
    page = f"<p>before</p><figure>{svg}</figure><div>{bare}</div><p>after &amp; done</p>"
    out = svg_as_images(page)
    images = re.findall(r'<img([^>]*) alt="([^"]*)" src="data:image/svg\+xml;base64,([^"]+)">',
                        out)
    assert len(images) == 2 and "<svg" not in out
    assert out.startswith("<p>before</p><figure><img") and out.endswith(
        "</div><p>after &amp; done</p>")
    (cls, alt, data), (cls2, alt2, data2) = images
    assert base64.b64decode(data).decode() == svg
    assert cls == ' class="cocity-figure cocity-map"' and alt == "图 &amp; map"
    assert base64.b64decode(data2).decode() == bare.replace(
        "<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
    assert cls2 == "" and alt2 == ""
    assert svg_as_images("<p>no figure</p>") == "<p>no figure</p>"
