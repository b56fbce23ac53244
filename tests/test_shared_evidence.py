"""Facts declared once for a whole framework (its `evidence:`) and given once by a case.

The bundled Neighbourhood Policing rules declare `neighbourhoods` so; three criteria read it.
The older form (the fact declared under each criterion, and given under each in the case)
stays valid: both forms grade every bundled case alike, and a case of the older form is read
by the newer rules, with a lint warning that says how to move it.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import CAMBRIDGESHIRE, CASES, ROOT, read_yaml, write_yaml

from assessor.case.read import load_case
from assessor.cli import main
from assessor.errors import AssessorError
from assessor.rulebook.read import load_rulebook
from assessor.session import Session
from assessor.tooling.new_case import skeleton
from assessor.tooling.rulebook_schemas import case_schema

NP = "neighbourhood_policing"
NP_FILE = "neighbourhood-policing.yaml"
BUNDLED_CASES = sorted(p for p in CASES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
READERS = ("coverage", "community_engagement", "problem_solving")  # the criteria reading neighbourhoods


def assess(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def copy_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    return rules


def older_rules(tmp_path: Path) -> Path:
    """The bundled rules as they were before the framework declared its shared facts: each
    shared fact declared again under every criterion that reads it."""
    rules = copy_rules(tmp_path)
    book = load_rulebook(ROOT / "rules")
    doc = read_yaml(rules / NP_FILE)
    shared = doc.pop("evidence")
    fw = next(f for f in book.frameworks if f.id == NP)
    for item in doc["criteria"]:
        c = next(c for c in fw.criteria if c.id == item["id"])
        item["evidence"] = {**{n: copy.deepcopy(shared[n]) for n in c.shared}, **item["evidence"]}
    write_yaml(rules / NP_FILE, doc)
    return rules


def older_case(path: Path, out: Path) -> Path:
    """The case as written before: each shared fact given under every criterion reading it."""
    doc = read_yaml(path)
    fw = doc["frameworks"][NP]
    shared = fw.pop("evidence")
    for cid in READERS:
        fw["criteria"][cid]["evidence"] = {**shared, **fw["criteria"][cid]["evidence"]}
    write_yaml(out, doc)
    return out


def comparable(result: dict) -> dict:
    """The result without what names the files' bytes and lines (hashes, paths, rung lines)."""

    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in ("line", "rulebook", "rules_revision", "case_digest")}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    return strip(json.loads(json.dumps(result)))


# ---------------------------------------------------------------- the model


def test_the_framework_declares_neighbourhoods_once_and_three_criteria_read_it():
    book = load_rulebook(ROOT / "rules")
    fw = next(f for f in book.frameworks if f.id == NP)
    assert [f.name for f in fw.evidence] == ["neighbourhoods"]
    readers = [c.id for c in fw.criteria if "neighbourhoods" in c.shared]
    assert readers == list(READERS)
    for c in fw.criteria:
        names = [f.name for f in c.evidence]
        assert names.count("neighbourhoods") == (1 if c.id in READERS else 0)
        assert "neighbourhoods" not in [f.name for f in c.own_evidence]
    coverage = next(c for c in fw.criteria if c.id == "coverage")
    spec = coverage.evidence[0]  # the shared fact keeps its declaration: type, range, place
    assert (spec.name, spec.type, spec.min) == ("neighbourhoods", "integer", 1)
    assert spec.place.path.endswith(NP_FILE) and spec.place.line == 11


# ---------------------------------------------------------------- both forms grade alike


@pytest.mark.slow  # every bundled case, twice
@pytest.mark.parametrize("engine", ["durable", "python"])
def test_the_older_form_grades_every_bundled_case_alike(tmp_path, engine):
    rules = older_rules(tmp_path)
    with (
        Session(ROOT / "rules", ROOT / "templates", engine) as newer,
        Session(rules, ROOT / "templates", engine) as older,
    ):
        for path in BUNDLED_CASES:
            old_case = older_case(path, tmp_path / path.name)
            expected = comparable(newer.assess(path, margins=True))
            assert comparable(older.assess(old_case, margins=True)) == expected, path.name
            # a case written the older way, read by the newer rules
            assert comparable(newer.assess(old_case, margins=True)) == expected, path.name


