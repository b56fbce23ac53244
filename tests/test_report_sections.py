"""Report sections the 2008 series has and Cambridgeshire's lacks (issue 12 §7): an optional
Recommendations section and a Developing Practice appendix, both from the case file. Without
them the report is unchanged (tests/test_seed.py keeps the Cambridgeshire report word for word)."""

from __future__ import annotations

import json

import pytest
from helpers import CAMBRIDGESHIRE, assess

SECTIONS = """recommendations:
  - That the force develops a consistent approach to abstraction monitoring across all BCUs.
  - text: "That the force, with its partners:"
    items:
      - agrees joint problem-solving training; and
      - evaluates it.
developing_practice:
  - title: Operation Crossfire
    problem: Dissatisfied users were not followed up consistently.
    solution: Monthly meetings review every dissatisfaction report and task named officers.
    outcomes: Satisfaction with follow-up rose over the year.
    contact: Chief Inspector A. Smith, Performance Department
  - title: Neighbourhood panels online
    problem: Panel meetings drew few young people.
    solution: An online panel runs beside each meeting.
"""


@pytest.fixture
def case(tmp_path):
    text = CAMBRIDGESHIRE.read_text(encoding="utf-8")
    marker = "frameworks:\n"
    assert text.count(marker) == 1
    path = tmp_path / "with-sections.yaml"
    path.write_text(text.replace(marker, SECTIONS + marker), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["markdown", "text", "html"])
def test_recommendations_and_developing_practice_appear_in_order(case, fmt):
    result = assess(case, "-f", fmt)
    assert result.exit_code == 0, result.output
    out = result.stdout
    order = [
        "Recommendations",
        "Recommendation 1",
        "That the force develops a consistent approach",
        "Recommendation 2",
        "agrees joint problem-solving training",
        "Appendix 1: Glossary",
        "Appendix 2: Assessment of Outcomes",
        "Appendix 3: Developing Practice",
        "Operation Crossfire",
        "PROBLEM:",
        "SOLUTION:",
        "OUTCOME(S):",
        "FORCE CONTACT:",
        "Neighbourhood panels online",
    ]
    at = 0
    for words in order:  # each after the one before
        found = out.find(words, at)
        assert found >= 0, f"{words!r} missing, or not after the words before it"
        at = found
    # the second example gives no outcomes or contact: no empty labels
    assert out.count("OUTCOME(S):") == 1 and out.count("FORCE CONTACT:") == 1


def test_sections_are_in_the_json_result(case):
    result = json.loads(assess(case, "-f", "json").stdout)
    assert result["recommendations"][0].startswith("That the force develops")
    assert result["developing_practice"][1] == {
        "title": "Neighbourhood panels online",
        "problem": "Panel meetings drew few young people.",
        "solution": "An online panel runs beside each meeting.",
        "outcomes": None,
        "contact": None,
    }


@pytest.mark.parametrize("fmt", ["markdown", "text"])
def test_without_them_the_report_is_unchanged(tmp_path, fmt):
    plain = assess(CAMBRIDGESHIRE, "-f", fmt).stdout
    assert "Recommendation 1" not in plain and "Developing Practice" not in plain
    empty = tmp_path / "empty-sections.yaml"
    text = CAMBRIDGESHIRE.read_text(encoding="utf-8")
    empty.write_text(
        text.replace("frameworks:\n", "recommendations: []\ndeveloping_practice: []\nframeworks:\n"), "utf-8"
    )
    assert assess(empty, "-f", fmt).stdout == plain
