"""Linkage networks: modified gravity linkage strength, total linkage and economic affiliation,
network construction, density, centralities and core–periphery structure.

Pipeline: :func:`great_circle_km` (or a travel-time matrix) → :func:`gravity_linkage` (a
directed strength matrix ``R``) → :func:`total_linkage` / :func:`economic_affiliation` →
:func:`linkage_network` (an undirected :class:`networkx.Graph`, thresholded or top-k) →
:func:`network_summary`, :func:`centralities`, :func:`core_periphery`.

Matrices are square DataFrames indexed by unit code in both directions; their diagonal (a
unit's link with itself, a distance of 0) is ignored, never used as a divisor. Off the
diagonal, a zero or non-finite distance, a negative strength, non-positive population or GDP
raise :class:`~cocity.metrics.errors.MetricInputError`. A disconnected network is a valid
input with the documented results below (closeness is component-aware; isolated units have
centrality 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cocity.i18n import t
from cocity.metrics.errors import MetricInputError
from cocity.metrics.geodesy import haversine_km

if TYPE_CHECKING:  # networkx is imported where graphs are built (0.2 s, not for distances)
    import networkx as nx

_SHOW = 5


def _fail(key: str, **fmt: object) -> MetricInputError:
    return MetricInputError(t(f"metrics.struct.err.{key}", None, **fmt))


def _names(items: Sequence[object]) -> str:
    shown = ", ".join(str(i) for i in items[:_SHOW])
    return shown + (" …" if len(items) > _SHOW else "")


def _positive_series(values: pd.Series, what: str) -> pd.Series:
    s = pd.Series(values, dtype=float)
    if s.index.has_duplicates:
        raise _fail("duplicates", names=_names(list(s.index[s.index.duplicated()])))
    bad = ~np.isfinite(s.to_numpy()) | (s.to_numpy() <= 0)
    if bad.any():
        raise _fail("nonpositive", what=what, units=_names(list(s.index[bad])))
    return s


def _square(M: pd.DataFrame, what: str, units: pd.Index | None = None) -> pd.DataFrame:
    """``M`` as a float square frame (rows and columns the same units, same order)."""
    if not isinstance(M, pd.DataFrame) or M.shape[0] != M.shape[1] \
            or set(M.index) != set(M.columns) or M.index.has_duplicates:
        raise _fail("matrix_square", what=what)
    order = M.index if units is None else units
    if units is not None:
        missing = [u for u in units if u not in M.index]
        if missing:
            raise _fail("matrix_units", what=what, units=_names(missing))
    try:
        return M.loc[order, order].astype(float)
    except (TypeError, ValueError) as exc:
        raise _fail("not_numeric") from exc


def _off_diagonal(n: int) -> np.ndarray:
    return ~np.eye(n, dtype=bool)


# ----------------------------------------------------------------------------- distances


def great_circle_km(points: pd.DataFrame, *, lon: str = "lon", lat: str = "lat") -> pd.DataFrame:
    """Great-circle distances in km between the units' representative points (``lon``,
    ``lat`` columns, degrees): :func:`cocity.metrics.geodesy.haversine_km` (a sphere of the
    IUGG mean radius), every pair, zero on the diagonal."""
    if not isinstance(points, pd.DataFrame) or lon not in points or lat not in points:
        raise _fail("points_columns", lon=lon, lat=lat)
    if points.index.has_duplicates:
        raise _fail("duplicates", names=_names(list(points.index[points.index.duplicated()])))
    lam = points[lon].to_numpy(dtype=float)
    phi = points[lat].to_numpy(dtype=float)
    bad = ~np.isfinite(lam) | ~np.isfinite(phi) | (np.abs(lam) > 180) | (np.abs(phi) > 90)
    if bad.any():
        raise _fail("points_invalid", units=_names(list(points.index[bad])))
    d = haversine_km(lam[:, None], phi[:, None], lam[None, :], phi[None, :])
    np.fill_diagonal(d, 0.0)
    return pd.DataFrame(d, index=points.index, columns=points.index)


# ----------------------------------------------------------------------------- gravity


def gravity_linkage(population: pd.Series, gdp: pd.Series, distance: pd.DataFrame, *,
                    b: float = 2.0) -> pd.DataFrame:
    """Modified gravity linkage strength between every ordered pair of units.

    **Formula**: ``R_ij = k_ij · √(P_i G_i) · √(P_j G_j) / D_ij^b`` with
    ``k_ij = G_i / (G_i + G_j)``, ``P`` population, ``G`` GDP, ``D`` distance (km) or travel
    time, ``b`` the distance-decay exponent (default 2). ``R_ii = 0``. ``R`` is not
    symmetric: ``k_ij`` is unit ``i``'s GDP share of the pair, so ``R_ij + R_ji`` is the
    unmodified gravity value ``√(P_i G_i) √(P_j G_j) / D_ij^b`` (since ``k_ij + k_ji = 1``).

    **Source**: 王欣、吴殿廷、王红强 (2006) 《城市间经济联系的定量计算》, 城市发展研究
    13(3): 55–59 — the "modified gravity model" of Chinese city-cluster studies (the form
    checked here is the one those studies print; the tests recompute it by hand).

    **Variant**: ``R`` scales with the units of ``P``, ``G`` and ``D`` (studies commonly use
    10⁴ persons, 10⁸ yuan and km); only relative values are meaningful. ``distance`` may be
    asymmetric (travel times); ``D_ij`` is used for ``R_ij``. Its diagonal is ignored.
    """
    P = _positive_series(population, t("metrics.struct.what.population"))
    G = _positive_series(gdp, t("metrics.struct.what.gdp"))
    units = P.index
    if len(units) < 2:
        raise _fail("few_units", need=2, got=len(units))
    missing = [u for u in units if u not in G.index]
    if missing:
        raise _fail("matrix_units", what=t("metrics.struct.what.gdp"), units=_names(missing))
    G = G.reindex(units)
    try:
        b = float(b)
    except (TypeError, ValueError):
        b = math.nan
    if not (math.isfinite(b) and b >= 0):
        raise _fail("decay", value=b)
    D = _square(distance, t("metrics.struct.what.distance"), units).to_numpy()
    off = _off_diagonal(len(units))
    bad = off & (~np.isfinite(D) | (D <= 0))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise _fail("distance_zero", a=units[i], b=units[j], value=D[i, j],
                    count=int(bad.sum()))
    mass = np.sqrt(P.to_numpy() * G.to_numpy())
    g = G.to_numpy()
    k = g[:, None] / (g[:, None] + g[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(off, k * np.outer(mass, mass) / np.where(off, D, 1.0) ** b, 0.0)
    return pd.DataFrame(R, index=units, columns=units)


def _strengths(R: pd.DataFrame) -> np.ndarray:
    M = _square(R, t("metrics.struct.what.linkage")).to_numpy().copy()
    np.fill_diagonal(M, 0.0)
    if not np.isfinite(M).all() or (M < 0).any():
        raise _fail("linkage_invalid")
    return M


def total_linkage(R: pd.DataFrame) -> pd.Series:
    """Each unit's total linkage ``R_i = Σ_{j≠i} R_ij`` (row sums; diagonal ignored).

    **Source**: 王欣 等 (2006) (城市总联系强度). With :func:`gravity_linkage` this is the
    linkage weighted by each unit's own GDP share of every pair.
    """
    M = _strengths(R)
    return pd.Series(M.sum(axis=1), index=R.index, name="total_linkage")


def economic_affiliation(R: pd.DataFrame) -> pd.DataFrame:
    """Economic affiliation (经济隶属度) ``F_ij = R_ij / Σ_{l≠i} R_il``.

    **Formula**: each row of ``R`` divided by its total: the share of unit ``i``'s total
    linkage that goes to ``j``; rows sum to 1, the diagonal is 0. The largest ``F_ij`` in a
    row names the unit ``i`` is most tied to.

    **Source**: 王欣 等 (2006); the row-normalised form as the 经济隶属度 of later Chinese
    city-cluster studies (which sometimes normalise columns instead — transpose ``R`` first
    for that variant). A unit with no linkage at all raises an error.
    """
    M = _strengths(R)
    tot = M.sum(axis=1)
    if (tot <= 0).any():
        raise _fail("no_linkage", units=_names(list(R.index[tot <= 0])))
    return pd.DataFrame(M / tot[:, None], index=R.index, columns=R.index)


# ----------------------------------------------------------------------------- networks


def linkage_network(R: pd.DataFrame, *, threshold: float | None = None,
                    top_k: int | None = None, symmetrise: str = "sum") -> nx.Graph:
    """An undirected weighted network of the units from a linkage matrix.

    **Construction**: the strength of the undirected link is ``w_ij = R_ij + R_ji``
    (``symmetrise="sum"``, default: for the modified gravity model this is the unmodified
    gravity value), ``max(R_ij, R_ji)`` (``"max"``) or their mean (``"mean"``). Links with
    ``w_ij > 0`` are kept, then either those with ``w_ij ≥ threshold``, or (``top_k``) each
    unit's ``k`` strongest links (a link stays if it is among the top ``k`` of either end;
    ties at the ``k``-th place are broken by unit order), or (neither) all of them. Every
    unit is a node, isolated or not. Edge attributes: ``weight = w_ij`` and
    ``distance = 1 / w_ij`` (the cost used for weighted shortest paths: a strong link is a
    short one).
    """
    import networkx as nx

    M = _strengths(R)
    if symmetrise == "sum":
        W = M + M.T
    elif symmetrise == "max":
        W = np.maximum(M, M.T)
    elif symmetrise == "mean":
        W = (M + M.T) / 2
    else:
        raise _fail("symmetrise", value=symmetrise)
    n = len(R.index)
    keep = W > 0
    if threshold is not None and top_k is not None:
        raise _fail("threshold_and_topk")
    if threshold is not None:
        try:
            threshold = float(threshold)
        except (TypeError, ValueError):
            threshold = math.nan
        if not math.isfinite(threshold) or threshold < 0:
            raise _fail("edge_threshold", value=threshold)
        keep &= np.greater_equal(W, threshold)
    elif top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) \
                or not 1 <= top_k <= n - 1:
            raise _fail("top_k", value=top_k, most=n - 1)
        top = np.zeros_like(keep)
        for i in range(n):
            cand = np.flatnonzero(keep[i])
            order = cand[np.argsort(-W[i, cand], kind="stable")][:top_k]
            top[i, order] = True
        keep &= top | top.T
    G = nx.Graph()
    G.add_nodes_from(R.index)
    iu, ju = np.nonzero(np.triu(keep, k=1))
    units = list(R.index)
    for i, j in zip(iu.tolist(), ju.tolist(), strict=True):
        w = float(W[i, j])
        G.add_edge(units[i], units[j], weight=w, distance=1.0 / w)
    return G


def _check_graph(G: nx.Graph, min_nodes: int = 2) -> None:
    import networkx as nx

    if not isinstance(G, nx.Graph) or G.is_directed():
        raise _fail("graph_type")
    if G.number_of_nodes() < min_nodes:
        raise _fail("few_units", need=min_nodes, got=G.number_of_nodes())
    for _, _, w in G.edges(data="weight", default=1.0):
        if not (np.isfinite(w) and w > 0):
            raise _fail("edge_weight")


def network_summary(G: nx.Graph) -> pd.Series:
    """Size and cohesion of a network: ``n_nodes``, ``n_edges``, ``density``
    (``2m / (n(n−1))``, unweighted, networkx ``density``), ``mean_degree``, ``mean_strength``
    (mean weighted degree), ``n_components``, ``largest_component_share`` (share of the nodes
    in the largest connected component) and ``connected``."""
    import networkx as nx

    _check_graph(G)
    n = G.number_of_nodes()
    comps = list(nx.connected_components(G))
    return pd.Series({
        "n_nodes": n,
        "n_edges": G.number_of_edges(),
        "density": nx.density(G),
        "mean_degree": 2 * G.number_of_edges() / n,
        "mean_strength": sum(d for _, d in G.degree(weight="weight")) / n,
        "n_components": len(comps),
        "largest_component_share": max(len(c) for c in comps) / n,
        "connected": len(comps) == 1,
    }, dtype=object)


def centralities(G: nx.Graph) -> pd.DataFrame:
    """Degree, strength, closeness and betweenness centrality of every node (networkx).

    Columns: ``degree`` (number of links), ``strength`` (weighted degree ``Σ_j w_ij``),
    ``degree_centrality`` (``degree / (n − 1)``), ``closeness`` and ``betweenness`` on hop
    counts, ``closeness_weighted`` and ``betweenness_weighted`` with link length
    ``distance = 1 / w`` (a strong link is short), and ``component`` (0 = the largest
    connected component, ties by first node).

    **Source**: Freeman (1979) *Social Networks* 1: 215–239 (degree, closeness, betweenness);
    Brandes (2001) algorithm as implemented by networkx; Opsahl, Agneessens & Skvoretz (2010)
    for weighted paths with ``1/w`` lengths. Betweenness is normalised by
    ``(n − 1)(n − 2) / 2``.

    **Disconnected networks**: closeness uses networkx's default Wasserman–Faust scaling,
    ``C(u) = (r − 1)/(n − 1) · (r − 1)/Σ_v d(u, v)`` over the ``r`` nodes reachable from ``u``,
    so nodes of small components score lower; an isolated node has closeness, betweenness,
    degree and strength 0 (never NaN).
    """
    import networkx as nx

    _check_graph(G)
    nodes = list(G.nodes)
    comps = sorted(nx.connected_components(G), key=lambda c: (-len(c), nodes.index(
        min(c, key=nodes.index))))
    comp_of = {u: k for k, c in enumerate(comps) for u in c}
    cols = {
        "degree": dict(G.degree()),
        "strength": dict(G.degree(weight="weight")),
        "degree_centrality": nx.degree_centrality(G),
        "closeness": nx.closeness_centrality(G),
        "closeness_weighted": nx.closeness_centrality(G, distance="distance"),
        "betweenness": nx.betweenness_centrality(G, normalized=True),
        "betweenness_weighted": nx.betweenness_centrality(G, weight="distance",
                                                          normalized=True),
        "component": comp_of,
    }
    out = pd.DataFrame({k: pd.Series(v) for k, v in cols.items()}).reindex(nodes)
    out["degree"] = out["degree"].astype(int)
    out["component"] = out["component"].astype(int)
    return out.astype({c: float for c in out.columns if c not in ("degree", "component")})


# ----------------------------------------------------------------------------- core–periphery


@dataclass(frozen=True)
class CorePeriphery:
    """Result of :func:`core_periphery`."""

    coreness: pd.Series     # continuous coreness, Σ c² = 1, non-negative
    core: list[object]      # units of the discrete core
    fit: float              # Pearson ρ between a_ij and the fitted c_i c_j (pairs i < j)
    discrete_fit: float     # Pearson ρ between a_ij and the ideal core/periphery pattern
    hub: object | None      # the unit of a limiting "hub" solution (see core_periphery)
    iterations: int


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    sx, sy = x.std(), y.std()
    if sx <= 0 or sy <= 0:
        return None
    return float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy))


def _minres(A: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, float, int, bool]:
    """Levenberg–Marquardt on ``f(c) = Σ_{i<j} (a_ij − c_i c_j)²``: (c, f, iterations,
    converged). Starts from the leading eigenpair of ``A`` (zero diagonal)."""
    n = len(A)
    off = ~np.eye(n, dtype=bool)
    vals, vecs = np.linalg.eigh(A)
    v = vecs[:, -1] if vecs[:, -1].sum() >= 0 else -vecs[:, -1]
    c = np.sqrt(max(vals[-1], 0.0)) * v

    def objective(c: np.ndarray) -> tuple[float, np.ndarray]:
        r = np.where(off, A - np.outer(c, c), 0.0)
        return 0.5 * float((r ** 2).sum()), r

    f, r = objective(c)
    mu = 1e-3
    for it in range(1, max_iter + 1):
        H = np.outer(c, c)
        np.fill_diagonal(H, (c ** 2).sum() - c ** 2)
        rhs = r @ c
        while True:
            damped = H + mu * np.diag(np.diag(H) + 1e-12)
            step = np.linalg.solve(damped, rhs)
            f_new, r_new = objective(c + step)
            if f_new <= f:
                break
            mu *= 10.0
            if mu > 1e16:         # no descent left at machine precision: a minimum
                return c, f, it, True
        c, f, r = c + step, f_new, r_new
        mu = max(mu / 10.0, 1e-12)
        if np.max(np.abs(step)) <= tol * max(1.0, float(np.max(np.abs(c)))):
            return c, f, it, True
    return c, f, max_iter, False


def core_periphery(network: nx.Graph | pd.DataFrame, *, weight: str | None = "weight",
                   tol: float = 1e-10, max_iter: int = 500) -> CorePeriphery:
    """Borgatti–Everett core–periphery structure: continuous coreness and a discrete core.

    **Continuous model**: coreness ``c`` minimising ``f(c) = Σ_{i<j} (a_ij − c_i c_j)²``
    (the diagonal is ignored), fitted with numpy by Levenberg–Marquardt (Gauss–Newton with
    damping) from the leading eigenvector of ``A``, until a step changes ``c`` by less than
    ``tol`` (relative). ``coreness`` is ``c`` scaled to unit length (Σ c² = 1, the UCINET
    convention) and ``fit`` is the Pearson correlation between ``a_ij`` and ``c_i c_j`` over
    the pairs ``i < j`` (Borgatti & Everett's fit measure).

    **Hub solutions**: the infimum of ``f`` need not be attained. Letting one unit ``k``'s
    coreness grow without bound while the others shrink (``c_k c_j → a_kj``) fits every link
    of ``k`` exactly and every other pair by 0, with criterion
    ``f_k = Σ_{i<j; i,j≠k} a_ij²`` (this is the only way ``f`` can stay bounded as ``c``
    diverges). When ``min_k f_k`` is no larger than the finite optimum — e.g. a star, one
    unit linked to all others and no other links — the result is that limit: ``hub = k``,
    coreness 1 for ``k`` and 0 for every other unit, ``fit`` the correlation of ``a_ij`` with
    the limiting fitted values (``a_kj`` on ``k``'s pairs, 0 elsewhere); the discrete search
    then orders the other units by ``a_kj``.

    **Discrete model**: the ideal pattern is 1 for core–core pairs and 0 for
    periphery–periphery pairs, core–periphery pairs ignored; ``discrete_fit`` is the Pearson
    correlation between that pattern and ``a_ij``. The core is the prefix of the units sorted
    by coreness (ties by unit order), of size 2 … n − 2, that maximises it — a search along
    the coreness order, not over all partitions (Borgatti & Everett search those with a
    genetic algorithm), so ``discrete_fit`` is a lower bound of their optimum.

    **Source**: Borgatti & Everett (2000) "Models of core/periphery structures", *Social
    Networks* 21: 375–395 (both models); Boyd, Fitzgerald & Beck (2006) *Social Networks* 28:
    165–178 (least-squares fitting of the continuous model).

    **Input**: an undirected graph (``weight=None`` for the binary adjacency) or a symmetric
    non-negative square frame; at least 4 units. A network whose pairs are all equally linked
    (including one without links) has no core–periphery structure and raises an error; so
    does a fit that does not converge in ``max_iter`` steps. On a disconnected network the
    units outside the dominant component get coreness (close to) 0.
    """
    import networkx as nx

    if isinstance(network, nx.Graph):
        _check_graph(network, min_nodes=1)
        units = list(network.nodes)
        A = nx.to_numpy_array(network, nodelist=units, weight=weight)
    else:
        M = _square(network, t("metrics.struct.what.adjacency"))
        units = list(M.index)
        A = M.to_numpy().copy()
        if not np.allclose(A, A.T, equal_nan=False):
            raise _fail("adjacency_symmetric")
    n = len(units)
    if n < 4:
        raise _fail("few_units", need=4, got=n)
    np.fill_diagonal(A, 0.0)
    if not np.isfinite(A).all() or (A < 0).any():
        raise _fail("linkage_invalid")
    iu, ju = np.triu_indices(n, k=1)
    a = A[iu, ju]
    if np.ptp(a) <= 0:
        raise _fail("cp_constant")
    A = A / a.max()            # scale-free fit; coreness and correlations are unchanged
    a = A[iu, ju]

    # Hub limits: f_k = (Σ_{i<j} a² − Σ_j a_kj²), the best one first.
    f_hub = (a ** 2).sum() - (A ** 2).sum(axis=1)
    k = int(np.argmin(f_hub))
    if f_hub[k] <= 0:          # an exact star: nothing finite can do as well
        c, f, iterations, converged = np.zeros(n), 0.0, 0, True
    else:
        c, f, iterations, converged = _minres(A, tol, max_iter)
    hub: object | None = None
    if f_hub[k] <= f * (1 + 1e-9):
        hub = units[k]
        c = np.zeros(n)
        c[k] = 1.0
        fitted = np.where((iu == k) | (ju == k), a, 0.0)
        secondary = A[k].copy()
        secondary[k] = np.inf
    elif converged:
        c = np.abs(c)  # for a ≥ 0, |c| fits at least as well as c (and c ~ −c)
        fitted = c[iu] * c[ju]
        secondary = np.zeros(n)
    else:
        raise _fail("cp_converge", iterations=max_iter)
    c = c / float(np.linalg.norm(c))
    coreness = pd.Series(c, index=units, name="coreness")
    fit = _pearson(a, fitted)
    if fit is None:
        raise _fail("cp_constant")
    order = np.lexsort((np.arange(n), -secondary, -c))
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(n)
    best: tuple[float, int] | None = None
    for m in range(2, n - 1):
        in_core = rank < m
        both_core = in_core[iu] & in_core[ju]
        cells = both_core | (~in_core[iu] & ~in_core[ju])
        rho = _pearson(a[cells], both_core[cells].astype(float))
        if rho is not None and (best is None or rho > best[0] + 1e-12):
            best = (rho, m)
    if best is None:
        raise _fail("cp_constant")
    core = [units[i] for i in order[:best[1]]]
    return CorePeriphery(coreness, core, fit, best[0], hub, iterations)
