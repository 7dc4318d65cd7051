"""A committee meeting's documents (会议议程、会议纪要): the agenda and the minutes as one
self-contained bilingual HTML page each (简体中文 first, with the language switch of the other
pages) and as A4 print PDFs, one per language.

API::

    write_meeting_documents(meeting, *, out, formats=("html", "pdf"), draft=False) -> dict

``meeting`` is a :class:`cocity.govern.meetings.Meeting` (``meetings.meeting(register, key)``);
``draft``: an agenda not yet convened (a preview: the page says so). Files, in ``out``:
``<key>.agenda.html`` (the key with anything but letters, digits, ``.``, ``-``, ``_`` replaced
by ``_``), ``<key>.agenda.pdf``, ``<key>.agenda.en.pdf`` and, once the minutes are
recorded, the same for ``minutes``; and ``<key>.manifest.json``
(:func:`cocity.outputs.manifest`, kind ``govern meeting``: every file with size and SHA-256).
A simulated meeting, and every simulated case, is flagged on every document. Without a font
covering Chinese no PDF is written and the manifest's ``warnings`` say why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cocity.govern.errors import GovernError
from cocity.i18n import LANGS, t

if TYPE_CHECKING:
    from cocity.govern.meetings import Decision, Meeting

FORMATS = ("html", "pdf")
DOCUMENTS = ("agenda", "minutes")


def _names(key: str, **fmt: Any) -> dict[str, str]:
    return {lg: t(key, lg, **fmt) for lg in LANGS}


def _decision_text(d: Decision) -> dict[str, str]:
    """What was decided for an item, in both languages."""
    out = {}
    for lg in LANGS:
        parts = [t(f"govern.meet.decision.{d.decision}", lg)]
        if d.decision == "extend":
            parts.append(t("govern.meet.doc.new_due", lg, due=d.due))
        elif d.decision == "assign":
            parts.append(t("govern.meet.doc.new_lead", lg, department=d.department))
        elif d.decision == "resolve":
            parts.append(t("govern.meet.doc.resolved_yes" if d.resolved
                           else "govern.meet.doc.resolved_no", lg))
        elif d.decision == "escalate" and d.to:
            parts.append(t(f"govern.meet.to.{d.to}", lg))
        if d.leading_group:
            parts.append(t("govern.meet.doc.flag_leading_group", lg))
        out[lg] = " · ".join(parts)
    return out


def _context(meeting: Meeting, doc: str, draft: bool) -> dict[str, Any]:
    import cocity
    from cocity.govern import calendar as cal
    from cocity.govern.machine import machine

    reasons = cal.rules().agenda.reasons
    states = machine().states
    decisions = {d.case: d for d in (meeting.minutes.decisions if meeting.minutes else ())}
    rows = []
    for item in meeting.items:
        st = states.get(item.state)
        d = decisions.get(item.case_id)
        rows.append({
            "pos": item.pos, "case": item.case_id, "title": item.title,
            "simulated": item.simulated, "lead": item.lead_department,
            "due": item.due_in_force, "overdue": item.overdue,
            "state": {"zh": st.zh, "en": st.en} if st else {"zh": "", "en": ""},
            "reasons": {lg: "；".join(getattr(reasons[r], lg) for r in item.reasons
                                     if r in reasons) for lg in LANGS},
            "decision": _decision_text(d) if d else None,
            "why": d.reason if d and d.reason else "",
        })
    kind = _names(f"govern.meet.kind.{meeting.kind}")
    title = {lg: t(f"govern.meet.doc.title.{doc}", lg, kind=kind[lg], date=meeting.date)
             for lg in LANGS}
    return {"meeting": meeting, "doc": doc, "rows": rows, "kind": kind, "title": title,
            "draft": draft, "minutes": meeting.minutes, "version": cocity.__version__,
            "simulated_cases": sum(r["simulated"] for r in rows)}


def meeting_html(meeting: Meeting, *, doc: str, lang: str = "zh", printing: bool = False,
                 draft: bool = False) -> str:
    """The agenda or minutes page: both languages with a switch (``lang`` shown first), or
    for print (``printing``) with only ``lang`` shown and the print stylesheet."""
    from markupsafe import Markup

    from cocity.report.pdf import PRINT_CSS
    from cocity.report.render import template_environment
    from cocity.report.style import FONT_STACK

    template = template_environment().get_template("govern_meeting.html.j2")
    return template.render(lang=lang, printing=printing, font_stack=FONT_STACK,
                           print_css=Markup(PRINT_CSS) if printing else "",
                           **_context(meeting, doc, draft))


def write_meeting_documents(meeting: Meeting, *, out: str | Path,
                            formats: Iterable[str] = FORMATS,
                            draft: bool = False) -> dict[str, Any]:
    """Write the meeting's documents into ``out`` (see the module doc); returns the manifest
    (also written as ``<key>.manifest.json``)."""
    from cocity.outputs import manifest, write_atomic, write_json

    wanted = list(dict.fromkeys(formats))
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        raise GovernError("govern.meet.err.formats", given=", ".join(bad) or "—",
                          known=", ".join(FORMATS))
    folder = Path(out)
    docs = ["agenda"] + (["minutes"] if meeting.minutes is not None and not draft else [])
    warnings: list[str] = []
    from cocity.report.pdf import pdf_possible

    pdf = pdf_possible("pdf" in wanted, warnings)
    paths: dict[str, Path] = {}
    stem = re.sub(r"[^\w.-]+", "_", meeting.key).strip("._") or "meeting"  # a safe file name
    for doc in docs:
        if "html" in wanted:
            paths[f"{doc}:html"] = write_atomic(meeting_html(meeting, doc=doc, draft=draft),
                                                folder / f"{stem}.{doc}.html")
        if pdf:
            from cocity.report.pdf import write_pdf

            for lg in LANGS:
                name = f"{stem}.{doc}.pdf" if lg == "zh" else f"{stem}.{doc}.{lg}.pdf"
                paths[f"{doc}:pdf:{lg}"] = write_pdf(
                    meeting_html(meeting, doc=doc, lang=lg, printing=True, draft=draft),
                    folder / name)
    facts = manifest(
        "govern meeting", outputs=paths, root=folder, config={"formats": wanted},
        meeting={"id": meeting.id, "key": meeting.key, "kind": meeting.kind,
                 "date": meeting.date, "simulated": meeting.simulated, "draft": draft},
        items=len(meeting.items), minutes=meeting.minutes is not None,
        simulated_cases=sum(i.simulated for i in meeting.items), warnings=warnings)
    write_json(facts, folder / f"{stem}.manifest.json")
    return facts
