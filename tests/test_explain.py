"""`assess --explain` works on every case that assesses (issue 12 §5): partly filled cases and
a fresh new-case skeleton, what-ifs that would make a value uncomputable, exact threshold
days for dates, dates at the ends of the calendar, and the framework grade explained too."""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import CAMBRIDGESHIRE, ROOT, assess

BASE = ROOT / "tests" / "bad" / "base"
FORMATS = ("markdown", "text", "html", "json")


def base_world(tmp_path, case_edits=(), rules_edits=()):
    shutil.copytree(BASE, tmp_path / "w")
    w = tmp_path / "w"
    for path, edits in (("case.yaml", case_edits), ("rules/policing.yaml", rules_edits)):
        text = (w / path).read_text(encoding="utf-8")
        for old, new in edits:
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        (w / path).write_text(text, encoding="utf-8")
    # the bundled report layout (which shows the explanation) with the base world's statements
    shutil.copytree(ROOT / "templates", w / "layout")
    shutil.copytree(w / "templates" / "statements", w / "layout" / "statements", dirs_exist_ok=True)
    return w


def explain_base(w, *more):
    return assess(w / "case.yaml", "--rules", w / "rules", "--templates", w / "layout", "--explain", *more)


@pytest.mark.parametrize("fmt", FORMATS)
def test_explain_on_a_fresh_new_case_skeleton(tmp_path, fmt):
    case = tmp_path / "wessex.yaml"
    assert assess("new-case", "--force", "Wessex Police", "-o", case).exit_code == 0
    result = assess(case, "--explain", "-f", fmt)
    assert result.exit_code == 0, result.output
    if fmt != "json":
        assert "not assessed" in result.stdout


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_explain_on_a_partly_filled_case(tmp_path, fmt):
    text = CAMBRIDGESHIRE.read_text(encoding="utf-8")
    text = text.replace(
        "spi_2a: {value: 51.44, previous: 48.76, msf_average: 52.9}",
        "spi_2a: {value: unknown, previous: 48.76, msf_average: 52.9}",
    )
    text = text.replace("largest_span: 17 ", "largest_span: unknown ")
    case = tmp_path / "partly.yaml"
    case.write_text(text, encoding="utf-8")
    result = assess(case, "--explain", "-f", fmt)
    assert result.exit_code == 0, result.output
    assert "largest_span" in result.stdout


def test_a_what_if_that_divides_by_zero_is_skipped(tmp_path):
    w = base_world(
        tmp_path,
        rules_edits=[
            (
                "      staffed_share: staffed / teams\n",
                "      staffed_share: staffed / teams\n      spare: staffed / (teams - 9)\n",
            ),
            ("staffed_share >= 0.5\n", "staffed_share >= 0.5 and spare > 0\n"),
        ],
    )
    result = explain_base(w, "-f", "json")
    assert result.exit_code == 0, result.output
    staffing = json.loads(result.stdout)["frameworks"][0]["criteria"][0]
    assert staffing["margins"], "the possible what-ifs are still found"
    assert all(m["after"] != 9 for m in staffing["margins"] if m["fact"] == "teams")


def test_a_what_if_past_2_to_the_53_is_skipped(tmp_path):
    w = base_world(
        tmp_path,
        rules_edits=[
            (
                "      staffed_share: staffed / teams\n",
                "      staffed_share: staffed / teams\n      big: staffed * 1000000000000000\n",
            ),
            ("staffed_share >= 0.5\n", "staffed_share >= 0.5 and big > 0\n"),
        ],
    )
    result = explain_base(w, "-f", "json")
    assert result.exit_code == 0, result.output


def test_an_empty_max_in_a_what_if_is_skipped(tmp_path):
    w = base_world(
        tmp_path,
        rules_edits=[
            (
                "      staffed_share: staffed / teams\n",
                "      staffed_share: staffed / teams\n      biggest: max(units.officers where sergeants > 2)\n",
            ),
            ("staffed_share >= 0.5\n", "staffed_share >= 0.5 and biggest > 1\n"),
        ],
    )
    result = explain_base(w, "-f", "json")
    assert result.exit_code == 0, result.output


