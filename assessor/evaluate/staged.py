"""The staged run: derived values, engine, first rung that held.

For each framework: compute every indicator's comparisons; then, stage by
stage, build one engine fact per decision whose inputs are all known, ask the
engine which rules held, and choose per decision the first rung whose rule
fired (or `otherwise`). A decision that reads an unknown value is not assessed,
and says which facts would settle it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from assessor.case.read import Case, year_ending
from assessor.compile.compiler import HOISTED, CompiledDecision, CompiledFramework, CompiledScope
from assessor.engines import Engine, make_engine
from assessor.errors import AssessorError
from assessor.evaluate.indicators import indicator_tests
from assessor.evaluate.why_not import json_value, value_by_engine_name, why_not
from assessor.language import conditions as ex
from assessor.language.ir import EngineFact
from assessor.rulebook.model import Derived, Rulebook


class Missing:
    """A value the case does not give; remembers which facts would settle it."""

    __slots__ = ("facts",)

    def __init__(self, facts):
        self.facts = frozenset(facts)


class Wording(Protocol):
    """What renders the statements a result carries (report.environment.Renderer)."""

    def statement(self, name: str, context: dict) -> str: ...


# the margins to flip one criterion's decisions: (program, criterion scope, its evidence, the indicators)
if TYPE_CHECKING:  # the result document's types are for the type checker: a run need not build them
    from assessor.evaluate import result

    MarginsOf = Callable[[CompiledFramework, CompiledScope, dict, list[result.Indicator]], list[result.Margin]]


def evaluate_framework(
    book: Rulebook,
    program: CompiledFramework,
    case: Case,
    engine: Engine,
    wording: Wording | None = None,
    margins_of: MarginsOf | None = None,
) -> result.Framework:
    """The framework's object of the result document: its indicators, criteria and grade. With
    `wording`, each assessed criterion carries its statement (and the indicators their sentences);
    with `margins_of`, each criterion its margins to flip."""
    fw = program.framework
    cf = case.frameworks[fw.id]
    tests = [indicator_tests(book, book.indicators[i], cf.surveys[i], case) for i in fw.indicators]
    settled: dict[str, tuple[str | None, result.Trace]] = {}  # indicator id -> (outcome, trace)
    scope_values: dict = {}
    decided: dict = {}  # (scope id, decision) -> per-fact outcome dicts
    traces: dict = {}

    def values_for(scope: CompiledScope) -> dict:
        if scope.id not in scope_values:
            outcomes = {i: o for i, (o, _) in settled.items()}
            if scope.kind == "grade":
                rows = [{"id": c.id, "judgement": decided[(c.id, "judgement")]["outcome"]} for c in program.criteria]
                criteria: list | Missing = rows
                if any(r["judgement"] is None for r in rows):
                    # the grade waits on the facts that would settle each unassessed criterion
                    criteria = Missing(
                        {
                            f"{c}: {fact}"
                            for (c, name), d in decided.items()
                            if name == "judgement" and d["outcome"] is None
                            for fact in d["missing"]
                        }
                    )
                scope_values[scope.id] = scope_inputs(scope, {"criteria": criteria}, tests, outcomes)
            else:
                scope_values[scope.id] = scope_inputs(scope, cf.evidence.get(scope.id, {}), tests, outcomes)
        return scope_values[scope.id]

    for stage in program.stages:
        facts: list[EngineFact] = []
        pending: list = []
        for scope in program.scopes:
            if scope.kind == "indicator":
                for ind in (i for i in tests if i["assessed"]):
                    verdicts = {"msf": ind["msf"]["verdict"], "trend": ind["trend"]["verdict"]}
                    stage_facts(scope, stage, verdicts, ind["id"], facts, pending, decided)
            elif any(d.stage == stage for d in scope.decisions):  # inputs are complete by its first stage
                stage_facts(scope, stage, values_for(scope), scope.id, facts, pending, decided)
        fired = engine.evaluate(stage, facts) if facts else {}
        for scope, d, fact_id, outcome, trace in settle(pending, fired, decided):
            if scope.kind == "indicator":
                settled[fact_id] = (outcome, trace)
            else:
                traces.setdefault(scope.id, {})[d.name] = trace

    indicators = [_indicator(book, ind, settled.get(ind["id"])) for ind in tests]
    by_id = {ind["id"]: ind for ind in indicators}
    year = year_ending(case.period)
    criteria: list[result.Criterion] = []
    reader_context = None  # the statement context of the last criterion reading the indicators
    for scope in program.criteria:
        c = scope.criterion
        assert c is not None  # a criterion scope has its criterion
        choices = {d.name: decided[(c.id, d.name)]["outcome"] for d in scope.decisions if d.name != "judgement"}
        j = decided[(c.id, "judgement")]
        missing = sorted({m for d in scope.decisions for m in decided[(c.id, d.name)]["missing"]})
        values = _public_values(scope_values.get(c.id, {}), scope)
        reads_indicators = c.reads_indicators(fw.indicators)
        context = {
            **choices,
            "choices": choices,
            "values": _with_shared(values, cf.shared),
            "indicators": by_id,
            "force": case.force,
            "year": year,
            "previous_year": year - 2,
        }
        if reads_indicators:
            reader_context = context
        criteria.append(
            {
                "id": c.id,
                "heading": c.heading,
                "subheading": c.subheading,
                "judgement": j["outcome"],
                "judgement_text": book.grade_label(j["outcome"]),
                "choices": choices,
                "assessed": not missing,
                "missing": missing,
                "values": values,
                "narrative": cf.narrative.get(c.id, {}),
                "trace": traces.get(c.id, {}),
                "margins": margins_of(program, scope, cf.evidence.get(c.id, {}), indicators) if margins_of else None,
                "reads_indicators": reads_indicators,
                "statement": wording.statement(c.statement, context) if wording and not missing else None,
            }
        )
    if wording and reader_context is not None:
        for ind in indicators:
            template = f"statements/indicators/{ind['id']}.md.j2"
            ind["sentences"] = wording.statement(template, {**reader_context, "ind": ind}) if ind["assessed"] else None
    g = decided[("grade", "grade")]
    rule_grade = g["outcome"]
    moderation: result.Moderation | None = None
    if cf.moderation is not None:
        moderation = {
            "grade": cf.moderation["grade"],
            "grade_text": book.grade_label(cf.moderation["grade"]),
            "reason": cf.moderation["reason"],
            "changed": rule_grade is not None and cf.moderation["grade"] != rule_grade,
        }
    grade = moderation["grade"] if moderation else rule_grade
    return {
        "id": fw.id,
        "title": fw.title,
        "grade": grade,
        "grade_text": book.grade_label(grade),
        "rule_grade": rule_grade,
        "rule_grade_text": book.grade_label(rule_grade),
        "assessed": rule_grade is not None,
        "missing": g["missing"],
        "moderation": moderation,
        "grade_trace": traces.get("grade", {}).get("grade", {}),
        "indicators": indicators,
        "criteria": criteria,
    }


def _indicator(book: Rulebook, tests: result.IndicatorTests, settled: tuple | None) -> result.Indicator:
    """An indicator's object of the result: its figures and tests, then the outcome the rules chose."""
    if settled is None:  # not assessed
        return {**tests, "outcome": None, "outcome_text": None}
    outcome, trace = settled
    return {**tests, "outcome": outcome, "trace": trace, "outcome_text": book.grade_label(outcome)}


