"""The governance committee (成渝民生协同治理委员会), ``docs/committee.md``:

* the register of cross-region livelihood cases (:mod:`cocity.govern.register`), the case
  state machine and vocabularies kept as data (:mod:`cocity.govern.machine`, ``states.yaml``,
  ``categories.yaml``) and its refusals (:mod:`cocity.govern.errors`);
* cases from an evaluation's rectification list and the next edition's grade on them
  (:mod:`cocity.govern.rectification`);
* meetings: the calendar, the agenda rules and the minutes (:mod:`cocity.govern.calendar`,
  :mod:`cocity.govern.agenda`, :mod:`cocity.govern.meetings`, ``meetings.yaml``);
* the standards register (:mod:`cocity.govern.standards`, ``standards.yaml``);
* the published statistics, the public export and its independent recomputation
  (:mod:`cocity.govern.stats`, :mod:`cocity.govern.export`, :mod:`cocity.govern.recompute`);
* the demonstration register (:mod:`cocity.govern.demo`).

The submodules load their own dependencies; importing this package loads the register only.
"""

from cocity.govern.errors import (
    AppendOnlyError,
    DueBeforeOpenedError,
    DuplicateCaseError,
    GovernError,
    InvalidCaseError,
    InvalidTransitionError,
    UnknownCaseError,
    UnknownUnitError,
    VersionConflictError,
)
from cocity.govern.machine import machine, replay, vocabularies
from cocity.govern.register import Case, CaseRecord, Event, Register

__all__ = [
    "AppendOnlyError",
    "Case",
    "CaseRecord",
    "DueBeforeOpenedError",
    "DuplicateCaseError",
    "Event",
    "GovernError",
    "InvalidCaseError",
    "InvalidTransitionError",
    "Register",
    "UnknownCaseError",
    "UnknownUnitError",
    "VersionConflictError",
    "machine",
    "replay",
    "vocabularies",
]
