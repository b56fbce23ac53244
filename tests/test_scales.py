"""Every scale in the rules, crossed by one evidence fact.

Each move starts from a bundled case, changes ONE evidence fact (or one survey figure)
across a rung's threshold, and checks that the decision moves to the next rung and that the
report's wording moves with it: the rendered summary statement for a `choose` slot, the
judgement's label for a criterion judgement, and the "Summary of judgement" line of the
report for a framework grade. Nothing outside the criterion the fact belongs to may change,
bar the framework grade.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import read_yaml, write_yaml

from assessor.report.render import render_report

CASES_DIR = Path(__file__).resolve().parent.parent / "cases"

NP, CF = "neighbourhood_policing", "citizen_focus"
LABEL = {
    "exceeding": "Exceeding the standard",
    "meeting": "Meeting the standard",
    "failing": "Failing to meet the standard",
}


@dataclass(frozen=True)
class Move:
    case: str  # a case file in cases/, without .yaml
    fact: str  # framework/criterion/fact, framework/surveys/indicator/figure, or a table cell .../row/column
    old: object  # the value in the case, checked before it is changed
    new: object
    decision: str  # framework/criterion/slot, framework/criterion/judgement, or framework/grade
    before: str  # the decision's outcome on the case as it is
    after: str  # ... and once the fact has moved
    said_before: str | None  # wording only the first report has (None: a sentence that is absent)
    said_after: str | None  # wording only the second report has

    @property
    def id(self) -> str:
        """e.g. 'coverage.extent all->most: avonvale pc_vacancies 7->38'."""
        fw, rest = self.decision.split("/", 1)
        scope = f"{fw}.grade" if rest == "grade" else rest.replace("/", ".")
        fact = ".".join(self.fact.split("/")[2:])
        return (
            f"{scope} {self.before}->{self.after}: {self.case.removesuffix('-2008')} {fact} "
            f"{_shown(self.old)}->{_shown(self.new)}"
        )


def _shown(value) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


def m(*args) -> pytest.param:
    move = Move(*args)
    return pytest.param(move, id=move.id)


def j(case, fact, old, new, criterion, before, after) -> pytest.param:
    """A move that changes a criterion's judgement: its wording is the judgement's label."""
    fw = fact.split("/", 1)[0]
    return m(case, fact, old, new, f"{fw}/{criterion}/judgement", before, after, LABEL[before], LABEL[after])


def g(case, fact, old, new, before, after) -> pytest.param:
    """A move that changes a framework's grade, as the report's summary of judgement says it."""
    fw = fact.split("/", 1)[0]
    return m(
        case,
        fact,
        old,
        new,
        f"{fw}/grade",
        before,
        after,
        f"Summary of judgement: {LABEL[before]}",
        f"Summary of judgement: {LABEL[after]}",
    )


MOVES = [
    # ---------------------------------------------------------------- Neighbourhood Policing
    # coverage: all / most / some
    m(
        "avonvale-2008",
        f"{NP}/coverage/pc_vacancies",
        7,
        38,
        f"{NP}/coverage/extent",
        "all",
        "most",
        "deploying, across all its",
        "deploying, across most",
    ),
    m(
        "fenmarsh-2008",
        f"{NP}/coverage/named_contacts",
        25,
        24,
        f"{NP}/coverage/extent",
        "most",
        "some",
        "deploying, across most",
        "deploying, across some",
    ),
    j("avonvale-2008", f"{NP}/coverage/largest_span", 12, 13, "coverage", "exceeding", "meeting"),
    j("avonvale-2008", f"{NP}/coverage/abstraction_target", True, False, "coverage", "exceeding", "meeting"),
    j("fenmarsh-2008", f"{NP}/coverage/abstraction_policy", True, False, "coverage", "meeting", "failing"),
    # community engagement: All / Most / Some
    m(
        "fenmarsh-2008",
        f"{NP}/community_engagement/regular_panel_meetings",
        26,
        25,
        f"{NP}/community_engagement/engaging",
        "all",
        "most",
        "All neighbourhoods",
        "Most neighbourhoods",
    ),
    m(
        "thornleigh-2008",
        f"{NP}/community_engagement/regular_panel_meetings",
        24,
        20,
        f"{NP}/community_engagement/engaging",
        "most",
        "some",
        "Most neighbourhoods",
        "Some neighbourhoods",
    ),
    j(
        "avonvale-2008",
        f"{NP}/community_engagement/key_individual_networks",
        38,
        37,
        "community_engagement",
        "exceeding",
        "meeting",
    ),
    j(
        "marchbrook-2008",
        f"{NP}/community_engagement/priorities_set_by_community",
        True,
        False,
        "community_engagement",
        "meeting",
        "failing",
    ),
    # problem solving: reach all / most / some; evaluation fully / partly / not; resolution high / moderate / low
    m(
        "marchbrook-2008",
        f"{NP}/problem_solving/problem_solving_model",
        True,
        False,
        f"{NP}/problem_solving/reach",
        "all",
        "most",
        "communities across all neighbourhoods",
        "communities across most neighbourhoods",
    ),
    m(
        "fenmarsh-2008",
        f"{NP}/problem_solving/joint_problem_solving",
        21,
        16,
        f"{NP}/problem_solving/reach",
        "most",
        "some",
        "communities across most neighbourhoods",
        "communities across some neighbourhoods",
    ),
    m(
        "marchbrook-2008",
        f"{NP}/problem_solving/formal_impact_assessment",
        True,
        False,
        f"{NP}/problem_solving/evaluation",
        "fully",
        "partly",
        "activity is fully evaluated",
        "activity is partly evaluated",
    ),
    m(
        "fenmarsh-2008",
        f"{NP}/problem_solving/closure_reviewed_with_community",
        True,
        False,
        f"{NP}/problem_solving/evaluation",
        "partly",
        "not",
        "activity is partly evaluated",
        "activity is not evaluated",
    ),
    m(
        "saltmere-2008",
        f"{NP}/problem_solving/workbook_completion/1/problem_solving",
        77,
        53,
        f"{NP}/problem_solving/resolution",
        "high",
        "moderate",
        "indicates high problem resolution",
        "indicates moderate problem resolution",
    ),
    m(
        "fenmarsh-2008",
        f"{NP}/problem_solving/community_reports_improvement",
        True,
        False,
        f"{NP}/problem_solving/resolution",
        "moderate",
        "low",
        "indicates moderate problem resolution",
        "indicates low problem resolution",
    ),
    j(
        "avonvale-2008",
        f"{NP}/problem_solving/community_reports_improvement",
        True,
        False,
        "problem_solving",
        "exceeding",
        "meeting",
    ),
    j(
        "thornleigh-2008",
        f"{NP}/problem_solving/formal_impact_assessment",
        True,
        False,
        "problem_solving",
        "meeting",
        "failing",
    ),
    # outcomes: against the MSF better / worse / mixed / same; over time improved / deteriorated / mixed / unchanged
    m(
        "saltmere-2008",
        f"{NP}/surveys/kdi/msf_average",
        49.8,
        45.0,
        f"{NP}/outcomes/against_msf",
        "same",
        "better",
        "not significantly different to the average for the MSF",
        "significantly better than the average for the MSF.",
    ),
    m(
        "saltmere-2008",
        f"{NP}/surveys/spi_2a/msf_average",
        53.5,
        58.0,
        f"{NP}/outcomes/against_msf",
        "same",
        "worse",
        "not significantly different to the average for the MSF",
        "significantly worse than the average for the MSF.",
    ),
    m(
        "avonvale-2008",
        f"{NP}/surveys/spi_10b/msf_average",
        13.0,
        9.0,
        f"{NP}/outcomes/against_msf",
        "better",
        "mixed",
        "significantly better than the average for the MSF.",
        "significantly better than the average for the MSF on some indicators and significantly worse on others.",
    ),
    m(
        "saltmere-2008",
        f"{NP}/surveys/spi_2a/previous",
        51.0,
        45.0,
        f"{NP}/outcomes/over_time",
        "unchanged",
        "improved",
        "is unchanged compared with two years ago",
        "has significantly improved compared with two years ago",
    ),
    m(
        "saltmere-2008",
        f"{NP}/surveys/kdi/previous",
        49.0,
        57.0,
        f"{NP}/outcomes/over_time",
        "unchanged",
        "deteriorated",
        "is unchanged compared with two years ago",
        "has significantly deteriorated compared with two years ago",
    ),
    m(
        "avonvale-2008",
        f"{NP}/surveys/spi_10b/previous",
        13.4,
        8.0,
        f"{NP}/outcomes/over_time",
        "improved",
        "mixed",
        "has significantly improved compared with two years ago",
        "has significantly improved on some indicators and significantly deteriorated on others",
    ),
    j("avonvale-2008", f"{NP}/surveys/spi_2a/msf_average", 54.8, 58.0, "outcomes", "exceeding", "meeting"),
    j("marchbrook-2008", f"{NP}/surveys/kdi/previous", 40.1, 46.0, "outcomes", "meeting", "failing"),
    j("fenmarsh-2008", f"{NP}/surveys/spi_2a/msf_average", 50.2, 46.0, "outcomes", "failing", "meeting"),
    # satisfaction informs delivery: understanding fully / partially / not;
    # improvements frequently / occasionally / rarely
    m(
        "avonvale-2008",
        f"{NP}/satisfaction_informs_delivery/formal_local_measurement",
        True,
        False,
        f"{NP}/satisfaction_informs_delivery/understanding",
        "fully",
        "partially",
        "The force fully understands",
        "The force partially understands",
    ),
    m(
        "thornleigh-2008",
        f"{NP}/satisfaction_informs_delivery/informal_local_surveys",
        True,
        False,
        f"{NP}/satisfaction_informs_delivery/understanding",
        "partially",
        "not",
        "The force partially understands",
        "The force does not understand",
    ),
    m(
        "avonvale-2008",
        f"{NP}/satisfaction_informs_delivery/improvement_reviews_per_year",
        12,
        11,
        f"{NP}/satisfaction_informs_delivery/improvements",
        "frequently",
        "occasionally",
        "improvements are frequently made",
        "improvements are occasionally made",
    ),
    m(
        "thornleigh-2008",
        f"{NP}/satisfaction_informs_delivery/improvement_reviews_per_year",
        4,
        3,
        f"{NP}/satisfaction_informs_delivery/improvements",
        "occasionally",
        "rarely",
        "improvements are occasionally made",
        "improvements are rarely made",
    ),
    j(
        "saltmere-2008",
        f"{NP}/satisfaction_informs_delivery/formal_local_measurement",
        True,
        False,
        "satisfaction_informs_delivery",
        "exceeding",
        "meeting",
    ),
    j(
        "fenmarsh-2008",
        f"{NP}/satisfaction_informs_delivery/improvement_reviews_per_year",
        6,
        3,
        "satisfaction_informs_delivery",
        "meeting",
        "failing",
    ),
    # sustainability: convincingly / partially / not
    m(
        "avonvale-2008",
        f"{NP}/sustainability/workstreams_continuing",
        8,
        7,
        f"{NP}/sustainability/demonstrated",
        "convincingly",
        "partially",
        "have convincingly demonstrated",
        "have partially demonstrated",
    ),
    m(
        "fenmarsh-2008",
        f"{NP}/sustainability/pcsos_funded",
        120,
        111,
        f"{NP}/sustainability/demonstrated",
        "partially",
        "not",
        "have partially demonstrated",
        "have not demonstrated",
    ),
    j(
        "marchbrook-2008",
        f"{NP}/sustainability/pcso_funding_until",
        dt.date(2012, 3, 31),
        dt.date(2011, 3, 31),
        "sustainability",
        "exceeding",
        "meeting",
    ),
    j(
        "fenmarsh-2008",
        f"{NP}/sustainability/pcso_funding_until",
        dt.date(2009, 3, 31),
        dt.date(2008, 3, 31),
        "sustainability",
        "meeting",
        "failing",
    ),
    # the framework grade
    g("fenmarsh-2008", f"{NP}/surveys/spi_2a/msf_average", 50.2, 46.0, "failing", "meeting"),
    g("avonvale-2008", f"{NP}/surveys/spi_2a/previous", 54.1, 67.0, "exceeding", "meeting"),
    g("avonvale-2008", f"{NP}/sustainability/pcsos_funded", 195, 155, "exceeding", "failing"),
    # ---------------------------------------------------------------- Developing Citizen Focus Policing
    # ethos: understanding, improvements, communication
    m(
        "avonvale-2008",
        f"{CF}/ethos/feedback_to_individual_officers",
        True,
        False,
        f"{CF}/ethos/understanding",
        "fully",
        "partially",
        "The force fully understands",
        "The force partially understands",
    ),
    m(
        "fenmarsh-2008",
        f"{CF}/ethos/dissatisfied_called_back",
        True,
        False,
        f"{CF}/ethos/understanding",
        "partially",
        "not",
        "The force partially understands",
        "The force does not understand",
    ),
    m(
        "avonvale-2008",
        f"{CF}/ethos/improvement_reviews_per_year",
        12,
        11,
        f"{CF}/ethos/improvements",
        "frequently",
        "occasionally",
        "improvements are frequently made",
        "improvements are occasionally made",
    ),
    m(
        "fenmarsh-2008",
        f"{CF}/ethos/improvement_reviews_per_year",
        6,
        3,
        f"{CF}/ethos/improvements",
        "occasionally",
        "rarely",
        "improvements are occasionally made",
        "improvements are rarely made",
    ),
    m(
        "avonvale-2008",
        f"{CF}/ethos/staff_understand_victims_code",
        True,
        False,
        f"{CF}/ethos/communication",
        "fully",
        "partially",
        "The force fully communicates",
        "The force partially communicates",
    ),
    m(
        "fenmarsh-2008",
        f"{CF}/ethos/nqosc_promoted",
        True,
        False,
        f"{CF}/ethos/communication",
        "partially",
        "not",
        "The force partially communicates",
        "The force does not communicate",
    ),
    j("avonvale-2008", f"{CF}/ethos/accessibility_standards_corporate", True, False, "ethos", "exceeding", "meeting"),
    j("marchbrook-2008", f"{CF}/ethos/improvement_reviews_per_year", 6, 3, "ethos", "meeting", "failing"),
    # integration: standards implemented / partially / not; integration fully / partially / not
    m(
        "avonvale-2008",
        f"{CF}/integration/bcu_action_plans",
        4,
        3,
        f"{CF}/integration/standards",
        "implemented",
        "partially",
        "The force has implemented corporate",
        "The force has partially implemented",
    ),
    m(
        "harrowdale-2008",
        f"{CF}/integration/bcu_action_plans",
        0,
        1,
        f"{CF}/integration/standards",
        "not",
        "partially",
        "The force has not implemented",
        "The force has partially implemented",
    ),
    m(
        "marchbrook-2008",
        f"{CF}/integration/individual_performance_reviews",
        True,
        False,
        f"{CF}/integration/integration",
        "fully",
        "partially",
        "is fully integrated",
        "is partially integrated",
    ),
    m(
        "fenmarsh-2008",
        f"{CF}/integration/force_performance_meetings",
        True,
        False,
        f"{CF}/integration/integration",
        "partially",
        "not",
        "is partially integrated",
        "is not integrated",
    ),
    j(
        "thornleigh-2008",
        f"{CF}/integration/bcu_performance_meetings",
        True,
        False,
        "integration",
        "exceeding",
        "meeting",
    ),
    j("saltmere-2008", f"{CF}/integration/bcu_action_plans", 3, 1, "integration", "meeting", "failing"),
    # SPI stability: against the MSF, over time, minority-ethnic trend, gap and the response to it
    m(
        "avonvale-2008",
        f"{CF}/surveys/spi_1e/msf_average",
        82.3,
        84.0,
        f"{CF}/spi_stability/against_msf",
        "better",
        "same",
        "significantly better than the average for the MSF.",
        "not significantly different than the average for the MSF",
    ),
    m(
        "harrowdale-2008",
        f"{CF}/surveys/spi_1e/msf_average",
        76.1,
        79.0,
        f"{CF}/spi_stability/against_msf",
        "same",
        "worse",
        "not significantly different than the average for the MSF",
        "significantly worse than the average for the MSF.",
    ),
    m(
        "saltmere-2008",
        f"{CF}/surveys/spi_1e/previous",
        77.8,
        73.5,
        f"{CF}/spi_stability/over_time",
        "unchanged",
        "improved",
        "is unchanged compared with two years ago",
        "has significantly improved compared with two years ago",
    ),
    m(
        "avonvale-2008",
        f"{CF}/surveys/spi_1e/previous",
        83.8,
        87.5,
        f"{CF}/spi_stability/over_time",
        "unchanged",
        "deteriorated",
        "is unchanged compared with two years ago",
        "has significantly deteriorated compared with two years ago",
    ),
    m(
        "avonvale-2008",
        f"{CF}/surveys/spi_3b/previous",
        72.0,
        76.0,
        f"{CF}/spi_stability/minority_trend",
        "improved",
        "unchanged",
        "service provided has significantly improved.",
        "service provided is unchanged.",
    ),
    m(
        "thornleigh-2008",
        f"{CF}/surveys/spi_3b/previous",
        75.1,
        85.0,
        f"{CF}/spi_stability/minority_trend",
        "unchanged",
        "deteriorated",
        "service provided is unchanged.",
        "service provided has significantly deteriorated.",
    ),
    m(
        "avonvale-2008",
        f"{CF}/surveys/spi_3b/white",
        80.4,
        81.2,
        f"{CF}/spi_stability/gap",
        "narrower",
        "none",
        "0.8 percentage points more satisfied",
        None,
    ),
    m(
        "marchbrook-2008",
        f"{CF}/surveys/spi_3b/white",
        78.0,
        80.0,
        f"{CF}/spi_stability/gap",
        "none",
        "wider",
        None,
        "There is a satisfaction gap between white users and users from minority ethnic groups",
    ),
    m(
        "fenmarsh-2008",
        f"{CF}/surveys/spi_3b/white",
        76.6,
        72.0,
        f"{CF}/spi_stability/gap",
        "wider",
        "narrower",
        "2.6 percentage points less satisfied",
        "2.0 percentage points more satisfied",
    ),
    m(
        "fenmarsh-2008",
        f"{CF}/spi_stability/gap_action",
        True,
        False,
        f"{CF}/spi_stability/gap_response",
        "evidenced",
        "not",
        "the force has evidenced that",
        "the force has not evidenced that",
    ),
    j("thornleigh-2008", f"{CF}/surveys/spi_1e/msf_average", 81.6, 83.5, "spi_stability", "exceeding", "meeting"),
    j("thornleigh-2008", f"{CF}/surveys/spi_3b/white", 79.0, 86.0, "spi_stability", "exceeding", "failing"),
    j("fenmarsh-2008", f"{CF}/surveys/spi_1e/previous", 73.4, 76.5, "spi_stability", "meeting", "failing"),
    # the framework grade
    g("thornleigh-2008", f"{CF}/integration/individual_performance_reviews", True, False, "exceeding", "meeting"),
    g("fenmarsh-2008", f"{CF}/surveys/spi_1e/previous", 73.4, 76.5, "meeting", "failing"),
    g("saltmere-2008", f"{CF}/surveys/spi_1e/msf_average", 80.3, 78.0, "failing", "meeting"),
]


def fact_keys(fact: str) -> list:
    """The path to a fact inside a case document."""
    fw, where, *rest = fact.split("/")
    keys = ["frameworks", fw] + (["surveys"] if where == "surveys" else ["criteria", where, "evidence"])
    return keys + [int(k) if k.isdigit() else k for k in rest]


def moved_case(tmp_path: Path, move: Move) -> Path:
    doc = read_yaml(CASES_DIR / f"{move.case}.yaml")
    *parents, last = fact_keys(move.fact)
    holder = doc
    for k in parents:
        holder = holder[k]
    assert holder[last] == move.old, f"{move.case}: {move.fact} is {holder[last]!r}, the move expects {move.old!r}"
    holder[last] = move.new
    out = tmp_path / f"{move.case}.yaml"
    return write_yaml(out, doc)


def framework(result: dict, fw: str) -> dict:
    return next(f for f in result["frameworks"] if f["id"] == fw)


def criterion(result: dict, fw: str, cid: str) -> dict:
    return next(c for c in framework(result, fw)["criteria"] if c["id"] == cid)


def outcome(result: dict, decision: str):
    fw, *rest = decision.split("/")
    if rest == ["grade"]:
        return framework(result, fw)["grade"]
    cid, slot = rest
    c = criterion(result, fw, cid)
    return c["judgement"] if slot == "judgement" else c["choices"][slot]


def wording(session, result: dict, decision: str) -> str:
    fw, *rest = decision.split("/")
    if rest == ["grade"]:
        heading = f"{framework(result, fw)['title']} Summary of judgement:"
        report = render_report(session.renderer, result, "markdown")
        [line] = [line for line in report.splitlines() if heading in line]
        return line
    cid, slot = rest
    c = criterion(result, fw, cid)
    return c["judgement_text"] if slot == "judgement" else c["statement"]


def untouched(result: dict, move: Move) -> dict:
    """Everything the move must leave alone: the other framework whole, and in this framework every
    criterion but the one the fact belongs to (survey figures belong to the criteria that read them)."""
    fw, where = move.fact.split("/")[:2]
    out = {}
    for f in result["frameworks"]:
        for c in f["criteria"]:
            mine = f["id"] == fw and (c["reads_indicators"] if where == "surveys" else c["id"] == where)
            if not mine:
                out[(f["id"], c["id"])] = (c["judgement"], c["choices"], c["statement"])
        if f["id"] != fw:
            out[f["id"]] = (f["rule_grade"], f["grade"])
    return out


@pytest.mark.parametrize("move", MOVES)
def test_one_fact_moves_one_rung(session, tmp_path, move):
    before = session.assess(CASES_DIR / f"{move.case}.yaml")
    after = session.assess(moved_case(tmp_path, move))
    assert outcome(before, move.decision) == move.before
    assert outcome(after, move.decision) == move.after
    old, new = wording(session, before, move.decision), wording(session, after, move.decision)
    assert old != new
    if move.said_before is not None:
        assert move.said_before in old and move.said_before not in new
    if move.said_after is not None:
        assert move.said_after in new and move.said_after not in old
    assert untouched(after, move) == untouched(before, move)


def _decisions(session) -> set:
    out = set()
    for program in session.programs:
        fw = program.framework.id
        out.add(f"{fw}/grade")
        for scope in program.criteria:
            out |= {f"{fw}/{scope.id}/{d.name}" for d in scope.decisions}
    return out


def _rungs(session) -> dict:
    out = {}
    for program in session.programs:
        for scope in program.criteria:
            for d in scope.decisions:
                out[f"{program.framework.id}/{scope.id}/{d.name}"] = {r.outcome for r in d.rungs}
        out[f"{program.framework.id}/grade"] = {r.outcome for r in program.grade.decisions[0].rungs}
    return out


def test_every_scale_and_judgement_has_a_move(session):
    """Every choose slot, criterion judgement and framework grade in the rules is moved, and
    every rung of it is entered or left by some move."""
    moved = {p.values[0].decision for p in MOVES}
    assert moved == _decisions(session)
    for decision, outcomes in _rungs(session).items():
        touched = {
            x for p in MOVES if p.values[0].decision == decision for x in (p.values[0].before, p.values[0].after)
        }
        missing = outcomes - touched
        assert not missing, f"{decision}: no move enters or leaves {sorted(missing)}"
