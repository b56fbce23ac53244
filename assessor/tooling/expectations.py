"""Expected judgements: `cases/<name>.expected.yaml` beside each case, for `assess test`.

The file pins down what a rule change must not flip unnoticed: per framework the
grade and rule grade, per criterion the judgement and every choice, per
indicator the MSF and trend verdicts and the outcome. It is written by
`assess test --update` and read back through assessor.loading, so a hand edit
that breaks it is reported with file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from assessor.evaluate.result import Framework
from assessor.files import EXPECTED_SUFFIX
from assessor.rulebook.model import Place
from assessor.source.document import load
from assessor.source.reader import Reader

NOT_ASSESSED = "not assessed"
ABSENT = "(nothing)"  # the key is on one side only: a framework, criterion, indicator or choice came or went
# file key -> how a difference names it
FRAMEWORK_FIELDS = {"grade": "grade", "rule_grade": "rule grade"}
INDICATOR_FIELDS = {"msf": "msf verdict", "trend": "trend verdict", "outcome": "outcome"}


def expected_path(case_path) -> Path:
    p = Path(case_path)
    return p.with_name(p.stem + EXPECTED_SUFFIX)


def judgements_of(frameworks: list[Framework]) -> dict:
    """The judgements of an assessment's frameworks (result["frameworks"]), as the expected file holds them."""
    return {
        fw["id"]: {
            "grade": fw["grade"],
            "rule_grade": fw["rule_grade"],
            "indicators": {
                i["id"]: {"msf": i["msf"]["verdict"], "trend": i["trend"]["verdict"], "outcome": i["outcome"]}
                for i in fw["indicators"]
            },
            "criteria": {c["id"]: {"judgement": c["judgement"], "choices": dict(c["choices"])} for c in fw["criteria"]},
        }
        for fw in frameworks
    }


def flatten(s: dict) -> dict:
    """judgements_of(...) as (framework, item, what) -> value, in report order; item is "" for the framework."""
    out = {}
    for fid, fw in s.items():
        for key, what in FRAMEWORK_FIELDS.items():
            out[(fid, "", what)] = fw[key]
        for iid, ind in fw["indicators"].items():
            for key, what in INDICATOR_FIELDS.items():
                out[(fid, f"indicator {iid}", what)] = ind[key]
        for cid, c in fw["criteria"].items():
            out[(fid, f"criterion {cid}", "judgement")] = c["judgement"]
            for slot, word in c["choices"].items():
                out[(fid, f"criterion {cid}", f"choice {slot}")] = word
    return out


def dump(s: dict, case_name: str) -> str:
    header = (
        f"# Expected judgements for {case_name}, checked by `assess test`.\n"
        "# Written by `assess test --update` from an assessment with the current rules: re-run it\n"
        "# only when a change of judgement is intended, and review the diff of this file.\n"
    )
    body = yaml.safe_dump({"frameworks": s}, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return header + body


@dataclass(frozen=True)
class Mismatch:
    place: Place  # where the expectation stands in the expected file (no line when it is not there)
    key: tuple  # (framework, item, what)
    expected: object
    actual: object

    def describe(self) -> str:
        fid, item, what = self.key
        where = " / ".join(p for p in (fid, item, what) if p)
        return f"{where}: expected {show(self.expected)}, got {show(self.actual)}"


def show(value) -> str:
    return NOT_ASSESSED if value is None else str(value)


def read_expected(path) -> dict:
    """(framework, item, what) -> (value, place). Raises AssessorError, located, if the file is malformed."""
    doc = load(path, "expected-judgements file")
    r = Reader(doc)
    out: dict = {}
    top = r.mapping(("frameworks",), what="an expected-judgements file")
    if top and "frameworks" in top:
        fr = r.at("frameworks")
        for fid in fr.mapping(what="frameworks") or {}:
            _read_framework(fr.at(fid), fid, out)
    r.raise_if_errors()
    return out


def _read_framework(r: Reader, fid: str, out: dict) -> None:
    m = r.mapping((), (*FRAMEWORK_FIELDS, "indicators", "criteria"), what=f"framework {fid!r}") or {}
    for key, what in FRAMEWORK_FIELDS.items():
        if key in m:
            out[(fid, "", what)] = _word(r.at(key))
    if "indicators" in m:
        ir_ = r.at("indicators")
        for iid in ir_.mapping(what="indicators") or {}:
            ii = ir_.at(iid)
            for key in ii.mapping((), tuple(INDICATOR_FIELDS), what=f"indicator {iid!r}") or {}:
                if key in INDICATOR_FIELDS:
                    out[(fid, f"indicator {iid}", INDICATOR_FIELDS[key])] = _word(ii.at(key))
    if "criteria" in m:
        cr = r.at("criteria")
        for cid in cr.mapping(what="criteria") or {}:
            cc = cr.at(cid)
            cm = cc.mapping((), ("judgement", "choices"), what=f"criterion {cid!r}") or {}
            if "judgement" in cm:
                out[(fid, f"criterion {cid}", "judgement")] = _word(cc.at("judgement"))
            if "choices" in cm:
                ch = cc.at("choices")
                for slot in ch.mapping(what=f"choices of {cid!r}") or {}:
                    out[(fid, f"criterion {cid}", f"choice {slot}")] = _word(ch.at(slot))


def _word(r: Reader) -> tuple:
    """An expected outcome: a word, or null for 'not assessed'."""
    v = r.value
    if v is not None and not isinstance(v, str):
        r.error("type", f"{r.label} must be an outcome word, or null for not assessed")
    m = r.doc.mark(r.where)
    return v, Place(r.doc.path, m.line if m else None, m.column if m else None)


GRADE_FIELDS = ("grade", "rule grade", "judgement", "outcome")
VERDICT_FIELDS = ("msf verdict", "trend verdict")


def undeclared_words(expected: dict, book) -> list:
    """Findings for grades and verdicts an expected file names that the rulebook's scale does not declare:
    after a change of scale, every stale word is shown where it stands."""
    out = []
    for (fid, item, what), (value, place) in expected.items():
        if value is None:
            continue
        if what in GRADE_FIELDS and value not in book.grade_ids:
            words, kind = book.grade_ids, "grade"
        elif what in VERDICT_FIELDS and value not in book.verdicts.values():
            words, kind = tuple(book.verdicts.values()), "verdict"
        else:
            continue
        out.append(
            place.finding(
                f"undeclared-{kind}",
                f"{fid} / {item or 'framework'} / {what}: {value!r} is not a {kind} of this rulebook; "
                f"its {kind}s are {', '.join(words)}",
            )
        )
    return out


def compare(expected: dict, actual: dict, expected_file: str) -> list:
    """Every difference, in the expected file's order, then what only the assessment has."""
    out = []
    for key, (value, place) in expected.items():
        got = actual.get(key, ABSENT)
        if got != value:
            out.append(Mismatch(place, key, value, got))
    for key, got in actual.items():
        if key not in expected:
            out.append(Mismatch(Place(expected_file, None, None), key, ABSENT, got))
    return out
