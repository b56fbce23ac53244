"""What policy staff and inspectors read (issue 12 §6): the Markdown report's at-a-glance table,
and what new-case offers. Messages about rule mistakes are in the bad-input corpus
(tests/bad/corpus-messages.yaml)."""

from __future__ import annotations

from click.testing import CliRunner
from conftest import CAMBRIDGESHIRE

from assessor.cli import main


def assess(*args):
    result = CliRunner().invoke(main, [*map(str, args)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_markdown_report_has_an_at_a_glance_table_per_framework(python_session):
    result = python_session.assess(CAMBRIDGESHIRE)
    out = assess(CAMBRIDGESHIRE).stdout
    for fw in result["frameworks"]:
        section = out.split(f"{result['period']} {fw['title']} Summary of judgement", 1)[1]
        table = section.split("\n\n### ", 1)[0]
        rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
        assert rows[0] == "| Criterion | Judgement |"
        assert rows[1:] == [f"| {c['heading']} | {c['judgement_text']} |" for c in fw["criteria"]]


def test_the_table_says_not_assessed_for_a_criterion_without_its_evidence(tmp_path):
    case = tmp_path / "partly.yaml"
    case.write_text(
        CAMBRIDGESHIRE.read_text(encoding="utf-8").replace("largest_span: 17 ", "largest_span: unknown "),
        encoding="utf-8",
    )
    out = assess(case).stdout
    assert "| Neighbourhoods are appropriately staffed (coverage). | Not assessed |" in out


def test_html_and_text_reports_have_no_such_table():
    for fmt in ("html", "text"):
        assert "| Criterion | Judgement |" not in assess(CAMBRIDGESHIRE, "-f", fmt).stdout


def test_new_case_offers_optional_keys_and_each_survey_question():
    text = assess("new-case", "--force", "Wessex Police").stdout
    for key in ("neighbourhood_teams", "officers_dedicated", "geography", "recommendations", "developing_practice"):
        assert f"# {key}:" in text or f"#   {key}:" in text or f"  # {key}:" in text, key
    assert "# SPI 2a: Do you think the police in this area do a good or excellent job? (% yes)" in text