def scope_inputs(
    scope: CompiledScope, given: dict, indicators: Sequence[result.IndicatorTests], outcomes: dict
) -> dict:
    """The values a criterion or grade scope reads: its inputs, the indicators (with their
    `outcomes` by id), then derived values."""
    values = {k: (Missing({k}) if v is None else v) for k, v in given.items()}
    unassessed = [m for i in indicators for m in i["missing"]]
    rows = {i["id"]: _indicator_row(i, outcomes.get(i["id"])) for i in indicators}
    values["indicators"] = Missing(unassessed) if unassessed else list(rows.values())
    for i in indicators:
        values[i["id"]] = Missing(i["missing"]) if i["missing"] else rows[i["id"]]
    return derive_values(scope, values)


def derive_values(scope: CompiledScope, values: dict) -> dict:
    for d in scope.derived:
        values[d.name] = _derive(d, values)
    return values


def stage_facts(
    scope: CompiledScope, stage: int, values: dict, fact_id: str, facts: list, pending: list, decided: dict
) -> None:
    """Add the engine facts for this scope's decisions of `stage`; record those that cannot be assessed."""
    for d in scope.decisions:
        if d.stage != stage:
            continue
        missing = _missing(d, values) if scope.kind != "indicator" else set()
        if missing:
            decided[(scope.id, d.name)] = {"outcome": None, "missing": sorted(missing)}
            values[d.name] = Missing(missing)
            continue
        facts.append(_fact(d, fact_id, values))
        pending.append((scope, d, fact_id, values))


