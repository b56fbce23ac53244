"""Evidence marked `unknown`: the report says what could not be assessed and what would settle it."""

from __future__ import annotations

from helpers import CAMBRIDGESHIRE


def _case(tmp_path, old: str, new: str):
    text = CAMBRIDGESHIRE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "case.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_an_unknown_fact_leaves_its_criterion_and_the_grade_unassessed(tmp_path, session):
    result = session.assess(_case(tmp_path, "pc_vacancies: 9 ", "pc_vacancies: unknown "))
    np, cf = result["frameworks"]
    coverage = np["criteria"][0]
    assert (coverage["assessed"], coverage["judgement"], coverage["statement"]) == (False, None, None)
    assert coverage["missing"] == ["pc_vacancies"]
    assert all(c["assessed"] for c in np["criteria"][1:])
    assert np["rule_grade"] is None and np["missing"] == ["coverage: pc_vacancies"]
    assert np["grade"] == "meeting"  # the moderation panel's grade still stands, and says so
    assert cf["rule_grade"] == "meeting"


def test_an_unknown_survey_figure_leaves_the_indicator_unassessed(tmp_path, session):
    from assessor.report.render import render_report

    path = _case(tmp_path, "spi_1e: {value: 79.6, previous: 78.0,", "spi_1e: {value: 79.6, previous: unknown,")
    result = session.assess(path)
    cf = result["frameworks"][1]
    spi_1e, spi_3b = cf["indicators"]
    assert (spi_1e["assessed"], spi_1e["outcome"], spi_1e["missing"]) == (False, None, ["spi_1e.previous"])
    assert spi_3b["assessed"] and spi_3b["outcome"] == "meeting"
    stability = cf["criteria"][2]
    assert stability["judgement"] is None and stability["missing"] == ["spi_1e.previous"]
    assert cf["rule_grade"] is None
    text = render_report(session.renderer, result, "markdown")
    assert "The case does not give spi_1e.previous, so this indicator is not tested." in text
    assert "| Cambridgeshire | n/a | n/a | +3.5pp | 2.1pp |" in text
    assert "The grading rules could not grade this framework." in text
    render_report(session.renderer, result, "html")  # renders without the missing figures


def test_an_omitted_fact_is_an_error_not_a_silent_gap(tmp_path, session):
    import pytest

    from assessor.errors import AssessorError

    with pytest.raises(AssessorError) as info:
        session.assess(_case(tmp_path, "          pc_vacancies: 9 ", "          # pc_vacancies: 9 "))
    (finding,) = info.value.findings
    assert finding.check == "missing-fact"
    assert "missing fact 'pc_vacancies'" in finding.message and "write `unknown`" in finding.message
