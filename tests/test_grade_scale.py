"""Any grading regime as data: the grade scale and verdict words are the rulebook's.

Checked on the illustrative five-grade rulebook in examples/peel-style/ (and copies of it
made wrong on purpose): it grades, lints, tests and covers like the bundled one, its
reports word and colour its own grades, and no grade id is left in the code.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from helpers import assess, edit

from assessor.rulebook.read import load_rulebook

ROOT = Path(__file__).resolve().parent.parent
PEEL = ROOT / "examples" / "peel-style"
PEEL_GRADES = ["outstanding", "good", "adequate", "requires_improvement", "inadequate"]


@pytest.fixture
def peel(tmp_path) -> Path:
    shutil.copytree(PEEL, tmp_path / "peel")
    return tmp_path / "peel"


def test_the_scale_is_read_in_order_with_its_wording_and_colours():
    book = load_rulebook(PEEL / "rules")
    assert book.grade_ids == tuple(PEEL_GRADES)
    assert [g.label for g in book.grades] == ["Outstanding", "Good", "Adequate", "Requires improvement", "Inadequate"]
    assert book.grades[0].colour == "#0b6a3b" and book.grades[0].background is None
    assert book.verdicts == {"better": "above", "same": "in_line", "worse": "below", "none": "not_compared"}


def test_the_example_passes_lint_test_and_full_coverage():
    rules = PEEL / "rules"
    lint = assess("lint", rules)
    assert (lint.exit_code, lint.stdout) == (0, "no problems found\n")
    assert lint.stderr.startswith("rulebook peel-style-example at ")
    test = assess("test", "--rules", rules, "--engine", "python")
    assert test.exit_code == 0, test.output
    assert test.stdout.endswith("3 case(s): 0 failed\n")
    coverage = assess("coverage", "--min-coverage", "100", "--rules", rules, "--engine", "python")
    assert coverage.exit_code == 0, coverage.output
    assert "(100.0%)" in coverage.output


def test_its_cases_reach_every_grade(python_engine_peel):
    grades = set()
    for case in sorted((PEEL / "cases").glob("*-2021.yaml")):
        result = python_engine_peel.assess(case)
        grades |= {fw["rule_grade"] for fw in result["frameworks"]}
    assert grades == set(PEEL_GRADES)


@pytest.fixture(scope="module")
def python_engine_peel():
    from assessor.session import Session

    with Session(PEEL / "rules", PEEL / "templates", engine="python") as s:
        yield s


def test_the_result_carries_the_scale_and_the_regime_words(python_engine_peel):
    result = python_engine_peel.assess(PEEL / "cases" / "eastwold-2021.yaml")
    assert [g["id"] for g in result["scale"]["grades"]] == PEEL_GRADES
    effectiveness = result["frameworks"][0]
    assert (effectiveness["grade"], effectiveness["grade_text"]) == ("adequate", "Adequate")
    ind = effectiveness["indicators"][0]
    assert (ind["msf"]["verdict"], ind["trend"]["verdict"], ind["outcome"]) == (
        "below",
        "in_line",
        "requires_improvement",
    )
    assert ind["outcome_text"] == "Requires improvement"


def test_reports_word_and_badge_each_grade_by_its_place_on_the_scale(python_engine_peel):
    from assessor.report.render import render_report

    result = python_engine_peel.assess(PEEL / "cases" / "northmoor-2021.yaml")
    markdown = render_report(python_engine_peel.renderer, result, "markdown")
    assert "**Preventing crime and supporting victims: Outstanding**" in markdown
    assert "significantly above the average for similar forces" in markdown
    assert "- Requires improvement – The force falls short of several (invented) criteria." in markdown
    page = render_report(python_engine_peel.renderer, result, "html")
    # colours from the scale; a background tint derived where the scale gives none
    tint = "color-mix(in srgb, #8a5200 12%, #fff)"
    assert f".grade-requires_improvement {{ --grade: #8a5200; --grade-bg: {tint}; }}" in page
    assert '<span class="brand">Illustrative</span>' in page

    def icon(grade):
        badge = re.search(rf'<span class="badge grade-{grade}[^"]*">(<svg.*?</svg>)', page)
        return badge.group(1) if badge else None

    star, tick = icon("outstanding"), icon("good")
    assert star and tick and star != tick and "M3 8.4l3.2" in tick  # best: a star; upper half: a tick


def test_badges_follow_the_rank_on_a_five_grade_scale(python_engine_peel):
    """Every rank gets its icon: star, tick, tick, warning, cross."""
    renderer = python_engine_peel.renderer
    env = renderer.env(html=True)
    icons = env.get_template("html/_icons.j2").module
    shapes = [str(icons.grade(rank, 5)) for rank in range(5)]
    assert "M8 1.2l2.1" in shapes[0]  # star
    assert "M3 8.4l3.2" in shapes[1] and shapes[1] == shapes[2]  # tick
    assert "M8 2.2l6.4" in shapes[3]  # warning
    assert "M4 4l8 8" in shapes[4]  # cross
    assert "M4 8h8" in str(icons.grade(None, 5))  # not assessed


def test_the_batch_summary_counts_grades_down_the_scale(tmp_path):
    out = tmp_path / "out"
    result = assess("batch", PEEL / "cases", "-o", out, "--rules", PEEL / "rules", "--engine", "python", "-j", "1")
    assert result.exit_code == 0, result.output
    page = (out / "summary.html").read_text(encoding="utf-8")
    header = re.search(r"<h2>Grades by framework</h2>\s*<table>\s*<thead><tr>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r"<th>(.*?)</th>", header) == [
        "Framework",
        "Outstanding",
        "Good",
        "Adequate",
        "Requires improvement",
        "Inadequate",
        "Not assessed",
    ]
    row = re.search(r"<tr><th scope=\"row\">Treating the public fairly</th>(.*?)</tr>", page).group(1)
    assert re.findall(r">(\d+)<", row) == ["0", "1", "1", "1", "0", "0"]


def test_moderation_takes_a_grade_of_the_scale(peel):
    case = peel / "cases" / "westerby-2021.yaml"
    edit(
        case,
        "  legitimacy:\n",
        "  legitimacy:\n    moderation:\n      grade: requires_improvement\n      reason: Complaints wait too long.\n",
    )
    result = assess(case, "--rules", peel / "rules", "-f", "json", "--engine", "python")
    assert result.exit_code == 0, result.output
    legitimacy = json.loads(result.output)["frameworks"][1]
    assert (legitimacy["rule_grade"], legitimacy["grade"], legitimacy["moderation"]["grade_text"]) == (
        "adequate",
        "requires_improvement",
        "Requires improvement",
    )
    edit(case, "grade: requires_improvement", "grade: meeting")
    result = assess(case, "--rules", peel / "rules", "--engine", "python")
    assert result.exit_code == 2
    assert "moderation grade must be one of outstanding, good, adequate, requires_improvement, inadequate" in (
        result.output
    )


# ---------------------------------------------------------------- lint of the scale


def test_a_grade_no_framework_gives_is_a_warning(peel):
    edit(peel / "rules" / "grading.yaml", "  inadequate:\n", "  unsatisfactory: Unsatisfactory\n  inadequate:\n")
    result = assess("lint", peel / "rules")
    assert result.exit_code == 0
    grading = peel / "rules" / "grading.yaml"
    line = grading.read_text().splitlines().index("  unsatisfactory: Unsatisfactory") + 1
    assert (
        f"{grading}:{line}:3: warning: grade 'unsatisfactory' (Unsatisfactory) is declared but no judgement, "
        "framework grade or indicator outcome gives it; give it a rung or remove it from the scale (unused-grade)"
        in result.output
    )


def test_a_grade_that_is_not_declared_is_located_in_rules_and_expected_files(peel):
    edit(peel / "rules" / "legitimacy.yaml", "    - good: count(", "    - excellent: count(")
    result = assess("lint", peel / "rules")
    assert result.exit_code == 1
    assert (
        "'excellent' is not a grade; expected outstanding, good, adequate, requires_improvement, inadequate"
        in result.output
    )

    edit(peel / "rules" / "legitimacy.yaml", "    - excellent: count(", "    - good: count(")
    expected = peel / "cases" / "eastwold-2021.expected.yaml"
    edit(expected, "    grade: requires_improvement\n", "    grade: failing\n")
    edit(expected, "        msf: below\n", "        msf: worse\n")
    result = assess("lint", peel / "rules")
    assert result.exit_code == 1, result.output
    lines = expected.read_text().splitlines()
    grade_line = lines.index("    grade: failing") + 1
    msf_line = lines.index("        msf: worse") + 1
    assert (
        f"{expected}:{grade_line}:12: error: legitimacy / framework / grade: 'failing' is not a grade of this "
        "rulebook; its grades are outstanding, good, adequate, requires_improvement, inadequate (undeclared-grade)"
    ) in result.output
    assert (
        f"{expected}:{msf_line}:14: error: effectiveness / indicator victim_satisfaction / msf verdict: 'worse' is "
        "not a verdict of this rulebook; its verdicts are above, in_line, below, not_compared (undeclared-verdict)"
    ) in result.output
    test = assess("test", "--rules", peel / "rules", "--engine", "python")
    assert test.exit_code == 1
    assert "'failing' is not a grade of this rulebook" in test.output


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "grades:\n",
            "grades:\n  none: Not graded\n",
            "'none' cannot be a grade id: reports mark what is not assessed with it",
        ),
        ('    colour: "#2f6f2f"\n', '    colour: "green; x: y"\n', "colour of grade 'good' must be a colour written"),
        ("    label: Adequate\n", "    label: Good\n", "grade 'adequate' has the label of grade 'good'"),
        ("same: in_line\n", "same: above\n", "have the same word"),
    ],
    ids=["reserved id", "colour", "duplicate label", "duplicate verdict word"],
)
def test_a_malformed_scale_is_refused_with_its_place(peel, old, new, message):
    grading = peel / "rules" / "grading.yaml"
    edit(grading, old, new)
    result = assess("lint", peel / "rules")
    assert result.exit_code == 1
    assert f"{grading}:" in result.output and message in result.output


def test_a_scale_needs_two_grades(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "tests" / "lint" / "clean" / "rules", rules)
    grading = rules / "grading.yaml"
    edit(grading, "  exceeding: Exceeding the standard\n", "")
    edit(grading, "  failing: Failing to meet the standard\n", "")
    result = assess("lint", rules)
    assert result.exit_code == 1
    assert "the grade scale needs at least 2 grades, best first; it has 1" in result.output


# ---------------------------------------------------------------- nothing hard-wired


def _quoted(ids) -> re.Pattern:
    return re.compile("[\"']({})[\"']".format("|".join(ids)))


def test_no_grade_or_verdict_word_is_written_into_code_schemas_or_layouts():
    """Grade ids belong to a rulebook; its statements may use them, nothing else may."""
    bundled = [g.id for g in load_rulebook(ROOT / "rules").grades]
    grades = _quoted(bundled + PEEL_GRADES)
    verdict_compared = re.compile(r"""verdict\s*[!=]=\s*["']""")  # layouts compare with r.scale.verdicts
    places = list((ROOT / "assessor").rglob("*.py")) + list((ROOT / "assessor" / "schemas").glob("*.json"))
    layouts = [p for p in (ROOT / "templates").rglob("*") if p.is_file() and "statements" not in p.parts]
    found = []
    for path in places + layouts:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if grades.search(line) or (path in layouts and verdict_compared.search(line)):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []
    assert layouts and any(p.name == "_icons.j2" for p in layouts)


def test_statements_never_come_from_the_bundled_templates(peel):
    """Layouts a rulebook lacks come from the bundled ones; its statements are its own."""
    (peel / "templates" / "statements" / "legitimacy" / "fair-treatment.md.j2").unlink()
    edit(
        peel / "rules" / "legitimacy.yaml",
        "statements/legitimacy/fair-treatment.md.j2",
        "statements/citizen_focus/ethos.md.j2",  # exists in the bundled templates, not in this rulebook's
    )
    result = assess(peel / "cases" / "northmoor-2021.yaml", "--rules", peel / "rules", "--engine", "python")
    assert result.exit_code == 2
    assert "template statements/citizen_focus/ethos.md.j2 does not exist" in result.output
