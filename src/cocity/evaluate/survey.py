"""Satisfaction-survey microdata (公共服务满意度调查): reading, checking, estimating, simulating.

The schema — satisfaction domains, the Likert scale, non-response codes, required, demographic
and design columns, check thresholds — is data in ``survey.yaml`` beside this module; a user
schema replaces the top-level sections it names.

* :func:`read_survey` reads one row per respondent from a CSV/XLSX file or a DataFrame, resolves
  units by code or name, validates every cell and reports *all* problems in one
  :class:`SurveyInputError` (file, spreadsheet row numbers, column, remedy).
* :func:`estimate` gives design-based weighted satisfaction per group and domain (Taylor
  linearisation of the ratio mean, with-replacement PSUs within strata).
* :func:`check_survey` lists, per expected unit, respondents, response rates and problems.
* :func:`simulate_survey` makes a **simulated** demonstration survey (random answers, real
  population weights) and :func:`write_survey` writes a survey to CSV.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pydantic
from scipy import stats

from cocity.data.errors import AmbiguousUnitError, Issue, UnitNotFoundError, ValidationError
from cocity.data.import_read import read_grid
from cocity.data.schema import LEVELS
from cocity.data.store import Store
from cocity.data.units import normalize
from cocity.i18n import t
from cocity.spec import Spec, SpecError, read_yaml, validate_spec

OVERALL = "overall"
"""The pseudo-domain: per respondent, the mean of the items they answered."""

FLAGS = ("ok", "small_sample", "low_response", "no_responses")
ESTIMATE_COLUMNS = ("group", "domain", "n", "response_rate", "n_eff", "mean", "score", "se",
                    "ci_low", "ci_high", "flag", "simulated")
SIMULATED_SOURCE = "simulated demo survey (cocity.evaluate.survey.simulate_survey, seed={seed})"
CIRCLE_MEMBERSHIP = ("full", "partial")

_ID_COLUMNS = ("respondent", "unit", "weight")
_DESIGN_COLUMNS = ("stratum", "psu")
_TRUE = {"true", "1", "yes", "y", "t", "是", "真"}
_FALSE = {"false", "0", "no", "n", "f", "否", "假"}
_ROWS_SHOWN = 10


class SurveyInputError(ValidationError):
    """Survey data (or an argument about it) rejected; ``issues`` holds every problem found."""

    headline = "survey.err.headline"
    more = "survey.err.more"
    max_shown = 30


def _fail(key: str, hint_key: str | None = None, **fmt: object) -> SurveyInputError:
    hint = t(hint_key, None, **fmt) if hint_key else None
    return SurveyInputError([Issue(t(key, None, **fmt), hint=hint)])


# ====================================================================== schema
@dataclass(frozen=True)
class SurveySchema:
    """The survey schema of ``survey.yaml`` (or a user's), checked and in convenient form."""

    domains: tuple[str, ...]
    names: dict[str, dict[str, str]]            # column -> {zh, en} (domains, ids, design, demogr.)
    aliases: dict[str, tuple[str, ...]]         # column -> extra accepted headers
    likert_min: int
    likert_max: int
    likert_labels: dict[int, dict[str, str]]
    nonresponse: dict[int, dict[str, str]]
    demographics: dict[str, dict[str, dict[str, str]]]  # column -> code -> {zh, en}
    min_n: int
    min_response: float
    simulation: dict[str, Any] = field(default_factory=dict)

    def label(self, column: str, lang: str | None = None) -> str:
        """The name of a column (domain, demographic, …) in ``lang``; ``overall`` included."""
        if column == OVERALL:
            return t("survey.domain.overall", lang)
        entry = self.names.get(column)
        if entry is None:
            return column
        return entry[lang or _lang()]

    @property
    def scale_codes(self) -> tuple[int, ...]:
        return tuple(range(self.likert_min, self.likert_max + 1))


def _lang() -> str:
    from cocity.i18n import current_lang

    return current_lang()


class Named(Spec):
    zh: str
    en: str
    aliases: list[str] = pydantic.Field(default_factory=list)


class Bilingual(Spec):
    zh: str
    en: str


class Demographic(Spec):
    zh: str
    en: str
    codes: Annotated[dict[str, Bilingual], pydantic.Field(min_length=1)]


class Likert(Spec):
    min: Annotated[int, pydantic.Field(strict=True)]
    max: Annotated[int, pydantic.Field(strict=True)]
    labels: dict[int, Bilingual]


class Checks(Spec):
    min_n: Annotated[int, pydantic.Field(strict=True, ge=0)] = 30
    min_response: Annotated[float, pydantic.Field(ge=0, le=1)] = 0.5


class Simulation(Spec):
    mu: float = 0.0
    sigma_unit: Annotated[float, pydantic.Field(ge=0)] = 0.3
    sigma_domain: Annotated[float, pydantic.Field(ge=0)] = 0.3
    sigma_respondent: Annotated[float, pydantic.Field(gt=0)] = 1.0
    cuts: list[float] = pydantic.Field(default_factory=list)
    nonresponse_share: Annotated[float, pydantic.Field(ge=0, le=1)] = 0.0


class SurveySpec(Spec):
    """The survey schema file (``survey.yaml``), checked by :mod:`cocity.spec`."""

    columns: dict[Literal["respondent", "unit", "weight"], Named]
    design: dict[Literal["stratum", "psu"], Named]
    domains: Annotated[dict[str, Bilingual], pydantic.Field(min_length=1)]
    likert: Likert
    nonresponse: dict[int, Bilingual] = pydantic.Field(default_factory=dict)
    demographics: dict[str, Demographic] = pydantic.Field(default_factory=dict)
    checks: Checks = pydantic.Field(default_factory=Checks)
    simulation: Simulation = pydantic.Field(default_factory=Simulation)


def load_schema(schema: str | Path | Mapping[str, Any] | SurveySchema | None = None
                ) -> SurveySchema:
    """The shipped schema, with the top-level sections of ``schema`` (mapping or YAML file)
    replacing its own; every problem at once as a :class:`~cocity.spec.SpecError` naming the
    file and key."""
    if isinstance(schema, SurveySchema):
        return schema
    shipped, where = read_yaml(package=__package__ or "cocity.evaluate", default="survey.yaml")
    data = dict(shipped or {})
    if schema is not None:
        user, where = (dict(schema), "<schema>") if isinstance(schema, Mapping) else \
            read_yaml(schema)
        if not isinstance(user, Mapping):
            raise SpecError([Issue(t("spec.err.not_mapping", kind=type(user).__name__),
                                   where)])
        data.update(user)
    return _schema_of(validate_spec(SurveySpec, data, origin=where), where)


def _schema_of(spec: SurveySpec, origin: str) -> SurveySchema:
    """The schema of a well-shaped file after the checks between its parts: all three
    identification columns, a scale of at least two codes with one label each, non-response
    codes off the scale, no column defined twice, one simulation cut-point fewer than codes."""
    problems: list[Issue] = []

    def add(key: str, message: str) -> None:
        problems.append(Issue(message, origin, key=key))

    names: dict[str, dict[str, str]] = {}
    aliases: dict[str, tuple[str, ...]] = {}
    for section, keys, given in (("columns", _ID_COLUMNS, spec.columns),
                                 ("design", _DESIGN_COLUMNS, spec.design)):
        for key in keys:
            entry = given.get(key)  # type: ignore[call-overload]
            if entry is None:
                add(f"{section}.{key}", t("spec.err.missing"))
                continue
            names[key] = {"zh": entry.zh, "en": entry.en}
            aliases[key] = tuple(entry.aliases)
    domains = tuple(str(d) for d in spec.domains)
    for d in domains:
        names[d] = spec.domains[d].model_dump()
        aliases[d] = ()
    lo, hi = spec.likert.min, spec.likert.max
    if hi - lo < 1:
        add("likert.max", t("survey.err.schema.scale", low=lo, high=hi))
    labels_ = {int(k): v.model_dump() for k, v in spec.likert.labels.items()}
    if set(labels_) != set(range(lo, hi + 1)):
        add("likert.labels", t("survey.err.schema.labels", low=lo, high=hi))
    nonresp = {int(k): v.model_dump() for k, v in spec.nonresponse.items()}
    for code in sorted(c for c in nonresp if lo <= c <= hi):
        add(f"nonresponse.{code}", t("survey.err.schema.on_scale", code=code, low=lo, high=hi))
    demo: dict[str, dict[str, dict[str, str]]] = {}
    for col, entry in spec.demographics.items():
        names[col] = {"zh": entry.zh, "en": entry.en}
        aliases[col] = ()
        demo[col] = {_code_text(k): v.model_dump() for k, v in entry.codes.items()}
    used = set(_ID_COLUMNS) | set(_DESIGN_COLUMNS) | {"simulated"}
    for col in (*domains, *demo):
        if col in used:
            add(f"domains.{col}" if col in domains else f"demographics.{col}",
                t("survey.err.schema.twice", column=col))
        used.add(col)
    cuts = spec.simulation.cuts
    if spec.simulation.cuts and (len(cuts) != hi - lo or any(
            b <= a for a, b in itertools.pairwise(cuts))):
        add("simulation.cuts", t("survey.err.schema.cuts", n=hi - lo))
    if problems:
        raise SpecError(problems)
    return SurveySchema(domains, names, aliases, lo, hi, labels_, nonresp, demo,
                        spec.checks.min_n, spec.checks.min_response,
                        spec.simulation.model_dump())


def _check_thresholds(min_n: object, min_response: object) -> None:
    ok = (isinstance(min_n, int | np.integer) and not isinstance(min_n, bool) and min_n >= 0
          and isinstance(min_response, int | float) and 0 <= float(min_response) <= 1)
    if not ok:
        raise _fail("survey.err.thresholds", min_n=min_n, min_response=min_response)


# ====================================================================== cells
def _cell(value: object) -> object:
    """A raw cell as None (blank), a Python number, bool or a stripped string."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _code_text(value: object) -> str:
    """A code as text: ``2``, ``2.0`` and ``"２"`` all give ``"2"``."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFKC", str(value)).strip()