def test_a_case_of_the_older_form_is_linted_with_a_warning_per_copy(tmp_path):
    case = older_case(CAMBRIDGESHIRE, tmp_path / "case.yaml")
    result = assess("lint", ROOT / "rules", case, "-f", "parsable")
    assert result.exit_code == 0, result.output  # warnings: the case still assesses
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert all("[warning] neighbourhoods is a fact of the whole framework" in line for line in lines)
    assert all(line.endswith("(fact-per-criterion)") and "under the framework's `evidence:`" in line for line in lines)
    text = case.read_text(encoding="utf-8").splitlines()
    at = [i + 1 for i, line in enumerate(text) if line.strip().startswith("neighbourhoods:")]
    assert [line.split(":")[1] for line in lines] == [str(n) for n in at]


def test_older_rules_are_linted_with_a_warning_per_repeated_declaration(tmp_path):
    rules = older_rules(tmp_path)
    result = assess("lint", rules, "-f", "parsable")
    assert result.exit_code == 0, result.output
    text = (rules / NP_FILE).read_text(encoding="utf-8").splitlines()
    at = [i + 1 for i, line in enumerate(text) if line.strip().startswith("neighbourhoods:")]
    warned = [line for line in result.stdout.splitlines() if "(repeated-fact)" in line]
    assert [int(line.split(":")[1]) for line in warned] == at[1:]
    assert f"also declared by criterion 'coverage' (line {at[0]})" in warned[0]
    assert "declare it once under the framework's `evidence:`" in warned[0]


def test_a_fact_given_two_values_under_older_rules_is_flagged(tmp_path):
    # rules that declare a fact per criterion may be given it twice: lint says when the copies differ
    rules = older_rules(tmp_path)
    case = older_case(CAMBRIDGESHIRE, tmp_path / "case.yaml")
    doc = read_yaml(case)
    doc["frameworks"][NP]["criteria"]["community_engagement"]["evidence"]["neighbourhoods"] = 30
    write_yaml(case, doc)
    result = assess("lint", rules, case, "-f", "parsable")
    assert result.exit_code == 0, result.stdout
    found = [line for line in result.stdout.splitlines() if "(inconsistent-fact)" in line]
    assert len(found) == 1
    assert "[warning] neighbourhoods is 30 here but 31 in criterion 'coverage'" in found[0]


# ---------------------------------------------------------------- a case gives the fact once


def test_new_case_asks_each_shared_fact_once_and_the_skeleton_loads(tmp_path):
    book = load_rulebook(ROOT / "rules")
    text = skeleton(book, "Testshire Constabulary", "2007/08")
    assert text.count("neighbourhoods: unknown") == 1
    framework_part = text[text.index(f"  {NP}:") : text.index("    criteria:")]
    assert "    evidence:" in framework_part and "      neighbourhoods: unknown\n" in framework_part
    path = tmp_path / "new.yaml"
    path.write_text(text, encoding="utf-8")
    case = load_case(path, book)
    assert case.frameworks[NP].shared == {"neighbourhoods": None}
    for cid in READERS:
        assert case.frameworks[NP].evidence[cid]["neighbourhoods"] is None
        assert list(case.frameworks[NP].evidence[cid])[0] == "neighbourhoods"  # shared facts first


def test_one_value_reaches_every_criterion_that_reads_it(python_session, tmp_path):
    doc = read_yaml(CAMBRIDGESHIRE)
    doc["frameworks"][NP]["evidence"]["neighbourhoods"] = 40
    path = tmp_path / "case.yaml"
    write_yaml(path, doc)
    result = python_session.assess(path)
    fw = next(f for f in result["frameworks"] if f["id"] == NP)
    by_id = {c["id"]: c for c in fw["criteria"]}
    for cid in READERS:
        assert by_id[cid]["values"]["neighbourhoods"] == 40
    assert by_id["coverage"]["values"]["contact_share"] == pytest.approx(31 / 40)
    assert "neighbourhoods" not in by_id["sustainability"]["values"]  # it reads no shared fact


def test_an_unknown_shared_fact_leaves_only_its_readers_unassessed(python_session, tmp_path):
    doc = read_yaml(CAMBRIDGESHIRE)
    doc["frameworks"][NP]["evidence"]["neighbourhoods"] = "unknown"
    path = tmp_path / "case.yaml"
    write_yaml(path, doc)
    fw = next(f for f in python_session.assess(path)["frameworks"] if f["id"] == NP)
    for c in fw["criteria"]:
        if c["id"] in READERS:
            assert c["judgement"] is None and "neighbourhoods" in c["missing"]
        else:
            assert c["assessed"], c["id"]


