"""The open-data files of an edition: CSV tables, one workbook, the edition's JSON document, a
data dictionary (every column in both languages with its unit of measure) and ``SHA256SUMS``.

Every file's bytes depend on the edition alone, so republishing leaves them byte-identical:
the CSVs and JSON are deterministic text; the workbook is written by
:func:`cocity.outputs.write_xlsx` and then normalised — its document properties and its ZIP
entries carry the signature's time instead of the time of writing.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from cocity.outputs import dumps, sha256_bytes, write_xlsx

TABLES = ("ranking", "rewards", "rectification", "indicators")
# column → (中文, English, unit zh, unit en)
COLUMNS: dict[str, tuple[str, str, str, str]] = {
    "year": ("评价年度", "evaluation year", "年", "year"),
    "level": ("评价层级（prefecture 地级 / county 县级）", "level (prefecture / county)", "", ""),
    "unit": ("单元代码（GB/T 2260）", "unit code (GB/T 2260)", "", ""),
    "name_zh": ("中文名称", "Chinese name", "", ""),
    "name_en": ("英文名称（汉语拼音）", "English name (Hanyu Pinyin)", "", ""),
    "parent": ("上级单元代码", "parent unit code", "", ""),
    "score": ("综合得分", "composite score", "分（0–100）", "points (0–100)"),
    "score_low": ("得分区间下限（5%）", "score interval, 5th percentile", "分（0–100）",
                  "points (0–100)"),
    "score_high": ("得分区间上限（95%）", "score interval, 95th percentile", "分（0–100）",
                   "points (0–100)"),
    "rank": ("排名", "rank", "名", "place"),
    "rank_low": ("排名区间（最好）", "rank interval, best", "名", "place"),
    "rank_high": ("排名区间（最差）", "rank interval, worst", "名", "place"),
    "grade": ("等级代码（excellent/good/pass/fail）", "grade code (excellent/good/pass/fail)",
              "", ""),
    "grade_zh": ("等级（中文）", "grade in Chinese", "", ""),
    "grade_en": ("等级（英文）", "grade in English", "", ""),
    "uncertain": ("等级不确定（不确定性分析中等级会变化）",
                  "uncertain grade (changes across the uncertainty analysis)", "是/否",
                  "true/false"),
    "previous_score": ("上一版次得分（同口径）", "previous edition's score (like for like)",
                       "分（0–100）", "points (0–100)"),
    "score_change": ("得分变化（同口径）", "score change (like for like)", "分", "points"),
    "change": ("得分变化（同口径）", "score change (like for like)", "分", "points"),
    "score_without_survey": ("不含满意度维度的得分", "score without the satisfaction dimension",
                             "分（0–100）", "points (0–100)"),
    "grade_without_survey": ("不含满意度维度的等级", "grade without the satisfaction dimension",
                             "", ""),
    "simulated_survey": ("满意度维度使用模拟问卷", "satisfaction dimension from a simulated "
                         "survey", "是/否", "true/false"),
    "obstacle_1": ("第一障碍因素（指标代码）", "first obstacle (indicator id)", "", ""),
    "obstacle_2": ("第二障碍因素（指标代码）", "second obstacle (indicator id)", "", ""),
    "obstacle_3": ("第三障碍因素（指标代码）", "third obstacle (indicator id)", "", ""),
    "obstacle_1_pct": ("第一障碍因素的障碍度", "obstacle degree of the first obstacle", "%", "%"),
    "obstacle_2_pct": ("第二障碍因素的障碍度", "obstacle degree of the second obstacle", "%",
                       "%"),
    "obstacle_3_pct": ("第三障碍因素的障碍度", "obstacle degree of the third obstacle", "%", "%"),
    "deadline": ("整改期限", "rectification deadline", "日期（YYYY-MM-DD）", "date (YYYY-MM-DD)"),
    "indicator": ("指标代码", "indicator id", "", ""),
    "dimension": ("所属维度代码", "dimension id", "", ""),
    "dimension_zh": ("所属维度", "dimension (Chinese)", "", ""),
    "direction": ("方向（1 越大越好，-1 越小越好）", "direction (1 more is better, -1 less is "
                  "better)", "", ""),
    "weight": ("框架中的权重", "weight in the framework", "", ""),
    "effective_weight": ("指标在综合得分中的实际权重", "effective weight in the composite score",
                         "比例（合计 1）", "share (sums to 1)"),
    "lower": ("下目标值（映射为 0 分或 100 分）", "lower goalpost", "指标计量单位",
              "the indicator's unit"),
    "upper": ("上目标值", "upper goalpost", "指标计量单位", "the indicator's unit"),
    "data_year": ("数据年份", "data year", "年", "year"),
    "unit_zh": ("指标计量单位（中文）", "indicator's unit of measure (Chinese)", "", ""),
    "unit_en": ("指标计量单位（英文）", "indicator's unit of measure (English)", "", ""),
    "about_zh": ("指标含义与来源（中文）", "what the indicator measures (Chinese)", "", ""),
    "about_en": ("指标含义与来源（英文）", "what the indicator measures (English)", "", ""),
}
DIMENSION_SCORE = re.compile(r"^score_([A-Z][A-Z0-9_]*)$")


def tables(doc: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The edition document (:func:`cocity.publish.api.edition_document`) as flat tables."""
    labels = doc["grade_labels"]
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for lv in doc["levels"]:
        base = {"year": doc["year"], "level": lv["level"]}
        for r in lv["ranking"]:
            flat = {k: v for k, v in r.items() if k not in ("dimensions", "reason_zh",
                                                             "reason_en", "base_grade",
                                                             "grade_low", "grade_high")}
            grade = flat.get("grade")
            flat["grade_zh"] = labels.get(grade, {}).get("zh") if grade else None
            flat["grade_en"] = labels.get(grade, {}).get("en") if grade else None
            for dim, value in r["dimensions"].items():
                flat[f"score_{dim}"] = value
            flat["simulated_survey"] = doc["simulated"]["survey"]
            rows["ranking"].append({**base, **flat})
        rows["rewards"] += [{**base, **r} for r in lv["rewards"]]
        for r in lv["rectification"]:
            flat = {k: v for k, v in r.items() if k not in ("obstacles", "publication_date")}
            for i, ob in enumerate(r["obstacles"], start=1):
                flat[f"obstacle_{i}"] = ob["indicator"]
                flat[f"obstacle_{i}_pct"] = ob["obstacle_pct"]
            rows["rectification"].append({**base, **flat})
        rows["indicators"] += [{**base, **{k: v for k, v in r.items() if k not in (
            "measure", "parameters")}} for r in lv["indicators"]]
    return {name: pd.DataFrame(r) for name, r in rows.items()}


