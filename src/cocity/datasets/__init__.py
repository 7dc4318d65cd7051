"""Embedded datasets. ``chengyu`` is the Chengdu–Chongqing Twin-City Economic Circle (the
default); ``china`` is the national base: every province, prefecture and county of China.

Each dataset is a folder of compact package data built by ``build_chengyu.py`` or
``build_china.py``: ``units.csv``, ``indicators.csv``, ``observations.csv`` (gzip-compressed
for ``china``), ``boundaries.geojson`` (GeoParquet ``boundaries.parquet`` for ``china``),
``dataset.yaml`` (name, datum, provenance), plus the sources' license notices in ``NOTICE.md``.

:func:`open_store` is the one way to open data: a workspace folder, or with no argument the
embedded default in memory. It lives here, above the data layer, because only this package
knows the embedded datasets.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from cocity.data.errors import CocityError
from cocity.i18n import t

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from cocity.data.store import Store

DATASETS = ("chengyu", "china")
DEFAULT = "chengyu"


def open_store(workspace: str | Path | None = None, *, read_only: bool = False,
               dataset: str = DEFAULT) -> Store:
    """Open the workspace folder ``workspace``; with ``None``, an in-memory store holding the
    embedded dataset ``dataset`` (default ``chengyu``; ``china`` is the national base).

    ``read_only=True`` is for commands that only read: the file is neither migrated nor
    written, and other processes may read it at the same time. Raises
    :class:`~cocity.data.errors.WorkspaceNotFoundError` for a folder without a workspace,
    :class:`~cocity.data.errors.WorkspaceError` for a locked or damaged one and
    :class:`UnknownDatasetError` for a dataset that is not embedded.
    """
    from cocity.data.store import Store

    if workspace is not None:
        return Store.open(workspace, read_only=read_only)
    dataset_dir(dataset)  # an unknown name fails before any work
    store = Store.open(None)
    load_into(store, dataset)
    return store


class UnknownDatasetError(CocityError, KeyError):
    """No embedded dataset has this name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def dataset_dir(name: str = "chengyu") -> Path:
    if name not in DATASETS:
        raise UnknownDatasetError(t("dataset.unknown", name=name, available=", ".join(DATASETS)))
    return Path(str(resources.files(__package__) / name))


def read_units(name: str = "chengyu") -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(dataset_dir(name) / "units.csv", dtype={"code": str, "parent": str})


def read_indicators(name: str = "chengyu") -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(dataset_dir(name) / "indicators.csv")


def read_observations(name: str = "chengyu") -> pd.DataFrame:
    import pandas as pd

    folder = dataset_dir(name)
    plain = folder / "observations.csv"
    return pd.read_csv(plain if plain.exists() else folder / "observations.csv.gz",
                       dtype={"unit": str})


def read_info(name: str = "chengyu") -> dict[str, object]:
    info: dict[str, object] = yaml.safe_load(
        (dataset_dir(name) / "dataset.yaml").read_text(encoding="utf-8"))
    return info


def read_boundaries(name: str = "chengyu") -> gpd.GeoDataFrame:
    """The boundaries of an embedded dataset (column ``code``, lon/lat in the dataset's datum):
    ``boundaries.geojson``, or ``boundaries.parquet`` (GeoParquet, fast to read) for ``china``."""
    import geopandas as gpd

    folder = dataset_dir(name)
    parquet = folder / "boundaries.parquet"
    if parquet.exists():
        return gpd.read_parquet(parquet)
    return gpd.read_file(folder / "boundaries.geojson")


def load_into(store: Store, name: str = "chengyu") -> None:
    """Load an embedded dataset into ``store`` (units, catalog, observations, boundaries)."""
    info = read_info(name)
    store.add_units(read_units(name), source=f"{name}/units.csv")
    store.add_indicators(read_indicators(name), source=f"{name}/indicators.csv")
    store.add_observations(read_observations(name), replace=True, kind="dataset")
    store.add_geometries(read_boundaries(name), datum=str(info.get("datum", "WGS-84")))
    store.set_meta("dataset", name)
