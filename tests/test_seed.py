"""The Cambridgeshire case reproduces the source report's judgements and wording.

Every summary statement and every survey-indicator sentence is cut from the source
report itself and must appear verbatim (whitespace aside) in our report. The passages
compared against ship with the tests (seed/, with a note on their source), so every
clone checks the wording.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import CAMBRIDGESHIRE, read_yaml

PASSAGES = Path(__file__).resolve().parent / "seed" / "hmic-cambridgeshire-2008-passages.txt"

# Typing slips in the published report, corrected so that the test compares wording,
# not typos. Each is the report's text -> what it evidently means.
SEED_TYPOS = {  # patterns, since the report's lines break anywhere
    r"51\.4%of\s+people": "51.4% of people",
    r"51\.0% people\s+surveyed": "51.0% of people surveyed",
    r"70\.4%%": "70.4%",
}
STOP = ("Strengths", "Context", "Service users’ views are sought and are used to improve service delivery")


def _squash(text: str) -> str:
    return " ".join(text.split())


def read_passages(path: Path) -> str:
    """The report's text in the passages file: its note ("#" lines) and passage markers dropped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(
        line for line in lines if not line.startswith("#") and not re.fullmatch(r"\[report lines .*\]", line)
    )


@pytest.fixture(scope="module")
def seed_text():
    text = read_passages(PASSAGES)
    for typo, meant in SEED_TYPOS.items():
        text, found = re.subn(typo, meant, text)
        assert found == 1, f"seed typo {typo!r} no longer present; update SEED_TYPOS"
    return text


def seed_statements(text: str) -> list:
    """The text under each 'Summary statement' heading, up to the next heading."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.strip() != "Summary statement":
            continue
        body = []
        for nxt in lines[i + 1 :]:
            if nxt.strip() in STOP:
                break
            body.append(nxt)
        out.append(_squash(" ".join(body)))
    return out


def seed_indicator_sentences(text: str) -> list:
    flat = _squash(text)
    msf = re.findall(r"\d+\.\d% of [^.]*?in the year ending March 2008 .*?average for the MSF\.", flat)
    trend = re.findall(
        r"Force performance (?:was unchanged|significantly improved) in the year ending March 2008;"
        r".*?in the year ending March 2006\.",
        flat,
    )
    gap = re.findall(
        r"There is a satisfaction gap between white users and users from minority ethnic groups with "
        r"the overall service provided\. Users from minority ethnic groups are [\d.]+ percentage points "
        r"less satisfied\.",
        flat,
    )
    return msf + trend + gap


@pytest.fixture(scope="module")
def report(session):
    from assessor.report.render import render_report

    result = session.assess(CAMBRIDGESHIRE)
    return result, _squash(render_report(session.renderer, result, "markdown"))


def test_seed_has_what_we_check(seed_text):
    # one statement per criterion; the gap sentence stands in the DCFP statement and in the SPI 3b section
    assert len(seed_statements(seed_text)) == 9
    assert len(seed_indicator_sentences(seed_text)) == 4 + 5 + 2


def test_every_summary_statement_verbatim(seed_text, report):
    _, text = report
    for statement in seed_statements(seed_text):
        assert statement in text, f"missing summary statement: {statement}"


def test_every_indicator_sentence_verbatim(seed_text, report):
    _, text = report
    for sentence in seed_indicator_sentences(seed_text):
        assert sentence in text, f"missing SPI sentence: {sentence}"


def test_statements_come_out_of_the_right_criteria(seed_text, report):
    result, _ = report
    ours = [c["statement"] for fw in result["frameworks"] for c in fw["criteria"]]
    assert [_squash(s) for s in ours] == seed_statements(seed_text)


def test_both_frameworks_meet_the_standard(seed_text, report):
    result, text = report
    assert [(fw["id"], fw["rule_grade"], fw["grade"]) for fw in result["frameworks"]] == [
        ("neighbourhood_policing", "meeting", "meeting"),
        ("citizen_focus", "meeting", "meeting"),
    ]
    assert _squash(seed_text).count("Summary of judgement Meeting the standard") == 2
    moderation = (
        "Following the moderation process, Cambridgeshire Constabulary was assessed as meeting the standard. "
        "Neighbourhood policing has been implemented to a consistent standard across the force."
    )
    assert moderation in _squash(seed_text)
    assert moderation in text


def test_spi_table_figures_match_the_report(seed_text, report):
    result, text = report
    assert "Cambridgeshire -1.5pp +2.7pp -0.4pp +2.6pp -2.6pp -6.8pp" in _squash(seed_text)
    assert "| Cambridgeshire | -1.5pp | +2.7pp | -0.4pp | +2.6pp | -2.6pp | -6.8pp |" in text
    assert "Cambs -1.4pp +1.6pp +3.5pp 2.1pp" in _squash(seed_text)
    assert "| -1.4pp | +1.6pp | +3.5pp | 2.1pp |" in text


def test_judgements_come_from_evidence_not_from_answers():
    """No evidence value in the case is a rung word or a grade."""
    from assessor.files import bundled
    from assessor.rulebook.read import load_rulebook

    book = load_rulebook(bundled("rules"))
    words = set(book.grade_ids)
    for fw in book.frameworks:
        for c in fw.criteria:
            for d in c.decisions:
                words |= set(d.outcomes)
    case = read_yaml(CAMBRIDGESHIRE)
    for fw in case["frameworks"].values():
        for crit in fw["criteria"].values():
            for name, value in crit["evidence"].items():
                if isinstance(value, str):
                    assert value not in words, f"evidence {name}: {value!r} is a rung word"
