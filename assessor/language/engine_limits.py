"""What one IR condition may ask of durable-rules' C engine, and how to measure a condition against it.

durable-rules has fixed tables (`rete.h`, `rules.h`, `events.c`; see engines/durable.py). The
rulebook reader refuses a condition beyond them with a place in the rule file, and the durable
driver lays its rules out within them. Both measure with the functions here, so what the
reader lets through is what the driver can run.
"""

from __future__ import annotations

from assessor.language.ir import AllOf, AnyOf, Cmp, Cond

MAX_GROUPS = 15  # $and/$or in one engine pattern: two slots each of 32, error 113 at 16
MAX_PARTS = 64  # engine rules one IR rule may be split into when it has more groups than that
STACK_BUDGET = 56  # of durable's 64-slot alpha stack per fact (error 303 beyond): alternatives open at once
MAX_VALUES = 248  # values per fact, besides id, sid, scope, stage: at 255 properties a batch stops (P6)
_CAP = 10**9  # alternatives are counted up to here: beyond, "too many" is all anyone needs to know


def flatten(cond: Cond) -> Cond:
    """The condition as the engine holds it: AllOf-in-AllOf and AnyOf-in-AnyOf merged, groups of
    one unwrapped (fewer groups against MAX_GROUPS). ValueError if `cond` is not well-formed IR."""
    if isinstance(cond, Cmp):
        if cond.op not in ("eq", "ne", "lt", "le", "gt", "ge"):
            raise ValueError(f"unknown comparison {cond.op!r}")
        return cond
    if not isinstance(cond, (AllOf, AnyOf)):
        raise ValueError(f"not an IR condition: {cond!r}")
    if not cond.items:
        raise ValueError(f"empty {type(cond).__name__} in a condition")
    items: list[Cond] = []
    for item in map(flatten, cond.items):
        items.extend(item.items if type(item) is type(cond) else (item,))
    return items[0] if len(items) == 1 else type(cond)(tuple(items))


def conjuncts(cond: Cond) -> tuple[Cond, ...]:
    """The items a pattern's top `$and` (after scope and stage) holds for `cond`."""
    return cond.items if isinstance(cond, AllOf) else (cond,)


def groups(cond: Cond) -> int:
    """The AllOf/AnyOf groups in `cond`."""
    return 0 if isinstance(cond, Cmp) else 1 + sum(map(groups, cond.items))


def pattern_groups(cond: Cond) -> int:
    """The groups of the engine pattern holding `cond`: its own top `$and` and those of its conjuncts."""
    return 1 + sum(map(groups, conjuncts(cond)))


def pending_nodes(cond: Cond) -> int:
    """Upper bound of the alpha nodes this condition leaves on durable's match stack (against
    STACK_BUDGET): every branch of an `$or` is pushed at once, an `$and` is a chain pushing one
    node at a time."""
    if isinstance(cond, Cmp):
        return 1
    costs = [pending_nodes(item) for item in cond.items]
    return sum(costs) if isinstance(cond, AnyOf) else sum(costs) - len(costs) + 1


def alternatives(cond: Cond) -> int:
    """The ways the condition can hold (terms of its disjunctive form), capped at 10**9: the most
    engine rules splitting it could need (against MAX_PARTS)."""
    if isinstance(cond, Cmp):
        return 1
    counts = [alternatives(item) for item in cond.items]
    if isinstance(cond, AnyOf):
        return min(sum(counts), _CAP)
    total = 1
    for n in counts:
        total = min(total * n, _CAP)
    return total