def dictionary(frames: dict[str, pd.DataFrame], dimensions: dict[str, tuple[str, str]],
               files: dict[str, str]) -> pd.DataFrame:
    """One row per column of every CSV: file, column, meaning in both languages and unit."""
    out = []
    for name, frame in frames.items():
        for col in frame.columns:
            if (m := DIMENSION_SCORE.match(str(col))) and str(col) not in COLUMNS:
                zh, en = dimensions.get(m.group(1), (m.group(1), m.group(1)))
                entry = (f"{zh}维度得分", f"{en} dimension score", "分（0–100）",
                         "points (0–100)")
            else:
                entry = COLUMNS[str(col)]
            out.append({"file": files[name], "column": col, "name_zh": entry[0],
                        "name_en": entry[1], "unit_zh": entry[2], "unit_en": entry[3]})
    return pd.DataFrame(out, columns=["file", "column", "name_zh", "name_en", "unit_zh",
                                      "unit_en"])


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _stable_zip(data: bytes, stamp: str) -> bytes:
    """A ZIP (an XLSX) with every entry dated 1980-01-01 and the document properties'
    creation and modification times set to ``stamp`` (ISO, UTC)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", body)
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            out.writestr(entry, body)
    return buf.getvalue()


def xlsx_bytes(sheets: dict[str, pd.DataFrame], stamp: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx(sheets, Path(tmp) / "edition.xlsx")
        return _stable_zip(path.read_bytes(), stamp)


def edition_files(doc: dict[str, Any]) -> dict[str, bytes]:
    """The open-data files of an edition, by file name (``SHA256SUMS`` last)."""
    year = doc["year"]
    frames = tables(doc)
    names = {name: f"{year}-{name}.csv" for name in frames}
    dims = {}
    for lv in doc["levels"]:
        for r in lv["indicators"]:
            dims[r["dimension"]] = (r.get("dimension_zh") or r["dimension"], r["dimension"])
    dic = dictionary(frames, dims, names)
    files: dict[str, bytes] = {names[n]: csv_bytes(f) for n, f in frames.items()}
    files[f"{year}-dictionary.csv"] = csv_bytes(dic)
    stamp = str(doc["edition"]["signed_at"])
    files[f"{year}.xlsx"] = xlsx_bytes({**frames, "dictionary": dic}, stamp)
    files[f"{year}.json"] = dumps(doc).encode("utf-8")
    files["SHA256SUMS"] = "".join(f"{sha256_bytes(b)}  {n}\n"
                                  for n, b in sorted(files.items())).encode("utf-8")
    return files
