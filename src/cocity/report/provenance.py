"""Provenance in words, written from the provenance record of a run
(:func:`cocity.data.provenance.provenance`) — never from static text — so that every report,
page and terminal summary says what this run used:

- "内置数据集的真实数据" only when no user data entered the run (and the embedded dataset's own
  sources named, those of the editions used);
- otherwise the workspace and every user import that touched the indicators used: file,
  SHA-256, rows, values added and replaced, and when;
- the survey: the simulated demonstration (flagged as such), a real file with its SHA-256, or
  none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cocity.i18n import t


def _sep(lang: str) -> str:
    return "；" if lang == "zh" else "; "


def _source_labels(dataset: str, sources: Iterable[str], lang: str) -> list[str]:
    """The embedded dataset's labels of ``sources`` (census, yearbook, boundaries …)."""
    from cocity.datasets import read_info

    try:
        info = read_info(dataset)
    except (KeyError, OSError):
        return []
    out = []
    known = info.get("sources")
    for key in sources:
        entry = known.get(key) if isinstance(known, Mapping) else None
        if isinstance(entry, Mapping) and entry.get("label"):
            zh, en = _split(str(entry["label"]))
            out.append(zh if lang == "zh" or not en else en)
    return out


def _split(label: str) -> tuple[str, str]:
    """A "中文 / English" label (the slash may follow a full-width bracket without a space)
    as (zh, en); en is empty when the label has one language."""
    parts = re.split(r"\s*/\s+", label, maxsplit=1)
    return (parts[0].strip(), parts[1].strip()) if len(parts) == 2 else (label.strip(), "")


def dataset_title(dataset: str | None, lang: str) -> str:
    from cocity.datasets import read_info

    if not dataset:
        return "—"
    try:
        return str(read_info(dataset).get(f"title_{lang}", dataset))
    except (KeyError, OSError):
        return dataset


def data_sentence(prov: Mapping[str, Any], lang: str, *,
                  sources: Iterable[str] = ("census", "yearbook", "boundaries")) -> str:
    """One sentence on the data: embedded real data (with its sources), or the workspace with
    user imports (their number; :func:`import_lines` lists them)."""
    dataset = prov.get("dataset")
    imports = list(prov.get("imports") or [])
    workspace = prov.get("workspace") or t("prov.memory", lang)
    if not prov.get("user_data") and dataset:
        labels = _source_labels(str(dataset), sources, lang)
        return t("prov.embedded", lang, title=dataset_title(str(dataset), lang),
                 sources=_sep(lang).join(labels) or "—")
    if dataset:
        return t("prov.workspace_dataset", lang, workspace=workspace,
                 title=dataset_title(str(dataset), lang), n=len(imports))
    return t("prov.workspace", lang, workspace=workspace, n=len(imports))


def import_lines(prov: Mapping[str, Any], lang: str) -> list[str]:
    """One line per user import that entered the run."""
    out = []
    for imp in prov.get("imports") or []:
        inds = imp.get("indicators")
        years = imp.get("years")
        out.append(t("prov.import", lang, file=imp.get("file") or "—",
                     sha=(imp.get("sha256") or "—")[:16], kind=imp.get("kind") or "—",
                     rows=imp.get("rows") if imp.get("rows") is not None else "—",
                     added=imp.get("added") if imp.get("added") is not None else "—",
                     replaced=imp.get("replaced") if imp.get("replaced") is not None else "—",
                     date=imp.get("imported_at") or "—",
                     indicators=", ".join(inds) if inds else "—",
                     years=", ".join(map(str, years)) if years else "—"))
    return out


def _sentence(text: str, lang: str) -> str:
    """``text`` ending with a full stop."""
    text = text.rstrip()
    if text.endswith(("。", ".", "！", "!", "？", "?")):
        return text
    return text + ("。" if lang == "zh" else ".")


def survey_sentence(survey: Mapping[str, Any] | None, lang: str) -> str:
    """What the satisfaction survey was: simulated, a file (with its hash), or none."""
    s = survey or {"kind": "none"}
    kind = s.get("kind", "none")
    if kind == "simulated":
        return _sentence(t("eval.note.simulated", lang), lang)
    if kind == "file":
        return t("prov.survey_file", lang, file=s.get("source") or "—",
                 sha=(s.get("sha256") or "—")[:16], n=s.get("respondents", 0))
    return t("prov.survey_none", lang)
