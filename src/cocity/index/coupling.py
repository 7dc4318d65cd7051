"""Coupling coordination degree (耦合协调度) of 2..n subsystems, and grade tables.

Input ``U`` has shape ``(..., n_units, n_subsystems)``: each subsystem's comprehensive score
(综合评价指数) in ``[0, 1]``; leading axes are replications. Outputs have shape
``(..., n_units)``. A unit with a missing subsystem score (``NaN``) gets ``NaN`` for ``C``,
``T`` and ``D`` (the model needs every subsystem); every other unit is unaffected.

The capacity-coupling model (容量耦合模型) as used in Chinese regional studies:

- coupling degree ``C`` (耦合度), traditional or corrected (:func:`coupling_degree`);
- comprehensive development index ``T = Σ_i α_i U_i`` (综合发展指数, :func:`development_index`);
- coupling coordination degree ``D = sqrt(C · T)`` (耦合协调度, :func:`coupling_coordination`);
- grades of ``D`` from a configurable table (:func:`grade`, default: 廖重斌 1999, ten classes
  from 极度失调 to 优质协调, data in ``grades/coupling_default.yaml``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pydantic
from numpy.typing import ArrayLike, NDArray

from cocity.i18n import current_lang, labels, t
from cocity.index.errors import MethodInputError
from cocity.spec import Spec, load_spec

Array = NDArray[np.float64]

VARIANTS = ("traditional", "corrected")
_RANGE_TOL = 1e-12


def _check_U(U: ArrayLike) -> Array:
    Ua = np.asarray(U, dtype=float)
    if Ua.ndim < 2 or Ua.shape[-1] < 2:
        n = Ua.shape[-1] if Ua.ndim >= 1 else 0
        raise MethodInputError(t("index.a.err.coupling_n", n=n))
    finite = Ua[~np.isnan(Ua)]
    if finite.size and (finite.min() < -_RANGE_TOL or finite.max() > 1 + _RANGE_TOL):
        raise MethodInputError(t("index.a.err.coupling_range", low=float(finite.min()),
                                 high=float(finite.max())))
    return np.clip(Ua, 0.0, 1.0)


def coupling_degree(U: ArrayLike, *, variant: str = "traditional") -> Array:
    """Coupling degree ``C`` (耦合度) of ``n ≥ 2`` subsystems, in ``[0, 1]``.

    **Formula, traditional** (the normative form stated by 王淑佳 et al. 2021, eq. 1)::

        C = [ Π_i U_i / ((Σ_i U_i) / n)^n ]^(1/n)  =  n · (Π_i U_i)^(1/n) / Σ_i U_i

    i.e. the geometric mean over the arithmetic mean of the ``U_i``; for n = 2,
    ``C = 2·sqrt(U_1 U_2) / (U_1 + U_2)``.

    **Formula, corrected** (王淑佳, 孔伟, 任亮, 治丹丹, 戴彬婷 2021, 国内耦合协调度模型的误区及修正,
    《自然资源学报》 36(3): 793–810)::

        C = sqrt{ [1 − sqrt(Σ_{i>j} (U_i − U_j)²) / Σ_{m=1}^{n−1} m]
                  · [Π_i (U_i / max_l U_l)]^(1/(n−1)) }

    (``Σ_{m=1}^{n−1} m = n(n−1)/2``, the number of pairs); for n = 2,
    ``C = sqrt[(1 − |U_1 − U_2|) · min U / max U]``.

    **Source**: 廖重斌 (1999) and the capacity-coupling model of Chinese regional studies;
    the corrected model and the normative traditional form: 王淑佳 et al. (2021), above (the
    brief that commissioned this module cited 《经济地理》; the paper appeared in
    《自然资源学报》). The ``U_i / max U`` reading of the second factor was checked against the
    paper's Table 8 (two subsystems): with that reading every published pair of traditional
    and corrected C values is reproduced by scores in ``[0, 1]``, with the other reading
    (``Π U_i / max U``) some pairs have no solution. For n ≥ 3 the formula is implemented as
    printed (square root of the sum of squared pairwise differences, divided by the number of
    pairs); the R package ``mathmodels`` uses the mean absolute difference instead, which
    agrees for n = 2 only.

    **Variant** (``variant="traditional"`` default, or ``"corrected"``): the traditional C
    crowds near 1 whenever the subsystems are of similar size, even at a very low level; the
    corrected C spreads over ``[0, 1]``. Edge cases: a unit with some ``U_i = 0`` has
    ``C = 0`` in both forms; all ``U_i = 0`` is defined as ``C = 0`` (documented choice: 0/0
    in the formula; ``D = 0`` either way since ``T = 0``).
    """
    if variant not in VARIANTS:
        raise MethodInputError(t("index.a.err.coupling_variant", value=variant))
    Ua = _check_U(U)
    n = Ua.shape[-1]
    missing = np.any(np.isnan(Ua), axis=-1)
    Uf = np.where(np.isnan(Ua), 0.0, Ua)
    if variant == "traditional":
        total = Uf.sum(axis=-1)
        gmean = np.prod(Uf, axis=-1) ** (1.0 / n)
        C = np.divide(n * gmean, total, out=np.zeros(total.shape), where=total > 0)
    else:
        i, j = np.triu_indices(n, k=1)
        spread = np.sqrt(np.sum((Uf[..., i] - Uf[..., j]) ** 2, axis=-1)) / (n * (n - 1) / 2)
        top = Uf.max(axis=-1, keepdims=True)
        ratios = np.divide(Uf, top, out=np.zeros(Uf.shape), where=top > 0)
        balance = np.prod(ratios, axis=-1) ** (1.0 / (n - 1))
        C = np.sqrt(np.clip(1.0 - spread, 0.0, 1.0) * balance)
    return np.where(missing, np.nan, np.clip(C, 0.0, 1.0))


def development_index(U: ArrayLike, *, alpha: ArrayLike | None = None) -> Array:
    """Comprehensive development index ``T = Σ_i α_i U_i`` (综合发展指数 / 综合协调指数).

    ``alpha`` (``(n,)`` or ``(..., n)``): the subsystems' contributions, non-negative and
    summing to 1; default equal, ``α_i = 1/n``.
    """
    Ua = _check_U(U)
    n = Ua.shape[-1]
    if alpha is None:
        a = np.full(n, 1.0 / n)
    else:
        a = np.asarray(alpha, dtype=float)
        if (a.ndim == 0 or a.shape[-1] != n or not np.all(np.isfinite(a)) or np.any(a < 0)
                or np.any(np.abs(a.sum(axis=-1) - 1.0) > 1e-9)):
            raise MethodInputError(t("index.a.err.coupling_alpha", n=n))
    return np.sum(Ua * a[..., None, :], axis=-1)


@dataclass(frozen=True)
class Coupling:
    """Coupling degree ``C``, development index ``T`` and coordination degree ``D``."""

    C: Array
    T: Array
    D: Array


def coupling_coordination(U: ArrayLike, *, alpha: ArrayLike | None = None,
                          variant: str = "traditional") -> Coupling:
    """``C``, ``T`` and the coupling coordination degree ``D = sqrt(C · T)`` (耦合协调度).

    **Formula**: ``D = sqrt(C · T)``, ``C`` from :func:`coupling_degree` (``variant``),
    ``T = Σ α_i U_i`` from :func:`development_index`.

    **Source**: 廖重斌 (1999), 环境与经济协调发展的定量评判及其分类体系, 《热带地理》
    19(2): 171–177; 王淑佳 et al. (2021) for the corrected C.

    **Variant**: the square root of the product (not an average of C and T). ``D`` lies in
    ``[0, 1]``; grade it with :func:`grade`.
    """
    C = coupling_degree(U, variant=variant)
    T = development_index(U, alpha=alpha)
    return Coupling(C=C, T=T, D=np.sqrt(C * T))


# ----------------------------------------------------------------------------- grade tables


@dataclass(frozen=True)
class GradeTable:
    """Grades as consecutive intervals ``edges[i]..edges[i+1]`` with bilingual labels.

    ``closed="left"``: ``[lower, upper)`` and the last grade also holds the top edge;
    ``closed="right"``: ``(lower, upper]`` and the first grade also holds the bottom edge.
    """

    name: str
    edges: tuple[float, ...]
    labels: tuple[Mapping[str, str], ...]
    closed: str = "left"

    def label(self, i: int, lang: str | None = None) -> str:
        return self.labels[i][lang or current_lang()]


class GradeSpec(Spec):
    """One class of a grade table: its upper bound and its label (an ``i18n`` key, or the
    text in both languages)."""

    upper: float
    label: str | None = None
    zh: str | None = None
    en: str | None = None

    @pydantic.model_validator(mode="after")
    def _labelled(self) -> GradeSpec:
        if self.label is not None:
            if self.label not in labels():
                raise ValueError(t("index.a.err.grade_label", name=self.label))
        elif self.zh is None or self.en is None:
            raise ValueError(t("index.a.err.grade_table.label"))
        return self


class GradeTableSpec(Spec):
    """A grade table file (``grades/*.yaml``): classes in increasing order on
    ``[lower, upper]``, intervals closed on the ``left`` or the ``right``."""

    name: str = "custom"
    closed: Literal["left", "right"] = "left"
    lower: float = 0.0
    upper: float | None = None
    grades: list[GradeSpec] = pydantic.Field(min_length=1)

    @pydantic.model_validator(mode="after")
    def _bounds(self) -> GradeTableSpec:
        edges = (self.lower, *(g.upper for g in self.grades))
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError(t("index.a.err.grade_table.increasing"))
        if self.upper is not None and self.upper != edges[-1]:
            raise ValueError(t("index.a.err.grade_table.end"))
        return self

    def table(self) -> GradeTable:
        labels_ = tuple({"zh": t(g.label, "zh"), "en": t(g.label, "en")} if g.label else
                        {"zh": str(g.zh), "en": str(g.en)} for g in self.grades)
        return GradeTable(name=self.name, edges=(self.lower, *(g.upper for g in self.grades)),
                          labels=labels_, closed=self.closed)


def shipped_grade_tables() -> list[str]:
    folder = resources.files("cocity.index").joinpath("grades")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_grade_table(source: str | Path | Mapping[str, Any] = "coupling_default") -> GradeTable:
    """A grade table: a built-in name (``"coupling_default"``), a YAML file, or a mapping;
    every problem at once as a :class:`~cocity.spec.SpecError` with its key path."""
    if isinstance(source, Mapping):
        return load_spec(GradeTableSpec, source).table()
    path = Path(source)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return load_spec(GradeTableSpec, path).table()
    if str(source) not in shipped_grade_tables():
        raise MethodInputError(t("index.a.err.grade_table", name=str(source), reason=t(
            "index.a.err.grade_table.unknown", shipped=", ".join(shipped_grade_tables()))))
    return load_spec(GradeTableSpec, package="cocity.index",
                     default=f"grades/{source}.yaml").table()


@dataclass(frozen=True)
class Grades:
    """Grade index per value (``-1`` for ``NaN``) and its label in the current language."""

    index: NDArray[np.int64]
    label: NDArray[np.object_]


def grade(D: ArrayLike, *,
          table: GradeTable | str | Path | Mapping[str, Any] | None = None,
          lang: str | None = None) -> Grades:
    """Grade each value of ``D`` with ``table`` (default: 廖重斌 1999 ten classes).

    Default table: ``[0, 0.1)`` 极度失调, ``[0.1, 0.2)`` 严重失调, 中度失调, 轻度失调, 濒临失调,
    勉强协调, 初级协调, 中级协调, 良好协调, ``[0.9, 1]`` 优质协调 — intervals closed on the left,
    so exactly 0.1 is 严重失调 and 0.9 and 1.0 are 优质协调. Comparisons are exact (a value
    computed as 0.09999999 falls below 0.1). Values outside the table's range (beyond a
    1e-9 tolerance) raise :class:`MethodInputError`; ``NaN`` gets index ``-1`` and the label
    "无数据 / No data".
    """
    tab = table if isinstance(table, GradeTable) else load_grade_table(
        "coupling_default" if table is None else table)
    Da = np.asarray(D, dtype=float)
    lo, hi = tab.edges[0], tab.edges[-1]
    finite = Da[~np.isnan(Da)]
    if finite.size and (finite.min() < lo - 1e-9 or finite.max() > hi + 1e-9):
        raise MethodInputError(t("index.a.err.grade_range", low=lo, high=hi,
                                 vmin=float(finite.min()), vmax=float(finite.max())))
    inner = np.asarray(tab.edges[1:-1])
    probe = np.where(np.isnan(Da), lo, Da)
    if tab.closed == "left":
        found = np.searchsorted(inner, probe, side="right")
    else:
        found = np.searchsorted(inner, probe, side="left")
    idx = np.asarray(found, dtype=np.int64)
    idx = np.where(np.isnan(Da), -1, idx)
    names = np.array([tab.label(i, lang) for i in range(len(tab.labels))]
                     + [t("index.a.grade.missing", lang)], dtype=object)
    return Grades(index=idx, label=names[idx])
