"""The intermediate form both engines evaluate: flat, typed, no negation, no arithmetic.

The compiler produces it from the rule files; `engines/durable.py` and
`engines/python.py` must give identical answers on it. See docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from assessor.record import Record, field

Value = bool | int | float | str

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
ORDERING = ("lt", "le", "gt", "ge")


class Lit(Record):
    """A constant operand."""

    value: Value


class Ref(Record):
    """An operand read from the fact: a value name."""

    name: str


Operand = Lit | Ref


class Cmp(Record):
    """`name op operand`: the one comparison the engines evaluate."""

    op: str
    name: str
    operand: Operand


class AllOf(Record):
    """A conjunction of at least one condition."""

    items: tuple


class AnyOf(Record):
    """A disjunction of at least one condition."""

    items: tuple


Cond = Cmp | AllOf | AnyOf


class EngineRule(Record):
    """A rung's condition as an engine rule, for the facts of one scope and stage."""

    id: str
    stage: int
    scope: str
    condition: Cond


class EngineFact(Record):
    """The values of one scope at one stage, as the engines are given them."""

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
