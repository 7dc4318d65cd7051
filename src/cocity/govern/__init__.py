"""The governance committee (成渝民生协同治理委员会): its register of cross-region livelihood
cases (:mod:`cocity.govern.register`), the case state machine and vocabularies kept as data
(:mod:`cocity.govern.machine`, ``states.yaml``, ``categories.yaml``) and its refusals
(:mod:`cocity.govern.errors`)."""

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
