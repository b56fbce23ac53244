"""The intermediate form both engines evaluate: flat, typed, no negation, no arithmetic.

The compiler produces it from the rule files; `engines/durable.py` and
`engines/python.py` must give identical answers on it. See docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from assessor.source.record import Record

Value = bool | int | float | str

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
ORDERING = ("lt", "le", "gt", "ge")


@dataclass(frozen=True, repr=False, eq=False)
class Lit(Record):
    value: Value


@dataclass(frozen=True, repr=False, eq=False)
class Ref(Record):
    name: str


Operand = Lit | Ref


@dataclass(frozen=True, repr=False, eq=False)
class Cmp(Record):
    op: str
    name: str
    operand: Operand


@dataclass(frozen=True, repr=False, eq=False)
class AllOf(Record):
    items: tuple


@dataclass(frozen=True, repr=False, eq=False)
class AnyOf(Record):
    items: tuple


Cond = Cmp | AllOf | AnyOf


@dataclass(frozen=True, repr=False, eq=False)
class EngineRule(Record):
    id: str
    stage: int
    scope: str
    condition: Cond


@dataclass(frozen=True, repr=False, eq=False)
class EngineFact(Record):
    id: str
    scope: str
    stage: int
    values: Mapping[str, Value] = field(default_factory=dict)


def names_read(cond: Cond) -> set[str]:
    """Every value name a condition reads."""
    if isinstance(cond, Cmp):
        out = {cond.name}
        if isinstance(cond.operand, Ref):
            out.add(cond.operand.name)
        return out
    return set().union(*(names_read(c) for c in cond.items))
