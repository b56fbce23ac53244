"""The fictional cases: each one's expected grades, judgements, choices and survey verdicts,
checked on both engines; and rung coverage: together the bundled cases reach every rung of
every decision in the rules.

The expectations are written out by hand below, from the evidence in each case file, so a
rule change that moves any of them is seen here and must be approved on purpose.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assessor.files import case_files
from assessor.session import Session

CASES_DIR = Path(__file__).resolve().parent.parent / "cases"

# Per case and framework:
#   grade:      (rule_grade, grade); they differ only where the case records a moderation
#   indicators: indicator -> (msf verdict, trend verdict, outcome)
#   criteria:   criterion -> (judgement, {slot: choice})
EXPECTED = {
    # Strong everywhere; BCS and user satisfaction better than the MSF and improving.
    "avonvale-2008": {
        "neighbourhood_policing": {
            "grade": ("exceeding", "exceeding"),
            "indicators": {
                "spi_2a": ("better", "better", "exceeding"),
                "kdi": ("same", "better", "meeting"),
                "spi_10b": ("same", "same", "meeting"),
            },
            "criteria": {
                "coverage": ("exceeding", {"extent": "all"}),
                "community_engagement": ("exceeding", {"engaging": "all"}),
                "problem_solving": ("exceeding", {"reach": "all", "evaluation": "fully", "resolution": "high"}),
                "outcomes": ("exceeding", {"against_msf": "better", "over_time": "improved"}),
                "satisfaction_informs_delivery": (
                    "exceeding",
                    {"understanding": "fully", "improvements": "frequently"},
                ),
                "sustainability": ("meeting", {"demonstrated": "convincingly"}),
            },
        },
        "citizen_focus": {
            "grade": ("exceeding", "exceeding"),
            "indicators": {
                "spi_1e": ("better", "same", "exceeding"),
                "spi_3b": ("none", "better", "meeting"),
            },
            "criteria": {
                "ethos": (
                    "exceeding",
                    {"understanding": "fully", "improvements": "frequently", "communication": "fully"},
                ),
                "integration": ("meeting", {"standards": "implemented", "integration": "partially"}),
                "spi_stability": (
                    "exceeding",
                    {
                        "against_msf": "better",
                        "over_time": "unchanged",
                        "minority_trend": "improved",
                        "gap": "narrower",
                        "gap_response": "evidenced",
                    },
                ),
            },
        },
    },
    # Sound processes; fails Neighbourhood Policing on SPI 2a, significantly worse than the MSF.
    "fenmarsh-2008": {
        "neighbourhood_policing": {
            "grade": ("failing", "failing"),
            "indicators": {
                "spi_2a": ("worse", "same", "failing"),
                "kdi": ("same", "same", "meeting"),
                "spi_10b": ("same", "same", "meeting"),
            },
            "criteria": {
                "coverage": ("meeting", {"extent": "most"}),
                "community_engagement": ("meeting", {"engaging": "all"}),
                "problem_solving": ("meeting", {"reach": "most", "evaluation": "partly", "resolution": "moderate"}),
                "outcomes": ("failing", {"against_msf": "worse", "over_time": "unchanged"}),
                "satisfaction_informs_delivery": (
                    "meeting",
                    {"understanding": "partially", "improvements": "occasionally"},
                ),
                "sustainability": ("meeting", {"demonstrated": "partially"}),
            },
        },
        "citizen_focus": {
            "grade": ("meeting", "meeting"),
            "indicators": {
                # below the MSF but significantly improved: credit for the upward direction
                "spi_1e": ("worse", "better", "meeting"),
                "spi_3b": ("none", "same", "meeting"),
            },
            "criteria": {
                "ethos": (
                    "meeting",
                    {"understanding": "partially", "improvements": "occasionally", "communication": "partially"},
                ),
                "integration": ("meeting", {"standards": "partially", "integration": "partially"}),
                "spi_stability": (
                    "meeting",
                    {
                        "against_msf": "worse",
                        "over_time": "improved",
                        "minority_trend": "unchanged",
                        "gap": "wider",
                        "gap_response": "evidenced",
                    },
                ),
            },
        },
    },
    # Struggling: weak processes and survey figures that have deteriorated.
    "harrowdale-2008": {
        "neighbourhood_policing": {
            "grade": ("failing", "failing"),
            "indicators": {
                "spi_2a": ("same", "same", "meeting"),
                "kdi": ("same", "same", "meeting"),
                "spi_10b": ("same", "worse", "failing"),
            },
            "criteria": {
                "coverage": ("failing", {"extent": "some"}),
                "community_engagement": ("failing", {"engaging": "some"}),
                "problem_solving": ("failing", {"reach": "some", "evaluation": "not", "resolution": "low"}),
                "outcomes": ("failing", {"against_msf": "same", "over_time": "deteriorated"}),
                "satisfaction_informs_delivery": ("failing", {"understanding": "not", "improvements": "rarely"}),
                "sustainability": ("meeting", {"demonstrated": "partially"}),
            },
        },
        "citizen_focus": {
            "grade": ("failing", "failing"),
            "indicators": {
                "spi_1e": ("same", "worse", "failing"),
                "spi_3b": ("none", "worse", "failing"),
            },
            "criteria": {
                "ethos": ("failing", {"understanding": "not", "improvements": "rarely", "communication": "not"}),
                "integration": ("failing", {"standards": "not", "integration": "not"}),
                "spi_stability": (
                    "failing",
                    {
                        "against_msf": "same",
                        "over_time": "deteriorated",
                        "minority_trend": "deteriorated",
                        "gap": "wider",
                        "gap_response": "not",
                    },
                ),
            },
        },
    },
    # Mixed survey picture: better than the MSF but falling, worse than the MSF but rising.
    "marchbrook-2008": {
        "neighbourhood_policing": {
            "grade": ("meeting", "meeting"),
            "indicators": {
                "spi_2a": ("better", "worse", "meeting"),
                "kdi": ("worse", "better", "meeting"),
                "spi_10b": ("same", "same", "meeting"),
            },
            "criteria": {
                "coverage": ("meeting", {"extent": "all"}),
                "community_engagement": ("meeting", {"engaging": "most"}),
                "problem_solving": ("meeting", {"reach": "all", "evaluation": "fully", "resolution": "moderate"}),
                "outcomes": ("meeting", {"against_msf": "mixed", "over_time": "mixed"}),
                "satisfaction_informs_delivery": (
                    "meeting",
                    {"understanding": "fully", "improvements": "occasionally"},
                ),
                "sustainability": ("exceeding", {"demonstrated": "convincingly"}),
            },
        },
        "citizen_focus": {
            "grade": ("meeting", "meeting"),
            "indicators": {
                # better than the MSF but deteriorating: never exceeding in the wrong direction
                "spi_1e": ("better", "worse", "meeting"),
                "spi_3b": ("none", "same", "meeting"),
            },
            "criteria": {
                "ethos": (
                    "meeting",
                    {"understanding": "fully", "improvements": "occasionally", "communication": "partially"},
                ),
                "integration": ("exceeding", {"standards": "implemented", "integration": "fully"}),
                "spi_stability": (
                    "meeting",
                    {
                        "against_msf": "better",
                        "over_time": "deteriorated",
                        "minority_trend": "unchanged",
                        "gap": "none",
                        "gap_response": "evidenced",
                    },
                ),
            },
        },
    },
    # Exemplary processes, flat BCS figures: the rules give exceeding, moderation meeting.
    # Fails citizen focus on SPI 1e, significantly worse than the MSF.
    "saltmere-2008": {
        "neighbourhood_policing": {
            "grade": ("exceeding", "meeting"),
            "indicators": {
                "spi_2a": ("same", "same", "meeting"),
                "kdi": ("same", "same", "meeting"),
                "spi_10b": ("same", "same", "meeting"),
            },
            "criteria": {
                "coverage": ("exceeding", {"extent": "all"}),
                "community_engagement": ("exceeding", {"engaging": "all"}),
                "problem_solving": ("exceeding", {"reach": "all", "evaluation": "fully", "resolution": "high"}),
                "outcomes": ("meeting", {"against_msf": "same", "over_time": "unchanged"}),
                "satisfaction_informs_delivery": (
                    "exceeding",
                    {"understanding": "fully", "improvements": "frequently"},
                ),
                "sustainability": ("meeting", {"demonstrated": "partially"}),
            },
        },
        "citizen_focus": {
            "grade": ("failing", "failing"),
            "indicators": {
                "spi_1e": ("worse", "same", "failing"),
                "spi_3b": ("none", "better", "meeting"),
            },
            "criteria": {
                "ethos": (
                    "meeting",
                    {"understanding": "partially", "improvements": "frequently", "communication": "fully"},
                ),
                "integration": ("meeting", {"standards": "partially", "integration": "fully"}),
                "spi_stability": (
                    "failing",
                    {
                        "against_msf": "worse",
                        "over_time": "unchanged",
                        "minority_trend": "improved",
                        "gap": "narrower",
                        "gap_response": "evidenced",
                    },
                ),
            },
        },
    },
    # Good survey results, but no abstraction policy and PCSO funding not secured.
    "thornleigh-2008": {
        "neighbourhood_policing": {
            "grade": ("failing", "failing"),
            "indicators": {
                "spi_2a": ("same", "better", "meeting"),
                "kdi": ("better", "same", "exceeding"),
                "spi_10b": ("same", "same", "meeting"),
            },
            "criteria": {
                "coverage": ("failing", {"extent": "all"}),
                "community_engagement": ("meeting", {"engaging": "most"}),
                "problem_solving": ("meeting", {"reach": "most", "evaluation": "partly", "resolution": "low"}),
                "outcomes": ("exceeding", {"against_msf": "better", "over_time": "improved"}),
                "satisfaction_informs_delivery": (
                    "meeting",
                    {"understanding": "partially", "improvements": "occasionally"},
                ),
                "sustainability": ("failing", {"demonstrated": "not"}),
            },
        },
        "citizen_focus": {
            "grade": ("exceeding", "exceeding"),
            "indicators": {
                "spi_1e": ("better", "same", "exceeding"),
                "spi_3b": ("none", "same", "meeting"),
            },
            "criteria": {
                "ethos": (
                    "meeting",
                    {"understanding": "fully", "improvements": "frequently", "communication": "partially"},
                ),
                "integration": ("exceeding", {"standards": "implemented", "integration": "fully"}),
                "spi_stability": (
                    "exceeding",
                    {
                        "against_msf": "better",
                        "over_time": "unchanged",
                        "minority_trend": "unchanged",
                        "gap": "wider",
                        "gap_response": "not",
                    },
                ),
            },
        },
    },
}

ENGINES = ("python", "durable")


@pytest.fixture(scope="module", params=ENGINES)
def session(request):
    with Session(engine=request.param) as s:
        yield s


def summary(result: dict) -> dict:
    """A result document cut down to the shape of EXPECTED."""
    out = {}
    for fw in result["frameworks"]:
        out[fw["id"]] = {
            "grade": (fw["rule_grade"], fw["grade"]),
            "indicators": {
                i["id"]: (i["msf"]["verdict"], i["trend"]["verdict"], i["outcome"]) for i in fw["indicators"]
            },
            "criteria": {c["id"]: (c["judgement"], c["choices"]) for c in fw["criteria"]},
        }
    return out


def test_every_fictional_case_has_expectations():
    """A case marked fictional is a test fixture: its expectations belong in EXPECTED."""
    with Session(engine="python") as s:
        cases = {p.name.removesuffix(".yaml"): s.load(p) for p in case_files(CASES_DIR)}
    assert {name for name, case in cases.items() if case.fictional} == set(EXPECTED)
    assert len(EXPECTED) >= 6


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fictional_case(session, name):
    result = session.assess(CASES_DIR / f"{name}.yaml")
    assert result["fictional"] is True
    assert result["engine"] == session.engine
    for fw in result["frameworks"]:
        assert fw["assessed"], f"{name}: {fw['id']} not assessed, missing {fw['missing']}"
        for c in fw["criteria"]:
            assert c["assessed"] and c["statement"], f"{name}: {fw['id']}.{c['id']} has no statement"
    assert summary(result) == EXPECTED[name]


def test_the_brief_is_met():
    """All three grades of both frameworks; a failure on a significantly worse survey
    indicator; an exceeding grade with an improving trend."""
    for fw in ("neighbourhood_policing", "citizen_focus"):
        assert {e[fw]["grade"][0] for e in EXPECTED.values()} == {"exceeding", "meeting", "failing"}
        assert {e[fw]["grade"][1] for e in EXPECTED.values()} == {"exceeding", "meeting", "failing"}
    fenmarsh = EXPECTED["fenmarsh-2008"]["neighbourhood_policing"]
    assert fenmarsh["grade"][1] == "failing"
    assert fenmarsh["indicators"]["spi_2a"][0] == "worse"
    assert [c for c, (j, _) in fenmarsh["criteria"].items() if j == "failing"] == ["outcomes"]
    avonvale = EXPECTED["avonvale-2008"]["neighbourhood_policing"]
    assert avonvale["grade"][1] == "exceeding"
    assert avonvale["criteria"]["outcomes"][1]["over_time"] == "improved"


# ------------------------------------------------------------------ rung coverage


def all_rungs(session) -> set:
    """(framework, scope, decision, rung number, outcome) for every rung in the rules."""
    out = set()
    for program in session.programs:
        for scope in program.scopes:
            for d in scope.decisions:
                for number, rung in enumerate(d.rungs, 1):
                    out.add((program.framework.id, scope.id, d.name, number, rung.outcome))
    return out


def _first_held(trace: dict, key: tuple) -> tuple:
    held = [n for n, rung in enumerate(trace["rungs"], 1) if rung["held"]]
    assert held, f"{key}: no rung held"
    number = held[0]
    assert trace["rungs"][number - 1]["outcome"] == trace["chosen"], key
    return (*key, number, trace["chosen"])


def reached_rungs(session, result: dict) -> set:
    """The rung that decided each decision of one result, read from its traces."""
    out = set()
    for program, fw in zip(session.programs, result["frameworks"]):
        fid = program.framework.id
        assert fw["id"] == fid
        criteria = {c["id"]: c for c in fw["criteria"]}
        for scope in program.scopes:
            for d in scope.decisions:
                key = (fid, scope.id, d.name)
                if scope.kind == "indicator":
                    traces = [ind["trace"] for ind in fw["indicators"]]
                elif scope.kind == "grade":
                    traces = [fw["grade_trace"]]
                else:
                    traces = [criteria[scope.id]["trace"][d.name]]
                for trace in traces:
                    assert [r["outcome"] for r in trace["rungs"]] == [r.outcome for r in d.rungs], key
                    out.add(_first_held(trace, key))
    return out


def test_every_rung_is_reached(session):
    rules = all_rungs(session)
    reached = set()
    for path in case_files(CASES_DIR):
        reached |= reached_rungs(session, session.assess(path))
    missing = sorted(rules - reached)
    assert not missing, "rungs no bundled case reaches: " + ", ".join(map(str, missing))
    assert reached == rules
