"""`assess test`, `assess coverage`, `assess diff` and `assess new-case`, as policy staff run them.

Each test works on a copy of the `clean` lint fixture (one criterion, one case) in a
temporary directory, so the repository's own cases and expectations are never touched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import assess, edit

from assessor.case.read import load_case
from assessor.rulebook.read import load_rulebook

ROOT = Path(__file__).resolve().parent.parent
CLEAN = Path(__file__).resolve().parent / "lint" / "clean"


@pytest.fixture
def work(tmp_path) -> Path:
    """rules/, templates/ and cases/testshire-2008.yaml: extent 'most', judgement 'meeting'."""
    shutil.copytree(CLEAN, tmp_path, dirs_exist_ok=True)
    return tmp_path


# ---------------------------------------------------------------- assess test


def test_a_case_without_expectations_fails_until_update_writes_them(work):
    case, expected = work / "cases" / "testshire-2008.yaml", work / "cases" / "testshire-2008.expected.yaml"
    result = assess("test", "--rules", work / "rules", "--engine", "python")
    assert result.exit_code == 1
    assert f"{case}: FAIL: no expected judgements ({expected} does not exist)" in result.output

    result = assess("test", "--rules", work / "rules", "--engine", "python", "--update")
    assert (result.exit_code, result.stdout) == (0, f"{expected}: written\n")
    text = expected.read_text()
    assert text.startswith("# Expected judgements for testshire-2008.yaml")
    assert "        judgement: meeting\n        choices:\n          extent: most\n" in text

    result = assess("test", "--rules", work / "rules", "--engine", "python")
    assert (result.exit_code, result.stdout) == (0, f"{case}: ok\n1 case(s): 0 failed\n")
    again = assess("test", "--rules", work / "rules", "--engine", "python", "--update")
    assert again.stdout == f"{expected}: unchanged\n"
    assert expected.read_text() == text


def test_a_rule_change_is_reported_as_expected_against_actual_at_the_expectation(work):
    assess("test", "--rules", work / "rules", "--engine", "python", "--update")
    edit(work / "rules" / "patrol.yaml", "staffed_share >= 0.95", "staffed_share >= 0.85")
    result = assess("test", "--rules", work / "rules", "--engine", "python")
    assert result.exit_code == 1
    expected = work / "cases" / "testshire-2008.expected.yaml"
    assert result.stdout.splitlines() == [
        f"{work / 'cases' / 'testshire-2008.yaml'}: FAIL: 2 judgement(s) differ from {expected}",
        f"  {expected}:11:20: patrol / criterion staffing / judgement: expected meeting, got exceeding",
        f"  {expected}:13:19: patrol / criterion staffing / choice extent: expected most, got all",
        f"  if the change is intended, write the new judgements with `assess test --update "
        f"{work / 'cases' / 'testshire-2008.yaml'}` and review the diff of testshire-2008.expected.yaml",
        "1 case(s): 1 failed",
    ]


def test_an_error_outside_the_case_names_the_case_it_stopped(work):
    assess("test", "--rules", work / "rules", "--engine", "python", "--update")
    template = next((work / "templates").rglob("staffing.md.j2"))
    template.write_text(template.read_text(encoding="utf-8") + "{{ 1 / 0 }}\n", encoding="utf-8")
    result = assess("test", "--rules", work / "rules", "--engine", "python")
    assert result.exit_code == 2
    case = work / "cases" / "testshire-2008.yaml"
    assert f"error: {case}: could not be assessed because of the error(s) above" in result.stderr


def test_coverage_stops_with_the_real_error_when_no_case_assesses(work):
    edit(work / "cases" / "testshire-2008.yaml", "          policy: yes\n", "")
    result = assess("coverage", "--rules", work / "rules", "--engine", "python")
    assert result.exit_code == 2
    assert "missing fact 'policy'" in result.stderr and "none of the 1 case(s) could be assessed" in result.stderr
    assert "Rule coverage" not in result.stdout


def test_a_malformed_expectation_is_a_located_input_error(work):
    expected = work / "cases" / "testshire-2008.expected.yaml"
    assess("test", "--rules", work / "rules", "--engine", "python", "--update")
    edit(expected, "judgement: meeting", "judgement: [meeting]")
    result = assess("test", "--rules", work / "rules", "--engine", "python")
    assert result.exit_code == 2
    assert f"error: {expected}:11:20: " in result.output


def test_expectations_left_by_a_removed_case_fail(work):
    assess("test", "--rules", work / "rules", "--engine", "python", "--update")
    shutil.copy(work / "cases" / "testshire-2008.expected.yaml", work / "cases" / "gone-2008.expected.yaml")
    result = assess("test", "--rules", work / "rules", "--engine", "python")
    assert result.exit_code == 1
    assert (
        f"{work / 'cases' / 'gone-2008.expected.yaml'}: FAIL: expected judgements for a case that does not "
        "exist" in result.output
    )


def test_a_case_that_does_not_load_is_an_input_error(work):
    edit(work / "cases" / "testshire-2008.yaml", "          policy: yes\n", "")
    result = assess("test", "--rules", work / "rules", "--engine", "python")
    assert result.exit_code == 2
    assert "missing fact 'policy'" in result.output


def test_the_cambridgeshire_expectations_hold():
    case = ROOT / "cases" / "cambridgeshire-2008.yaml"
    result = assess("test", case, "--engine", "python")
    assert (result.exit_code, result.stdout) == (0, f"{case}: ok\n1 case(s): 0 failed\n")


# ---------------------------------------------------------------- assess coverage


def test_coverage_lists_the_rungs_no_case_chooses_with_their_place(work):
    result = assess("coverage", "--rules", work / "rules", "--engine", "python")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Rule coverage: 3 of 9 rungs (33.3%) chosen by at least one of 1 case(s)."
    rules = work / "rules"
    missed = [line.split()[0] for line in lines[4:]]
    assert missed == [
        f"{rules / 'grading.yaml'}:11:7",  # no indicators: the survey outcome is never used
        f"{rules / 'patrol.yaml'}:15:11",
        f"{rules / 'patrol.yaml'}:17:11",
        f"{rules / 'patrol.yaml'}:19:9",
        f"{rules / 'patrol.yaml'}:20:9",
        f"{rules / 'patrol.yaml'}:25:7",
    ]
    assert "all: staffed_share >= 0.95" in lines[5]


def test_coverage_below_the_minimum_fails(work):
    below = assess("coverage", "--rules", work / "rules", "--engine", "python", "--min-coverage", 50)
    assert below.exit_code == 1
    assert below.stdout.splitlines()[-1] == "Coverage 33.3% is below the minimum of 50%."
    assert assess("coverage", "--rules", work / "rules", "--engine", "python", "--min-coverage", 30).exit_code == 0


# ---------------------------------------------------------------- assess diff


def git(where: Path, *args) -> None:
    subprocess.run(
        [
            "git",
            "-C",
            str(where),
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(work) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git(work, "init", "-q")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "rules")
    return work


def test_diff_without_changes_says_so(repo):
    result = assess("diff", "HEAD", "--rules", repo / "rules", "--engine", "python", "--fail-on-change")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "No judgement changes."


def test_diff_tables_each_changed_judgement_and_fails_on_change(repo):
    edit(repo / "rules" / "patrol.yaml", "staffed_share >= 0.95", "staffed_share >= 0.85")
    result = assess("diff", "HEAD", "--rules", repo / "rules", "--engine", "python", "--fail-on-change")
    assert result.exit_code == 1
    assert "| Case | Framework | Criterion or indicator | What | Before | After |" in result.output
    assert "| testshire-2008 | patrol | criterion staffing | judgement | meeting | exceeding |" in result.output
    assert "| testshire-2008 | patrol | criterion staffing | choice extent | most | all |" in result.output
    assert assess("diff", "HEAD", "--rules", repo / "rules", "--engine", "python").exit_code == 0


def test_diff_reports_a_case_that_fails_on_one_side(repo):
    # the new rules need a fact the case does not give
    edit(
        repo / "rules" / "patrol.yaml",
        "      policy: {type: yes/no",
        "      vehicles: {type: integer, min: 0}\n      policy: {type: yes/no",
    )
    result = assess("diff", "HEAD", "--rules", repo / "rules", "--engine", "python")
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if line.startswith("| testshire-2008"))
    assert row.startswith("| testshire-2008 | – | – | assessment | assessed | fails: ")
    assert "missing fact 'vehicles'" in row


def test_diff_needs_a_git_repository_and_a_known_revision(work, repo):
    assert "unknown revision 'no-such-branch'" in assess("diff", "no-such-branch", "--rules", repo / "rules").output
    shutil.rmtree(repo / ".git")
    result = assess("diff", "HEAD", "--rules", work / "rules")
    assert result.exit_code == 2
    assert "is not inside a git repository" in result.output


# ---------------------------------------------------------------- assess new-case


def test_new_case_lists_every_fact_as_unknown_and_loads(tmp_path):
    out = tmp_path / "testshire-2008.yaml"
    result = assess("new-case", "--force", "Testshire Constabulary", "-o", out)
    assert result.exit_code == 0
    text = out.read_text()
    book = load_rulebook(ROOT / "rules")
    for fw in book.frameworks:
        for f in fw.evidence:  # a fact several criteria read is asked once, under the framework
            assert text.count(f"{f.name}: unknown\n") == 1
            assert f"      {f.name}: unknown\n" in text
        for c in fw.criteria:
            for f in c.own_evidence:
                assert f"          {f.name}: unknown\n" in text
    assert "      # Neighbourhoods with a Neighbourhood Policing team: a whole number of at least 1\n" in text
    assert "      spi_3b:  # SPI 3b, user satisfaction survey\n" in text
    case = load_case(out, book)
    assert case.force == "Testshire Constabulary"
    assert all(v is None for fw in case.frameworks.values() for facts in fw.evidence.values() for v in facts.values())


EDITIONS = Path(__file__).resolve().parent / "rulebooks" / "editions"


@pytest.mark.parametrize(
    "args, edition, named",
    [
        (["--edition", "2009"], "2009", True),  # asked for: named in the case
        (["--edition", "2008", "--period", "2008/09"], "2008", True),  # asked for against the period
        ([], "2008", False),  # 2007/08 puts 2008 in force: the period chooses it
        (["--period", "2008/09"], "2009", False),
    ],
)
def test_new_case_is_for_an_edition_and_assesses_by_it(args, edition, named, tmp_path):
    """Edition 2009 adds the criterion `response` (fact answered_share): a skeleton has the facts
    of the edition that will grade it, and the report made from it says that edition."""
    rulebook = tmp_path / "editions"
    shutil.copytree(EDITIONS, rulebook)
    out = rulebook / "cases" / "newshire.yaml"
    result = assess("new-case", "--rulebook", rulebook, "--force", "Newshire", "-o", out, *args)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert ("answered_share: unknown" in text) == (edition == "2009")
    assert (f'edition: "{edition}"' in text) == named
    report = assess(out, "-f", "json", "--engine", "python")
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["rulebook"]["edition"] == edition


def test_new_case_refuses_an_edition_the_rulebook_lacks(tmp_path):
    result = assess("new-case", "--rulebook", EDITIONS, "--force", "Newshire", "--edition", "2010")
    assert result.exit_code == 2
    assert "'2010' is not an edition of this rulebook; its editions are 2008, 2009" in result.output
    result = assess("new-case", "--rules", EDITIONS / "rules", "--force", "Newshire", "--edition", "2008")
    assert result.exit_code == 2 and "--edition and --rules both choose the rules" in result.output


def test_new_case_never_overwrites_and_checks_its_options(tmp_path):
    out = tmp_path / "taken.yaml"
    out.write_text("evidence\n")
    result = assess("new-case", "--force", "Testshire", "-o", out)
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert out.read_text() == "evidence\n"
    assert assess("new-case", "--force", "Testshire", "--period", "2007/09").exit_code == 2
    assert assess("new-case").exit_code == 2  # --force is required
