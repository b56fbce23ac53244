"""Why a rung did not hold: the first comparison that failed, with the values and by how much.

Shown by `assess --explain` and in the JSON trace, for a policy lead answering a
force that challenges its grade (e.g. `staffed_share 0.67 < 1, short by 0.33`).
"""
from __future__ import annotations

import datetime as dt

from . import expressions as ex
from . import ir


def value(name: str, values: dict):
    """A value by its engine name: record fields are joined to their record with '__'."""
    head, _, tail = name.partition("__")
    return values[head][tail] if tail else values[name]


_FAILED = {"eq": "!=", "ne": "==", "lt": ">=", "le": ">", "gt": "<=", "ge": "<"}
_HOLDS = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
          "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}


def why_not(cond: ir.Cond, values: dict, labels: dict) -> str:
    """The first comparison that failed, with the values and by how much: `staffed_share 0.67 < 1`."""
    if isinstance(cond, ir.All):
        for item in cond.items:
            if not _holds(item, values):
                return why_not(item, values, labels)
        return ""
    if isinstance(cond, ir.Any):
        return " and ".join(why_not(item, values, labels) for item in cond.items)
    left = value(cond.name, values)
    right = cond.operand.value if isinstance(cond.operand, ir.Lit) else value(cond.operand.name, values)
    if isinstance(left, dt.date) and isinstance(right, int):
        right = dt.date.fromordinal(right)
    name = labels.get(cond.name, cond.name.replace("__", "."))
    if isinstance(left, bool):
        return f"{name} is {_show(left)}"
    text = f"{name} {_show(left)} {_FAILED[cond.op]} {_show(right)}"
    if isinstance(cond.operand, ir.Ref):
        text = f"{text} ({labels.get(cond.operand.name, cond.operand.name.replace('__', '.'))})"
    if _numeric(left) and _numeric(right) and cond.op in ("lt", "le", "gt", "ge"):
        gap = abs(right - left)
        if cond.op in ("le", "ge"):
            text += f", short by {_show(gap)}"
        elif gap:
            text += f", short by more than {_show(gap)}"
    return text


def _holds(cond: ir.Cond, values: dict) -> bool:
    if isinstance(cond, ir.All):
        return all(_holds(i, values) for i in cond.items)
    if isinstance(cond, ir.Any):
        return any(_holds(i, values) for i in cond.items)
    left = ex.engine_value(value(cond.name, values))
    right = cond.operand.value if isinstance(cond.operand, ir.Lit) else ex.engine_value(value(cond.operand.name, values))
    return _HOLDS[cond.op](left, right)


def _numeric(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _show(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)
