"""The rulebook as a typed model: frameworks, criteria, facts, scales and their rungs.

`rulebook.read` builds it from rules/*.yaml; every later stage reads it and none changes it.
"""

from __future__ import annotations

from collections.abc import Mapping

from assessor.errors import Finding
from assessor.language import conditions as ex
from assessor.record import Record, field

FACT_TYPES = ("integer", "number", "percentage", "yes/no", "date", "one-of", "text", "table")
# The evaluator names its scopes after criterion ids, next to the framework's own scopes,
# and a criterion's own decisions next to its `judgement`: these names would collide.
RESERVED_CRITERIA = ("grade", "indicators")
RESERVED_SLOTS = ("judgement",)
# What a statement template is given besides its criterion's choices (session.Session.assess_case),
# with what each holds: a choose slot of one of these names would print that instead of its word.
STATEMENT_CONTEXT = {
    "choices": "every choice of the criterion",
    "values": "the criterion's facts and derived values",
    "indicators": "the framework's survey indicators",
    "force": "the force's name",
    "year": "the year the inspected period ends",
    "previous_year": "the year two years before that",
    "ind": "the indicator an indicator sentence describes",
}
MAX_WORD = 200  # characters in a one-of value (the engine compares it as a string)
# The four results of a significance test, in this order: significantly better (after the direction of
# good is applied), no significant difference, significantly worse, comparison not made. They are the
# statistics' vocabulary; the words rules and reports use for them are the rulebook's (Rulebook.verdicts).
VERDICT_ROLES = ("better", "same", "worse", "none")
# A grade id is a class name in the HTML report, where `none` marks what is not assessed; `otherwise`
# closes a scale.
RESERVED_GRADES = ("none", "otherwise")
MIN_GRADES = 2
GRADING_FILE = "grading.yaml"


class Place(Record):
    """Where something stands in a rule file, for the findings that name it."""

    path: str
    line: int | None
    column: int | None

    def finding(self, check: str, message: str, offset: int = 0, quoted: bool = False) -> Finding:
        col = None if self.column is None else self.column + offset + (1 if quoted and offset else 0)
        return Finding(self.path, self.line, col, check, message)


class FactSpec(Record):
    """A fact a criterion reads: its name, type, meaning and bounds."""

    name: str
    type: str
    describe: str = ""
    min: float | None = None
    max: float | None = None
    values: tuple = ()
    columns: tuple = ()  # ((name, FactSpec), ...) for tables
    place: Place | None = None

    @property
    def expr_type(self) -> ex.Type:
        if self.type in ("integer", "number", "percentage"):
            return ex.NUMBER
        if self.type == "yes/no":
            return ex.BOOLEAN
        if self.type == "date":
            return ex.DATE
        if self.type == "one-of":
            return ex.Type("choice", self.values)
        if self.type == "table":
            return ex.Type("table", columns=tuple((n, c.expr_type) for n, c in self.columns))
        return ex.TEXT


class Expression(Record):
    """A condition or computed value as written, with its parsed tree and the names it reads."""

    source: str
    tree: ex.Node
    place: Place
    quoted: bool = False
    reads: frozenset = frozenset()  # names in scope it reads (heads of dotted names)


class Derived(Record):
    """A value a scope computes from its facts (`derive`)."""

    name: str
    expr: Expression


class Rung(Record):
    """One step of a decision: the outcome it gives when its condition holds."""

    outcome: str
    condition: Expression | None  # None for `otherwise`


class Decision(Record):
    """An ordered list of rungs whose first holding condition decides the outcome."""

    name: str
    kind: str  # choice | judgement | grade | outcome
    rungs: tuple  # of Rung; a final `otherwise` rung has condition None
    place: Place
    # name -> conditions.Type: what its conditions may read, as the reader checked them (for the tools)
    names: dict = field(default_factory=dict, compare=False)

    @property
    def outcomes(self) -> tuple:
        return tuple(dict.fromkeys(r.outcome for r in self.rungs))  # in order, once each

    @property
    def otherwise(self) -> str | None:
        last = self.rungs[-1] if self.rungs else None
        return last.outcome if last is not None and last.condition is None else None


class Criterion(Record):
    """One criterion of a framework: its evidence, derived values, choices and judgement."""

    id: str
    heading: str
    subheading: str
    # of FactSpec: the facts it reads from the case: the framework's shared facts its rules read
    # (named in `shared`, in the framework's order), then its own declarations
    evidence: tuple
    derive: tuple  # of Derived
    choice_scales: tuple  # of Decision: the `choose` slots, each a scale of words
    judgement: Decision
    statement: str  # template path under templates/
    place: Place
    statement_place: Place | None = None  # where the rules name the statement template
    headcounts: tuple = ()  # ((Expression, Expression), ...): counts of the same people that should agree
    shared: tuple = ()  # names of the framework's facts in `evidence`: declared once, for every criterion

    @property
    def decisions(self) -> tuple:
        return self.choice_scales + (self.judgement,)

    @property
    def own_evidence(self) -> tuple:
        """The facts declared under the criterion itself: a case gives them under the criterion."""
        return tuple(f for f in self.evidence if f.name not in self.shared)

    def reads_indicators(self, indicator_ids: tuple) -> bool:
        """Whether its derived values or conditions read the survey indicators: the `indicators`
        table or one of `indicator_ids` (its framework's), so its report wording may use them."""
        return bool(names_read(self.derive, self.decisions) & {"indicators", *indicator_ids})


