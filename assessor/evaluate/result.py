"""The result document: the one definition of what `assess -f json` writes and every report reads.

Each TypedDict below is one object of the JSON output, its keys in the order the output
gives them; `assessor/schemas/result.schema.json` describes the same objects for other
programs, and tests/test_schemas.py checks the two agree key for key. The document is
plain data (dicts, lists, strings, numbers), so `json.dumps` writes it and Jinja reads it.

Who fills what: evaluate/indicators.py an indicator's figures and tests, evaluate/staged.py
the outcomes, traces and the framework and criterion objects (with the statement and
margins the session hands it a way to make), session.py the document around them.
"""

# No `from __future__ import annotations`: TypedDict reads NotRequired from real annotations only.
from typing import Literal, NotRequired, TypedDict

JsonScalar = bool | int | float | str  # a value as the result carries it (dates as YYYY-MM-DD)
Grade = str | None  # a grade id of the rulebook's scale; None when not assessed
Verdict = str | None  # "better", "same" or "worse"; "none" when not compared; None when not assessed


class FailedComparison(TypedDict):
    """Why a rung did not hold: one comparison that failed (evaluate/why_not.py)."""

    name: str
    kind: Literal["number", "yes/no", "word", "date"]
    value: JsonScalar
    relation: str
    limit: JsonScalar
    limit_name: str | None
    short_by: float | int | None
    strict: bool


class RungTrace(TypedDict):
    outcome: str
    condition: str
    rule: str | None
    held: bool
    why: list[FailedComparison] | None
    line: int | None


class Trace(TypedDict):
    """How one decision was made."""

    chosen: str | None
    fact: str
    rungs: list[RungTrace]
    read: dict[str, JsonScalar]


# `from` is a Python keyword, hence the functional form
Margin = TypedDict(
    "Margin",
    {
        "decision": str,
        "from": str,
        "to": str,
        "fact": str,
        "before": JsonScalar,
        "after": JsonScalar,
        "steps": int,
        "limit": NotRequired[str],  # dates compared with a fixed date: that date, and the side of it
        "relation": NotRequired[str],
    },
)


class MsfComparison(TypedDict):
    """An indicator against the most similar forces' average. Not compared: average None and
    verdict "none"; not assessed: verdict None; tested: every key."""

    average: float | None
    n: NotRequired[float]
    interval: NotRequired[list[float]]
    difference_pp: NotRequired[float]
    z: NotRequired[float]
    critical: NotRequired[float]
    margin_pp: NotRequired[float]
    verdict: Verdict


class TrendComparison(TypedDict):
    """An indicator against its figure two years earlier, as MsfComparison."""

    previous: float | None
    n: NotRequired[float]
    interval: NotRequired[list[float]]
    z: NotRequired[float]
    critical: NotRequired[float]
    margin_pp: NotRequired[float]
    verdict: Verdict
    change_pp: NotRequired[float]


Gap = TypedDict(
    "Gap",
    {
        "with": str,
        "other": float,
        "other_n": float,
        "gap_pp": float,
        "z": float,
        "critical": float,
        "significant": bool,
        "verdict": str,  # what conditions read as `gap`, in the rulebook's words
    },
)


class IndicatorTests(TypedDict):
    """An indicator's figures and their tests (evaluate/indicators.py): an Indicator's first keys."""

    id: str
    label: str
    survey: str
    better: Literal["higher", "lower"]
    value: float | None
    assessed: bool
    missing: list[str]
    n: float | None
    interval: list[float] | None
    msf: MsfComparison
    trend: TrendComparison
    gap: NotRequired[Gap]


class Indicator(IndicatorTests):
    """An indicator of a framework, with the outcome the rules chose for its tests."""

    outcome: Grade
    trace: NotRequired[Trace]  # when assessed
    outcome_text: str | None
    sentences: NotRequired[str | None]  # when a criterion of the framework reads the indicators


class Narrative(TypedDict):
    strengths: list
    work_in_progress: list
    areas_for_improvement: list


class Criterion(TypedDict):
    id: str
    heading: str
    subheading: str
    judgement: Grade
    judgement_text: str | None
    choices: dict[str, str | None]
    assessed: bool
    missing: list[str]
    values: dict[str, JsonScalar | None]
    narrative: Narrative
    trace: dict[str, Trace]
    margins: list[Margin] | None
    reads_indicators: bool
    statement: str | None


class Moderation(TypedDict):
    grade: str
    grade_text: str | None
    reason: str
    changed: bool


class Framework(TypedDict):
    id: str
    title: str
    grade: Grade
    grade_text: str | None
    rule_grade: Grade
    rule_grade_text: str | None
    assessed: bool
    missing: list[str]
    moderation: Moderation | None
    grade_trace: Trace | dict[str, object]  # {} when the grade was not assessed
    indicators: list[Indicator]
    criteria: list[Criterion]
    grade_explanation: NotRequired[dict | None]  # with --explain (evaluate.what_if.grade_explanation)


class RulebookInfo(TypedDict):
    name: str | None
    edition: str | None
    path: str
    revision: str


class SurveyDesign(TypedDict):
    id: str
    title: str
    design_factor: float
    sample_size: int
    per: Literal["force", "bcu"]
    msf_multiplier: float
    force_sample: float
    margin_pp: float


class SurveyExample(TypedDict):
    value: float
    n: float
    low: float
    high: float
    half_width: float


class SurveyMethod(TypedDict):
    confidence: float
    critical: float
    designs: list[SurveyDesign]
    example: SurveyExample | None


class ScaleGrade(TypedDict):
    id: str
    label: str
    colour: str | None
    background: str | None
    describe: str


class Scale(TypedDict):
    """The rulebook's grade scale, best first, and its verdict words (Rulebook.scale)."""

    grades: list[ScaleGrade]
    verdicts: dict[str, str]


class Result(TypedDict):
    force: str
    short_name: str
    fictional: bool
    period: str
    year: int
    previous_year: int
    published: str
    assessor_version: str
    rules_revision: str
    rulebook: RulebookInfo
    case_digest: str
    engine: str
    overview: dict[str, int | None]
    context: dict[str, list]
    recommendations: list
    developing_practice: list[dict[str, str | None]]
    survey_method: SurveyMethod
    scale: Scale
    frameworks: list[Framework]
