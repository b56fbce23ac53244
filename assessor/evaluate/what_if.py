"""Margin to flip: the smallest change of one evidence fact that would change a decision.

Inspectors use it to see which judgements are fragile ("1 more BCU within the
supervision ratio → all"). Each candidate change re-runs the criterion's
staged evaluation on the Python engine, so the answer follows the same rules as
the report; nothing here re-implements them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from assessor.compile.compiler import CompiledScope
from assessor.engines import Engine
from assessor.evaluate import result
from assessor.evaluate.staged import criterion_outcomes
from assessor.evaluate.why_not import json_value
from assessor.rulebook.model import FactSpec

MAX_STEPS = 25  # how far along a number we look, each way


def criterion_margins(
    scope: CompiledScope, evidence: dict, indicators: list[result.Indicator], engine: Engine
) -> list[result.Margin]:
    """For each decision of the criterion, the smallest single-fact change that changes it (if any)."""
    assert scope.criterion is not None, "margins are a criterion's"
    base = criterion_outcomes(scope, evidence, indicators, engine)
    if any(v is None for v in base.values()):
        return []
    best: dict[str, tuple[tuple[int, str], result.Margin]] = {}  # decision -> (size, fact), its margin
    for fact_label, steps in _candidates(scope.criterion.evidence, evidence):
        for size, changed, before, after in steps:
            outcomes = criterion_outcomes(scope, changed, indicators, engine)
            for name, outcome in outcomes.items():
                if outcome is None or outcome == base[name]:
                    continue
                found = best.get(name)
                key = (size, fact_label)
                if found is None or key < found[0]:
                    best[name] = (
                        key,
                        {
                            "decision": name,
                            "from": base[name],
                            "to": outcome,
                            "fact": fact_label,
                            "before": json_value(before),
                            "after": json_value(after),
                            "steps": size,
                        },
                    )
    return [best[d.name][1] for d in scope.decisions if d.name in best]


def _candidates(specs: tuple, evidence: dict) -> Iterator[tuple[str, list]]:
    """(fact label, [(size, changed evidence, before, after), ...]) in increasing size, each direction."""
    for spec in specs:
        value = evidence.get(spec.name)
        if value is None:
            continue
        if spec.type == "table":
            for i, row in enumerate(value):
                label = row.get(next(iter(dict(spec.columns))), i + 1)
                for col, cspec in spec.columns:
                    steps = []
                    for size, new in _moves(cspec, row[col]):
                        rows = [dict(r) for r in value]
                        rows[i][col] = new
                        steps.append((size, {**evidence, spec.name: rows}, row[col], new))
                    if steps:
                        yield f"{spec.name}[{label}].{col}", steps
            continue
        steps = [(size, {**evidence, spec.name: new}, value, new) for size, new in _moves(spec, value)]
        if steps:
            yield spec.name, steps


def _moves(spec: FactSpec, value: Any) -> list[tuple[int, Any]]:
    """Alternative values of one fact, smallest change first (size counts steps)."""
    if spec.type == "yes/no":
        return [(1, not value)]
    if spec.type == "one-of":
        return [(1, v) for v in spec.values if v != value]
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
                out.append((k, new))
        return out
    if spec.type == "date":
        out = []
        for k in range(1, 6):
            for sign in (1, -1):
                try:
                    out.append((k, value.replace(year=value.year + sign * k)))
                except ValueError:  # 29 February
                    out.append((k, value + dt.timedelta(days=365 * sign * k)))
        return out
    return []
