"""``cocity plan share``: the cost of one shared project divided among its members by every
rule of :mod:`cocity.plan.sharing`, each allocation checked against the core, as tables, a map
of the project and its members, and one page (:mod:`cocity.report.plan_page`).

The game: the project comes from a register (:mod:`cocity.plan.projects`; default the shipped
demo register and its first project with at least three units). Its first unit is the root
(the hub the line starts from) and the other units are the players; ``c(S)`` is the
minimum-spanning-tree length of the straight links joining ``S`` to the root
(:mod:`cocity.plan.sharing_costs`), in kilometres, or in 亿元 when a cost per kilometre is given
(``cost_per_km``, 亿元/km) or the project has a cost (``c(N)`` is then that cost and every
coalition's cost is scaled alike). A user table of coalition costs (``costs``) replaces the
link cost: its units are the players.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cocity.data.errors import CocityError
from cocity.i18n import LANGS, t, use_lang
from cocity.plan.errors import PlanInputError
from cocity.plan.projects import Project, Register, read_register
from cocity.plan.sharing import (
    MAX_NUCLEOLUS,
    METHODS,
    Allocation,
    CoreCheck,
    core_nonempty,
    in_core,
    members,
    nucleolus,
    proportional,
    scrb,
    shapley,
)
from cocity.plan.sharing_costs import haversine_km, mst_game, table_game
from cocity.report.plan_page import Layer, PlanReport, PlanTable

MIN_UNITS = 3
MAX_COALITION_ROWS = 1 << 10


@dataclass
class Sharing:
    """One cost-sharing run: the players (``codes``, names), the ``root`` (or ``None`` for a
    user table), the game ``costs``, the allocations with their core checks, the cost unit
    key (``km``, ``yi`` = 亿元, ``user``) and the notes (``(zh, en)``) of rules that could not
    be applied."""

    project: Project | None
    register: Register | None
    codes: list[str]
    names: pd.DataFrame
    root: str | None
    costs: np.ndarray
    allocations: list[Allocation]
    checks: list[CoreCheck]
    core_nonempty: bool
    unit: str
    population: np.ndarray | None
    notes: list[tuple[str, str]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] | None = None


def _both(key: str, **fmt: Any) -> tuple[str, str]:
    return t(key, "zh", **fmt), t(key, "en", **fmt)


def pick_project(register: Register, project_id: str | None) -> Project:
    """The project ``project_id``, or the register's first with at least three units."""
    if project_id is not None:
        return register.get(project_id)
    for p in register.projects:
        if len(p.units) >= MIN_UNITS:
            return p
    raise PlanInputError(t("plan.share.err.no_default", file=register.source, n=MIN_UNITS))


def _rule(method: str, costs: np.ndarray, population: np.ndarray | None, *,
          strict: bool) -> tuple[list[Allocation], list[tuple[str, str]]]:
    """The allocations of one method; when not ``strict`` a rule that does not apply becomes
    a note (both languages) instead of an error."""
    def run() -> list[Allocation]:
        if method == "shapley":
            return [shapley(costs)]
        if method == "nucleolus":
            return [nucleolus(costs)]
        if method == "scrb":
            return [scrb(costs)]
        out = [proportional(costs)]
        if population is not None:
            out.append(proportional(costs, weights=population, name="population"))
        return out

    try:
        return run(), []
    except PlanInputError:
        if strict:
            raise
        texts = []
        for lang in LANGS:
            with use_lang(lang):
                try:
                    run()
                except PlanInputError as exc:
                    texts.append(t("plan.share.skipped", lang, method=t(
                        f"plan.share.col.{method}", lang), why=str(exc)))
        return [], [(texts[0], texts[1])]