def settle(pending: list, fired: dict, decided: dict) -> Iterator[tuple]:
    """Choose each pending decision's outcome from what fired; later decisions read it as a value."""
    for scope, d, fact_id, values in pending:
        outcome, trace = _choose(d, fired, f"{d.engine_scope}@{fact_id}", values, _labels(scope))
        if outcome is None:  # no rung held and there is no `otherwise`: never a silent null
            what = "the survey indicator outcome" if scope.kind == "indicator" else f"{d.name} of {scope.id!r}"
            raise AssessorError(
                d.decision.place.finding(
                    "scale-gap",
                    f"no rung of {what} holds for this case ({fact_id}), and the scale has no `otherwise`; "
                    "add `- otherwise: <outcome>` as its last rung",
                )
            )
        if scope.kind != "indicator":
            decided[(scope.id, d.name)] = {"outcome": outcome, "missing": []}
            values[d.name] = outcome
        yield scope, d, fact_id, outcome, trace


def criterion_outcomes(
    scope: CompiledScope, evidence: dict, indicators: list[result.Indicator], engine: Engine
) -> dict:
    """Every decision of one criterion for the given evidence: what-if analysis reuses the staged run."""
    values = scope_inputs(scope, evidence, indicators, {i["id"]: i["outcome"] for i in indicators})
    decided: dict = {}
    for stage in sorted({d.stage for d in scope.decisions}):
        facts: list[EngineFact] = []
        pending: list = []
        stage_facts(scope, stage, values, scope.id, facts, pending, decided)
        fired = engine.evaluate(stage, facts) if facts else {}
        for _ in settle(pending, fired, decided):
            pass
    return {name: d["outcome"] for (_, name), d in decided.items()}


def _derive(d: Derived, values: dict) -> Any:
    missing: set[str] = set()
    for name in d.expr.reads:
        v = values.get(name)
        if isinstance(v, Missing):
            missing |= v.facts
    if missing:
        return Missing(missing)
    try:
        return ex.evaluate(d.expr.tree, values)
    except ex.ExpressionError as e:
        p = d.expr.place
        raise AssessorError(
            p.finding(
                "evaluation",
                f"cannot compute {d.name if not d.name.startswith(HOISTED) else repr(d.expr.source)}: {e.message}"
                " with this case's evidence",
            )
        ) from None


def _missing(d: CompiledDecision, values: dict) -> set:
    out: set[str] = set()
    for name in d.reads:
        v = values.get(name)
        if isinstance(v, Missing):
            out |= v.facts
        elif v is None and name in values:
            out.add(name)
    for name in d.value_names:  # hoisted values
        v = values.get(name)
        if isinstance(v, Missing):
            out |= v.facts
    return out


