"""Distance-decay functions for accessibility measures: travel times → weights.

Every function takes an array of travel costs ``d`` (any shape; minutes by the package
convention, but nothing here depends on the unit) and returns float weights of the same shape,
vectorised with NumPy. Costs must be finite and ``≥ 0``; anything else raises
:class:`~cocity.access.errors.AccessInputError`, as do parameters outside their domain.

The measures in :mod:`cocity.access.measures` take a decay as a one-argument callable
``f(d) -> weights``: bind the parameters with :func:`get` (``get("gaussian", d0=30)``) or with
:func:`functools.partial`. A measure first keeps the pairs within its cutoff ``d0`` and then
weights them with ``f``; functions with a catchment of their own (binary, linear, Gaussian,
step, Epanechnikov) are also 0 beyond it, so that they can be used on their own.

Weights are relative: in the 2SFCA family (:mod:`cocity.access.measures`) a constant factor on
``f`` cancels between the two steps; in cumulative and gravity sums it scales the result.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cocity.access.errors import AccessInputError
from cocity.i18n import t

Array = NDArray[np.float64]
DecayFunction = Callable[[Array], Array]

#: Travel-time zones (minutes) and weights of the E2SFCA of Luo & Qi (2009): 0–10, 10–20 and
#: 20–30 minutes, weighted 1, 0.68 and 0.22 (weights they derived from a Gaussian function).
LUO_QI_2009_BREAKS: tuple[float, ...] = (10.0, 20.0, 30.0)
LUO_QI_2009_WEIGHTS: tuple[float, ...] = (1.0, 0.68, 0.22)

_HALF = math.exp(-0.5)


# ----------------------------------------------------------------------------- validation


def _distances(d: ArrayLike, decay: str) -> Array:
    arr = np.asarray(d, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise AccessInputError(t("access.m.err.distance", decay=decay, count=int(bad.sum())))
    return arr


def _positive(value: float, decay: str, param: str) -> float:
    v = float(value)
    if not v > 0:  # also rejects NaN; +inf is allowed (no decay within reach)
        raise AccessInputError(t("access.m.err.param_positive", decay=decay, param=param,
                                 value=value))
    return v


def _nonnegative(value: float, decay: str, param: str) -> float:
    v = float(value)
    if not v >= 0:  # rejects NaN; +inf allowed where a catchment may be unbounded
        raise AccessInputError(t("access.m.err.param_nonnegative", decay=decay, param=param,
                                 value=value))
    return v


def _finite_nonnegative(value: float, decay: str, param: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and v >= 0):
        raise AccessInputError(t("access.m.err.param_finite", decay=decay, param=param,
                                 value=value))
    return v


# ----------------------------------------------------------------------------- functions


def binary(d: ArrayLike, d0: float) -> Array:
    """Binary (cumulative-opportunity) weight: 1 within the catchment, 0 beyond.

    **Formula**: ``f(d) = 1 if d ≤ d0 else 0`` (the catchment is closed: ``d = d0`` counts).

    **Source**: Wachs & Kumagai (1973), "Physical accessibility as a social indicator",
    *Socio-Economic Planning Sciences* 7(5): 437–456 (cumulative opportunities); the weight of
    the original 2SFCA, Luo & Wang (2003), *Environment and Planning B* 30(6): 865–884.

    **Variant**: ``d0 = 0`` is allowed and keeps only co-located pairs (a stored cost of 0).
    """
    dd = _distances(d, "binary")
    c = _nonnegative(d0, "binary", "d0")
    return (dd <= c).astype(np.float64)


def linear(d: ArrayLike, d0: float) -> Array:
    """Linear decay to 0 at the catchment edge.

    **Formula**: ``f(d) = 1 − d/d0`` for ``d ≤ d0``, 0 beyond.

    **Source**: the linear (triangular) decay among the 2SFCA generalisations reviewed by
    Wang (2012), "Measurement, optimization, and impact of health care accessibility: a
    methodological review", *Annals of the Association of American Geographers* 102(5):
    1104–1112.

    **Variant**: ``d0`` must be ``> 0`` (``+inf`` gives 1 everywhere).
    """
    dd = _distances(d, "linear")
    c = _positive(d0, "linear", "d0")
    return np.where(dd <= c, 1.0 - dd / c, 0.0)


def exponential(d: ArrayLike, beta: float) -> Array:
    """Negative exponential decay.

    **Formula**: ``f(d) = exp(−β d)``, ``β ≥ 0`` (``β = 0``: no decay).

    **Source**: Wilson (1971), "A family of spatial interaction models, and associated
    developments", *Environment and Planning A* 3(1): 1–32; compared with other decays in
    Kwan (1998), "Space-time and integral measures of individual accessibility",
    *Geographical Analysis* 30(3): 191–216.

    **Variant**: no catchment of its own; the measure's cutoff truncates it.
    """
    dd = _distances(d, "exponential")
    b = _finite_nonnegative(beta, "exponential", "beta")
    return np.exp(-b * dd)


def power(d: ArrayLike, beta: float, d_min: float | None = None) -> Array:
    """Inverse power (gravity) decay.

    **Formula**: ``f(d) = max(d, d_min)^(−β)``, ``β ≥ 0``.

    **Source**: Hansen (1959), "How accessibility shapes land use", *Journal of the American
    Institute of Planners* 25(2): 73–76; PySAL ``access.weights.gravity`` (its ``min_dist``).

    **Variant**: ``d^(−β)`` is infinite at ``d = 0`` (a facility "here"). With ``d_min``
    (``> 0``, in cost units, e.g. 1 minute as an intra-zonal time) costs below it are raised to
    it; without ``d_min`` a zero cost raises :class:`AccessInputError` (when ``β > 0``) rather
    than return an infinite weight.
    """
    dd = _distances(d, "power")
    b = _finite_nonnegative(beta, "power", "beta")
    if d_min is not None:
        floor = _positive(d_min, "power", "d_min")
        if not math.isfinite(floor):
            raise AccessInputError(t("access.m.err.param_finite", decay="power",
                                     param="d_min", value=d_min))
        dd = np.maximum(dd, floor)
    elif b > 0 and np.any(dd == 0):
        raise AccessInputError(t("access.m.err.power_zero", count=int(np.sum(dd == 0))))
    return np.power(dd, -b)


def gaussian(d: ArrayLike, d0: float) -> Array:
    """Gaussian decay of the Gaussian 2SFCA, 1 at ``d = 0`` and 0 at the catchment edge.

    **Formula**: ``f(d) = (exp(−½ (d/d0)²) − exp(−½)) / (1 − exp(−½))`` for ``d ≤ d0``, 0 beyond.

    **Source**: Dai (2010), "Black residential segregation, disparities in spatial access to
    health care facilities, and late-stage breast cancer diagnosis in metropolitan Detroit",
    *Health & Place* 16(5): 1038–1052.

    **Variant**: ``d0`` must be ``> 0``. PySAL ``access.weights.gaussian`` is the unshifted
    ``exp(−d²/(2σ²))`` (:func:`gaussian_kernel`), a different weight.
    """
    dd = _distances(d, "gaussian")
    c = _positive(d0, "gaussian", "d0")
    g = (np.exp(-0.5 * (dd / c) ** 2) - _HALF) / (1.0 - _HALF)
    return np.where(dd <= c, g, 0.0)


def gaussian_kernel(d: ArrayLike, sigma: float) -> Array:
    """Unshifted Gaussian weight, the form of PySAL ``access.weights.gaussian``.

    **Formula**: ``f(d) = exp(−d² / (2σ²))``, ``σ > 0`` (no normalising constant: ``f(0) = 1``).

    **Source**: Kwan (1998), *Geographical Analysis* 30(3): 191–216 (Gaussian decay);
    PySAL ``access`` (https://github.com/pysal/access), ``weights.gaussian``.

    **Variant**: no catchment of its own (positive at every distance); the measure's cutoff
    truncates it.
    """
    dd = _distances(d, "gaussian_kernel")
    s = _positive(sigma, "gaussian_kernel", "sigma")
    return np.exp(-(dd * dd) / (2.0 * s * s))


def step(d: ArrayLike, breaks: Sequence[float] = LUO_QI_2009_BREAKS,
         weights: Sequence[float] = LUO_QI_2009_WEIGHTS, closed: str = "left") -> Array:
    """Step weights by travel-time zones (the E2SFCA weights).

    **Formula**: with breaks ``b_1 < … < b_K`` and weights ``w_1 … w_K``, ``f(d) = w_r`` for
    ``d`` in zone ``r`` and 0 beyond ``b_K``. ``closed="left"`` (default): zones
    ``[0, b_1), [b_1, b_2), …, [b_{K−1}, b_K]`` — the last zone is closed so that ``d = b_K``
    (the catchment edge) is in; ``closed="right"``: ``[0, b_1], (b_1, b_2], …, (b_{K−1}, b_K]``.

    **Source**: Luo & Qi (2009), "An enhanced two-step floating catchment area (E2SFCA) method
    for measuring spatial accessibility to primary care physicians", *Health & Place* 15(4):
    1100–1107 — zones 0–10, 10–20, 20–30 minutes with weights 1, 0.68, 0.22 (the defaults).

    **Variant**: Luo & Qi name the zones "0–10, 10–20, 20–30 minutes" without saying where a
    boundary belongs; ``"left"`` puts 10 in the second zone, ``"right"`` in the first, as
    PySAL ``access.weights.step_fn`` does. Breaks must be increasing and ``> 0``; weights
    ``≥ 0`` and finite, one per zone.
    """
    dd = _distances(d, "step")
    b = np.asarray(breaks, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if (b.ndim != 1 or w.shape != b.shape or b.size == 0 or not np.all(np.isfinite(b))
            or b[0] <= 0 or np.any(np.diff(b) <= 0) or not np.all(np.isfinite(w))
            or np.any(w < 0)):
        raise AccessInputError(t("access.m.err.step", breaks=list(breaks),
                                 weights=list(weights)))
    if closed not in ("left", "right"):
        raise AccessInputError(t("access.m.err.closed", value=closed))
    w_ext = np.append(w, 0.0)
    # Zone index = number of inner breaks passed (d ≥ b_r, or d > b_r when closed on the right)
    # + 1 beyond the outer break (weight 0). A few comparisons beat a binary search on
    # millions of costs; many zones fall back to searchsorted.
    if b.size > 32:
        zone = np.searchsorted(b[:-1], dd, side="right" if closed == "left" else "left")
        return np.where(dd > b[-1], 0.0, w_ext[zone])
    passed = np.greater_equal if closed == "left" else np.greater
    z = (dd > b[-1]).view(np.uint8).copy()
    for edge in b[:-1]:
        z += passed(dd, edge).view(np.uint8)
    return np.take(w_ext, z)


def epanechnikov(d: ArrayLike, h: float) -> Array:
    """Epanechnikov kernel as a distance decay (kernel-density catchment), 1 at ``d = 0``.

    **Formula**: ``f(d) = 1 − (d/h)²`` for ``d ≤ h``, 0 beyond.

    **Source**: Epanechnikov (1969), "Non-parametric estimation of a multivariate probability
    density", *Theory of Probability and Its Applications* 14(1): 153–158; Silverman (1986),
    *Density Estimation for Statistics and Data Analysis*, §3.3. Kernel-density weights in the
    2SFCA family are reviewed in Wang (2012), *Annals of the AAG* 102(5): 1104–1112.

    **Variant**: the kernel's density constant (3/4 per unit bandwidth in one dimension) is
    dropped so that ``f(0) = 1``; it cancels in 2SFCA ratios and only rescales gravity sums.
    ``h`` must be ``> 0``.
    """
    dd = _distances(d, "epanechnikov")
    c = _positive(h, "epanechnikov", "h")
    u = dd / c
    return np.where(dd <= c, 1.0 - u * u, 0.0)


DECAYS: dict[str, Callable[..., Array]] = {
    "binary": binary,
    "linear": linear,
    "exponential": exponential,
    "power": power,
    "gaussian": gaussian,
    "gaussian_kernel": gaussian_kernel,
    "step": step,
    "epanechnikov": epanechnikov,
}


def get(name: str, **params: Any) -> DecayFunction:
    """The decay ``name`` with its parameters bound, e.g. ``get("gaussian", d0=30)``.

    Parameters are checked now (on an empty array), so a bad one fails here rather than inside
    a measure.
    """
    if name not in DECAYS:
        raise AccessInputError(t("access.m.err.unknown_decay", name=name,
                                 names=", ".join(DECAYS)))
    fn: DecayFunction = partial(DECAYS[name], **params)
    try:
        fn(np.zeros(0))
    except TypeError as exc:
        raise AccessInputError(t("access.m.err.decay_params", name=name, error=str(exc))) from exc
    return fn
