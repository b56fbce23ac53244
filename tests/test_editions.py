"""Editions across inspection years, on the fixture rulebook in tests/rulebooks/editions/.

Its edition 2009 extends 2008 and states only what changes: a heading reworded, a threshold
moved (`most` from 60% to 75% of teams staffed) and a criterion added (`response`). Each case
is graded by the edition in force for its period, or the one it names.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assess, edit

from assessor.rulebook.locate import locate
from assessor.session import Session

FIXTURE = Path(__file__).resolve().parent / "rulebooks" / "editions"


@pytest.fixture
def book(tmp_path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "book")
    return tmp_path / "book"


def graded(case: Path, *options) -> dict:
    result = assess(case, "-f", "json", "--engine", "python", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def judgements(result: dict) -> dict:
    fw = result["frameworks"][0]
    return {"grade": fw["grade"], **{c["id"]: c["judgement"] for c in fw["criteria"]}}


def test_each_case_is_graded_by_the_edition_in_force_for_its_period():
    old = graded(FIXTURE / "cases" / "testshire-2008.yaml")
    assert old["rulebook"]["edition"] == "2008"
    assert judgements(old) == {"grade": "meeting", "staffing": "meeting", "visibility": "meeting"}
    new = graded(FIXTURE / "cases" / "testshire-2009.yaml")
    assert new["rulebook"]["edition"] == "2009"
    # the threshold moved: 70% staffed is no longer 'most'; the new criterion is graded
    assert judgements(new) == {
        "grade": "failing",
        "staffing": "failing",
        "visibility": "meeting",
        "response": "failing",
    }
    staffing = new["frameworks"][0]["criteria"][0]
    assert staffing["heading"] == "Neighbourhood teams are staffed and stable."
    assert staffing["choices"] == {"extent": "some"}


def test_adding_a_criterion_never_changes_an_older_cases_grades(book):
    """The 2008 case graded in a rulebook with only its own edition, and with 2009 added: the same."""
    case = book / "cases" / "testshire-2008.yaml"
    with_2009 = graded(case)
    manifest = book / "rulebook.yaml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text[: text.index('  - id: "2009"')], encoding="utf-8")
    alone = graded(case)
    assert with_2009["frameworks"] == alone["frameworks"]
    assert with_2009["rulebook"]["edition"] == alone["rulebook"]["edition"] == "2008"


def test_a_case_may_name_its_edition(book):
    case = book / "cases" / "testshire-2008.yaml"
    edit(case, "period: 2007/08\n", 'period: 2007/08\nedition: "2009"\n')
    edit(
        case,
        "          foot_patrol_hours: 24\n",
        "          foot_patrol_hours: 24\n      response:\n        evidence:\n          answered_share: 95\n",
    )
    result = graded(case)
    assert result["rulebook"]["edition"] == "2009"
    assert judgements(result)["response"] == "meeting"

    edit(case, 'edition: "2009"', 'edition: "2010"')
    result = assess(case, "--engine", "python")
    assert result.exit_code == 2
    line = case.read_text().splitlines().index('edition: "2010"') + 1
    assert f"{case}:{line}:10: edition '2010' is not an edition of the rulebook editions-fixture; its editions " in (
        result.output
    )


def test_a_period_no_edition_covers_is_refused_with_the_way_out(book):
    case = book / "cases" / "testshire-2008.yaml"
    edit(case, "period: 2007/08", "period: 2005/06")
    result = assess(case, "--engine", "python")
    assert result.exit_code == 2
    assert "no edition of the rulebook editions-fixture is in force for 2005/06 (editions: 2008, 2009); name " in (
        result.output
    )


def test_an_overlay_mistake_is_reported_in_the_overlay_file(book):
    overlay = book / "editions" / "2009" / "patrol.yaml"
    edit(overlay, "        - most: staffed_share >= 0.75\n", "        - most: staffed_shares >= 0.75\n")
    result = assess("lint", "--rulebook", book)
    assert result.exit_code == 1
    line = overlay.read_text().splitlines().index("        - most: staffed_shares >= 0.75") + 1
    assert f"{overlay}:{line}:" in result.stdout and "staffed_shares" in result.stdout
    assert f"{book / 'rules' / 'patrol.yaml'}:" not in result.stdout


def test_an_edition_can_remove_a_criterion_and_must_name_one_that_exists(book):
    overlay = book / "editions" / "2009" / "patrol.yaml"
    edit(overlay, "criteria:\n", "criteria:\n  - id: visibility\n    remove: true\n")
    case = book / "cases" / "testshire-2009.yaml"
    edit(case, "      visibility:\n        evidence:\n          foot_patrol_hours: 24\n", "")
    new = graded(case)
    assert "visibility" not in judgements(new)
    edit(overlay, "  - id: visibility\n", "  - id: visible\n")
    result = assess("lint", "--rulebook", book)
    assert result.exit_code == 1
    assert "removes criterion 'visible', which the edition it extends does not have (bad-overlay)" in result.stdout


def test_editions_are_read_from_the_manifest_with_their_chain():
    location = locate(rulebook=FIXTURE)
    assert location.edition == "2009"
    assert location.rules.name == "rules" and [p.parts[-2:] for p in location.overlays] == [("editions", "2009")]
    manifest = location.manifest
    assert [e.id for e in manifest.editions] == ["2008", "2009"]
    assert manifest.in_force("2007/08").id == "2008"
    assert manifest.in_force("2012/13").id == "2009"
    assert manifest.in_force("2006/07") is None
    with Session(location=location, engine="python") as session:
        assert [c.id for c in session.edition("2008").book.frameworks[0].criteria] == ["staffing", "visibility"]
        assert [c.id for c in session.book.frameworks[0].criteria] == ["staffing", "visibility", "response"]


@pytest.mark.parametrize(
    "entry, message",
    [
        ('    extends: "2008"\n', '    extends: "2007"\n'),
        ("    in_force: {from: 2008/09}\n", "    in_force: {from: 2008-09}\n"),
    ],
    ids=["extends an unknown edition", "a date that is not a financial year"],
)
def test_a_wrong_edition_entry_is_located(book, entry, message):
    manifest = book / "rulebook.yaml"
    edit(manifest, entry, message)
    result = assess("lint", "--rulebook", book)
    assert result.exit_code == 1  # a finding of lint's, like any mistake in the rulebook
    assert f"{manifest}:" in result.stdout
    assert ("not an edition listed before this one" in result.stdout) or ("financial year" in result.stdout)
    report = assess("--rulebook", book, book / "cases" / "testshire-2008.yaml")
    assert report.exit_code == 2 and f"{manifest}:" in report.stderr


def test_diff_compares_two_editions_with_new_criteria_as_rows_of_their_own():
    result = assess("diff", "--edition", "2008..2009", "--rulebook", FIXTURE, "--engine", "python")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "**Judgements: edition `2008` → edition `2009` of editions-fixture** (2 case(s))"
    rows = [line for line in lines if line.startswith("| testshire")]
    assert "| testshire-2008 | patrol | criterion response | new criterion | – | not assessed |" in rows
    assert "| testshire-2009 | patrol | criterion response | new criterion | – | failing |" in rows
    assert "| testshire-2008 | patrol | criterion staffing | choice extent | most | some |" in rows
    assert "| testshire-2009 | patrol | – | grade | meeting | failing |" in rows
    assert not any("unknown-criterion" in line or "fails" in line for line in lines)


def test_diff_of_editions_shows_a_removed_criterion_once(book):
    edit(book / "editions" / "2009" / "patrol.yaml", "criteria:\n", "criteria:\n  - id: visibility\n    remove: true\n")
    result = assess("diff", "--edition", "2008..2009", "--rulebook", book, "--engine", "python")
    rows = [line for line in result.stdout.splitlines() if "visibility" in line]
    assert rows == [
        "| testshire-2008 | patrol | criterion visibility | removed criterion | meeting | – |",
        "| testshire-2009 | patrol | criterion visibility | removed criterion | meeting | – |",
    ]


def test_diff_names_editions_that_do_not_exist():
    result = assess("diff", "--edition", "2008..2010", "--rulebook", FIXTURE)
    assert result.exit_code == 2
    assert "'2010' is not an edition of this rulebook; its editions are 2008, 2009" in result.output


def test_lint_test_and_coverage_take_each_case_by_its_edition():
    lint = assess("lint", "--rulebook", FIXTURE)
    assert (lint.exit_code, lint.stdout) == (0, "no problems found\n")
    test = assess("test", "--rulebook", FIXTURE, "--engine", "python")
    assert test.exit_code == 0, test.output
    coverage = assess("coverage", "--rulebook", FIXTURE, "--engine", "python")
    assert coverage.exit_code == 0
    firsts = [line for line in coverage.stdout.splitlines() if line.startswith("Edition")]
    assert firsts == [
        "Edition 2008: Rule coverage: 5 of 14 rungs (35.7%) chosen by at least one of 1 case(s).",
        "Edition 2009: Rule coverage: 7 of 18 rungs (38.9%) chosen by at least one of 1 case(s).",
    ]


def test_diff_against_a_revision_shows_a_criterion_added_since_as_its_own_row(book):
    """Adding a criterion and its evidence used to fail every case on the old side
    (unknown-criterion); now the criterion is a row of its own."""
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")

    def git(*args):
        subprocess.run(
            ["git", "-C", str(book), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            check=True,
            capture_output=True,
        )

    (book / "rulebook.yaml").write_text('name: one-edition\ntitle: One edition\nassessor: ">=0.2"\n', encoding="utf-8")
    (book / "cases" / "testshire-2009.yaml").unlink()
    (book / "cases" / "testshire-2009.expected.yaml").unlink()
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "rules")
    rules = book / "rules" / "patrol.yaml"
    overlay = (book / "editions" / "2009" / "patrol.yaml").read_text(encoding="utf-8")
    added = overlay.split("  - id: response")[1].split("\n", 1)[1]
    edit(rules, "grade:\n", "  - id: response\n" + added + "grade:\n")
    case = book / "cases" / "testshire-2008.yaml"
    edit(
        case,
        "          foot_patrol_hours: 24\n",
        "          foot_patrol_hours: 24\n      response:\n        evidence:\n          answered_share: 95\n",
    )
    result = assess("diff", "HEAD", "--rulebook", book, "--engine", "python")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("| testshire")]
    assert rows == ["| testshire-2008 | patrol | criterion response | new criterion | – | meeting |"]


def test_a_batch_grades_each_case_by_its_edition(tmp_path):
    out = tmp_path / "out"
    result = assess("batch", FIXTURE / "cases", "-o", out, "-f", "json", "--engine", "python", "-j", "1")
    assert result.exit_code == 0, result.output
    reports = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in out.rglob("testshire-*.json")}
    assert {name: r["rulebook"]["edition"] for name, r in reports.items()} == {
        "testshire-2008": "2008",
        "testshire-2009": "2009",
    }
    summary = (out / "summary.html").read_text(encoding="utf-8")
    # the 2008 case has no 'response' criterion: its cell says so instead of failing the summary
    row_2008 = next(line for line in summary.splitlines() if "<td>2007/08</td>" in line)
    assert row_2008.endswith('<td class="grade-none">–</td></tr>')


def _piped(case: Path, *args: str, cwd: Path = FIXTURE) -> subprocess.CompletedProcess:
    """`assess ARGS /dev/stdin` with CASE written into a pipe, in CWD (whose rulebook it finds)."""
    return subprocess.run(
        [sys.executable, "-m", "assessor", *args, "/dev/stdin"],
        input=case.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_a_case_given_as_a_pipe_is_read_once_for_its_edition_and_its_evidence():
    """A pipe can be read only once: the case used to be read for its edition, then again, empty,
    for its evidence."""
    run = _piped(FIXTURE / "cases" / "testshire-2009.yaml", "-f", "json", "--engine", "python")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["rulebook"]["edition"] == "2009" and judgements(result)["response"] == "failing"


@pytest.mark.parametrize("rulebook", ["editions", "bundled"])
def test_lint_reads_a_case_given_as_a_pipe_once(rulebook):
    """Lint read a case again for its repeated facts (and, with editions, first for its edition)."""
    root = FIXTURE if rulebook == "editions" else FIXTURE.parents[2]
    case = (
        FIXTURE / "cases" / "testshire-2009.yaml"
        if rulebook == "editions"
        else root / "cases" / "cambridgeshire-2008.yaml"
    )
    run = _piped(case, "lint", cwd=root)
    assert (run.returncode, run.stdout.splitlines()[-1:]) == (0, ["no problems found"]), run.stderr
