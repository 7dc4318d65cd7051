"""The committee's published statistics as a JSON-able document (the portal's
``/api/v1/govern/statistics`` and any published copy say the same).

Every figure is :func:`cocity.govern.stats.statistics` (the definitions are in its module
doc); they are counts, rates and day quantiles — no login, no free-text reason, no case title
(the public event log with the cases' own fields is :mod:`cocity.govern.export`). A rate or
quantile that does not exist (nothing closed in the group) is ``null``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cocity.records import Records


def statistics_document(records: Records, *, as_of: dt.date | str | None = None
                        ) -> dict[str, Any]:
    """The statistics as of ``as_of`` (default: today in China): ``as_of``, ``cases``,
    ``simulated_cases``, ``simulated`` and one row per group (``dimension``, ``key``, the
    counts of :data:`cocity.govern.stats.COUNTS`, the rates of
    :data:`cocity.govern.stats.RATES`)."""
    from cocity.govern.stats import COUNTS, RATES, statistics

    stats = statistics(records, as_of=as_of)
    rows = []
    for rec in stats.table.to_dict("records"):
        row: dict[str, Any] = {"dimension": str(rec["dimension"]), "key": str(rec["key"])}
        row.update({k: int(rec[k]) for k in COUNTS})
        row.update({k: None if math.isnan(float(rec[k])) else float(rec[k]) for k in RATES})
        rows.append(row)
    return {"as_of": stats.as_of.isoformat(), "cases": stats.cases,
            "simulated_cases": stats.simulated_cases, "simulated": stats.simulated,
            "rows": rows}
