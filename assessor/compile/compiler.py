"""Rulebook → the staged program the evaluator runs and the IR rules the engines hold.

Each rung condition becomes one engine rule. Each decision gets its own engine
scope, so a fact is only ever built for a decision whose inputs are all known.
Computed operands inside conditions (arithmetic, aggregates) are hoisted into
hidden derived values `_dN`, computed in Python before the engine runs: the
engines only ever compare values (see docs/architecture.md).
"""

from __future__ import annotations

from assessor.language import conditions as ex
from assessor.language import ir
from assessor.record import Record
from assessor.rulebook.model import Criterion, Decision, Derived, Expression, Framework, Rulebook

INDICATOR_STAGE = 1
HOISTED = "_d"  # the prefix of hoisted values' names (no name in scope starts with "_")


class CompiledRung(Record):
    outcome: str
    rule_id: str | None  # None for `otherwise`
    expression: Expression | None
    condition: ir.Cond | None = None  # what the engine evaluates


class CompiledDecision(Record):
    decision: Decision
    engine_scope: str
    stage: int
    rungs: tuple
    reads: frozenset  # names in scope (heads) the conditions read, hoisted values included
    value_names: frozenset  # the engine value names the rules compare

    @property
    def name(self) -> str:
        return self.decision.name


class CompiledScope(Record):
    """A criterion, the framework grade, or the survey indicators of a framework."""

    kind: str  # criterion | grade | indicator
    id: str
    derived: tuple  # Derived, declared ones first, then hoisted `_dN`
    decisions: tuple  # CompiledDecision
    criterion: Criterion | None = None


class CompiledFramework(Record):
    framework: Framework
    indicators: CompiledScope
    criteria: tuple
    grade: CompiledScope
    rules: tuple  # ir.EngineRule

    @property
    def scopes(self) -> tuple:
        return (self.indicators,) + self.criteria + (self.grade,)

    @property
    def stages(self) -> tuple:
        return tuple(sorted({d.stage for s in self.scopes for d in s.decisions}))


def compile_rulebook(book: Rulebook) -> tuple:
    return tuple(compile_framework(book, fw) for fw in book.frameworks)


def compile_framework(book: Rulebook, fw: Framework) -> CompiledFramework:
    rules: list = []
    indicators = _scope(
        fw, "indicator", "indicators", (), (book.outcome,) if fw.indicators else (), INDICATOR_STAGE, rules
    )
    criteria = []
    last = INDICATOR_STAGE
    for c in fw.criteria:
        scope = _scope(fw, "criterion", c.id, c.derive, c.decisions, INDICATOR_STAGE + 1, rules, c)
        criteria.append(scope)
        last = max([last] + [d.stage for d in scope.decisions])
    grade = _scope(fw, "grade", "grade", fw.derive, (fw.grade,), last + 1, rules)
    return CompiledFramework(fw, indicators, tuple(criteria), grade, tuple(rules))


def _scope(
    fw: Framework,
    kind: str,
    sid: str,
    derive: tuple,
    decisions: tuple,
    first_stage: int,
    rules: list,
    criterion: Criterion | None = None,
) -> CompiledScope:
    derived = list(derive)
    hoisting = ex.Hoisting(HOISTED)  # one per scope: a computation its conditions share is computed once
    stage_of: dict = {}
    compiled = []
    for d in decisions:
        reads = frozenset().union(*(r.condition.reads for r in d.rungs if r.condition is not None))
        stage = max([first_stage] + [stage_of[n] + 1 for n in reads if n in stage_of])
        stage_of[d.name] = stage
        engine_scope = f"{fw.id}__{sid}__{d.name}"
        rungs = []
        names: set = set()
        for i, rung in enumerate(d.rungs, 1):
            if rung.condition is None:
                rungs.append(CompiledRung(rung.outcome, None, None))
                continue
            expr = rung.condition
            met = len(hoisting.computed)
            cond = hoisting.lower(expr.source, expr.tree)
            for name, (text, node) in list(hoisting.computed.items())[met:]:  # first met in this condition
                derived.append(Derived(name, Expression(text, node, expr.place, expr.quoted, expr.reads)))
            rule_id = f"{engine_scope}__{i}"
            rules.append(ir.EngineRule(rule_id, stage, engine_scope, cond))
            names |= ir.names_read(cond)
            rungs.append(CompiledRung(rung.outcome, rule_id, rung.condition, cond))
        compiled.append(CompiledDecision(d, engine_scope, stage, tuple(rungs), reads, frozenset(names)))
    return CompiledScope(kind, sid, tuple(derived), tuple(compiled), criterion)