def share_project(store: Any, *, project: str | None = None, projects: str | Path | None = None,
                  costs: str | Path | None = None, method: str = "all",
                  cost_per_km: float | None = None) -> Sharing:
    """Build the game and apply the rules (module docstring). ``method``: ``all`` or one of
    ``shapley|nucleolus|scrb|proportional``."""
    from cocity.outputs import sha256_file
    from cocity.plan.region import load_region

    if method != "all" and method not in METHODS:
        raise PlanInputError(t("plan.share.err.method", method=method,
                               allowed=", ".join(("all", *METHODS))))
    if cost_per_km is not None and not (np.isfinite(cost_per_km) and cost_per_km > 0):
        raise PlanInputError(t("plan.share.err.cost_per_km", value=cost_per_km))
    units = store.units()
    units = units.assign(code=units["code"].astype(str)).set_index("code")
    register: Register | None = None
    chosen: Project | None = None
    config: dict[str, Any] = {"method": method, "cost_per_km": cost_per_km}
    if costs is None or project is not None or projects is not None:
        register = read_register(store, projects)
        chosen = pick_project(register, project)
        config.update(project=chosen.id, projects=register.source,
                      projects_sha256=register.sha256)
    root: str | None
    if costs is not None:
        path = Path(costs)
        if not path.is_file():
            raise PlanInputError(t("plan.share.err.no_costs_file", file=str(path)))
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise PlanInputError(t("plan.projects.err.unreadable", file=str(path),
                                   error=str(exc))) from None

        def resolve(name: str) -> str | None:
            try:
                return str(store.resolve(name))
            except CocityError:
                return None

        game = table_game(frame, resolve, source=str(path))
        codes, cost_arr, root = game.codes, game.costs, None
        unit = "user"
        config.update(costs=str(path), costs_sha256=sha256_file(path))
    else:
        assert chosen is not None
        if len(chosen.units) < 2:
            raise PlanInputError(t("plan.share.err.too_few", id=chosen.id))
        pts = units.loc[list(chosen.units), ["lon", "lat"]].to_numpy(float)
        dist = haversine_km(pts[:, 0], pts[:, 1])
        root, codes = chosen.units[0], list(chosen.units[1:])
        cost_arr = mst_game(dist, root=0)
        if cost_per_km is not None:
            cost_arr = cost_arr * cost_per_km
            unit = "yi"
        elif chosen.cost_yi is not None:
            cost_arr = cost_arr * (chosen.cost_yi / cost_arr[-1])
            unit = "yi"
            config["scaled_to_cost_yi"] = chosen.cost_yi
        else:
            unit = "km"
    region = load_region(store, level="prefecture")
    population: np.ndarray | None = None
    if all(c in region.units.index for c in codes):
        population = region.units.loc[codes, "population"].to_numpy(float)
    wanted = list(METHODS) if method == "all" else [method]
    n = len(codes)
    allocations: list[Allocation] = []
    notes: list[tuple[str, str]] = []
    for m in wanted:
        if m == "nucleolus" and method == "all" and n > MAX_NUCLEOLUS:
            notes.append(_both("plan.share.skipped_size", n=n, max=MAX_NUCLEOLUS))
            continue
        got, why = _rule(m, cost_arr, population, strict=method != "all")
        allocations += got
        notes += why
    checks = [in_core(cost_arr, a.shares) for a in allocations]
    names = units.loc[codes, ["name_zh", "name_en", "lon", "lat"]]
    return Sharing(project=chosen, register=register, codes=codes, names=names, root=root,
                   costs=cost_arr, allocations=allocations, checks=checks,
                   core_nonempty=core_nonempty(cost_arr), unit=unit, population=population,
                   notes=notes, config=config, provenance=region.provenance)


# ---------------------------------------------------------------------- tables and page
def allocation_table(s: Sharing) -> pd.DataFrame:
    """One row per player: stand-alone and separable costs, then each rule's share."""
    n = len(s.codes)
    full = (1 << n) - 1
    frame = pd.DataFrame({
        "code": s.codes, "name_zh": s.names["name_zh"].tolist(),
        "name_en": s.names["name_en"].tolist(),
        "population": s.population if s.population is not None else np.nan,  # in-circle
        "standalone": [s.costs[1 << i] for i in range(n)],
        "separable": [s.costs[full] - s.costs[full & ~(1 << i)] for i in range(n)]})
    for a in s.allocations:
        frame[a.method] = a.shares
    total = {c: frame[c].sum() if c not in ("code", "name_zh", "name_en", "separable",
                                            "standalone") else "" for c in frame.columns}
    total.update(code="*", name_zh="合计", name_en="Total", standalone=np.nan,
                 separable=np.nan)
    out = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    for c in ("standalone", "separable"):
        out[c] = pd.to_numeric(out[c])
    return out


def _names(s: Sharing, idx: tuple[int, ...], lang: str) -> str:
    col = "name_zh" if lang == "zh" else "name_en"
    return "+".join(str(s.names[col].iloc[i]) for i in idx)


def core_table(s: Sharing) -> pd.DataFrame:
    """One row per rule: in the core or not, the smallest saving ``c(S) − x(S)`` and the
    coalition attaining it."""
    rows = []
    for a, c in zip(s.allocations, s.checks, strict=True):
        rows.append({"method": a.method, "method_zh": t(f"plan.share.col.{a.method}", "zh"),
                     "method_en": t(f"plan.share.col.{a.method}", "en"), "in_core": c.in_core,
                     "min_saving": c.min_excess,
                     "coalition": "+".join(s.codes[i] for i in c.members),
                     "coalition_zh": _names(s, c.members, "zh"),
                     "coalition_en": _names(s, c.members, "en")})
    return pd.DataFrame(rows, columns=["method", "method_zh", "method_en", "in_core",
                                       "min_saving", "coalition", "coalition_zh",
                                       "coalition_en"])


def coalition_table(s: Sharing) -> pd.DataFrame:
    """Every coalition's cost (up to 2¹⁰ coalitions)."""
    n = len(s.codes)
    rows = []
    for mask in range(1, min(1 << n, MAX_COALITION_ROWS)):
        idx = members(mask)
        rows.append({"coalition": "+".join(s.codes[i] for i in idx),
                     "coalition_zh": _names(s, idx, "zh"), "coalition_en": _names(s, idx, "en"),
                     "size": len(idx), "cost": float(s.costs[mask])})
    return pd.DataFrame(rows, columns=["coalition", "coalition_zh", "coalition_en", "size",
                                       "cost"])


