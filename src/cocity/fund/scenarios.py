"""Scenarios side by side, before anything is posted: the same rules on another fund size,
other grades (another evaluation run) or another rules file give allocations that
:func:`compare` sets next to each other, per unit and use.

A scenario is simply another :class:`~cocity.fund.allocation.Allocation`::

    base = allocate_store(store, run=run_2020, fund_fen=10**10)
    bigger = allocate(base.rules, needs, fund_fen=12 * 10**9, grades=grades)   # fund size
    other = allocate_store(store, rules="my_rules.yaml", run=run_2020, fund_fen=10**10)
    table = compare({"base": base, "bigger": bigger, "my rules": other})

The first allocation is the reference: ``amount_<name>`` is each scenario's amount (fen, 0 where
the unit receives nothing from the use), ``diff_<name>`` its difference with the reference's.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cocity.data.errors import Issue
from cocity.fund.allocation import Allocation
from cocity.fund.rules import AllocationError
from cocity.i18n import t


def compare(allocations: Mapping[str, Allocation]) -> pd.DataFrame:
    """Per (unit, use) and per unit total (``use`` = ``total``): names, each scenario's amount
    and its difference with the first scenario's, sorted by unit then use. Also the pools
    (``unit`` = ``*``) so that a change of fund size shows at the top."""
    if len(allocations) < 2:
        raise AllocationError([Issue(t("fund.alloc.err.compare_few"), None)])
    levels = {a.rules.level for a in allocations.values()}
    if len(levels) > 1:
        raise AllocationError([Issue(t("fund.alloc.err.compare_level",
                                       levels=", ".join(sorted(levels))), None)])
    names = list(allocations)
    frames: list[pd.Series] = []
    labels: dict[str, dict[str, str]] = {}
    for name, a in allocations.items():
        long = pd.Series(a.by_unit().stack(), name=f"amount_{name}")
        frames.append(long)
        unit_names = a.table.drop_duplicates("unit").set_index("unit")[["name_zh", "name_en"]]
        labels.update({str(k): {"name_zh": str(v["name_zh"]), "name_en": str(v["name_en"])}
                       for k, v in unit_names.to_dict("index").items()})
        pools = pd.Series({("*", use): fen for use, fen in a.pools.items()}
                          | {("*", "total"): a.fund_fen}, name=f"amount_{name}")
        frames[-1] = pd.concat([long, pools])
    out = pd.concat(frames, axis=1).fillna(0).astype("int64")
    out.index = out.index.set_names(["unit", "use"])
    out = out.reset_index()
    ref = f"amount_{names[0]}"
    for name in names[1:]:
        out[f"diff_{name}"] = out[f"amount_{name}"] - out[ref]
    out.insert(1, "name_zh", out["unit"].map(lambda u: labels.get(u, {}).get("name_zh", "")))
    out.insert(2, "name_en", out["unit"].map(lambda u: labels.get(u, {}).get("name_en", "")))
    order = {"*": ""}
    uses = [*dict.fromkeys(u for a in allocations.values() for u in a.pools), "total"]
    out["_u"] = out["use"].map({u: i for i, u in enumerate(uses)})
    out["_k"] = out["unit"].map(lambda u: order.get(u, u))
    return out.sort_values(["_k", "_u"]).drop(columns=["_u", "_k"]).reset_index(drop=True)
