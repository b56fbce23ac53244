"""A rulebook is a folder that stands alone: its manifest, and how every command finds it.

Each test copies the bundled rulebook (or part of it) into a temporary folder, as a policy
team would, and checks that the copy, not the bundled rules, grades and is named.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from assessor.cli import main
from assessor.rulebook.locate import locate, version_satisfies

ROOT = Path(__file__).resolve().parent.parent
CASE = "cases/cambridgeshire-2008.yaml"
# Cambridgeshire reviews improvements 12 times a year: `frequently` at >= 12, `occasionally` at >= 13
THRESHOLD = ("improvement_reviews_per_year >= 12", "improvement_reviews_per_year >= 13")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def copy_rulebook(into: Path, manifest: bool = True) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    for name in ("rules", "templates"):
        shutil.copytree(ROOT / name, into / name)
    (into / "cases").mkdir()
    for name in ("cambridgeshire-2008.yaml", "cambridgeshire-2008.expected.yaml"):
        shutil.copy(ROOT / "cases" / name, into / "cases" / name)
    if manifest:
        (into / "rulebook.yaml").write_text(
            'name: team-rules\ntitle: Our grading rules\nassessor: ">=0.2"\n', encoding="utf-8"
        )
    return into


def raise_threshold(book: Path) -> None:
    path = book / "rules" / "neighbourhood-policing.yaml"
    text = path.read_text(encoding="utf-8")
    assert THRESHOLD[0] in text
    path.write_text(text.replace(*THRESHOLD), encoding="utf-8")


def improvements(result) -> str:
    doc = json.loads(result.stdout)
    fw = next(f for f in doc["frameworks"] if f["id"] == "neighbourhood_policing")
    c = next(c for c in fw["criteria"] if c["id"] == "satisfaction_informs_delivery")
    return c["choices"]["improvements"]


# ---------------------------------------------------------------- discovery


def test_a_case_is_graded_by_the_rulebook_above_it_wherever_the_command_runs(tmp_path, monkeypatch):
    book = copy_rulebook(tmp_path / "team")
    raise_threshold(book)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run(book / CASE, "-f", "json")
    assert result.exit_code == 0, result.output
    assert improvements(result) == "occasionally"  # the team's threshold, not the bundled one
    rulebook = json.loads(result.stdout)["rulebook"]
    assert (rulebook["name"], rulebook["edition"], Path(rulebook["path"])) == ("team-rules", None, book)
    assert result.stderr == ""


def test_the_working_directory_and_its_parents_are_searched_next(tmp_path, monkeypatch):
    book = copy_rulebook(tmp_path / "team")
    raise_threshold(book)
    loose = tmp_path / "loose.yaml"
    shutil.copy(ROOT / CASE, loose)  # a case outside any rulebook
    monkeypatch.chdir(book / "templates" / "statements")
    result = run(loose, "-f", "json")
    assert result.exit_code == 0, result.output
    assert improvements(result) == "occasionally"
    assert json.loads(result.stdout)["rulebook"]["name"] == "team-rules"


@pytest.mark.slow
def test_every_policy_command_reads_the_rulebook_it_is_run_in(tmp_path, monkeypatch):
    book = copy_rulebook(tmp_path / "team")
    raise_threshold(book)
    monkeypatch.chdir(book)
    for command in ("lint", "test", "coverage"):
        result = run(command, "--engine", "python") if command != "lint" else run(command)
        first = result.stderr.splitlines()[0]
        assert first.startswith("rulebook team-rules at . (nearest the working directory), revision "), first
    failed = run("test", "--engine", "python")
    assert failed.exit_code == 1  # the raised threshold changes Cambridgeshire's choice
    assert "choice improvements: expected frequently, got occasionally" in failed.stdout
    sketch = run("new-case", "--force", "Wessex Police", "-o", "cases/wessex-2008.yaml")
    assert sketch.exit_code == 0, sketch.output


@pytest.mark.slow
def test_markdown_and_text_reports_end_by_naming_the_rulebook(tmp_path):
    book = copy_rulebook(tmp_path / "team")
    for fmt in ("markdown", "text"):
        result = run(book / CASE, "-f", fmt)
        revision = locate(rulebook=book).revision
        assert result.stdout.splitlines()[-1] == (
            f"Graded by the rulebook team-rules (revision {revision[:12]}), assessor 0.2.0."
        )
    html = run(book / CASE, "-f", "html").stdout
    assert f"rulebook team-rules ({revision[:12]})" in html


def test_rules_option_still_names_a_rules_folder(tmp_path):
    book = copy_rulebook(tmp_path / "team", manifest=False)
    raise_threshold(book)
    result = run(ROOT / CASE, "--rules", book / "rules", "-f", "json")
    assert improvements(result) == "occasionally"
    assert json.loads(result.stdout)["rulebook"]["name"] is None  # no manifest beside those rules


def test_rulebook_option_overrides_discovery(tmp_path):
    book = copy_rulebook(tmp_path / "team")
    raise_threshold(book)
    result = run(ROOT / CASE, "--rulebook", book, "-f", "json", "--engine", "python")
    assert improvements(result) == "occasionally"
    missing = run(ROOT / CASE, "--rulebook", tmp_path)
    assert missing.exit_code == 2
    assert "--rulebook: no rulebook.yaml here" in missing.stderr


def test_the_bundled_rulebook_beside_loose_rules_is_a_warning_naming_both(tmp_path, monkeypatch):
    book = copy_rulebook(tmp_path / "copied", manifest=False)  # as the new user did
    raise_threshold(book)
    monkeypatch.chdir(book)
    result = run(CASE, "-f", "json")
    assert result.exit_code == 0
    assert improvements(result) == "frequently"  # the bundled rules, as the warning says
    assert result.stderr.startswith("warning: grading with the rulebook bundled with the assessor (hmic-2008 at ")
    assert "not the rules in rules, which have no rulebook.yaml" in result.stderr


def test_cases_from_two_rulebooks_are_refused(tmp_path):
    one, two = copy_rulebook(tmp_path / "one"), copy_rulebook(tmp_path / "two")
    result = run("test", one / CASE, two / CASE)
    assert result.exit_code == 2
    assert "these cases belong to different rulebooks" in result.stderr


def test_the_revision_is_the_rulebook_not_where_it_lies(tmp_path):
    one, two = copy_rulebook(tmp_path / "one"), copy_rulebook(tmp_path / "two")
    assert locate(rulebook=one).revision == locate(rulebook=two).revision
    path = two / "templates" / "report.md.j2"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert locate(rulebook=two).revision != locate(rulebook=one).revision


# ---------------------------------------------------------------- the manifest


BAD_MANIFESTS = pytest.mark.parametrize(
    ("manifest", "where", "message"),
    [
        ('name: x\ntitle: t\nassessor: ">=9"\n', ":3:11:", "this rulebook needs assessor >=9, but this is assessor"),
        ('name: x\ntitle: t\nassessor: "at least 0.2"\n', ":3:11:", "cannot read 'at least 0.2'"),
        ('name: X Y\ntitle: t\nassessor: ">=0.2"\n', ":1:7:", "name must be lower-case letters, digits and hyphens"),
        ('name: x\ntitle: t\nassesor: ">=0.2"\n', ":3:1:", "did you mean 'assessor'?"),
        ('name: x\ntitle: t\nassessor: ">=0.2"\neditions:\n  - {id: "1", rules: ../elsewhere}\n', ":5:22:", "inside"),
        ('name: x\ntitle: t\nassessor: ">=0.2"\neditions:\n  - {id: "1", rules: nosuch}\n', ":5:22:", "not exist"),
        ("name: x\ntitle: [t\n", ":3:1:", "syntax error"),
    ],
)


@BAD_MANIFESTS
def test_a_bad_manifest_is_a_located_error(tmp_path, manifest, where, message):
    book = copy_rulebook(tmp_path / "team")
    (book / "rulebook.yaml").write_text(manifest, encoding="utf-8")
    result = run(book / CASE)
    assert result.exit_code == 2
    assert f"rulebook.yaml{where}" in result.stderr and message in result.stderr, result.stderr


@BAD_MANIFESTS
def test_lint_reports_a_bad_manifest_as_a_finding(tmp_path, manifest, where, message):
    """The manifest is part of the rulebook lint checks: its mistakes are findings, exit 1, in
    every format, not a refusal to run."""
    book = copy_rulebook(tmp_path / "team")
    (book / "rulebook.yaml").write_text(manifest, encoding="utf-8")
    result = run("lint", "--rulebook", book, "-f", "parsable")
    assert result.exit_code == 1, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith(f"{book / 'rulebook.yaml'}{where} [error] "))
    assert message in line
    found = run("lint", "-f", "json", book / CASE)  # found beside the case, as well as named
    assert found.exit_code == 1
    assert any(f["path"].endswith("rulebook.yaml") for f in json.loads(found.stdout))


def test_lint_without_a_rulebook_is_still_a_usage_error(tmp_path):
    result = run("lint", "--rulebook", tmp_path)
    assert result.exit_code == 2 and "no rulebook.yaml here" in result.stderr


def test_editions_name_their_rules_folder(tmp_path):
    book = copy_rulebook(tmp_path / "team")
    shutil.copytree(book / "rules", book / "rules-2008")
    raise_threshold(book)  # the later edition, in rules/, moves the threshold
    (book / "rulebook.yaml").write_text(
        'name: team\ntitle: t\nassessor: ">=0.2"\neditions:\n'
        '  - {id: "2008", rules: rules-2008}\n  - {id: "2009", rules: rules}\n',
        encoding="utf-8",
    )
    where = locate(rulebook=book)
    assert (where.edition, where.rules.name) == ("2009", "rules")
    result = run(book / CASE, "-f", "json", "--engine", "python")
    assert json.loads(result.stdout)["rulebook"]["edition"] == "2009"
    assert improvements(result) == "occasionally"
    older = run(book / CASE, "--rules", book / "rules-2008", "-f", "json", "--engine", "python")
    assert json.loads(older.stdout)["rulebook"]["edition"] == "2008"
    assert improvements(older) == "frequently"


@pytest.mark.parametrize(
    ("spec", "met"),
    [
        (">=0.2", True),
        (">=0.2, <1", True),
        (">0.2", False),
        ("==0.2.*", True),
        ("==0.1.*", False),
        ("~=0.2", True),
        ("~=0.2.1", False),
        ("!=0.2.0", False),
        ("0.2", True),
        ("<0.2", False),
    ],
)
def test_version_ranges(spec, met):
    assert version_satisfies("0.2.0", spec) is met


def test_batch_reads_the_rulebook_of_its_cases_and_names_it(tmp_path):
    book = copy_rulebook(tmp_path / "team")
    raise_threshold(book)
    out = tmp_path / "out"
    result = run("batch", book / "cases", "-o", out, "-f", "json", "--engine", "python", "-j", "1")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0].startswith("rulebook team-rules at ")
    doc = json.loads((out / "reports" / "cambridgeshire-2008.json").read_text(encoding="utf-8"))
    assert doc["rulebook"]["name"] == "team-rules"
    fw = next(f for f in doc["frameworks"] if f["id"] == "neighbourhood_policing")
    criterion = next(c for c in fw["criteria"] if c["id"] == "satisfaction_informs_delivery")
    assert criterion["choices"]["improvements"] == "occasionally"
    revision = locate(rulebook=book).revision
    assert f"Graded by the rulebook team-rules (revision {revision[:12]})" in (out / "summary.html").read_text()