def _number(value: object) -> float | None:
    """The cell as a float, or None if it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(unicodedata.normalize("NFKC", value).replace("\u2212", "-"))
        except ValueError:
            return None
    return None


class _Problems:
    """Problems grouped by (kind, column, value), each with the rows where it occurs."""

    def __init__(self, file: str):
        self.file = file
        self._rows: dict[tuple[str, str | None, str], list[int]] = {}
        self._text: dict[tuple[str, str | None, str], tuple[str, str | None]] = {}
        self.issues: list[Issue] = []

    def add(self, kind: str, column: str | None, value: str, row: int, message: str,
            hint: str | None) -> None:
        key = (kind, column, value)
        if key not in self._rows:
            self._rows[key] = []
            self._text[key] = (message, hint)
        self._rows[key].append(row)

    def once(self, message: str, hint: str | None = None, column: str | None = None) -> None:
        self.issues.append(Issue(message, self.file, None, column, hint))

    def all(self) -> list[Issue]:
        out = list(self.issues)
        for key, rows in self._rows.items():
            message, hint = self._text[key]
            if len(rows) > 1:
                shown = t("survey.err.rows.sep").join(str(r) for r in rows[:_ROWS_SHOWN])
                if len(rows) > _ROWS_SHOWN:
                    shown += ", …"
                message += t("survey.err.rows", n=len(rows), rows=shown)
            out.append(Issue(message, self.file, rows[0], key[1], hint))
        return out


# ====================================================================== reading
@dataclass
class Survey:
    """Satisfaction-survey microdata, validated.

    ``responses``: one row per respondent — ``respondent`` (id), ``unit`` (GB/T 2260 code),
    ``weight`` (> 0), one float column per domain (Likert codes; non-response as NaN), the
    demographic and design columns present in the input (codes as text) and ``simulated``
    (bool). ``simulated`` on the survey is True if any row is simulated.
    """

    responses: pd.DataFrame
    year: int
    source: str
    simulated: bool
    schema: SurveySchema = field(default_factory=load_schema)


def read_survey(source: str | Path | pd.DataFrame, store: Store, *, year: int,
                level: str | None = None,
                schema: str | Path | Mapping[str, Any] | SurveySchema | None = None) -> Survey:
    """Read and validate survey microdata (one row per respondent).

    ``source`` is a CSV/TSV/XLSX file (first sheet; header in the first non-blank row) or a
    DataFrame (its rows are numbered as a spreadsheet written from it would show them: the
    header is row 1). Headers match the schema's column keys, aliases and Chinese/English names.
    The ``unit`` column may hold codes or names (成都市锦江区, Chengdu Jinjiang, 510104), resolved
    with the store's name matching, at ``level`` if given. Likert cells take a code or its label;
    non-response codes and blanks become NaN. An optional ``simulated`` column (true/false) is
    kept; without it every row is taken as real (``simulated=False``).

    Every problem — missing required columns, unknown or ambiguous units, values neither on the
    scale nor non-response codes, missing or non-positive weights, blank or duplicate respondent
    ids, invalid demographic codes, blank design cells — is collected and raised together in one
    :class:`SurveyInputError`.
    """
    sch = load_schema(schema)
    if isinstance(year, bool) or not isinstance(year, int | np.integer):
        raise _fail("survey.err.year", value=year)
    if level is not None and level not in LEVELS:
        raise _fail("survey.err.level", value=level, allowed=", ".join(LEVELS))
    if isinstance(source, pd.DataFrame):
        name = t("survey.source.frame")
        header: list[object] = [_cell(c) for c in source.columns]
        rows = [(i + 2, [_cell(v) for v in rec])
                for i, rec in enumerate(source.itertuples(index=False, name=None))]
    else:
        name = str(source)
        try:
            grid = read_grid(Path(source))
        except SurveyInputError:
            raise
        except ValidationError as exc:
            raise SurveyInputError(exc.issues) from exc
        body = [(n, [_cell(c) for c in cells]) for n, cells in grid.rows]
        body = [(n, cells) for n, cells in body if any(c is not None for c in cells)]
        header, rows = body[0][1], body[1:]
    responses = _validate(header, rows, name, store, level, sch)
    return Survey(responses, int(year), name, bool(responses["simulated"].any()), sch)


def _header_lookup(sch: SurveySchema) -> dict[str, str]:
    lookup: dict[str, str] = {}
    columns = (*_ID_COLUMNS, *sch.domains, *sch.demographics, *_DESIGN_COLUMNS)
    for col in columns:
        for text in (col, *sch.aliases.get(col, ()), *sch.names[col].values()):
            lookup.setdefault(normalize(text), col)
    lookup.setdefault("simulated", "simulated")
    return lookup


def _validate(header: list[object], rows: list[tuple[int, list[object]]], file: str,
              store: Store, level: str | None, sch: SurveySchema) -> pd.DataFrame:
    problems = _Problems(file)
    lookup = _header_lookup(sch)
    where: dict[str, int] = {}
    shown: dict[str, str] = {}
    for i, h in enumerate(header):
        if h is None:
            continue
        col = lookup.get(normalize(h))
        if col is None:
            continue
        if col in where:
            problems.once(t("survey.err.duplicate_column", header=h, first=shown[col],
                            field=col), t("survey.err.duplicate_column.hint"), str(h))
            continue
        where[col] = i
        shown[col] = str(h)
    required = (*_ID_COLUMNS, *sch.domains)
    missing = [c for c in required if c not in where]
    if missing:
        named = [t("survey.column_named", column=c, name=sch.label(c)) for c in missing]
        problems.once(t("survey.err.missing_columns", columns=", ".join(named)),
                      t("survey.err.missing_columns.hint", required=", ".join(required),
                        example=f"{sch.names['unit']['zh']} / {sch.names[sch.domains[0]]['zh']}"))
    if not rows:
        problems.once(t("survey.err.no_rows"), t("survey.err.no_rows.hint"))

    def get(cells: list[object], col: str) -> object:
        i = where.get(col)
        return cells[i] if i is not None and i < len(cells) else None

    scale_lookup = _scale_lookup(sch)
    codes_text = ", ".join(str(c) for c in sch.nonresponse) or "—"
    first_label = sch.likert_labels[sch.likert_max][_lang()]
    demo_lookup = {col: _demo_lookup(codes) for col, codes in sch.demographics.items()}
    index = store.unit_index()
    unit_cache: dict[str, str | Exception] = {}
    seen_ids: dict[str, int] = {}
    out: dict[str, list[object]] = {c: [] for c in where}
    out["simulated"] = []
    for number, cells in rows:
        # respondent
        if "respondent" in where:
            rid = get(cells, "respondent")
            if rid is None:
                problems.add("respondent_missing", shown["respondent"], "", number,
                             t("survey.err.respondent_missing"),
                             t("survey.err.respondent_missing.hint"))
                out["respondent"].append(None)
            else:
                text = _code_text(rid)
                if text in seen_ids:
                    if seen_ids[text] > 0:
                        problems.add("respondent_dup", shown["respondent"], text, seen_ids[text],
                                     t("survey.err.respondent_duplicate", value=text),
                                     t("survey.err.respondent_duplicate.hint"))
                        seen_ids[text] = 0
                    problems.add("respondent_dup", shown["respondent"], text, number,
                                 t("survey.err.respondent_duplicate", value=text),
                                 t("survey.err.respondent_duplicate.hint"))
                else:
                    seen_ids[text] = number
                out["respondent"].append(text)
        # unit
        if "unit" in where:
            raw = get(cells, "unit")
            if raw is None:
                problems.add("unit_missing", shown["unit"], "", number,
                             t("survey.err.unit_missing"), t("survey.err.unit.hint"))
                out["unit"].append(None)
            else:
                text = _code_text(raw)
                if text not in unit_cache:
                    try:
                        unit_cache[text] = index.resolve(text, level)
                    except (UnitNotFoundError, AmbiguousUnitError) as exc:
                        unit_cache[text] = exc
                got = unit_cache[text]
                if isinstance(got, Exception):
                    problems.add("unit", shown["unit"], text, number, str(got),
                                 t("survey.err.unit.hint"))
                    out["unit"].append(None)
                else:
                    out["unit"].append(got)
        # weight
        if "weight" in where:
            raw = get(cells, "weight")
            w = _number(raw)
            if raw is None:
                problems.add("weight_missing", shown["weight"], "", number,
                             t("survey.err.weight_missing"), t("survey.err.weight.hint"))
            elif w is None or not math.isfinite(w) or w <= 0:
                text = _code_text(raw)
                problems.add("weight_bad", shown["weight"], text, number,
                             t("survey.err.weight_bad", value=text), t("survey.err.weight.hint"))
            out["weight"].append(w if w is not None and math.isfinite(w) and w > 0 else None)
        # Likert items
        for dom in sch.domains:
            if dom not in where:
                continue
            raw = get(cells, dom)
            value: float = math.nan
            if raw is not None:
                key = _scale_key(raw)
                if key in scale_lookup:
                    code = scale_lookup[key]
                    value = float(code) if code is not None else math.nan
                else:
                    text = _code_text(raw)
                    lo, hi = sch.likert_min, sch.likert_max
                    problems.add("likert", shown[dom], text, number,
                                 t("survey.err.likert", value=text, low=lo, high=hi,
                                   codes=codes_text),
                                 t("survey.err.likert.hint", low=lo, high=hi, codes=codes_text,
                                   label=first_label))
            out[dom].append(value)
        # demographics
        for col, codes in sch.demographics.items():
            if col not in where:
                continue
            raw = get(cells, col)
            code_or_none: str | None = None
            if raw is not None:
                code_or_none = demo_lookup[col].get(normalize(_code_text(raw)))
                if code_or_none is None:
                    text = _code_text(raw)
                    allowed = ", ".join(f"{c}={v[_lang()]}" for c, v in codes.items())
                    problems.add("demographic", shown[col], text, number,
                                 t("survey.err.demographic", value=text),
                                 t("survey.err.demographic.hint", allowed=allowed))
            out[col].append(code_or_none)
        # design
        for col in _DESIGN_COLUMNS:
            if col not in where:
                continue
            raw = get(cells, col)
            if raw is None:
                problems.add("design", shown[col], "", number,
                             t("survey.err.design_missing", column=shown[col]),
                             t("survey.err.design_missing.hint"))
            out[col].append(None if raw is None else _code_text(raw))
        # simulated flag
        flag = False
        if "simulated" in where:
            raw = get(cells, "simulated")
            if isinstance(raw, bool):
                flag = raw
            elif raw is not None:
                text = normalize(_code_text(raw))
                if text in _TRUE:
                    flag = True
                elif text not in _FALSE:
                    problems.add("simulated", shown["simulated"], str(raw), number,
                                 t("survey.err.simulated", value=raw),
                                 t("survey.err.simulated.hint"))
        out["simulated"].append(flag)
    issues = problems.all()
    if issues:
        raise SurveyInputError(issues)
    return _responses_frame(out, sch)


def _scale_key(raw: object) -> str:
    if isinstance(raw, bool):
        return f"bool:{raw}"
    num = _number(raw)
    if num is not None:
        return _code_text(num)
    return normalize(raw)


def _scale_lookup(sch: SurveySchema) -> dict[str, int | None]:
    """Accepted Likert cell keys → code (None for non-response codes)."""
    out: dict[str, int | None] = {}
    for code, labels in sch.likert_labels.items():
        out[str(code)] = code
        for text in labels.values():
            out.setdefault(normalize(text), code)
    for code, labels in sch.nonresponse.items():
        out[str(code)] = None
        for text in labels.values():
            out.setdefault(normalize(text), None)
    return out


def _demo_lookup(codes: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for code, labels in codes.items():
        out[normalize(code)] = code
        for text in labels.values():
            out.setdefault(normalize(text), code)
    return out


def _responses_frame(columns: Mapping[str, list[object]], sch: SurveySchema) -> pd.DataFrame:
    """The responses frame in canonical column order and dtypes."""
    order = [c for c in (*_ID_COLUMNS, *sch.domains, *sch.demographics, *_DESIGN_COLUMNS,
                         "simulated") if c in columns]
    data: dict[str, pd.Series] = {}
    for c in order:
        if c == "weight" or c in sch.domains:
            data[c] = pd.Series(columns[c], dtype="float64")
        elif c == "simulated":
            data[c] = pd.Series(columns[c], dtype=bool)
        else:
            data[c] = pd.Series(columns[c], dtype=object)
    return pd.DataFrame(data)


# ====================================================================== estimation
def estimate(survey: Survey, *, groups: Mapping[Hashable, Hashable] | pd.Series | None = None,
             domains: Sequence[str] | None = None, level: float = 0.95,
             min_n: int | None = None, min_response: float | None = None) -> pd.DataFrame:
    r"""Design-based weighted satisfaction per group and domain, plus ``overall``.

    **Groups.** ``None``: one group per unit present in the survey. A mapping unit → group (e.g.
    county → prefecture): every unit in the survey must be mapped; every group in the mapping
    gets rows, also one without respondents (NaN estimates, flag ``no_responses``).

    **Point estimate.** For group :math:`g` and item :math:`y`, over the respondents of :math:`g`
    who answered (non-response codes and blanks excluded, i.e. item non-response is ignorable
    within the group), the Hájek (ratio) mean
    :math:`\hat R = \sum_i w_i y_i / \sum_i w_i` on the Likert scale, and the score
    :math:`100(\hat R-\min)/(\max-\min)` — with the 1–5 scale :math:`(\hat R-1)/(K-1)\cdot 100`,
    K = 5. ``overall`` is the same estimator applied to each respondent's mean of the items
    (among ``domains``) they answered; respondents answering none are non-respondents to it.

    **Variance** (Taylor linearisation of the ratio, with-replacement PSUs within strata;
    Wolter, *Introduction to Variance Estimation*, 2nd ed. 2007, ch. 6 (Taylor series
    methods); Lumley, *Complex Surveys: A Guide to Analysis Using R*, 2010, ch. 2–3 (strata,
    clusters, domains); the same as R ``survey::svymean`` on a subset of the full design).
    The group is a domain of the whole sample: with :math:`d_i` = 1 for answering members of
    :math:`g` (else 0), the linearised values are
    :math:`z_i = d_i w_i (y_i-\hat R)/\sum_k d_k w_k`; PSU totals
    :math:`z_{hj}=\sum_{i\in hj} z_i`, and
    :math:`\hat V = \sum_h \frac{n_h}{n_h-1}\sum_{j=1}^{n_h}(z_{hj}-\bar z_h)^2`, where
    :math:`n_h` counts every PSU of stratum h in the survey (PSUs without group members enter with
    :math:`z_{hj}=0`). Without a ``stratum`` column the survey is one stratum; without ``psu``
    each respondent is a PSU; PSU labels are nested within strata. A stratum with a single PSU
    that holds group members gives no variance (se NaN), like R's
    ``options(survey.lonely.psu = "fail")`` without failing. No finite-population correction
    (with-replacement approximation).

    **Interval.** :math:`\hat R \pm t_{df,(1+level)/2}\,se` with
    df = (#PSUs holding answering group members) − (#strata holding them), as R's ``degf`` of a
    subset design; with df < 1 se and the interval are NaN. ``se``, ``ci_low`` and ``ci_high``
    are on the **0–100 score scale** (se of the Likert mean = se · (max − min) / 100); the
    interval is truncated to [0, 100], the range of the score.

    **Columns.** ``group``, ``domain`` (schema domains in order, then ``overall``), ``n``
    (respondents answering), ``response_rate`` (n / respondents of the group, unweighted),
    ``n_eff`` (Kish: :math:`(\sum w)^2/\sum w^2` over answering respondents), ``mean``,
    ``score``, ``se``, ``ci_low``, ``ci_high``, ``flag`` and ``simulated`` (the survey or a
    respondent of the group is simulated). ``flag``, first that applies: ``no_responses``
    (n = 0), ``small_sample`` (n < ``min_n``), ``low_response`` (response_rate <
    ``min_response``), else ``ok``; thresholds default to the schema's ``checks``.
    """
    sch = survey.schema
    doms = _domains(sch, domains)
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise _fail("survey.err.conf_level", value=level)
    min_n = sch.min_n if min_n is None else min_n
    min_response = sch.min_response if min_response is None else min_response
    _check_thresholds(min_n, min_response)

    r = survey.responses
    units = r["unit"].astype(str).to_numpy()
    if groups is None:
        labels: list[Hashable] = sorted(set(units))
        mapping: dict[Hashable, Hashable] = {u: u for u in labels}
    else:
        mapping = dict(groups.items()) if isinstance(groups, pd.Series) else dict(groups)
        mapping = {str(k): v for k, v in mapping.items()}
        unmapped = sorted(set(units) - set(mapping))
        if unmapped:
            raise _fail("survey.err.unmapped", "survey.err.unmapped.hint",
                        units=", ".join(unmapped))
        labels = list(dict.fromkeys(mapping.values()))
    position = {g: i for i, g in enumerate(labels)}
    gid = np.array([position[mapping[u]] for u in units], dtype=np.int64)
    n_groups = len(labels)

    w = r["weight"].to_numpy(float)
    strata = (r["stratum"].astype(str).to_numpy() if "stratum" in r
              else np.zeros(len(r), dtype=object))
    psus = (r["psu"].astype(str).to_numpy() if "psu" in r
            else np.arange(len(r)).astype(str))
    stratum_id = pd.factorize(pd.Series(strata, dtype=object))[0]
    psu_id = pd.factorize(pd.Series([f"{s}\x1f{p}" for s, p in
                                     zip(stratum_id, psus, strict=True)], dtype=object))[0]
    n_psu = int(psu_id.max()) + 1 if len(psu_id) else 0
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[psu_id] = stratum_id
    psus_per_stratum = np.bincount(psu_stratum, minlength=int(stratum_id.max(initial=-1)) + 1)

    items = r[list(doms)].to_numpy(float).reshape(len(r), len(doms))
    answered = ~np.isnan(items)
    count = answered.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = np.where(count > 0, np.nansum(np.where(answered, items, 0.0), axis=1)
                           / np.maximum(count, 1), np.nan)
    members = np.bincount(gid, minlength=n_groups)
    sim_group = np.bincount(gid, weights=r["simulated"].to_numpy(bool).astype(float),
                            minlength=n_groups) > 0

    lo, hi = sch.likert_min, sch.likert_max
    factor = 100.0 / (hi - lo)
    frames = []
    for name, y in [*((d, items[:, k]) for k, d in enumerate(doms)), (OVERALL, overall)]:
        est = _domain_estimates(y, w, gid, n_groups, psu_id, psu_stratum, psus_per_stratum)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(members > 0, est["n"] / np.maximum(members, 1), np.nan)
        df = est["df"]
        se_mean = np.where(df >= 1, np.sqrt(est["var"]), np.nan)
        tq = np.where(df >= 1, stats.t.ppf((1 + level) / 2, np.maximum(df, 1)), np.nan)
        score = (est["mean"] - lo) * factor
        se = se_mean * factor
        ci_low = np.clip(score - tq * se, 0.0, 100.0)
        ci_high = np.clip(score + tq * se, 0.0, 100.0)
        flag = np.where(est["n"] == 0, "no_responses",
                        np.where(est["n"] < min_n, "small_sample",
                                 np.where(rate < min_response, "low_response", "ok")))
        frames.append(pd.DataFrame({
            "group": pd.Series(labels, dtype=object), "domain": name,
            "n": est["n"].astype(np.int64), "response_rate": rate, "n_eff": est["n_eff"],
            "mean": est["mean"], "score": score, "se": se, "ci_low": ci_low,
            "ci_high": ci_high, "flag": pd.Series(flag, dtype=object),
            "simulated": sim_group | bool(survey.simulated)}))
    out = pd.concat(frames, ignore_index=True)
    order = {d: i for i, d in enumerate([*doms, OVERALL])}
    out["_g"] = out["group"].map(position)
    out["_d"] = out["domain"].map(order)
    out = out.sort_values(["_g", "_d"], kind="stable").drop(columns=["_g", "_d"])
    out.attrs.update(level=level, scale=(lo, hi), min_n=min_n, min_response=min_response)
    return out.reset_index(drop=True)[list(ESTIMATE_COLUMNS)]


def _domains(sch: SurveySchema, domains: Sequence[str] | None) -> tuple[str, ...]:
    if domains is None:
        return sch.domains
    chosen = (domains,) if isinstance(domains, str) else tuple(domains)
    bad = [d for d in chosen if d not in sch.domains]
    if bad or not chosen:
        raise _fail("survey.err.domains", values=", ".join(map(str, bad)) or "—",
                    allowed=", ".join(sch.domains))
    return chosen


def _domain_estimates(y: np.ndarray, w: np.ndarray, gid: np.ndarray, n_groups: int,
                      psu_id: np.ndarray, psu_stratum: np.ndarray,
                      psus_per_stratum: np.ndarray) -> dict[str, np.ndarray]:
    """Ratio means and their linearised with-replacement variances for every group at once."""
    ok = ~np.isnan(y)
    g, ww, yy, p = gid[ok], w[ok], y[ok], psu_id[ok]
    n = np.bincount(g, minlength=n_groups)
    wsum = np.bincount(g, weights=ww, minlength=n_groups)
    w2sum = np.bincount(g, weights=ww * ww, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(g, weights=ww * yy, minlength=n_groups) / wsum
        n_eff = wsum**2 / w2sum
        z = ww * (yy - mean[g]) / wsum[g]
    # PSU totals of z within each group.
    n_psu = len(psu_stratum)
    key, inv = np.unique(g * n_psu + p, return_inverse=True)
    z_psu = np.bincount(inv, weights=z)
    g_psu, h_psu = key // n_psu, psu_stratum[key % n_psu]
    # Stratum sums S1 = Σ_j z_hj, S2 = Σ_j z_hj² (PSUs without group members add 0).
    n_strata = len(psus_per_stratum)
    skey, sinv = np.unique(g_psu * n_strata + h_psu, return_inverse=True)
    s1 = np.bincount(sinv, weights=z_psu)
    s2 = np.bincount(sinv, weights=z_psu**2)
    g_str, nh = skey // n_strata, psus_per_stratum[skey % n_strata].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        contrib = np.where(nh > 1, nh / (nh - 1) * (s2 - s1**2 / nh), np.nan)
    var = np.bincount(g_str, weights=contrib, minlength=n_groups)
    var = np.maximum(var, 0.0)  # rounding can leave -0.0 / tiny negatives
    df = (np.bincount(g_psu, minlength=n_groups)
          - np.bincount(g_str, minlength=n_groups)).astype(float)
    var[n == 0] = np.nan
    return {"n": n, "mean": mean, "n_eff": n_eff, "var": var, "df": df}


# ====================================================================== checks
def check_survey(survey: Survey, units: Sequence[str] | pd.DataFrame, *,
                 min_n: int | None = None, min_response: float | None = None) -> pd.DataFrame:
    """Per expected unit: respondents, response rate per domain and problems.

    ``units`` are the expected unit codes (or a frame with a ``code`` column, e.g.
    ``store.units(level="county", membership=["full", "partial"])``). One row per expected unit
    in the given order, then one per unit of the survey that was not expected. Columns:
    ``unit``, ``expected`` (bool), ``respondents``, ``response_rate_<domain>`` for each schema
    domain (answering / respondents, unweighted; NaN without respondents), ``problems`` (codes
    joined by ``;`` — ``no_responses``, ``small_sample`` (respondents < ``min_n``),
    ``low_response`` (some domain below ``min_response``), ``unexpected_unit``; empty if none),
    ``message`` (the problems in the current language) and ``simulated``. Thresholds default to
    the schema's ``checks``.
    """
    sch = survey.schema
    min_n = sch.min_n if min_n is None else min_n
    min_response = sch.min_response if min_response is None else min_response
    _check_thresholds(min_n, min_response)
    codes = (units["code"] if isinstance(units, pd.DataFrame) else pd.Series(units, dtype=object))
    expected = list(dict.fromkeys(str(c) for c in codes))
    r = survey.responses
    present = sorted(set(r["unit"].astype(str)) - set(expected))
    rows: list[dict[str, object]] = []
    by_unit = {u: frame for u, frame in r.groupby("unit", sort=False)}
    for unit in [*expected, *present]:
        sub = by_unit.get(unit)
        n = 0 if sub is None else len(sub)
        row: dict[str, object] = {"unit": unit, "expected": unit in expected, "respondents": n}
        low: list[str] = []
        for d in sch.domains:
            rate = math.nan if sub is None or n == 0 else float(sub[d].notna().mean())
            row[f"response_rate_{d}"] = rate
            if n > 0 and rate < min_response:
                low.append(d)
        codes_found: list[str] = []
        msgs: list[str] = []
        if n == 0:
            codes_found.append("no_responses")
            msgs.append(t("survey.check.no_responses"))
        elif n < min_n:
            codes_found.append("small_sample")
            msgs.append(t("survey.check.small_sample", n=n, min_n=min_n))
        if low:
            codes_found.append("low_response")
            msgs.append(t("survey.check.low_response", rate=min_response,
                          domains=", ".join(sch.label(d) for d in low)))
        if unit not in expected:
            codes_found.append("unexpected_unit")
            msgs.append(t("survey.check.unexpected_unit"))
        row["problems"] = ";".join(codes_found)
        row["message"] = "；".join(msgs) if _lang() == "zh" else "; ".join(msgs)
        row["simulated"] = bool(survey.simulated or (sub is not None
                                                     and sub["simulated"].any()))
        rows.append(row)
    columns = ["unit", "expected", "respondents", *(f"response_rate_{d}" for d in sch.domains),
               "problems", "message", "simulated"]
    out = pd.DataFrame(rows, columns=columns)
    out["respondents"] = out["respondents"].astype(np.int64)
    return out


# ====================================================================== simulation
def _stream(seed: int, *key: int) -> np.random.Generator:
    """The generator of one independent stream of ``seed`` (``SeedSequence`` spawn key)."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=key))


def simulate_survey(store: Store, *, year: int, level: str = "county", n_per_unit: int = 60,
                    seed: int = 0,
                    schema: str | Path | Mapping[str, Any] | SurveySchema | None = None
                    ) -> Survey:
    r"""A **simulated** demonstration survey for the circle's units (random answers).

    The answers are pseudo-random numbers: they carry no information about real satisfaction
    and must never be read as findings. They exist to exercise the evaluation end to end.
    Every row has ``simulated=True``, :attr:`Survey.simulated` is True and the source reads
    ``simulated demo survey (cocity.evaluate.survey.simulate_survey, seed=…)``.

    **Model** (parameters in the schema's ``simulation`` section): units are the store's units
    at ``level`` inside the circle (membership full or partial). For unit u, domain d and
    respondent i, a latent :math:`y = \mu + u_u + \delta_d + \varepsilon_i` with
    :math:`u_u\sim N(0,\sigma_u)`, :math:`\delta_d\sim N(0,\sigma_d)` and
    :math:`\varepsilon\sim N(0,\sigma_\varepsilon)` independent, mapped to the Likert codes by
    the fixed cut-points (below the first → 1, …, above the last → 5). Each item is, with
    probability ``nonresponse_share``, replaced by a non-response code drawn uniformly from the
    schema's codes. Demographic codes are drawn uniformly (not census shares).

    **Design and weights.** ``n_per_unit`` respondents per unit, the unit as the stratum and the
    respondent as the PSU; the weight of each is the unit's resident population ``pop_total`` of
    ``year`` from the store (real data) divided by ``n_per_unit``, so weighted estimates for
    groups of units (e.g. prefectures) are population-weighted. Units without a population in
    ``year`` are not surveyed (they get no responses); with none at all, an error.

    **Random streams.** Independent streams from the one ``seed``
    (``numpy.random.SeedSequence(seed, spawn_key=…)``): one for the domain effects and one per
    unit, keyed by the unit's code — so a unit's answers do not change when other units are
    added to or removed from the survey. The same store, arguments and seed give an identical
    frame.
    """
    sch = load_schema(schema)
    if level not in LEVELS:
        raise _fail("survey.err.level", value=level, allowed=", ".join(LEVELS))
    if (isinstance(n_per_unit, bool) or not isinstance(n_per_unit, int | np.integer)
            or n_per_unit < 2):
        raise _fail("survey.err.n_per_unit", value=n_per_unit)
    if isinstance(year, bool) or not isinstance(year, int | np.integer):
        raise _fail("survey.err.year", value=year)
    units = store.units(level=level, membership=list(CIRCLE_MEMBERSHIP))
    if units.empty:
        raise _fail("survey.err.no_units", level=level)
    codes = units["code"].astype(str).tolist()
    pop = store.panel(["pop_total"], years=[int(year)], units=codes)
    pop_by_unit = pop["pop_total"].droplevel("year") if len(pop) else pd.Series(dtype=float)
    pop_by_unit = pop_by_unit.reindex(codes)
    lacking = [str(c) for c, v in pop_by_unit.items() if not (np.isfinite(v) and v > 0)]
    # Units without a population that year (e.g. split after the census) are not surveyed;
    # the evaluation reports them as units without responses.
    codes = [c for c in codes if c not in set(lacking)]
    pop_by_unit = pop_by_unit.reindex(codes)
    if not codes:
        years = sorted(set(store.observations(["pop_total"])["year"].astype(int)))
        raise _fail("survey.err.no_population", "survey.err.no_population.hint", year=year,
                    units=", ".join(lacking[:20]) + (" …" if len(lacking) > 20 else ""),
                    years=", ".join(map(str, years)) or "—")

    par = sch.simulation
    cuts = np.asarray(par.get("cuts", []), dtype=float)
    k = sch.likert_max - sch.likert_min + 1
    if len(cuts) != k - 1 or np.any(np.diff(cuts) <= 0):
        raise SurveyInputError([Issue(
            t("survey.err.schema", problem=f"simulation.cuts: {k - 1} increasing cut-points"),
            hint=t("survey.err.schema.hint"))])
    n_units, n_dom = len(codes), len(sch.domains)
    total = n_units * n_per_unit
    sigma_u = float(par.get("sigma_unit", 0.3))
    sigma_e = float(par.get("sigma_respondent", 1.0))
    share_nr = float(par.get("nonresponse_share", 0.0))
    nr_codes = np.array(sorted(sch.nonresponse), dtype=np.int64)
    demo = {col: np.array(list(allowed), dtype=object)
            for col, allowed in sch.demographics.items()}
    domain_effect = _stream(seed, 0).normal(0.0, float(par.get("sigma_domain", 0.3)), n_dom)
    latent = np.empty((total, n_dom))
    answers_nr = np.zeros((total, n_dom), dtype=np.int64)
    nr_mask = np.zeros((total, n_dom), dtype=bool)
    drawn: dict[str, list[Any]] = {col: [] for col in demo}
    for u, code in enumerate(codes):
        rng = _stream(seed, 1, int(code) if code.isdigit() else u)
        block = slice(u * n_per_unit, (u + 1) * n_per_unit)
        latent[block] = (float(par.get("mu", 0.0)) + rng.normal(0.0, sigma_u) + domain_effect
                        + rng.normal(0.0, sigma_e, (n_per_unit, n_dom)))
        if len(nr_codes):
            nr_mask[block] = rng.random((n_per_unit, n_dom)) < share_nr
            answers_nr[block] = rng.choice(nr_codes, size=(n_per_unit, n_dom))
        for col, allowed in demo.items():
            drawn[col].extend(rng.choice(allowed, size=n_per_unit))
    unit_of = np.repeat(np.arange(n_units), n_per_unit)
    answers = (sch.likert_min + np.searchsorted(cuts, latent)).astype(np.int64)
    answers = np.where(nr_mask, answers_nr, answers)
    frame: dict[str, object] = {
        "respondent": [f"{c}-{i:04d}" for c in codes for i in range(1, n_per_unit + 1)],
        "unit": np.repeat(codes, n_per_unit),
        "weight": (pop_by_unit.to_numpy(float) / n_per_unit)[unit_of],
    }
    for j, d in enumerate(sch.domains):
        frame[d] = answers[:, j]
    for col in demo:
        frame[col] = np.asarray(drawn[col], dtype=object)
    frame["stratum"] = np.repeat(codes, n_per_unit)
    frame["simulated"] = True
    raw = pd.DataFrame(frame)
    source = SIMULATED_SOURCE.format(seed=seed)
    header = [_cell(c) for c in raw.columns]
    rows = [(i + 2, [_cell(v) for v in rec])
            for i, rec in enumerate(raw.itertuples(index=False, name=None))]
    responses = _validate(header, rows, source, store, level, sch)
    return Survey(responses, int(year), source, True, sch)


# ====================================================================== writing
def write_survey(survey: Survey, path: str | Path) -> Path:
    """Write the responses to ``path`` as CSV (UTF-8 with BOM, so Excel/WPS show Chinese).

    Columns as in :attr:`Survey.responses`; Likert items as integers, non-response as blank
    cells (the distinction between codes such as 不知道 and 拒答 is not kept), weights as the
    shortest text that reads back to the same float, ``simulated`` as true/false.
    :func:`read_survey` of the file gives the same responses.
    """
    out = survey.responses.copy()
    for d in survey.schema.domains:
        if d in out:
            out[d] = out[d].astype("Int64")
    out["simulated"] = np.where(out["simulated"].to_numpy(bool), "true", "false")
    target = Path(path)
    out.to_csv(target, index=False, encoding="utf-8-sig", lineterminator="\n")
    return target