def names_read(derived: tuple, decisions: tuple) -> set[str]:
    """The names in scope that these derived values and decisions' conditions read (heads of dotted names)."""
    return set().union(
        *(d.expr.reads for d in derived),
        *(r.condition.reads for d in decisions for r in d.rungs if r.condition is not None),
    )


class Framework(Record):
    """A graded framework: its criteria, survey indicators, shared evidence and grade."""

    id: str
    title: str
    order: int  # frameworks appear in the report by order, then id
    indicators: tuple  # indicator ids
    criteria: tuple
    derive: tuple
    grade: Decision
    path: str
    indicators_place: Place | None = None  # where the framework lists its indicators
    # of FactSpec: the framework's `evidence:`, facts every criterion may read; a case gives each once
    evidence: tuple = ()


class SurveyDesign(Record):
    """How a survey was sampled: interviews, design factor, per force or per BCU."""

    id: str
    title: str
    design_factor: float
    sample_size: int
    per: str  # force | bcu
    msf_multiplier: float


class Indicator(Record):
    """A survey indicator: its label, survey, direction and how its figures are compared."""

    id: str
    label: str
    survey: str
    higher_is_better: bool
    compare: tuple  # subset of ("msf", "previous")
    sample_given: bool  # the case must give n (e.g. minority-ethnic respondents)
    gap_with: str | None  # a comparison group figure the case gives, e.g. white users
    question: str = ""  # what the survey asked, for people filling in a case (new-case)

    def figures_needed(self) -> tuple[str, ...]:
        """The survey figures a case gives for this indicator's tests, in the order a case file lists them."""
        names = ["value"]
        if "msf" in self.compare:
            names.append("msf_average")
        if "previous" in self.compare:
            names.append("previous")
        if self.sample_given:
            names.append("n")
            if "previous" in self.compare:
                names.append("previous_n")
        if self.gap_with:
            names.append(self.gap_with)
        return tuple(names)


class Grade(Record):
    """One grade of the rulebook's scale: its id (what rules and expected files write), the report's
    wording, and optionally its HTML badge colours and a description for the glossary."""

    id: str
    label: str
    colour: str | None = None  # "#rrggbb"
    background: str | None = None
    describe: str = ""


class Plausibility(Record):
    """When valid evidence is probably mistyped (warnings, never errors): grading.yaml `plausibility`."""

    fraction_below: float  # a survey figure below this ...
    percent_above: float  # ... beside a figure of the same indicator above this was probably typed as a fraction
    largest_change: float  # points a survey figure may move from the previous one before it looks mistyped
    headcount_ratio: float  # headcounts of the same people may differ by this share of the larger


class Rulebook(Record):
    """A rulebook's rules, loaded and checked: grades, surveys, indicators and frameworks."""

    directory: str
    grades: tuple  # of Grade, best first
    confidence: float
    designs: dict
    indicators: dict
    outcome: Decision
    frameworks: tuple
    revision: str  # sha256 over the rule files used
    # path -> Document, for the tools that point into the rule files (read on demand when the
    # model came from the cache: rulebook/model_cache.py)
    docs: Mapping = field(default_factory=dict, compare=False)
    verdicts: dict = field(default_factory=lambda: {r: r for r in VERDICT_ROLES})  # role -> the rulebook's word
    plausibility: Plausibility | None = None  # when evidence looks mistyped; None: no such warnings

    @property
    def grade_ids(self) -> tuple:
        return tuple(g.id for g in self.grades)

    def grade_label(self, grade: str | None) -> str | None:
        """The scale's label for a grade; None when not assessed (templates word that)."""
        return next((g.label for g in self.grades if g.id == grade), None)

    @property
    def verdict_type(self) -> ex.Type:
        return verdict_type(self.verdicts)

    def scale(self) -> dict:
        """The grade scale and verdict words as the result document carries them, for layouts and tools."""
        return {
            "grades": [
                {"id": g.id, "label": g.label, "colour": g.colour, "background": g.background, "describe": g.describe}
                for g in self.grades
            ],
            "verdicts": dict(self.verdicts),
        }


def verdict_type(verdicts: dict) -> ex.Type:
    """What conditions may compare an indicator's `msf`, `trend` or `gap` with: the rulebook's four words."""
    return ex.Type("choice", tuple(verdicts[r] for r in VERDICT_ROLES))


# ---------------------------------------------------------------- loading
