"""The evaluation framework of a cluster workspace: the shipped default
(``chengyu_public_services``) renamed for the cluster, without the indicators whose data the
national base lacks for it.

An indicator (a leaf) is left out when, in the framework's evaluation year, fewer than
``MIN_COVERAGE`` (half) of the cluster's member units at the level where its input is
published have a value of one of its inputs — e.g. hospital beds per 1,000 comes from the 2019
city yearbook, which covers 166 cities; a cluster most of whose cities it lacks cannot be
judged on it, and median imputation would only invent them. Partial coverage above the
threshold is imputed by the evaluation, which names the units. What was left out, and why, is
written into the framework file (``notice_zh``/``notice_en``, shown in every report) and
printed by ``cocity init``. The same rule applied to the previous edition (2010) drops that
edition whole when any kept indicator falls short there: an edition mostly imputed would
compare nothing. ``cocity evaluate -w WS`` uses ``WS/framework.yaml`` when no
``--framework`` is given (:func:`cocity.evaluate.framework.workspace_framework`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from cocity.clusters.build import ClusterData
from cocity.i18n import t

MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class LeftOut:
    """A leaf left out of a cluster's framework: which, its input and the coverage found."""

    code: str
    name_zh: str
    name_en: str
    indicator: str
    covered: int
    members: int


def _inputs(measure: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key in ("indicators", "supply"):
        value = measure.get(key)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list):
            out.extend(str(v) for v in value)
    return out


def coverage(data: ClusterData, indicator: str, year: int) -> tuple[int, int]:
    """(members with a value, members) of ``indicator`` in ``year``, at the level (prefecture
    or county) where the national base publishes it for the most member units."""
    obs = data.observations
    have = set(obs.loc[(obs["indicator"] == indicator) & (obs["year"] == year)
                       & obs["value"].notna(), "unit"])
    best = (0, 0)
    for level in ("prefecture", "county"):
        members = data.units[(data.units["level"] == level)
                             & data.units["membership"].isin(["full", "partial"])]
        n = int(members["code"].isin(have).sum())
        if n > best[0] or best == (0, 0):
            best = (n, len(members))
    return best


@dataclass(frozen=True)
class ClusterFramework:
    """The framework file's text, the leaves left out and, when the previous edition was
    dropped, the shortfall that dropped it."""

    text: str
    left_out: list[LeftOut]
    no_previous: LeftOut | None


def cluster_framework(data: ClusterData, *, base: str | None = None) -> ClusterFramework:
    """The framework file for ``data``'s cluster (module docstring)."""
    from cocity.evaluate.framework import load_framework

    fw = load_framework(base)
    doc = dict(fw.doc)
    left = list(_shortfalls(data, fw, fw.year, set()))
    doc["nodes"] = _without(fw.nodes, {x.code for x in left})
    previous_gap = _previous_gap(data, fw, {x.code for x in left})
    if previous_gap is not None:  # no previous edition rather than one made of imputations
        doc["previous"] = None
        doc["editions"] = {y: e for y, e in doc["editions"].items() if y != fw.previous}
    spec = data.cluster.spec
    for lang in ("zh", "en"):
        name = spec.name_zh if lang == "zh" else spec.name_en
        doc[f"name_{lang}"] = t("clusters.fw.name", lang, cluster=name)
        parts = [t("clusters.fw.notice", lang, cluster=name)]
        sep = "；" if lang == "zh" else "; "
        if left:
            parts.append(t("clusters.fw.left_out", lang, items=sep.join(
                t("clusters.fw.left_item", lang, name=getattr(x, f"name_{lang}"),
                  indicator=x.indicator, n=x.covered, of=x.members) for x in left)))
        if previous_gap is not None:
            x = previous_gap
            parts.append(t("clusters.fw.no_previous", lang, year=fw.previous,
                           name=getattr(x, f"name_{lang}"), indicator=x.indicator,
                           n=x.covered, of=x.members))
        if not spec.rail:
            parts.append(t("clusters.no_rail", lang))
        doc[f"notice_{lang}"] = ("" if lang == "zh" else " ").join(parts)
    header = (f"# Evaluation framework of the {spec.name_en} (cluster {data.cluster.key}, "
              f"{data.cluster.source}), written by `cocity init`\n"
              f"# from the shipped framework {fw.source} (sha256 "
              f"{fw.sha256[:16]}…); edit freely:\n# `cocity evaluate -w WORKSPACE` uses it.\n")
    return ClusterFramework(
        header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100), left,
        previous_gap)


def _shortfalls(data: ClusterData, fw: Any, year: int, drop: set[str]) -> Iterator[LeftOut]:
    """Each leaf (not in ``drop``) with an input the base has for fewer than ``MIN_COVERAGE``
    of the members in the edition of ``year`` — the first such input of each."""
    edition = fw.edition(year)
    for leaf in fw.leaves:
        measure = dict(leaf.get("measure") or {})
        source_year = edition.sources.get(str(measure.get("source", "")))
        if str(leaf["code"]) in drop or source_year is None:
            continue
        for ind in _inputs(measure):
            n, of = coverage(data, ind, source_year)
            if of and n / of < MIN_COVERAGE:
                yield LeftOut(str(leaf["code"]), str(leaf["name_zh"]), str(leaf["name_en"]),
                              ind, n, of)
                break


def _previous_gap(data: ClusterData, fw: Any, drop: set[str]) -> LeftOut | None:
    """The first kept leaf whose inputs the base has for fewer than half of the members in
    the previous edition (2010 county values are withheld for many prefectures), or None."""
    if fw.previous is None:
        return None
    return next(_shortfalls(data, fw, fw.previous, drop), None)


def _without(nodes: list[dict[str, Any]], drop: set[str]) -> list[dict[str, Any]]:
    """``nodes`` without the leaves in ``drop`` and the inner nodes left with no child."""
    inner = {str(n.get("parent")) for n in nodes if n.get("parent") is not None}
    keep = [n for n in nodes if str(n["code"]) not in drop]
    while True:
        parents = {str(n.get("parent")) for n in keep if n.get("parent") is not None}
        empty = {str(n["code"]) for n in keep if str(n["code"]) in inner} - parents
        if not empty:
            return keep
        keep = [n for n in keep if str(n["code"]) not in empty]
