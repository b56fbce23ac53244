"""The bundled cases: each one's judgements match its cases/<name>.expected.yaml on both
engines (`assess test` checks them on the default engine only); together the cases reach all
three grades of both frameworks and every rung of every decision in the rules.

The expected judgements are written once, in the expected files beside the cases, and read
here through the same code as `assess test`: a rule change that moves any of them is approved
by updating that file (`assess test --update`, then review its diff).
"""

from __future__ import annotations

import pytest
from helpers import CASES

from assessor.files import case_files
from assessor.tooling.expectations import compare, expected_path, flatten, judgements_of, read_expected

CASE_PATHS = case_files(CASES)
NP, CF = "neighbourhood_policing", "citizen_focus"
GRADES = {"exceeding", "meeting", "failing"}


def test_every_case_has_expected_judgements(python_session):
    assert all(expected_path(p).is_file() for p in CASE_PATHS), "a case without cases/<name>.expected.yaml"
    fictional = [p for p in CASE_PATHS if python_session.load(p).fictional]
    assert len(fictional) >= 6


@pytest.mark.parametrize("path", CASE_PATHS, ids=lambda p: p.stem)
def test_case_gives_its_expected_judgements(session, path):
    result = session.assess(path)
    assert result["engine"] == session.engine
    for fw in result["frameworks"]:
        assert fw["assessed"], f"{fw['id']} not assessed, missing {fw['missing']}"
        for c in fw["criteria"]:
            assert c["assessed"] and c["statement"], f"{fw['id']}.{c['id']} has no statement"
    expected_file = expected_path(path)
    mismatches = compare(read_expected(expected_file), flatten(judgements_of(result["frameworks"])), str(expected_file))
    assert not mismatches, "\n".join(f"{m.place}: {m.describe()}" for m in mismatches)


def _frameworks(results: list, fid: str) -> list:
    return [fw for r in results for fw in r["frameworks"] if fw["id"] == fid]


def test_the_cases_span_the_grades(python_session):
    """All three grades of both frameworks, as the rules give them and after moderation; a force
    failing Neighbourhood Policing on a survey indicator significantly worse than its MSF alone;
    an exceeding grade with an improving trend. Read from assessments, so a rule change that
    loses one of these fails here."""
    results = [python_session.assess(p) for p in CASE_PATHS]
    for fid in (NP, CF):
        assert {fw["rule_grade"] for fw in _frameworks(results, fid)} == GRADES, fid
        assert {fw["grade"] for fw in _frameworks(results, fid)} == GRADES, fid

    def fails_on_the_survey_alone(fw: dict) -> bool:
        failing = [c["id"] for c in fw["criteria"] if c["judgement"] == "failing"]
        worse = [i for i in fw["indicators"] if i["msf"]["verdict"] == "worse" and i["outcome"] == "failing"]
        return fw["grade"] == "failing" and failing == ["outcomes"] and bool(worse)

    def exceeds_while_improving(fw: dict) -> bool:
        outcomes = next(c for c in fw["criteria"] if c["id"] == "outcomes")
        return fw["grade"] == "exceeding" and outcomes["choices"].get("over_time") == "improved"

    assert any(map(fails_on_the_survey_alone, _frameworks(results, NP)))
    assert any(map(exceeds_while_improving, _frameworks(results, NP)))


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
    for path in CASE_PATHS:
        reached |= reached_rungs(session, session.assess(path))
    missing = sorted(rules - reached)
    assert not missing, "rungs no bundled case reaches: " + ", ".join(map(str, missing))
    assert reached == rules
