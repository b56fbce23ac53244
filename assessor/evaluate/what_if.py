"""Margin to flip: the smallest change of one evidence fact that would change a decision.

Inspectors use it to see which judgements are fragile ("1 more BCU within the
supervision ratio → all"). Each candidate change re-runs the criterion's
staged evaluation on the Python engine, so the answer follows the same rules as
the report; nothing here re-implements them.

The search is proportionate to the case: candidates are tried smallest change
first across all facts, rows of a table that hold the same values are tried once
(aggregates cannot tell them apart) and at most MAX_ROWS rows of a table are
moved (fewer runs the longer the table: CELL_WORK), the search stops as soon as no untried
change could be smaller than those found, and it runs at most MAX_RUNS what-ifs
per criterion. A what-if the rules cannot compute (a division by zero, an empty
max(), a value past 2^53) is impossible evidence, and is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from assessor.compile.compiler import CompiledScope
from assessor.engines import Engine, EngineError
from assessor.errors import AssessorError
from assessor.evaluate.staged import criterion_outcomes
from assessor.evaluate.why_not import json_value
from assessor.language import conditions as ex
from assessor.record import Record, fields
from assessor.rulebook.model import FactSpec

MAX_STEPS = 25  # how far along a number we look, each way
MAX_YEARS = 5  # how far a date with no threshold in the rules is moved, each way, in whole years
MAX_RUNS = 1000  # what-if evaluations per criterion: a 1,000-row table must not take minutes
MAX_ROWS = 20  # distinct rows of one table whose cells are moved (the first ones, in the case's order)
CELL_WORK = 200_000  # rows re-read by the what-ifs that move cells: a what-if costs a pass over its table
ONE_DAY = dt.timedelta(days=1)


def criterion_margins(scope: CompiledScope, evidence: dict, indicators: list, engine: Engine) -> list:
    """For each decision of the criterion, the smallest single-fact change that changes it (if any)."""
    assert scope.criterion is not None, "margins are a criterion's"
    base = criterion_outcomes(scope, evidence, indicators, engine)
    if any(v is None for v in base.values()):
        return []
    thresholds = _date_thresholds(scope)
    # smallest change first; at each size the facts before the cells of tables, which are many
    candidates = sorted(
        _candidates(scope.criterion.evidence, evidence, thresholds), key=lambda c: (c[0], "[" in c[1], c[1])
    )
    rows = max((len(v) for v in evidence.values() if isinstance(v, list)), default=0)
    cell_runs = max(50, CELL_WORK // max(rows, 1))  # fewer cell moves the longer the table
    best: dict = {}
    for runs, (size, fact_label, change, before, after, limit) in enumerate(candidates):
        if runs >= MAX_RUNS or (len(best) == len(base) and size > max(m["_key"][0] for m in best.values())):
            break
        if "[" in fact_label:
            if cell_runs == 0:
                continue
            cell_runs -= 1
        try:
            outcomes = criterion_outcomes(scope, change(), indicators, engine)
        except (AssessorError, EngineError):
            continue  # evidence the rules cannot compute: not a possible case
        for name, outcome in outcomes.items():
            if outcome is None or outcome == base[name]:
                continue
            found = best.get(name)
            key = (size, fact_label)
            if found is None or key < found["_key"]:
                best[name] = {
                    "_key": key,
                    "decision": name,
                    "from": base[name],
                    "to": outcome,
                    "fact": fact_label,
                    "before": json_value(before),
                    "after": json_value(after),
                    "steps": size,
                }
                if limit is not None:  # a date: the threshold day the rules compare it with
                    best[name].update(limit)
    out = []
    for name in [d.name for d in scope.decisions]:
        if name in best:
            m = dict(best[name])
            del m["_key"]
            out.append(m)
    return out


def _candidates(specs: tuple, evidence: dict, thresholds: list) -> Iterator[tuple]:
    """(size, fact label, () -> changed evidence, before, after, date limit) for every single-fact change."""
    for spec in specs:
        value = evidence.get(spec.name)
        if value is None:
            continue
        if spec.type == "table":
            yield from _table_candidates(spec, evidence, value, thresholds)
            continue
        for size, new, limit in _moves(spec, value, thresholds):
            yield size, spec.name, _with(evidence, spec.name, new), value, new, limit


def _table_candidates(spec: FactSpec, evidence: dict, rows: list, thresholds: list) -> Iterator[tuple]:
    first_column = next(iter(dict(spec.columns)))
    seen: set[tuple] = set()
    for i, row in enumerate(rows):
        # aggregates see a table as a bag of rows: rows alike in every column other than the
        # label behave alike, so only the first of them is tried
        alike = tuple((c, repr(row.get(c))) for c, _ in spec.columns if c != first_column)
        if alike in seen:
            continue
        if len(seen) == MAX_ROWS:
            break
        seen.add(alike)
        label = row.get(first_column, i + 1)
        for col, cspec in spec.columns:
            if row.get(col) is None:
                continue
            for size, new, limit in _moves(cspec, row[col], thresholds):
                yield (
                    size,
                    f"{spec.name}[{label}].{col}",
                    _with_cell(evidence, spec.name, i, col, new),
                    row[col],
                    new,
                    limit,
                )


def _with(evidence: dict, name: str, new: Any) -> Callable[[], dict]:
    return lambda: {**evidence, name: new}


def _with_cell(evidence: dict, name: str, i: int, col: str, new: Any) -> Callable[[], dict]:
    def change() -> dict:
        rows = list(evidence[name])
        rows[i] = {**rows[i], col: new}
        return {**evidence, name: rows}

    return change


def _moves(spec: FactSpec, value: Any, thresholds: list) -> list:
    """(size, alternative value, date limit or None) of one fact, smallest change first."""
    if spec.type == "yes/no":
        return [(1, not value, None)]
    if spec.type == "one-of":
        return [(1, v, None) for v in spec.values if v != value]
    if spec.type in ("integer", "percentage", "number"):
        step = 1 if spec.type != "number" else max(abs(value) * 0.01, 0.01)
        out = []
        for k in range(1, MAX_STEPS + 1):
            for sign in (1, -1):
                new = value + sign * k * step
                if spec.type == "integer":
                    new = int(new)
                elif isinstance(new, float):
                    new = round(new, 6)
                if (spec.min is not None and new < spec.min) or (spec.max is not None and new > spec.max):
                    continue
                out.append((k, new, None))
        return out
    if spec.type == "date":
        return _date_moves(value, thresholds)
    return []


def _date_moves(value: dt.date, thresholds: list) -> list:
    """The days either side of each date the rules compare with (the exact day a decision turns),
    nearest first; with no such date, whole years either way."""
    out: list[tuple[int, dt.date, dict | None]] = []
    for limit in thresholds:
        for day, relation in ((limit - ONE_DAY, "before"), (limit, "on or after"), (limit + ONE_DAY, "after")):
            if day != value and _moved_past(value, day, limit):
                words = {"limit": limit.isoformat(), "relation": relation}
                out.append((abs((day - value).days), day, words))
    if thresholds:  # one step per threshold day, nearest first, like the words of a one-of fact
        out.sort(key=lambda m: (m[0], m[1]))
        return [(i + 1, day, words) for i, (_, day, words) in enumerate(out)]
    for k in range(1, MAX_YEARS + 1):
        for sign in (1, -1):
            try:
                moved = value.replace(year=value.year + sign * k)
            except ValueError:  # 29 February, or past the calendar's ends (years 1 and 9999)
                try:
                    moved = value + dt.timedelta(days=365 * sign * k)
                except OverflowError:
                    continue
            out.append((k, moved, None))
    return out


def _moved_past(value: dt.date, day: dt.date, limit: dt.date) -> bool:
    """Whether moving from VALUE to DAY crosses, reaches or leaves LIMIT (else it changes nothing the rules see)."""
    return (value < limit) != (day < limit) or (value <= limit) != (day <= limit)


def _date_thresholds(scope: CompiledScope) -> list:
    """Every date the criterion's conditions and derived values compare with, within the calendar."""
    found = set()

    def walk(node: Any) -> None:
        if isinstance(node, ex.Literal) and isinstance(node.value, dt.date):
            if dt.date.min < node.value < dt.date.max:
                found.add(node.value)
        elif isinstance(node, Record):
            for f in fields(node):
                child = getattr(node, f.name)
                for item in child if isinstance(child, tuple) else (child,):
                    if isinstance(item, ex.Node):
                        walk(item)

    c = scope.criterion
    assert c is not None, "a criterion scope has its criterion"
    for d in c.decisions:
        for rung in d.rungs:
            if rung.condition is not None:
                walk(rung.condition.tree)
    for d in c.derive:
        walk(d.expr.tree)
    return sorted(found)


