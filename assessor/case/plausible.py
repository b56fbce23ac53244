"""Evidence that is valid but probably mistyped: warnings, never errors.

A survey figure typed as a fraction (0.84 for 84%) is a valid percentage, and the
report would then say "significantly worse" with confidence. These checks point
at such figures, naming the file, the line and the value probably meant. The
limits are the rules' (grading.yaml `plausibility`); headcounts that should agree
are declared per criterion (`headcounts`). `assess` prints the warnings on stderr
and `assess lint` lists them.
"""

from __future__ import annotations

from typing import Any

from assessor import record
from assessor.case.read import Case
from assessor.errors import Finding
from assessor.language import conditions as ex
from assessor.rulebook.model import Rulebook

PERCENT_FIGURES = ("value", "msf_average", "previous")


def warnings(book: Rulebook, case: Case) -> list:
    limits = book.plausibility
    if limits is None or case.doc is None:
        return []
    out = []
    for fw in book.frameworks:
        cf = case.frameworks.get(fw.id)
        if cf is None:
            continue
        for ind_id, figures in cf.surveys.items():
            out += _survey(book, limits, case, fw.id, ind_id, figures)
        for c in fw.criteria:
            evidence = cf.evidence.get(c.id, {})
            for left, right in c.headcounts:
                out += _headcount(limits, case, fw.id, c.id, evidence, left, right, cf.shared)
    return out


def _warn(case: Case, where: tuple, check: str, message: str) -> Finding:
    doc: Any = case.doc  # a source.document.Document (the case layer keeps it untyped)
    return record.replace(doc.finding(where, check, message), level="warning")


def _num(v: float) -> str:
    return f"{v:g}"


def _survey(book, limits, case, fid: str, ind_id: str, figures: dict) -> list:
    label = book.indicators[ind_id].label
    gap_with = book.indicators[ind_id].gap_with
    names = [k for k in (*PERCENT_FIGURES, gap_with) if k and figures.get(k) is not None]
    where = ("frameworks", fid, "surveys", ind_id)
    out = []
    large = [k for k in names if figures[k] > limits.percent_above]
    fractions = [k for k in names if figures[k] < limits.fraction_below] if large else []
    for k in fractions:
        v = figures[k]
        others = ", ".join(f"{o} {_num(figures[o])}" for o in large)
        out.append(
            _warn(
                case,
                where + (k,),
                "implausible-figure",
                f"{label} {k} is {_num(v)}, beside {others}: a percentage typed as a fraction? "
                f"If so, write {_num(round(v * 100, 2))} (likely intended); as it stands the report reads "
                f"{_num(v)}%",
            )
        )
    value, previous = figures.get("value"), figures.get("previous")
    if value is not None and previous is not None and not fractions:
        change = abs(value - previous)
        if change > limits.largest_change:
            guess = _likely(previous, value, limits.largest_change)
            hint = (
                f"did you mean previous {_num(guess)} (likely intended)?"
                if guess is not None
                else "check both figures against the survey"
            )
            out.append(
                _warn(
                    case,
                    where + ("previous",),
                    "implausible-change",
                    f"{label} moves {_num(round(change, 2))} points, from previous {_num(previous)} to "
                    f"value {_num(value)}; a change of more than {_num(limits.largest_change)} points is more "
                    f"often a typing slip: {hint}",
                )
            )
    return out


def _likely(previous: float, value: float, largest: float) -> float | None:
    """A figure `previous` was probably meant to be: its digits swapped, or its decimal point moved."""
    candidates = []
    whole = int(previous)
    if previous == whole and 10 <= whole <= 99:
        candidates.append(float(str(whole)[::-1]))
    candidates += [previous * 10, previous / 10]
    near = [c for c in candidates if 0 <= c <= 100 and abs(c - value) <= largest]
    return min(near, key=lambda c: abs(c - value)) if near else None


def _headcount(limits, case, fid: str, cid: str, evidence: dict, left, right, shared: dict) -> list:
    values = {k: v for k, v in evidence.items() if v is not None}
    try:
        a, b = ex.evaluate(left.tree, values), ex.evaluate(right.tree, values)
    except (ex.ExpressionError, KeyError, TypeError):
        return []  # a count the case does not give (or cannot be computed): nothing to compare
    top = max(abs(a), abs(b))
    if not top or abs(a - b) <= limits.headcount_ratio * top:
        return []
    # placed at a fact the criterion gives itself, else at one of the framework's (given once, under it)
    reads = sorted(left.reads) + sorted(right.reads)
    own = [f for f in reads if f in values and f not in shared]
    common = [f for f in reads if f in values and f in shared]
    where = ("frameworks", fid, "criteria", cid, "evidence") + tuple((own or common)[:1])
    doc: Any = case.doc
    if not own and common and where not in doc.marks:  # given once, under the framework
        where = ("frameworks", fid, "evidence", common[0])
    la, lb = " ".join(left.source.split()), " ".join(right.source.split())
    return [
        _warn(
            case,
            where,
            "implausible-headcount",
            f"{la} is {_num(a)} but {lb} is {_num(b)}: these count the same people and differ by more than "
            f"{_num(limits.headcount_ratio * 100)}%; one is probably mistyped (likely intended: {la} near "
            f"{_num(b)}, or {lb} near {_num(a)})",
        )
    ]
