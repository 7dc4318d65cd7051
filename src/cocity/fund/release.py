"""The release check of conditional lines: a rectification-listed unit's lines are earmarked
but released only when a later edition shows improvement.

:func:`check_release` compares the score each conditional line recorded (the unit's score in
the run the allocation followed — or, when ``before`` is given, that run read again) with the
unit's score in a later edition ``after`` of the same level:

    release  ⇔  score_after − score_before > min_gain        (``rectification.min_gain``)

A unit without a score in ``after`` is held. ``before`` must be the run the allocation followed
and ``after`` a later year of the same level; otherwise nothing is compared (an error says which
runs were given). Nothing is written: the ledger releases or keeps the earmarks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cocity.data.errors import Issue
from cocity.fund.allocation import Allocation
from cocity.fund.rules import AllocationError
from cocity.fund.run_grades import RunGrades, run_grades
from cocity.i18n import LANGS, t

COLUMNS = ["unit", "use", "amount_fen", "run_before", "run_after", "score_before",
           "score_after", "gain", "min_gain", "release", "zh", "en"]


def check_release(allocation: Allocation, after: Any, *, before: Any = None) -> pd.DataFrame:
    """One row per conditional line: the scores before and after, the gain, ``release``
    (bool) and why, in both languages (see the module docstring). ``after`` and ``before``:
    anything :func:`cocity.fund.run_grades.run_grades` reads (an ``Evaluation``, a run folder
    or record, an ``evaluation.json``, the document as a mapping)."""
    run = allocation.run
    if run is None:
        raise AllocationError([Issue(t("fund.alloc.err.release_no_run"), None)])
    level = str(run["level"])
    later: RunGrades = run_grades(after, level=level)
    earlier = None if before is None else run_grades(before, level=level)
    b_run, b_year = (run["run"], int(run["year"])) if earlier is None else (earlier.run,
                                                                             earlier.year)
    if b_run != run["run"] or later.year <= int(run["year"]):
        raise AllocationError([Issue(t("fund.alloc.err.release_run", recorded=run["run"],
                                       year=run["year"], before=b_run, before_year=b_year,
                                       after=later.run, after_year=later.year), later.source)])
    rows = []
    for rec in allocation.conditions.to_dict("records"):
        unit = str(rec["unit"])
        s0 = float(rec["score"]) if earlier is None else float(
            earlier.scores.get(unit, np.nan))
        s1 = float(later.scores.get(unit, np.nan))
        min_gain = float(rec["min_gain"])
        gain = s1 - s0
        if not np.isfinite(s1):
            release, key = False, "not_evaluated"
        else:
            release = bool(gain > min_gain)
            key = "released" if release else "held"
        text = {lang: t(f"fund.alloc.release.{key}", lang, before=f"{s0:.2f}", after=f"{s1:.2f}",
                        gain=f"{gain:+.2f}", min_gain=f"{min_gain:g}", run=later.run)
                for lang in LANGS}
        rows.append({"unit": unit, "use": rec["use"], "amount_fen": int(rec["amount_fen"]),
                     "run_before": b_run, "run_after": later.run, "score_before": s0,
                     "score_after": s1, "gain": gain, "min_gain": min_gain,
                     "release": release, **text})
    return pd.DataFrame(rows, columns=COLUMNS)
