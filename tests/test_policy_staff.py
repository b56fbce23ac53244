"""What policy staff and inspectors read (issue 12 §6): the Markdown report's at-a-glance table,
what new-case offers, the national summary's links, moderation marks and headings, and a batch's
log outside a terminal. Messages about rule mistakes are in the bad-input corpus
(tests/bad/corpus-messages.yaml)."""

from __future__ import annotations

import csv
import html
import re
import shutil

from helpers import CAMBRIDGESHIRE, CASES, assess


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


def _national_run(tmp_path, formats=("html",)):
    cases = tmp_path / "cases"
    cases.mkdir()
    for name in ("cambridgeshire-2008.yaml", "avonvale-2008.yaml", "fenmarsh-2008.yaml"):
        shutil.copy(CASES / name, cases / name)
    out = tmp_path / "out"
    args = ["batch", cases, "-o", out, "--engine", "python", "-j", "2"]
    for fmt in formats:
        args += ["-f", fmt]
    return assess(*args), out


def test_summary_links_each_force_marks_moderation_and_names_criteria_by_heading(tmp_path, python_session):
    result, out = _national_run(tmp_path)
    assert result.exit_code == 0, result.output
    page = (out / "summary.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', page)
    assert len(links) == 3 and "Cambridgeshire Constabulary" in [name for _, name in links]
    for href, _ in links:
        assert (out / html.unescape(href)).is_file(), href
    # the Cambridgeshire case records the moderation of Neighbourhood Policing only
    cambs = next(line for line in page.splitlines() if "Cambridgeshire Constabulary</a>" in line)
    assert cambs.count("(moderated)") == 1
    book = python_session.book
    for fw in book.frameworks:
        for c in fw.criteria:
            assert f'<th scope="col">{html.escape(c.heading)}</th>' in page
            assert f">{c.id.replace('_', ' ')}</th>" not in page
    with (out / "summary.csv").open(encoding="utf-8") as f:
        rows = {r["case"]: r for r in csv.DictReader(f)}
    assert rows["cambridgeshire-2008.yaml"]["neighbourhood_policing.moderated"] == "yes"


def test_summary_links_the_markdown_report_when_no_html_is_written(tmp_path):
    result, out = _national_run(tmp_path, formats=("markdown",))
    assert result.exit_code == 0, result.output
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert 'href="reports/cambridgeshire-2008.md"' in page and (out / "reports" / "cambridgeshire-2008.md").is_file()


def test_batch_outside_a_terminal_prints_one_line_per_case(tmp_path):
    result, _ = _national_run(tmp_path)
    lines = [line for line in result.stderr.splitlines() if line.startswith(("assessed ", "failed "))]
    assert len(lines) == 3, result.stderr
    assert any(
        re.fullmatch(
            r"assessed .*cambridgeshire-2008\.yaml: neighbourhood_policing meeting, citizen_focus "
            r"meeting",
            line,
        )
        for line in lines
    ), lines
    assert "Assessing" not in result.stderr and "%" not in result.stderr  # no progress bar in a log