def grade_explanation(program: Any, fw: Any, grade_ids: tuple, engine: Engine) -> dict | None:
    """What decided the framework grade the rules gave, and which single criterion judgement,
    changed, would move it: {"rung", "decided_by", "margins"}. None when the grade is not assessed."""
    base = fw["rule_grade"]
    if base is None:
        return None
    scope = next(s for s in program.scopes if s.kind == "grade")
    rows = [{"id": c["id"], "judgement": c["judgement"]} for c in fw["criteria"]]
    margins = []
    for i, row in enumerate(rows):
        for other in grade_ids:
            if other == row["judgement"]:
                continue
            changed = [dict(r) for r in rows]
            changed[i]["judgement"] = other
            try:
                outcome = criterion_outcomes(scope, {"criteria": changed}, fw["indicators"], engine).get("grade")
            except (AssessorError, EngineError):
                continue
            if outcome is not None and outcome != base:
                margins.append(
                    {
                        "criterion": row["id"],
                        "judgement_from": row["judgement"],
                        "judgement_to": other,
                        "from": base,
                        "to": outcome,
                    }
                )
    chosen = next((r for r in fw["grade_trace"].get("rungs", []) if r["held"]), None)
    movers = []
    for m in margins:
        if m["criterion"] not in movers:
            movers.append(m["criterion"])
    # with no single judgement able to move it, every criterion holds the grade where it is
    decided_by = [{"criterion": r["id"], "judgement": r["judgement"]} for r in rows if r["id"] in movers or not movers]
    return {
        "rung": None if chosen is None else {"outcome": chosen["outcome"], "condition": chosen["condition"]},
        "decided_by": decided_by,
        "indicators": [{"id": i["id"], "outcome": i.get("outcome")} for i in fw["indicators"]]
        if program.framework.grade and _reads_indicators(scope)
        else [],
        "margins": margins,
    }


def _reads_indicators(scope: CompiledScope) -> bool:
    reads = set()
    for d in scope.decisions:
        reads |= d.reads
    for d in scope.derived:
        reads |= d.expr.reads
    return bool(reads - {"criteria"})
