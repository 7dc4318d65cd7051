"""A writer killed (SIGKILL) in the middle of recording a meeting's minutes leaves either all
of its decisions or none — on SQLite and PostgreSQL: a real subprocess applies half of twelve
decisions inside its transaction, pauses there (``AFTER_DECISION_HOOK``), and is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from cocity.govern import Register
from cocity.govern import meetings as M
from cocity.records import Records
from cocity.records.schema import govern_events, govern_minutes
from tests.test_govern_meetings import WHO, working_case


@pytest.fixture
def register(records: Records) -> Register:
    from cocity.data.units import UnitIndex
    from cocity.datasets import open_store

    return Register(records, units=UnitIndex(open_store().units()))

ROOT = Path(__file__).resolve().parents[1]
N = 12

CHILD = """
import json, sys, time
from cocity.govern import Register
from cocity.govern import meetings as M
from cocity.records import open_records

url, key, decisions = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])

def pause(n):
    if n == len(decisions) // 2:
        print("HALF", n, flush=True)
        time.sleep(600)

M.AFTER_DECISION_HOOK = pause
M.record_minutes(Register(open_records(url)), key, decisions=decisions, attendees=["张"],
                 summary="killed", actor="li", role="secretary", reason="纪要")
print("DONE", flush=True)
"""


def state(records: Records, meeting_id: int) -> tuple[int, int, int]:
    """Events of the meeting, minutes rows of the meeting, all events."""
    e, mi = govern_events, govern_minutes
    with records.read() as conn:
        return (int(conn.execute(sa.select(sa.func.count()).where(
                    e.c.meeting_id == meeting_id)).scalar_one()),
                int(conn.execute(sa.select(sa.func.count()).where(
                    mi.c.meeting_id == meeting_id)).scalar_one()),
                int(conn.execute(sa.select(sa.func.count()).select_from(e)).scalar_one()))


def test_a_killed_minutes_writer_leaves_all_or_nothing(register: Register) -> None:
    ids = [working_case(register, f"k{i}", title=f"案件{i}") for i in range(N)]
    meeting = M.convene(register, date="2024-05-09", kind="monthly", reason="五月", **WHO)
    decisions = [{"case": c, "decision": "extend", "due": "2024-09-30", "reason": "延期"}
                 for c in ids]
    before = state(register.records, meeting.id)
    assert before[:2] == (0, 0)
    records = register.records
    url = records.engine.url.render_as_string(hide_password=False) \
        if records.dialect == "postgresql" else records.where
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, meeting.key,
                              json.dumps(decisions)], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.split() == ["HALF", str(N // 2)], child.stderr.read() if child.stderr \
            else ""
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    # none of the six decisions applied before the kill, no minutes
    assert state(register.records, meeting.id) == before
    assert M.meeting(register, meeting.key).minutes is None
    assert set(register.cases()["due_in_force"]) == {"2024-06-30"}
    # the next writer records the same minutes whole
    done = M.record_minutes(register, meeting.key, decisions=decisions, attendees=["张"],
                            summary="again", reason="纪要", **WHO)
    assert done.minutes is not None and len(done.minutes.decisions) == N
    assert state(register.records, meeting.id) == (N, 1, before[2] + N)
    assert set(register.cases()["due_in_force"]) == {"2024-09-30"}
