"""Why a rung did not hold: the first comparison that failed, with the values and by how much.

Shown by `assess --explain` and in the JSON trace, for a policy lead answering a
force that challenges its grade (e.g. `staffed_share 0.67 < 1, short by 0.33`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from assessor.language import conditions as ex
from assessor.language import ir


def value_by_engine_name(name: str, values: dict) -> Any:
    """A value by its engine name (see conditions.engine_name)."""
    head, _, tail = ex.dotted_name(name).partition(".")
    return values[head][tail] if tail else values[name]


_FAILED = {"eq": "!=", "ne": "==", "lt": ">=", "le": ">", "gt": "<=", "ge": "<"}
_HOLDS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def why_not(cond: ir.Cond, values: dict, labels: dict) -> list:
    """The comparisons that failed (the first of a conjunction, each branch of a disjunction),
    as data: templates word them, e.g. `staffed_share 0.67 < 1, short by 0.33`."""
    if isinstance(cond, ir.AllOf):
        return next((why_not(item, values, labels) for item in cond.items if not _holds(item, values)), [])
    if isinstance(cond, ir.AnyOf):
        return [f for item in cond.items for f in why_not(item, values, labels)]
    left = value_by_engine_name(cond.name, values)
    right = cond.operand.value if isinstance(cond.operand, ir.Lit) else value_by_engine_name(cond.operand.name, values)
    if isinstance(left, dt.date) and isinstance(right, int):
        right = dt.date.fromordinal(right)
    failed = {
        "name": labels.get(cond.name, ex.dotted_name(cond.name)),
        "kind": _kind(left),
        "value": json_value(left),
        "relation": _FAILED[cond.op],
        "limit": json_value(right),
        "limit_name": None,
        "short_by": None,
        "strict": False,
    }
    if isinstance(cond.operand, ir.Ref):
        failed["limit_name"] = labels.get(cond.operand.name, ex.dotted_name(cond.operand.name))
    if _numeric(left) and _numeric(right) and cond.op in ("lt", "le", "gt", "ge"):
        gap = abs(right - left)
        if cond.op in ("le", "ge") or gap:  # a strict comparison missed by 0 has no "short by"
            failed["short_by"] = json_value(gap)
            failed["strict"] = cond.op in ("lt", "gt")
    return [failed]


def _kind(v: object) -> str:
    if isinstance(v, bool):
        return "yes/no"
    if _numeric(v):
        return "number"
    return "date" if isinstance(v, dt.date) else "word"


def json_value(v):
    """A value as the JSON result carries it: dates as YYYY-MM-DD, floats to 6 places."""
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return round(v, 6)
    return v


def _holds(cond: ir.Cond, values: dict) -> bool:
    if isinstance(cond, ir.AllOf):
        return all(_holds(i, values) for i in cond.items)
    if isinstance(cond, ir.AnyOf):
        return any(_holds(i, values) for i in cond.items)
    left = ex.engine_value(value_by_engine_name(cond.name, values))
    right = (
        cond.operand.value
        if isinstance(cond.operand, ir.Lit)
        else ex.engine_value(value_by_engine_name(cond.operand.name, values))
    )
    return _HOLDS[cond.op](left, right)


def _numeric(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