@pytest.mark.slow
def test_a_statement_may_read_a_shared_fact_its_rules_do_not(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    statement = templates / "statements" / NP / "sustainability.md.j2"
    statement.write_text(
        statement.read_text(encoding="utf-8").rstrip("\n") + " ({{ values.neighbourhoods }} neighbourhoods.)\n",
        encoding="utf-8",
    )
    rules = copy_rules(tmp_path)
    lint = assess("lint", rules, "--templates", templates, CAMBRIDGESHIRE)
    assert lint.exit_code == 0, lint.output
    assert "unknown-value" not in lint.output
    with Session(rules, templates, "python") as s:
        fw = next(f for f in s.assess(CAMBRIDGESHIRE)["frameworks"] if f["id"] == NP)
    sustainability = next(c for c in fw["criteria"] if c["id"] == "sustainability")
    assert sustainability["statement"].endswith("(31 neighbourhoods.)")


# ---------------------------------------------------------------- mistakes, located


def _case_with(tmp_path: Path, change) -> Path:
    doc = read_yaml(CAMBRIDGESHIRE)
    change(doc["frameworks"][NP])
    path = tmp_path / "case.yaml"
    write_yaml(path, doc)
    return path


def _line_of(path: Path, text: str, nth: int = 0) -> int:
    return [i + 1 for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()) if text in line][nth]


def test_a_shared_fact_given_under_a_criterion_too_is_an_error(tmp_path):
    path = _case_with(tmp_path, lambda fw: fw["criteria"]["coverage"]["evidence"].update(neighbourhoods=31))
    result = assess(path)
    assert result.exit_code == 2
    line = _line_of(path, "neighbourhoods:", 1)
    given = _line_of(path, "neighbourhoods:", 0)
    assert f"error: {path}:{line}:" in result.output
    assert f"neighbourhoods is already given for the whole framework (under its `evidence:`, line {given})" in (
        result.output
    )
    assert "(duplicate-fact)" in result.output


def test_copies_of_a_shared_fact_that_disagree_are_an_error(tmp_path):
    path = older_case(CAMBRIDGESHIRE, tmp_path / "older.yaml")
    doc = read_yaml(path)
    doc["frameworks"][NP]["criteria"]["problem_solving"]["evidence"]["neighbourhoods"] = 30
    write_yaml(path, doc)
    result = assess(path)
    assert result.exit_code == 2
    assert f"error: {path}:{_line_of(path, 'neighbourhoods: 30')}:11: neighbourhoods is 30 here but 31 in" in (
        result.output
    )
    assert "give it once, under the framework's `evidence:` (conflicting-fact)" in result.output


def test_a_shared_fact_left_out_is_an_error_at_the_framework(tmp_path):
    path = _case_with(tmp_path, lambda fw: fw.pop("evidence"))
    result = assess(path)
    assert result.exit_code == 2
    assert f"error: {path}:{_line_of(path, 'criteria:')}:5: missing fact 'neighbourhoods'" in result.output
    assert "under the framework's `evidence:` (beside `criteria:`)" in result.output
    assert result.output.count("error:") == 1


def test_a_fact_of_a_criterion_under_the_framework_is_an_error_that_says_where_it_goes(tmp_path):
    path = _case_with(tmp_path, lambda fw: fw["evidence"].update(largest_span=17))
    result = assess(path)
    assert result.exit_code == 2
    assert f"{path}:{_line_of(path, 'largest_span: 17')}:7: unknown fact 'largest_span'" in result.output
    assert "it is a fact of criterion 'coverage': give it under that criterion's evidence" in result.output


def test_a_case_gives_framework_evidence_only_where_the_rules_declare_some(tmp_path):
    doc = read_yaml(CAMBRIDGESHIRE)
    doc["frameworks"]["citizen_focus"]["evidence"] = {"neighbourhoods": 31}
    path = tmp_path / "case.yaml"
    write_yaml(path, doc)
    result = assess(path)
    assert result.exit_code == 2
    assert "unknown key 'evidence' in framework 'citizen_focus'" in result.output


def _rules_with(tmp_path: Path, change) -> Path:
    rules = copy_rules(tmp_path)
    text = (rules / NP_FILE).read_text(encoding="utf-8")
    (rules / NP_FILE).write_text(change(text), encoding="utf-8")
    return rules