def _engine_values(d: CompiledDecision, values: dict) -> dict:
    return {name: ex.engine_value(value_by_engine_name(name, values)) for name in d.value_names}


def _fact(d: CompiledDecision, fact_id: str, values: dict) -> EngineFact:
    return EngineFact(f"{d.engine_scope}@{fact_id}", d.engine_scope, d.stage, _engine_values(d, values))


def _labels(scope: CompiledScope) -> dict:
    """Hoisted values are shown by the text they compute, so a reader sees what was compared."""
    return {d.name: d.expr.source for d in scope.derived if d.name.startswith(HOISTED)}


def _choose(d: CompiledDecision, fired: dict, fact_key: str, values: dict, labels: dict) -> tuple:
    """The first rung whose rule fired on this fact, and the trace of every rung."""
    chosen = None
    rungs = []
    for rung in d.rungs:
        held = rung.rule_id is None or fact_key in fired.get(rung.rule_id, ())
        rungs.append(
            {
                "outcome": rung.outcome,
                "condition": "otherwise" if rung.expression is None else " ".join(rung.expression.source.split()),
                "rule": rung.rule_id,
                "held": held,
                "why": None if held else why_not(rung.condition, values, labels),
                "line": rung.expression.place.line if rung.expression is not None else None,
            }
        )
        if held and chosen is None:
            chosen = rung.outcome
    read = {
        labels.get(name, ex.dotted_name(name)): json_value(value_by_engine_name(name, values))
        for name in sorted(d.value_names)
    }
    return chosen, {"chosen": chosen, "fact": fact_key, "rungs": rungs, "read": read}


def _public_values(values: dict, scope: CompiledScope) -> dict:
    """Facts and derived values of a criterion, for explanations (tables and records left out)."""
    out = {}
    hoisted = _labels(scope)
    for k, v in values.items():
        if isinstance(v, (list, dict)):
            continue
        key = hoisted.get(k, k)
        out[key] = None if isinstance(v, Missing) else json_value(v)
    return out


def _with_shared(values: dict, shared: dict) -> dict:
    """A statement may read every shared fact of its framework, as if its criterion declared it; the
    criterion's own `values` (in the result) hold only those its rules read."""
    more = {k: json_value(v) for k, v in shared.items() if k not in values and not isinstance(v, (list, dict))}
    return {**values, **more} if more else values


def _indicator_row(ind: result.IndicatorTests, outcome: str | None) -> dict:
    """What rule conditions may read about an indicator (see rulebook.read._indicator_types)."""
    row = {
        "id": ind["id"],
        "msf": ind["msf"]["verdict"],
        "trend": ind["trend"]["verdict"],
        "outcome": outcome,
        "value": ind["value"],
        "change_pp": ind["trend"].get("change_pp", 0.0),
        "difference_pp": ind["msf"].get("difference_pp", 0.0),
    }
    if "gap" in ind:
        row["gap_pp"] = ind["gap"]["gap_pp"]
        row["gap"] = ind["gap"]["verdict"]
    return row


class StagedEvaluator:
    """Compiled rules with one engine per framework, reused across cases."""

    def __init__(self, book: Rulebook, programs: tuple[CompiledFramework, ...], engine_name: str):
        self.book = book
        self.programs = programs
        self.engine_name = engine_name
        self._engines: dict[str, Engine] = {}

    def evaluate(
        self, case: Case, wording: Wording | None = None, margins_of: MarginsOf | None = None
    ) -> list[result.Framework]:
        """The `frameworks` of the result document for `case` (see evaluate_framework)."""
        out = []
        for program in self.programs:
            engine = self._engines.get(program.framework.id)
            if engine is None:
                engine = self._engines[program.framework.id] = make_engine(self.engine_name, program.rules)
            out.append(evaluate_framework(self.book, program, case, engine, wording, margins_of))
        return out

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close()
        self._engines.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
