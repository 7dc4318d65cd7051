"""Readers and recipes shared by the dataset builds (``build_chengyu``, ``build_china``).

Build-time only (pandas, shapely, pypinyin): nothing here is imported when a dataset is loaded.
Each function is the one place of its rule, so that the two builds compute every indicator,
English name and boundary the same way:

- :func:`read_census` reads a census workbook of Dong, Du & Liu (2022) with clean headers;
- :func:`recipe` turns an indicator recipe of ``indicators.yaml`` into a function of the source
  rows of one unit (``count``: sum of columns; ``ratio``: 100 × Σ numerators / denominator,
  recomputed after merging; ``value``/``weight``: the published value, or the weight-weighted
  mean over merged rows);
- :func:`name_en` gives the Hanyu Pinyin name with the hand-kept overrides and suffixes;
- :func:`simplify_coverage` simplifies one level of boundaries with ``shapely.coverage_simplify``
  (shared edges stay shared: no gaps or overlaps appear between neighbours) and rounds the
  coordinates;
- :func:`write_tables` / :func:`write_notice` write the package files deterministically.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import yaml

SIMPLIFY_TOLERANCE = 0.004  # degrees (≈ 400 m): enough for county-level maps
COORD_PRECISION = 1e-4      # degrees (≈ 10 m)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def read_census(path: Path, code_col: str) -> pd.DataFrame:
    """Census workbook with clean headers, codes as strings and 巿 (U+5DFF) read as 市."""
    df = pd.read_excel(path, dtype=str)
    df.columns = [str(c).replace("\n", "").strip() for c in df.columns]
    df = df[df[code_col].notna()].copy()
    df["code"] = df[code_col].str.strip()
    return df.set_index("code", drop=False)


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col.startswith("#"):
        col = frame.columns[int(col[1:])]
    return pd.to_numeric(frame[col], errors="coerce")


def recipe(rule: dict[str, Any]) -> Callable[[pd.DataFrame], float]:
    """A function computing one indicator value from the source rows of one unit."""
    if "count" in rule:
        cols = rule["count"]
        return lambda rows: float(sum(_num(rows, c).sum(min_count=1) for c in cols))
    if "ratio" in rule:
        nums, den = rule["ratio"]
        return lambda rows: float(
            100.0 * sum(_num(rows, c).sum(min_count=1) for c in nums)
            / _num(rows, den).sum(min_count=1))
    col, weight = rule["value"], rule["weight"]

    def weighted(rows: pd.DataFrame) -> float:
        v, w = _num(rows, col), _num(rows, weight)
        if len(rows) == 1:
            return float(v.iloc[0])
        ok = v.notna() & w.notna()
        return float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float("nan")

    return weighted


def recipe_rows(rule: dict[str, Any]) -> Callable[[pd.DataFrame], np.ndarray]:
    """The same rule as :func:`recipe`, vectorised: one value per row of ``frame``, each row a
    unit of its own (the floating-point operations are those of :func:`recipe` on one row, so
    the values are identical)."""
    def col(frame: pd.DataFrame, name: str) -> np.ndarray:
        return _num(frame, name).to_numpy(dtype=float)

    if "count" in rule:
        cols = rule["count"]
        return lambda frame: sum((col(frame, c) for c in cols), start=np.zeros(len(frame)))
    if "ratio" in rule:
        nums, den = rule["ratio"]
        return lambda frame: (
            100.0 * sum((col(frame, c) for c in nums), start=np.zeros(len(frame)))
            / col(frame, den))
    return lambda frame: col(frame, rule["value"])


def round_values(obs: pd.DataFrame, spec: list[dict[str, Any]]) -> pd.DataFrame:
    """Drop non-finite values, round (counts to integers, the rest to 4 decimals), flag real."""
    obs = obs[np.isfinite(obs.value)].copy()
    kinds = {i["id"]: i["value_kind"] for i in spec}
    obs["value"] = [round(v) if kinds[i] == "count" else round(v, 4)
                    for v, i in zip(obs.value, obs.indicator, strict=True)]
    obs["imputed"] = False
    obs["simulated"] = False
    return obs.sort_values(["unit", "year", "indicator"]).reset_index(drop=True)


def pinyin(base: str, overrides: dict[str, str],
           readings: dict[str, str] | None = None) -> str:
    """Hanyu Pinyin of a place name: the hand-kept override of the whole name if any, else
    pypinyin's syllables. With ``readings`` (character → syllable: the reading a character takes
    in place names, e.g. 都 du, 长 chang), those characters take that syllable, and a syllable
    starting with a, o or e after another gets the apostrophe of the Pinyin rules (Chang'an),
    and ü is written ü (pypinyin writes v)."""
    if base in overrides:
        return overrides[base]
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(base)
    if readings is None:
        return "".join(syllables).capitalize()
    if len(syllables) == len(base):
        syllables = [readings.get(ch, syl) for ch, syl in zip(base, syllables, strict=True)]
    text = syllables[0] + "".join(
        ("'" + syl if syl[:1] in ("a", "o", "e") else syl) for syl in syllables[1:])
    return text.replace("v", "ü").capitalize()


def name_en(name_zh: str, level: str, names: dict[str, Any]) -> str:
    """English name: pinyin of the name without its suffix, then the English suffix."""
    over, readings = names["pinyin_overrides"], names.get("readings")
    if level == "prefecture" and name_zh.endswith("市"):
        return pinyin(name_zh.removesuffix("市"), over, readings)
    for zh_suffix, en_suffix in names["suffixes"]:
        if name_zh.endswith(zh_suffix) and len(name_zh) > len(zh_suffix):
            return pinyin(name_zh[: -len(zh_suffix)], over, readings) + en_suffix
    return pinyin(name_zh, over, readings)


def indicator_frame(spec: list[dict[str, Any]], sources: dict[str, Any]) -> pd.DataFrame:
    """The catalog table (``indicators.csv``) of the recipes in ``spec``."""
    cat = pd.DataFrame(spec)
    cat["source"] = [
        sources["census"]["label"] if "census" in s else sources["yearbook"]["label"] for s in spec]
    cat["license"] = [
        sources["census"]["license"] if "census" in s else sources["yearbook"]["license"]
        for s in spec]
    cols = ["id", "name_zh", "name_en", "unit_zh", "unit_en", "direction", "value_kind",
            "definition_zh", "definition_en", "source", "license"]
    return cat[cols]


def simplify_coverage(
    codes: Sequence[str], geoms: Sequence[Any], *, tolerance: float = SIMPLIFY_TOLERANCE,
) -> tuple[list[dict[str, Any]], dict[str, tuple[float, float]]]:
    """GeoJSON features of one level of units, simplified as a coverage, and each unit's
    representative point (taken on the full-resolution geometry, rounded to 1e-5°)."""
    valid = [shapely.make_valid(g) for g in geoms]
    points = {}
    for c, g in zip(codes, valid, strict=True):
        p = g.representative_point()
        points[c] = (round(p.x, 5), round(p.y, 5))
    simple = shapely.coverage_simplify(np.array(valid), tolerance)
    simple = shapely.make_valid(shapely.set_precision(simple, COORD_PRECISION))
    features = [{"type": "Feature", "properties": {"code": c},
                 "geometry": json.loads(shapely.to_geojson(g))}
                for c, g in zip(codes, simple, strict=True)]
    return features, points


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_tables(out: Path, units: pd.DataFrame, catalog: pd.DataFrame,
                 obs: pd.DataFrame) -> None:
    """``units.csv``, ``indicators.csv`` and ``observations.csv`` with LF line ends."""
    out.mkdir(parents=True, exist_ok=True)
    units.to_csv(out / "units.csv", index=False, lineterminator="\n")
    catalog.to_csv(out / "indicators.csv", index=False, lineterminator="\n")
    obs.to_csv(out / "observations.csv", index=False, lineterminator="\n")


def write_info(out: Path, info: dict[str, Any]) -> None:
    (out / "dataset.yaml").write_text(
        yaml.safe_dump(info, allow_unicode=True, sort_keys=False), encoding="utf-8")


def write_notice(out: Path, head: Path, source: Path, folders: Sequence[str],
                 extra: dict[str, str] | None = None) -> None:
    """``NOTICE.md``: the hand-kept head, then each source folder's license verbatim."""
    notice = [head.read_text(encoding="utf-8")]
    licenses = {f: (source / f / "LICENSE").read_text(encoding="utf-8") for f in folders}
    licenses.update(extra or {})
    for folder, text in licenses.items():
        notice.append(f"\n## {folder}\n\n```\n" + text.strip() + "\n```\n")
    (out / "NOTICE.md").write_text("".join(notice), encoding="utf-8")


def default_source(here: Path) -> Path:
    """``shared/data`` beside the repository (the layout of a developer's machine and CI)."""
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("shared/data not found; pass --source")