def _project_layer(p: Project, flag: str | None) -> Layer:
    frame = pd.DataFrame({"path": [list(p.path)], "label_zh": [p.name_zh],
                          "label_en": [p.name_en], "id": [p.id], "kind": [p.kind],
                          "status": [p.status or ""]})
    return Layer("project", "项目", "Project", "lines", frame, color="#1f77b4",
                 flag=flag)  # type: ignore[arg-type]


def share_report(s: Sharing, *, store: Any) -> PlanReport:
    """The :class:`PlanReport` of a run: cards, the three tables, the project line, the root
    and the members (labelled with their Shapley or first share) and the notes."""
    flag = "illustrative" if s.register is not None and s.register.illustrative else None
    n = len(s.codes)
    first = s.allocations[0] if s.allocations else None
    layers: list[Layer] = []
    if s.project is not None:
        layers.append(_project_layer(s.project, flag))
    pts = s.names.reset_index()
    shares = first.shares if first is not None else np.full(n, np.nan)
    layers.append(Layer("members", "分摊方", "Members", "points", pd.DataFrame({
        "lon": pts["lon"].astype(float), "lat": pts["lat"].astype(float),
        "label_zh": [f"{z} {v:,.2f}" for z, v in zip(pts["name_zh"], shares, strict=True)],
        "label_en": [f"{e} {v:,.2f}" for e, v in zip(pts["name_en"], shares, strict=True)],
        "code": pts["code"]}), color="#d62728", flag=flag))  # type: ignore[arg-type]
    if s.root is not None:
        u = store.units()
        r = u[u["code"].astype(str) == s.root].iloc[0]
        layers.append(Layer("root", "起点", "Root", "points", pd.DataFrame({
            "lon": [float(r["lon"])], "lat": [float(r["lat"])],
            "label_zh": [f"{r['name_zh']}（起点）"], "label_en": [f"{r['name_en']} (root)"],
            "code": [s.root]}), color="#2ca02c"))
    full = (1 << n) - 1
    title = s.project.name_zh if s.project is not None else t("plan.share.user_game", "zh")
    title_en = s.project.name_en if s.project is not None else t("plan.share.user_game", "en")
    uz, ue = t(f"plan.share.unit.{s.unit}", "zh"), t(f"plan.share.unit.{s.unit}", "en")
    cards = [(f"{s.costs[full]:,.2f}", t("plan.share.card.total", "zh", unit=uz),
              t("plan.share.card.total", "en", unit=ue)),
             (str(n), t("plan.share.card.players", "zh"), t("plan.share.card.players", "en")),
             ("✓" if s.core_nonempty else "✗", t("plan.share.card.core", "zh"),
              t("plan.share.card.core", "en"))]
    notes = [_both("plan.share.note.method")]
    if s.root is not None:
        root_name = store.units().set_index(store.units()["code"].astype(str)).loc[s.root]
        notes.append(_both("plan.share.note.game_zh_en", root_zh=root_name["name_zh"],
                           root_en=root_name["name_en"]))
        notes.append(_both("plan.share.note.km") if s.config.get("cost_per_km") is None
                     and "scaled_to_cost_yi" not in s.config
                     else _both("plan.share.note.user_cost"))
    else:
        notes.append(_both("plan.share.note.table"))
    notes += s.notes
    if s.register is not None and s.register.note is not None:
        notes.append(s.register.note)
    notice = _both("plan.share.notice") if flag else None
    tables = [PlanTable("allocation", allocation_table(s), "分摊结果", "Allocations",
                        labels="plan.share.col"),
              PlanTable("core", core_table(s), "核心检验", "Core check",
                        labels="plan.share.col"),
              PlanTable("coalitions", coalition_table(s), "联盟成本", "Coalition costs",
                        labels="plan.share.col")]
    return PlanReport(
        kind="share", title_zh=f"成本分摊：{title}", title_en=f"Cost sharing: {title_en}",
        subtitle_zh=t("plan.share.subtitle", "zh", unit=uz),
        subtitle_en=t("plan.share.subtitle", "en", unit=ue), cards=cards, tables=tables,
        layers=layers, notes=notes, notice=notice, provenance=s.provenance, config=s.config,
        facts={"players": s.codes, "root_unit": s.root, "unit": s.unit,
               "core_nonempty": s.core_nonempty, "illustrative": bool(flag)})


def write_share(s: Sharing, out: str | Path, *, store: Any, lang: str = "zh") -> dict[str, Path]:
    """Write the files of a run (:func:`cocity.report.plan_page.write_plan_report`)."""
    from cocity.plan.region import load_boundaries
    from cocity.report.plan_page import write_plan_report

    return write_plan_report(share_report(s, store=store), out,
                             boundaries=load_boundaries(store), lang=lang)