def test_a_criterion_declaring_a_shared_fact_again_is_an_error_assess_and_lint_report(tmp_path):
    again = "      neighbourhoods: {type: integer, min: 0}\n"
    rules = _rules_with(tmp_path, lambda t: t.replace("      engagement_plans:", again + "      engagement_plans:", 1))
    line = _line_of(rules / NP_FILE, again.strip())
    expected = (
        f"{rules / NP_FILE}:{line}:7: fact 'neighbourhoods' is already declared for the whole framework (under its "
        "`evidence:`, line 11), and every criterion reads it from there: remove it here (redeclared-fact)"
    )
    result = assess(CAMBRIDGESHIRE, "--rules", rules)
    assert result.exit_code == 2
    assert result.output == f"error: {expected}\n"
    lint = assess("lint", rules, CAMBRIDGESHIRE, "-f", "parsable")
    assert lint.exit_code == 1
    assert lint.stdout.splitlines() == [expected.replace(": fact", ": [error] fact", 1)]


def test_a_shared_fact_named_like_an_indicator_is_an_error(tmp_path):
    rules = _rules_with(tmp_path, lambda t: t.replace("  neighbourhoods: {", "  kdi: integer\n  neighbourhoods: {", 1))
    with pytest.raises(AssessorError) as e:
        load_rulebook(rules)
    (finding,) = e.value.findings
    assert (finding.line, finding.column, finding.check) == (11, 3, "duplicate-name")
    assert "'kdi' is already the name of an indicator" in finding.message


def test_a_shared_fact_no_criterion_reads_is_a_lint_warning(tmp_path):
    rules = _rules_with(
        tmp_path, lambda t: t.replace("  neighbourhoods: {", "  panels: integer\n  neighbourhoods: {", 1)
    )
    result = assess("lint", rules, "-f", "parsable")
    assert result.exit_code == 0
    assert result.stdout == (
        f"{rules / NP_FILE}:11:3: [warning] fact 'panels' of framework '{NP}' is read by no criterion's derived "
        "value, condition or template; use it in a rule or remove it (every case must still give it) (unused-fact)\n"
    )


# ---------------------------------------------------------------- editions and editors


def test_a_case_of_either_form_is_read_across_editions(tmp_path):
    # `assess diff --edition` reads a case against rules it was not written for
    older = load_rulebook(older_rules(tmp_path))
    case = load_case(CAMBRIDGESHIRE, older, across_editions=True)
    for cid in READERS:
        assert case.frameworks[NP].evidence[cid]["neighbourhoods"] == 31
    newer = load_rulebook(ROOT / "rules")
    old_case = load_case(older_case(CAMBRIDGESHIRE, tmp_path / "older.yaml"), newer, across_editions=True)
    assert old_case.frameworks[NP].shared == {"neighbourhoods": 31}


def test_the_generated_case_schema_asks_a_shared_fact_under_its_framework():
    schema = case_schema(load_rulebook(ROOT / "rules"))
    fw = schema["properties"]["frameworks"]["properties"][NP]
    assert fw["required"] == ["criteria", "evidence", "surveys"]
    assert fw["properties"]["evidence"]["required"] == ["neighbourhoods"]
    for cid, criterion in fw["properties"]["criteria"]["properties"].items():
        assert "neighbourhoods" not in criterion["properties"]["evidence"]["properties"], cid
    other = schema["properties"]["frameworks"]["properties"]["citizen_focus"]
    assert "evidence" not in other["properties"] and "evidence" not in other["required"]


def test_a_headcount_warning_on_a_shared_fact_points_where_the_case_gives_it(tmp_path):
    statement = "    statement: statements/neighbourhood_policing/community-engagement.md.j2\n"
    rules = _rules_with(
        tmp_path, lambda t: t.replace(statement, '    headcounts: [[neighbourhoods * 10, "30 + 1"]]\n' + statement)
    )
    line = _line_of(CAMBRIDGESHIRE, "neighbourhoods: 31")
    result = assess("lint", rules, CAMBRIDGESHIRE, "-f", "parsable")
    assert f"{CAMBRIDGESHIRE}:{line}:23: [warning] neighbourhoods * 10 is 310 but 30 + 1 is 31" in result.stdout
    older = older_case(CAMBRIDGESHIRE, tmp_path / "older.yaml")  # given under the criterion: placed there
    line = _line_of(older, "neighbourhoods: 31", 1)
    result = assess("lint", rules, older, "-f", "parsable")
    assert f"{older}:{line}:27: [warning] neighbourhoods * 10 is 310 but 30 + 1 is 31" in result.stdout
