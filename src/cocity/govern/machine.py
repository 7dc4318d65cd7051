"""The case state machine and the case vocabularies, read from data (``states.yaml``,
``categories.yaml``) through :mod:`cocity.spec`.

States: 登记 registered → 受理 accepted → 办理中 in_progress → 已办结 closed / 退回 returned /
已撤销 withdrawn (the transitions are listed in ``states.yaml``). 逾期 *overdue* is derived, never
stored: a case is overdue on a date ``d`` when its state is open and ``d > due``.

:func:`replay` is the definition of a case's state: the ``to`` of its last event, after
checking that every event starts where the previous one ended and follows an allowed
transition. The register keeps the current state in the case row for queries; tests check that
it always equals the replay of the events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import pydantic

from cocity.i18n import current_lang, t
from cocity.spec import Spec, load_spec

# What an event can be (frozen in migration 0003 as a CHECK): ``state`` changes the state
# (or creates the case); the others keep it (see Register.record).
EVENT_KINDS = ("state", "assign", "extend", "defer", "escalate", "follow_up")
# Where a case is escalated: the next quarterly coordination meeting, or the leading group.
ESCALATION_TARGETS = ("quarterly", "leading_group")


class Name(Spec):
    """A bilingual name (简体中文 first)."""

    zh: str
    en: str

    def text(self, lang: str | None = None) -> str:
        return self.zh if (lang or current_lang()) == "zh" else self.en


class StateDef(Name):
    open: bool


class Machine(Spec):
    """The states, the allowed transitions, the initial state and the closing state."""

    initial: str
    states: dict[str, StateDef]
    transitions: dict[str, list[str]]
    closing: str

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> Machine:
        named = {self.initial, self.closing, *self.transitions}
        for targets in self.transitions.values():
            named.update(targets)
        unknown = sorted(named - set(self.states))
        if unknown:
            raise ValueError(t("govern.spec.unknown_state", states=", ".join(unknown)))
        if set(self.transitions) != set(self.states):
            missing = sorted(set(self.states) - set(self.transitions))
            raise ValueError(t("govern.spec.missing_transitions", states=", ".join(missing)))
        return self

    def allowed(self, from_state: str, to_state: str) -> bool:
        return to_state in self.transitions.get(from_state, ())

    def is_open(self, state: str) -> bool:
        return self.states[state].open

    def open_states(self) -> list[str]:
        return [s for s, d in self.states.items() if d.open]

    def overdue(self, state: str, due: dt.date, as_of: dt.date) -> bool:
        """逾期: an open state on a date after the due date (derived, never stored)."""
        return self.is_open(state) and as_of > due


class Vocabularies(Spec):
    """Case categories, sources and priorities: id → bilingual name."""

    categories: dict[str, Name]
    sources: dict[str, Name]
    priorities: dict[str, Name]


@cache
def machine() -> Machine:
    """The shipped state machine (``states.yaml``)."""
    return load_spec(Machine, package=__package__, default="states.yaml")


@cache
def vocabularies() -> Vocabularies:
    """The shipped vocabularies (``categories.yaml``)."""
    return load_spec(Vocabularies, package=__package__, default="categories.yaml")


def lookup(text: str, names: Mapping[str, Name]) -> str | None:
    """The id named by ``text``: the id itself, or its Chinese or English name (case- and
    space-insensitive); ``None`` if nothing matches."""
    plain = " ".join(str(text).split()).casefold()
    for key, name in names.items():
        if plain in (key.casefold(), name.zh.casefold(), name.en.casefold()):
            return key
    return None


class ReplayError(ValueError):
    """An event log that the state machine cannot have produced (a broken chain)."""


def replay(events: Iterable[Mapping[str, Any]], spec: Machine | None = None) -> dict[int, str]:
    """Each case's state from its events alone: the ``to_state`` of its last event.

    ``events`` are mappings with ``case_id``, ``seq``, ``from_state``, ``to_state`` and
    optionally ``kind`` (default ``state``). Checked: seq runs 1, 2, … per case; the first
    event goes from nothing to the initial state; every later one starts from the previous
    ``to_state`` and is an allowed transition (``state``) or stays in it (any other kind).
    A violation raises :class:`ReplayError` (the log is not one the register writes)."""
    spec = spec or machine()
    state: dict[int, str] = {}
    last: dict[int, int] = {}
    for ev in sorted(events, key=lambda e: (int(e["case_id"]), int(e["seq"]))):
        cid, seq = int(ev["case_id"]), int(ev["seq"])
        frm, to = ev["from_state"], ev["to_state"]
        if not isinstance(frm, str):  # None, or a frame's missing value (NaN, <NA>)
            frm = None
        if seq != last.get(cid, 0) + 1:
            raise ReplayError(f"case {cid}: seq {seq} after {last.get(cid, 0)}")
        if seq == 1:
            if frm is not None or to != spec.initial:
                raise ReplayError(f"case {cid}: first event {frm} -> {to}")
        elif frm != state[cid] or not (
                spec.allowed(frm, to) if ev.get("kind", "state") == "state" else frm == to):
            raise ReplayError(f"case {cid}: event {seq} {frm} -> {to} after {state[cid]}")
        state[cid], last[cid] = to, seq
    return state