# staffing exceeds when its review is on or after 2007-04-01; the case's review is 2007-06-01
ON_REVIEW = [
    (
        '      - failing: extent == "some" or not policy\n'
        '      - exceeding: extent == "all" and monitoring == "real-time" and visibility >= 80 and review >= '
        'date("2007-04-01")\n',
        '      - exceeding: review >= date("2007-04-01")\n',
    )
]


def test_dates_move_to_the_exact_threshold_day(tmp_path):
    w = base_world(tmp_path, rules_edits=ON_REVIEW)
    result = explain_base(w, "-f", "json")
    assert result.exit_code == 0, result.output
    staffing = json.loads(result.stdout)["frameworks"][0]["criteria"][0]
    assert staffing["judgement"] == "exceeding"
    review = [m for m in staffing["margins"] if m["fact"] == "review"]
    assert review and review[0]["after"] == "2007-03-31", staffing["margins"]
    assert review[0]["to"] == "meeting"


def test_threshold_day_reads_as_a_sentence(tmp_path):
    w = base_world(tmp_path, rules_edits=ON_REVIEW)
    result = explain_base(w)
    assert result.exit_code == 0, result.output
    assert "review before 2007-04-01 (e.g. 2007-03-31) would make judgement meeting" in result.stdout


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "9999-06-01"])
def test_dates_at_the_ends_of_the_calendar(tmp_path, day):
    w = base_world(tmp_path, case_edits=[("review: 2007-06-01", f"review: {day}")])
    for engine in ("python", "durable"):
        result = explain_base(w, "-f", "json", "--engine", engine)
        assert result.exit_code == 0, result.output


def test_the_framework_grade_is_explained(tmp_path):
    result = assess(CAMBRIDGESHIRE, "--explain", "-f", "json")
    assert result.exit_code == 0, result.output
    for fw in json.loads(result.stdout)["frameworks"]:
        why = fw["grade_explanation"]
        assert why["decided_by"], fw["id"]  # the criteria and indicators the deciding rung read
        assert all(m["to"] != fw["rule_grade"] for m in why["margins"])
    markdown = assess(CAMBRIDGESHIRE, "--explain").stdout
    assert markdown.count("**Explanation of the grade**") == 2
    assert "would make the grade" in markdown


def test_explain_report_keeps_every_seed_statement():
    plain = assess(CAMBRIDGESHIRE).stdout
    explained = assess(CAMBRIDGESHIRE, "--explain").stdout
    for paragraph in plain.split("\n\n"):
        assert paragraph in explained


def _broken_layout(tmp_path):
    """The bundled templates with a slip in the explanation (an attribute no result has)."""
    layout = tmp_path / "layout"
    shutil.copytree(ROOT / "templates", layout)
    text = (layout / "_explain.j2").read_text(encoding="utf-8")
    (layout / "_explain.j2").write_text(text.replace("{{ b.bullets(lines) }}", "{{ c.no_such_thing }}"), "utf-8")
    return layout


def test_our_own_template_failing_on_a_valid_case_is_our_bug(tmp_path, monkeypatch):
    from assessor.report.environment import Renderer

    layout = _broken_layout(tmp_path)
    monkeypatch.setattr(Renderer, "is_bundled", lambda self: self.dir == layout)
    result = assess(CAMBRIDGESHIRE, "--templates", layout, "--explain")
    assert result.exit_code == 3, result.output
    assert "please report" in result.stderr and "_explain.j2" in result.stderr
    assert result.stdout == ""


def test_a_users_template_failing_is_theirs_to_fix(tmp_path):
    result = assess(CAMBRIDGESHIRE, "--templates", _broken_layout(tmp_path), "--explain")
    assert result.exit_code == 2, result.output
    assert "_explain.j2" in result.stderr and "please report" not in result.stderr


def test_the_bundled_templates_are_recognised_as_ours():
    from assessor.files import bundled
    from assessor.report.environment import Renderer

    assert Renderer(bundled("templates")).is_bundled()
    assert not Renderer(BASE / "templates").is_bundled()
