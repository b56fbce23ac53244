"""The reference engine: each IR condition compiled once into nested Python closures."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from assessor.engines import EngineError
from assessor.language.ir import AllOf, AnyOf, Cmp, Cond, EngineFact, EngineRule, Ref, Value

Predicate = Callable[[Mapping[str, Value]], bool]

_OPERATORS = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def compile_condition(cond: Cond) -> Predicate:
    """A closure telling whether `cond` holds on a fact's values."""
    if isinstance(cond, Cmp):
        compare = _OPERATORS.get(cond.op)
        if compare is None:
            raise EngineError(f"unknown comparison {cond.op!r}")
        name = cond.name
        if isinstance(cond.operand, Ref):
            other = cond.operand.name
            return lambda values: compare(values[name], values[other])
        literal = cond.operand.value
        return lambda values: compare(values[name], literal)
    if not isinstance(cond, (AllOf, AnyOf)):
        raise EngineError(f"not an IR condition: {cond!r}")
    if not cond.items:
        raise EngineError(f"empty {type(cond).__name__} in a condition")
    parts = tuple(compile_condition(item) for item in cond.items)
    if len(parts) == 1:
        return parts[0]
    # plain loops: all()/any() over a generator cost about twice as much per call
    if isinstance(cond, AllOf):

        def every(values):  # noqa: SIM110 (a plain loop is faster than all() on this hot path)
            return all(part(values) for part in parts)

        return every

    def some(values):  # noqa: SIM110 (a plain loop is faster than any() on this hot path)
        return any(part(values) for part in parts)

    return some


class PythonEngine:
    name = "python"

    def __init__(self, rules: Sequence[EngineRule]):
        self._rules: dict[tuple[int, str], list[tuple[str, Predicate]]] = defaultdict(list)
        for rule in rules:
            self._rules[rule.stage, rule.scope].append((rule.id, compile_condition(rule.condition)))

    def evaluate(self, stage: int, facts: Sequence[EngineFact]) -> dict[str, tuple[str, ...]]:
        matched: dict[str, set[str]] = defaultdict(set)
        for fact in facts:
            if fact.stage != stage:
                continue
            for rule_id, holds in self._rules.get((stage, fact.scope), ()):
                try:
                    if holds(fact.values):
                        matched[rule_id].add(fact.id)
                except KeyError as exc:
                    raise EngineError(f"rule {rule_id} reads {exc.args[0]!r}, which fact {fact.id!r} lacks") from exc
                except TypeError as exc:
                    raise EngineError(f"rule {rule_id} compares unlike values on fact {fact.id!r}: {exc}") from exc
        return {rule_id: tuple(sorted(ids)) for rule_id, ids in sorted(matched.items())}

    def close(self) -> None:
        """Nothing to release: the closures go with the engine."""
