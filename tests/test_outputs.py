"""The low-level outputs module: atomic writes, hashes, writers, manifests and their check."""

from __future__ import annotations

import errno
import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from cocity import outputs
from cocity.outputs import (
    OutputError,
    dumps,
    manifest,
    sha256_file,
    verify_outputs,
    write_atomic,
    write_csv,
    write_gpkg,
    write_json,
    write_xlsx,
)


def test_text_and_bytes_are_written_and_hashed(tmp_path: Path) -> None:
    a = write_atomic("中文\n", tmp_path / "sub" / "a.txt")
    b = write_atomic(b"\x00\x01", tmp_path / "b.bin")
    assert a.read_bytes() == "中文\n".encode()
    assert b.read_bytes() == b"\x00\x01"
    big = write_atomic(bytes(range(256)) * 12289, tmp_path / "big.bin")  # > 3 chunks of 1 MiB
    for path in (b, big):
        assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("code", "label"), [(errno.ENOSPC, "磁盘已满"),
                                              (errno.EACCES, "没有写入权限")])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, label: str) -> None:
    monkeypatch.delenv("COCITY_LANG", raising=False)
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")

    def refuse(*_args: object) -> None:
        raise OSError(code, "refused by the test")

    monkeypatch.setattr(outputs.os, "replace", refuse)
    with pytest.raises(OutputError, match=label):
        write_atomic("new", target)
    with pytest.raises(OutputError, match=r"evaluation\.xlsx"):
        write_xlsx({"a": pd.DataFrame({"x": [1]})}, tmp_path / "evaluation.xlsx")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_an_exception_inside_the_block_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="stop"), outputs.atomic_output(tmp_path / "x.csv") as fh:
        fh.write("half")
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_csv_is_byte_stable_and_json_plain(tmp_path: Path) -> None:
    frame = pd.DataFrame({"unit": ["510100"], "score": [1.5]})
    p = write_csv(frame, tmp_path / "t.csv")
    assert p.read_bytes() == b"unit,score\n510100,1.5\n"
    j = write_json({"a": np.int64(3), "b": float("nan"), "c": (1, 2), "d": {2, 1}},
                   tmp_path / "t.json")
    assert json.loads(j.read_text(encoding="utf-8")) == {"a": 3, "b": None, "c": [1, 2],
                                                          "d": [1, 2]}
    assert dumps({"名": "成都"}).startswith('{\n  "名": "成都"')


def test_workbook_formats_and_widths(tmp_path: Path) -> None:
    frame = pd.DataFrame({"名称": ["成都市", "重庆市"], "得分": [81.2345, 70.5]})
    p = write_xlsx({"排名": frame}, tmp_path / "w.xlsx", number_formats={"排名": {"得分": "0.0"}})
    ws = openpyxl.load_workbook(p)["排名"]
    assert [c.value for c in ws[1]] == ["名称", "得分"]
    assert ws["B2"].number_format == "0.0" and ws["B2"].value == pytest.approx(81.2345)
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width >= 8  # three CJK characters take six columns


def test_workbook_cells_are_typed_as_pandas_writes_them(tmp_path: Path) -> None:
    import datetime as dt
    import decimal

    frame = pd.DataFrame({
        "n": [1, 2.5, float("nan")], "b": [True, False, None],
        "x": [float("inf"), -float("inf"), decimal.Decimal("1.25")],
        "d": [dt.date(2021, 6, 30), dt.datetime(2021, 6, 30, 8, 15), pd.NaT],
        "s": ["文本", "", None]}, index=pd.Index(["a", "b", "c"], name="unit"))
    p = write_xlsx({"t": frame}, tmp_path / "t.xlsx", index={"t": True})
    ws = openpyxl.load_workbook(p)["t"]
    assert [c.value for c in ws[1]] == ["unit", "n", "b", "x", "d", "s"]
    assert [c.value for c in ws[2]][:4] == ["a", 1, True, "inf"]
    assert [c.value for c in ws[3]][2:4] == [False, "-inf"]
    assert ws["B4"].value is None and ws["C4"].value is None and ws["D4"].value == 1.25
    assert ws["E2"].value == dt.datetime(2021, 6, 30) and ws["E2"].number_format == "yyyy-mm-dd"
    assert ws["E3"].value == dt.datetime(2021, 6, 30, 8, 15) and ws["E4"].value is None
    assert ws["F2"].value == "文本" and ws["F4"].value is None
    assert ws.freeze_panes == "B2"


def test_a_workbook_that_cannot_be_stored_is_an_output_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xlsxwriter.workbook

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "_store_workbook", full)
    with pytest.raises(OutputError, match=r"w\.xlsx"):
        write_xlsx({"a": pd.DataFrame({"x": [1]})}, tmp_path / "w.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_geopackage_layers(tmp_path: Path) -> None:
    layer = gpd.GeoDataFrame({"code": ["a"], "v": [np.inf]},
                             geometry=[shapely.Point(104, 30)], crs="EPSG:4326")
    p = write_gpkg({"pts": layer}, tmp_path / "l.gpkg")
    back = gpd.read_file(p, layer="pts")
    assert back["code"].tolist() == ["a"] and back["v"].isna().all()


def test_manifest_lists_outputs_and_verify_finds_edits(tmp_path: Path) -> None:
    a = write_atomic("a\n", tmp_path / "tables" / "a.csv")
    b = write_atomic("b\n", tmp_path / "b.json")
    doc = manifest("test", outputs={"a": a, "b": b}, root=tmp_path,
                   provenance={"workspace": None, "user_data": False}, config={"seed": 1},
                   units=3)
    assert doc["outputs"]["a"] == {"file": "tables/a.csv", "bytes": 2,
                                   "sha256": sha256_file(a)}
    assert doc["provenance"]["user_data"] is False and doc["units"] == 3
    assert verify_outputs(doc, tmp_path) == []
    with a.open("a", encoding="utf-8") as fh:
        fh.write("appended\n")
    b.unlink()
    assert verify_outputs(doc, tmp_path) == [("tables/a.csv", "changed"), ("b.json", "missing")]
