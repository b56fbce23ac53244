"""Case files → validated evidence, checked against the facts the rules declare.

A case must give every fact the rules read. A fact the inspector could not
establish is written as `unknown` (or left empty, `~`): the criteria that need
it are then reported as not assessed, with the facts that would settle them.
An omitted fact is an error, so evidence is never lost to a typo.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import TypeVar

from assessor.record import Record, field
from assessor.rulebook.model import FactSpec, Rulebook
from assessor.source.document import Document, parse, read_text, short_repr
from assessor.source.reader import MAX_NUMBER, MAX_TEXT, Reader, kind_of

T = TypeVar("T")

NARRATIVE = ("strengths", "work_in_progress", "areas_for_improvement")
CONTEXT = ("geography", "demography", "strategic_priorities", "performance_overview")
OVERVIEW = ("bcus", "neighbourhood_teams", "officers_dedicated", "pcsos_dedicated", "cdrps", "population", "households")
SURVEY_FIGURES = ("value", "previous", "msf_average", "n", "previous_n", "msf_n")
_COMPARISON_OF = {"msf_average": "msf", "msf_n": "msf", "previous": "previous", "previous_n": "previous"}
UNKNOWN = "unknown"
MAX_FACT_TEXT = 1000  # a text fact is a value rules compare; narrative belongs under strengths and the like


class FrameworkEvidence(Record):
    """What a case gives for one framework: evidence, narrative and survey figures per criterion and indicator."""

    evidence: dict  # criterion -> {fact: value or None (unknown)}, the framework's shared facts it reads first
    narrative: dict  # criterion -> {strengths|work_in_progress|areas_for_improvement: [item]}
    surveys: dict  # indicator -> {figure: number}
    moderation: dict | None  # {grade, reason}
    shared: dict = field(default_factory=dict)  # the framework's shared facts: {fact: value or None (unknown)}
    # (criterion, fact): a shared fact given under a criterion, as cases did before the rules shared it
    per_criterion: tuple = ()


class Case(Record):
    """A case file read against a rulebook: the force, its period and the evidence for each framework."""

    path: str
    digest: str
    force: str
    short_name: str
    fictional: bool
    period: str
    published: str
    overview: dict
    context: dict
    frameworks: dict = field(default_factory=dict)  # framework id -> FrameworkEvidence
    edition: str | None = None  # the rulebook edition that grades it (session.edition_of)
    doc: object = field(default=None, compare=False, repr=False)  # the parsed file, to place warnings
    recommendations: list = field(default_factory=list)  # the report's Recommendations section, if any
    developing_practice: list = field(default_factory=list)  # its Developing Practice appendix: [{title, ...}]


def read_case(path) -> tuple[str, Document]:
    """The text of the case file at PATH and the document it parses to: read once, as a pipe can
    be read only once."""
    text = read_text(path, "case file")
    return text, parse(text, str(path))


def load_case(path, book: Rulebook, across_editions: bool = False, source: tuple[str, Document] | None = None) -> Case:
    """The case, checked against `book`, read from PATH unless SOURCE is what read_case read there.
    `across_editions` reads it against an edition it was not written for (assess diff --edition):
    a framework or criterion the case does not give is graded as unknown evidence, and one the
    rules do not have is left out, instead of both being errors."""
    text, doc = source or read_case(path)
    r = Reader(doc)
    top = r.found(
        r.mapping(
            ("force", "period", "frameworks"),
            (
                "short_name",
                "fictional",
                "published",
                "overview",
                "context",
                "edition",
                "recommendations",
                "developing_practice",
            ),
            what="a case file",
        )
    )
    force = _name(r.at("force"), "force") if "force" in top else None
    period = _period(r.at("period")) if "period" in top else None
    short = _name(r.at("short_name"), "short_name") if "short_name" in top else force
    fictional = top.get("fictional", False)
    if not isinstance(fictional, bool):
        r.at("fictional").error("type", f"fictional must be yes or no, got {kind_of(fictional)}")
    published = r.at("published").text("published") if "published" in top else ""
    overview = _overview(r.at("overview")) if "overview" in top else {}
    context = _context(r.at("context")) if "context" in top else {}
    recommendations = _blocks(r.at("recommendations")) if "recommendations" in top else []
    practice = _practice(r.at("developing_practice")) if "developing_practice" in top else []
    frameworks = {}
    if "frameworks" in top:
        known = {fw.id: fw for fw in book.frameworks}
        for fid, fw, fr in _entries(
            r.at("frameworks"),
            known,
            "frameworks",
            across_editions,
            lambda fid: (
                "unknown-framework",
                f"framework {short_repr(fid)} is not in the rules; the rules define {', '.join(known)}",
            ),
            lambda fid, fw: ("missing-framework", f"the case has no evidence for framework {fid!r} ({fw.title})"),
        ):
            frameworks[fid] = (
                _unknown_framework(fw, book) if fr is None else _framework(fr, fw, book, overview, across_editions)
            )
    r.raise_if_errors()
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    force, period = r.found(force), r.found(period)  # read, or a finding was raised above
    return Case(
        str(path),
        digest,
        force,
        short or force,
        fictional,
        period,
        published or "",
        overview,
        context,
        frameworks,
        doc=doc,
        recommendations=recommendations,
        developing_practice=practice,
    )


MAX_FORCE_NAME = 200  # characters: a force's name is a title, not a paragraph
FIRST_YEAR, LAST_YEAR = 1900, 2098  # financial years a report can be about (the dates it prints stay in range)


def name_problem(name: str) -> str | None:
    """What is wrong with a force's name (or short name), if anything: one line of printable text."""
    if not name.strip():
        return "is empty"
    if len(name) > MAX_FORCE_NAME:
        return f"is {len(name):,} characters long; a force's name has at most {MAX_FORCE_NAME}"
    bad = next((c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        return f"holds the control character U+{ord(bad):04X}; a force's name is one line of printable text"
    return None


def _name(r: Reader, what: str) -> str | None:
    v = r.text(what)
    if v is None:
        return None
    problem = name_problem(v)
    if problem:
        r.error("bad-value", f"{what} {problem}")
        return None
    return v


def is_financial_year(text: str) -> bool:
    """A financial year written as the report does, within the years a report can be about."""
    return period_problem(text) is None


def period_problem(v) -> str | None:
    """What is wrong with a period, if anything: a financial year such as 2007/08."""
    m = re.fullmatch(r"(\d{4})/(\d{2})", v) if isinstance(v, str) else None
    if m is None or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        return f"period must be a financial year such as 2007/08, got {kind_of(v)}"
    if not FIRST_YEAR <= int(m.group(1)) <= LAST_YEAR:
        return (
            f"period {v} is not a year a report can be about: expected a financial year from "
            f"{FIRST_YEAR}/{(FIRST_YEAR + 1) % 100:02d} to {LAST_YEAR}/{(LAST_YEAR + 1) % 100:02d}"
        )
    return None


def _period(r: Reader) -> str | None:
    """A financial year written as the report does: 2007/08 (April 2007 to March 2008)."""
    problem = period_problem(r.value)
    if problem:
        r.error("bad-value", problem)
        return None
    return r.value


def year_ending(period: str) -> int:
    """The calendar year in whose March the financial year ends: 2007/08 -> 2008."""
    return int(period[:4]) + 1


def _overview(r: Reader) -> dict:
    m = r.mapping(optional=OVERVIEW, what="overview") or {}
    out: dict[str, int | None] = {}
    for k in m:
        if k in OVERVIEW:
            if m[k] is None or m[k] == UNKNOWN:
                out[k] = None  # not yet known: what needs it is reported as not assessed
                continue
            # survey samples are drawn per BCU: a force has at least one
            v = r.at(k).number(f"overview.{k}", low=1 if k == "bcus" else 0, integer=True)
            if v is not None:
                out[k] = v
    return out


def _context(r: Reader) -> dict:
    m = r.mapping(optional=CONTEXT, what="context") or {}
    return {k: _blocks(r.at(k), allow_headings=True) for k in m if k in CONTEXT}


PRACTICE = ("title", "problem", "solution", "outcomes", "contact")


def _practice(r: Reader) -> list:
    """Examples of good practice the force submitted (the series' Developing Practice appendix)."""
    out = []
    for i, _ in enumerate(r.items("developing_practice (a list of examples)") or []):
        ir_ = r.at(i)
        m = ir_.mapping(("title", "problem", "solution"), PRACTICE[3:], what="an example of developing practice")
        if m is None or not {"title", "problem", "solution"} <= set(m):
            continue
        example = {k: ir_.at(k).text(k) for k in PRACTICE if k in m}
        out.append({k: example.get(k) for k in PRACTICE})
    return out


def _blocks(r: Reader, allow_headings: bool = False, depth: int = 0) -> list:
    """Narrative: a list of paragraphs; an item may be {text, items} for a lead-in with bullets."""
    items = r.items()
    out: list[str | dict] = []
    for i, item in enumerate(items or []):
        ir_ = r.at(i)
        if isinstance(item, str):
            if len(item) > MAX_TEXT:
                ir_.error("too-long", f"this text is {len(item)} characters; the limit is {MAX_TEXT}")
            out.append(item)
        elif isinstance(item, dict) and allow_headings and set(item) == {"heading"}:
            out.append({"heading": ir_.at("heading").text("heading")})
        elif isinstance(item, dict) and depth < 3:
            m = ir_.mapping(("text", "items"), what="a paragraph with bullets")
            if m is not None and "text" in m and "items" in m:
                out.append({"text": ir_.at("text").text("text"), "items": _blocks(ir_.at("items"), depth=depth + 1)})
        else:
            ir_.error("type", f"each item must be text, or {{text: ..., items: [...]}}, got {kind_of(item)}")
    return out


def _entries(
    r: Reader,
    known: dict[str, T],
    what: str,
    across_editions: bool,
    unknown: Callable[[object], tuple[str, str]],
    missing: Callable[[str, T], tuple[str, str]],
) -> Iterator[tuple[str, T, Reader | None]]:
    """Each item of KNOWN (the rules' frameworks, or a framework's criteria) with the reader of its
    entry in the mapping R, in the rules' order. Keys that name no item are findings (check and
    message from UNKNOWN), and so are items the case lacks (from MISSING); across editions both
    are allowed, and an item the case lacks comes with None."""
    given = r.mapping(what=what) or {}
    if not across_editions:
        for key in given:
            if key not in known:
                r.at(key).error(*unknown(key), key=True)
    for key, item in known.items():
        if key in given:
            yield key, item, r.at(key)
        elif across_editions:
            yield key, item, None
        else:
            r.error(*missing(key, item))


def _unknown_criterion(c) -> tuple:
    """The evidence and narrative of a criterion a case does not give: every fact unknown."""
    return {f.name: None for f in c.own_evidence}, {k: [] for k in NARRATIVE}


def _unknown_framework(fw, book: Rulebook) -> FrameworkEvidence:
    evidence: dict[str, dict] = {}
    narrative: dict[str, dict] = {}
    for c in fw.criteria:
        evidence[c.id], narrative[c.id] = {f.name: None for f in c.evidence}, {k: [] for k in NARRATIVE}
    surveys = {i: dict.fromkeys(book.indicators[i].figures_needed()) for i in fw.indicators}
    return FrameworkEvidence(evidence, narrative, surveys, None, {f.name: None for f in fw.evidence})


def _framework(r: Reader, fw, book: Rulebook, overview: dict, across_editions: bool = False) -> FrameworkEvidence:
    # a framework's own `evidence:` is allowed where its rules declare shared facts (or may, across editions)
    fw_keys = ("evidence",) if fw.evidence or across_editions else ()
    optional = ("surveys", "moderation") + fw_keys
    m = r.mapping(("criteria",), optional, what=f"framework {fw.id!r}")
    evidence: dict[str, dict] = {}
    narrative: dict[str, dict] = {}
    surveys: dict[str, dict] = {}
    moderation = None
    if m is None:
        return FrameworkEvidence(evidence, narrative, surveys, moderation)
    common = _framework_facts(r.at("evidence"), fw, across_editions) if "evidence" in m and fw_keys else None
    older: list = []  # (criterion id, fact, its reader): shared facts given the older way, per criterion
    if "criteria" in m:
        known = {c.id: c for c in fw.criteria}
        for cid, c, cc in _entries(
            r.at("criteria"),
            known,
            "criteria",
            across_editions,
            lambda cid: (
                "unknown-criterion",
                f"criterion {short_repr(cid)} is not in framework {fw.id!r}; its criteria are {', '.join(known)}",
            ),
            lambda cid, c: ("missing-criterion", f"the case has nothing for criterion {cid!r} ({c.heading})"),
        ):
            if cc is None:
                evidence[cid], narrative[cid] = _unknown_criterion(c)
                continue
            cm = cc.mapping(("evidence",), NARRATIVE, what=f"criterion {cid!r}") or {}
            narrative[cid] = {k: (_blocks(cc.at(k)) if k in cm else []) for k in NARRATIVE}
            if "evidence" in cm:
                fallback = common if across_editions else None
                evidence[cid] = _evidence(cc.at("evidence"), c.own_evidence, fw, cid, older, fallback)
            else:
                evidence[cid] = {}
    shared = _shared_values(r, fw, common, older, across_editions)
    for c in fw.criteria:
        if c.id in evidence:  # the shared facts it reads first, as the rules list them
            evidence[c.id] = {**{name: shared[name] for name in c.shared}, **evidence[c.id]}
    if fw.indicators:
        if "surveys" not in m:
            r.error("missing-key", f"framework {fw.id!r} needs 'surveys' with figures for {', '.join(fw.indicators)}")
        else:
            surveys = _surveys(r.at("surveys"), fw, book, overview)
    elif "surveys" in m:
        r.at("surveys").error("unknown-key", f"framework {fw.id!r} uses no survey indicators", key=True)
    if "moderation" in m:
        mr = r.at("moderation")
        mm = mr.mapping(("grade", "reason"), what="moderation")
        if mm and "grade" in mm and "reason" in mm:
            grades = book.grade_ids
            if mm["grade"] not in grades:
                mr.at("grade").error(
                    "bad-value", f"moderation grade must be one of {', '.join(grades)}, got {kind_of(mm['grade'])}"
                )
            moderation = {"grade": mm["grade"], "reason": mr.at("reason").text("moderation reason")}
    per_criterion = tuple((cid, name) for cid, name, _ in older)
    return FrameworkEvidence(evidence, narrative, surveys, moderation, shared, per_criterion)


def _framework_facts(r: Reader, fw, across_editions: bool) -> Reader | None:
    """Check the names under a framework's own `evidence:`; the reader of that mapping, if it is one."""
    given = r.mapping(what="evidence")
    if given is None:
        return None
    known = {f.name for f in fw.evidence}
    for name in given:
        if name in known or across_editions:  # across editions: maybe a fact an older edition's criteria declare
            continue
        owner = next((c.id for c in fw.criteria if any(f.name == name for f in c.own_evidence)), None)
        if owner is not None:
            hint = f"; it is a fact of criterion {owner!r}: give it under that criterion's evidence"
        else:
            import difflib

            close = difflib.get_close_matches(str(name), list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the framework's own facts are {', '.join(known)}"
        r.at(name).error("unknown-fact", f"unknown fact {short_repr(name)} for framework {fw.id!r}{hint}", key=True)
    return r


def _shared_values(r: Reader, fw, common: Reader | None, older: list, across_editions: bool) -> dict:
    """The value of each of the framework's shared facts: given once under its `evidence:`, or (as cases
    written before the rules shared it do) under criteria, where every copy must agree."""
    given = common.value if common is not None else {}
    out = {}
    for spec in fw.evidence:
        name = spec.name
        copies = [(cid, cr) for cid, n, cr in older if n == name]
        if name in given:
            out[name] = _fact_value(common.at(name), spec) if common is not None else None
            line = common.doc.mark(common.where + (name,)) if common is not None else None
            for _, cr in copies:
                cr.at(name).error(
                    "duplicate-fact",
                    f"{name} is already given for the whole framework (under its `evidence:`"
                    + (f", line {line.line}" if line is not None else "")
                    + "): give it once, there, and remove it here",
                    key=True,
                )
        elif copies:
            first_cid, first = copies[0]
            out[name] = _fact_value(first.at(name), spec)
            for _, cr in copies[1:]:
                if _raw(cr.at(name).value) != _raw(first.at(name).value):
                    mark = first.doc.mark(first.where + (name,))
                    cr.at(name).error(
                        "conflicting-fact",
                        f"{name} is {short_repr(cr.at(name).value)} here but {short_repr(first.at(name).value)} in "
                        f"criterion {first_cid!r}" + (f" (line {mark.line})" if mark is not None else "") + "; it is "
                        f"one fact of framework {fw.id!r}: give it once, under the framework's `evidence:`",
                        key=True,
                    )
        else:
            out[name] = None
            if across_editions:  # graded as unknown, as a criterion the case does not give
                continue
            where = common if common is not None else r
            where.error(
                "missing-fact",
                f"missing fact {name!r} ({expected_value(spec)})"
                + (f": {spec.describe}" if spec.describe else "")
                + f"; every criterion of framework {fw.id!r} may read it, so the case gives it once, under "
                "the framework's `evidence:` (beside `criteria:`); write `unknown` if the evidence was not gathered",
            )
    return out


def _raw(v):
    """A value as written, with `unknown` and nothing alike: what two copies of one fact compare."""
    return None if v is None or v == UNKNOWN else v


def _evidence(r: Reader, specs: tuple, fw=None, cid: str = "", older=None, fallback: Reader | None = None) -> dict:
    """The criterion's own facts. A shared fact of framework `fw` given here is noted in `older`; across
    editions, a fact the case gives under the framework's `evidence:` (`fallback`) is the criterion's too."""
    given = r.mapping(what="evidence")
    if given is None:
        return {}
    known = {s.name: s for s in specs}
    shared = {f.name for f in fw.evidence} if fw is not None else set()
    above = fallback.value if fallback is not None and isinstance(fallback.value, dict) else {}
    out = {}
    for name in given:
        if name in shared and name not in known and older is not None:
            older.append((cid, name, r))
            continue
        if name not in known:
            import difflib  # only when a name is wrong: a run with none never loads it

            hint = difflib.get_close_matches(str(name), list(known), n=1)
            r.at(name).error(
                "unknown-fact",
                f"unknown fact {short_repr(name)}"
                + (
                    f"; did you mean {hint[0]!r}?"
                    if hint
                    else f"; this criterion's facts are {', '.join(known) or 'none'}"
                ),
                key=True,
            )
    missing = [s for s in specs if s.name not in given and s.name not in above]
    for s in missing:
        r.error(
            "missing-fact",
            f"missing fact {s.name!r} ({expected_value(s)})"
            + (f": {s.describe}" if s.describe else "")
            + "; write `unknown` if the evidence was not gathered",
        )
    for s in specs:
        if s.name in given:
            out[s.name] = _fact_value(r.at(s.name), s)
        elif s.name in above and fallback is not None:
            out[s.name] = _fact_value(fallback.at(s.name), s)
    return out


def survey_figures(ind) -> tuple[list, list]:
    """The figures a case must give for an indicator, and those it may give."""
    required = list(ind.figures_needed())
    # figures of a comparison the rules do not make would be silently ignored: refuse them
    optional = [f for f in SURVEY_FIGURES if f not in required and _COMPARISON_OF.get(f, ind.compare[0]) in ind.compare]
    if ind.gap_with:
        optional += [f"{ind.gap_with}_n"]
    return required, optional


def is_percentage_figure(name: str) -> bool:
    """Survey figures are percentages, except the respondent counts (n and the *_n figures)."""
    return not (name in ("n", "previous_n", "msf_n") or name.endswith("_n"))


def expected_value(s: FactSpec) -> str:
    """What a fact's value must be, in words: "a whole number of at least 0", "one of a, b"."""
    if s.type == "one-of":
        return "one of " + ", ".join(s.values)
    if s.type == "yes/no":
        return "yes or no"
    if s.type == "date":
        return "a date, YYYY-MM-DD"
    if s.type == "table":
        return "a list of rows with " + ", ".join(n for n, _ in s.columns)
    rng = ""
    if s.min is not None and s.max is not None:
        rng = f" from {_num(s.min)} to {_num(s.max)}"
    elif s.min is not None:
        rng = f" of at least {_num(s.min)}"
    elif s.max is not None:
        rng = f" of at most {_num(s.max)}"
    return {"integer": "a whole number", "number": "a number", "percentage": "a percentage", "text": "text"}[
        s.type
    ] + rng


def _num(x) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _fact_value(r: Reader, s: FactSpec, in_table: bool = False):
    v = r.value
    if (v is None or v == UNKNOWN) and not in_table:
        return None
    bad = False
    if s.type == "integer":
        bad = not (isinstance(v, int) and not isinstance(v, bool))
    elif s.type in ("number", "percentage"):
        bad = not (isinstance(v, (int, float)) and not isinstance(v, bool))
        if not bad and not math.isfinite(v):
            r.error("not-finite", f"{s.name} must be a finite number, got {v}")
            return None
    elif s.type == "yes/no":
        bad = not isinstance(v, bool)
    elif s.type == "date":
        bad = not (isinstance(v, dt.date) and not isinstance(v, dt.datetime))
    elif s.type == "one-of":
        bad = v not in s.values
    elif s.type == "text":
        bad = not isinstance(v, str)
    elif s.type == "table":
        return _table(r, s)
    if s.type == "text" and not bad and len(v) > MAX_FACT_TEXT:
        r.error(
            "too-long",
            f"{s.name} is {len(v):,} characters long; a text fact has at most {MAX_FACT_TEXT:,} "
            "(longer text belongs under strengths, work_in_progress or areas_for_improvement)",
        )
        return None
    if bad:
        hint = ""
        if isinstance(v, str) and s.type in ("integer", "number", "percentage"):
            hint = " (write the number without quotes or units)"
        r.error("wrong-type", f"{s.name} must be {expected_value(s)}, got {kind_of(v)}{hint}")
        return None
    if s.type in ("integer", "number", "percentage"):
        if abs(v) > MAX_NUMBER:
            r.error(
                "out-of-range",
                f"{s.name} is too large to be judged exactly: numbers must lie within "
                f"±{MAX_NUMBER:,} (2**53), got {short_repr(v)}",
            )
            return None
        if (s.min is not None and v < s.min) or (s.max is not None and v > s.max):
            r.error("out-of-range", f"{s.name} must be {expected_value(s)}, got {v}")
            return None
    return v


def _table(r: Reader, s: FactSpec):
    rows = r.items(f"{s.name} (a list of rows)")
    if rows is None:
        return None
    cols = dict(s.columns)
    out = []
    for i, _ in enumerate(rows):
        rr = r.at(i)
        m = rr.mapping(tuple(cols), what=f"row {i + 1} of {s.name}")
        if m is None:
            continue
        row = {n: _fact_value(rr.at(n), spec, in_table=True) for n, spec in cols.items() if n in m}
        out.append(row)
    return out


def _bcus_written(r: Reader) -> bool:
    top = r.doc.data
    written = top.get("overview") if isinstance(top, dict) else None
    return isinstance(written, dict) and "bcus" in written


def _surveys(r: Reader, fw, book: Rulebook, overview: dict) -> dict:
    given = r.mapping(what="surveys") or {}
    out = {}
    for key in given:
        if key not in fw.indicators:
            r.at(key).error(
                "unknown-indicator",
                f"indicator {short_repr(key)} is not used by framework {fw.id!r}; it uses {', '.join(fw.indicators)}",
                key=True,
            )
    for ind_id in fw.indicators:
        ind = book.indicators[ind_id]
        if ind_id not in given:
            r.error("missing-indicator", f"missing survey figures for {ind.label} ({ind_id})")
            continue
        ir_ = r.at(ind_id)
        required, optional = survey_figures(ind)
        m = ir_.mapping(tuple(required), tuple(optional), what=f"survey figures for {ind.label}")
        if m is None:
            continue
        figures: dict[str, float | None] = {}
        for k in m:
            if k not in required and k not in optional:
                continue
            if m[k] is None or m[k] == UNKNOWN:
                figures[k] = None  # not gathered: the indicator is reported as not assessed
                continue
            pct = is_percentage_figure(k)
            v = ir_.at(k).number(f"{ind.label} {k}", low=0 if pct else 1, high=100 if pct else None, integer=not pct)
            if v is not None:
                figures[k] = v
        design = book.designs.get(ind.survey)
        bcus_written = "bcus" in overview or _bcus_written(r)  # if written but wrong, that is reported
        if design is not None and not ind.sample_given and design.per == "bcu" and not bcus_written:
            ir_.error(
                "missing-key",
                f"{ind.label} comes from the {design.title}, sampled per BCU: the case overview needs 'bcus'",
            )
        elif (
            design is not None
            and ind.gap_with
            and f"{ind.gap_with}_n" not in m
            and design.per == "bcu"
            and not bcus_written
        ):  # the comparison group is the rest of the sample
            ir_.error(
                "missing-key",
                f"{ind.label}'s gap with {ind.gap_with} users needs their number "
                f"({ind.gap_with}_n), or 'bcus' in the case overview for the sample size",
            )
        out[ind_id] = figures
    return out
