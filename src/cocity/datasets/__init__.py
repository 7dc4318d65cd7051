"""Embedded datasets. ``chengyu`` is the Chengdu–Chongqing Twin-City Economic Circle.

Each dataset is a folder of compact package data built by ``scripts/build_chengyu.py``:
``units.csv``, ``indicators.csv``, ``observations.csv``, ``boundaries.geojson`` and
``dataset.yaml`` (name, datum, provenance), plus the sources' license notices in ``NOTICE.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import yaml

if TYPE_CHECKING:
    from cocity.data.store import Store

DATASETS = ("chengyu",)


def dataset_dir(name: str = "chengyu") -> Path:
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
    return Path(str(resources.files(__package__) / name))


def read_units(name: str = "chengyu") -> pd.DataFrame:
    return pd.read_csv(dataset_dir(name) / "units.csv", dtype={"code": str, "parent": str})


def read_indicators(name: str = "chengyu") -> pd.DataFrame:
    return pd.read_csv(dataset_dir(name) / "indicators.csv")


def read_observations(name: str = "chengyu") -> pd.DataFrame:
    return pd.read_csv(dataset_dir(name) / "observations.csv", dtype={"unit": str})


def read_info(name: str = "chengyu") -> dict[str, object]:
    info: dict[str, object] = yaml.safe_load(
        (dataset_dir(name) / "dataset.yaml").read_text(encoding="utf-8"))
    return info


def load_into(store: Store, name: str = "chengyu") -> None:
    """Load an embedded dataset into ``store`` (units, catalog, observations, boundaries)."""
    import geopandas as gpd

    folder = dataset_dir(name)
    info = read_info(name)
    store.add_units(read_units(name), source=f"{name}/units.csv")
    store.add_indicators(read_indicators(name), source=f"{name}/indicators.csv")
    store.add_observations(read_observations(name), replace=True, kind="dataset")
    geo = gpd.read_file(folder / "boundaries.geojson")
    store.add_geometries(geo, datum=str(info.get("datum", "WGS-84")))
    store.set_meta("dataset", name)
