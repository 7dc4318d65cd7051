"""The planning guide, ``docs/planning.md``, one section per ``cocity plan`` command."""

from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "planning.md"


def planning_section(command: str) -> str:
    """The ``## `` section of the guide whose heading names ``cocity plan <command>``."""
    text = GUIDE.read_text(encoding="utf-8")
    sections = re.split(r"(?m)^(?=## )", text)
    found = [s for s in sections if s.startswith("## ")
             and f"`cocity plan {command}`" in s.splitlines()[0]]
    assert len(found) == 1, f"one section for cocity plan {command} in {GUIDE.name}"
    return found[0]
