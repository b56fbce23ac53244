"""`assess lint -f github` and `-f sarif`: findings where pull requests are reviewed.

The SARIF log is validated against tests/data/sarif-2.1.0-required.schema.json, a schema
written for this project from the OASIS SARIF 2.1.0 specification (the properties lint
writes, their types and bounds, unknown properties refused).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from helpers import package_sources

from assessor.cli import main
from assessor.tooling.lint_output import CHECKS

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FIXTURES = TESTS / "lint"
SARIF_SCHEMA = json.loads((TESTS / "data" / "sarif-2.1.0-required.schema.json").read_text(encoding="utf-8"))


def lint(*args):
    result = CliRunner().invoke(main, ["lint", *map(str, args)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def findings(scenario: str) -> list:
    return json.loads(lint(FIXTURES / scenario / "rules", "-f", "json").stdout)


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A copy of the unfilled-slot scenario (an error and a warning), run from its top folder."""
    shutil.copytree(FIXTURES / "unfilled-slot", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_github_annotations_name_file_line_and_column(here):
    result = lint("rules", "-f", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        "::warning file=rules/patrol.yaml,line=14,col=7,title=assess lint%3A unused-slot::choice 'extent'"
    )
    assert lines[1].startswith(
        "::error file=templates/staffing.md.j2,line=1,col=29,title=assess lint%3A unfilled-slot::"
    )


def test_github_annotations_escape_what_would_end_a_command(here):
    from assessor.errors import Finding
    from assessor.tooling.lint_output import github

    text = github([Finding("a,b:c.yaml", 3, None, "type", "two\nlines, 100%")])
    assert text == "::error file=a%2Cb%3Ac.yaml,line=3,title=assess lint%3A type::two%0Alines, 100%25\n"


def test_sarif_validates_and_its_results_point_at_the_findings(here):
    result = lint("rules", "-f", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    jsonschema.validate(log, SARIF_SCHEMA, format_checker=jsonschema.FormatChecker())
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["unfilled-slot", "unused-slot"]
    for r in rules:
        assert r["help"]["text"] == CHECKS[r["id"]]
    got = [
        (
            rules[res["ruleIndex"]]["id"],
            res["ruleId"],
            res["level"],
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            res["locations"][0]["physicalLocation"]["region"],
        )
        for res in run["results"]
    ]
    assert got == [
        ("unused-slot", "unused-slot", "warning", "rules/patrol.yaml", {"startLine": 14, "startColumn": 7}),
        (
            "unfilled-slot",
            "unfilled-slot",
            "error",
            "templates/staffing.md.j2",
            {"startLine": 1, "startColumn": 29},
        ),
    ]


@pytest.mark.parametrize("scenario", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_every_scenario_gives_a_valid_sarif_log(scenario):
    log = json.loads(lint(FIXTURES / scenario / "rules", "-f", "sarif").stdout)
    jsonschema.validate(log, SARIF_SCHEMA, format_checker=jsonschema.FormatChecker())
    assert len(log["runs"][0]["results"]) == len(findings(scenario))


def test_the_schema_catches_what_a_broken_writer_would_produce():
    """The hand-written schema must reject what the specification rejects, or it proves nothing."""
    jsonschema.Draft202012Validator.check_schema(SARIF_SCHEMA)
    base = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]}
    jsonschema.validate(base, SARIF_SCHEMA)
    broken = [
        {"version": "2.0.0", "runs": []},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "a"}]}]},
        {
            "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "fatal"}]}],
        },
        {
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": {"name": "x"}},
                    "results": [
                        {
                            "message": {"text": "m"},
                            "locations": [
                                {"physicalLocation": {"artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}
                            ],
                        }
                    ],
                }
            ],
        },
    ]
    for doc in broken:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(doc, SARIF_SCHEMA)


def _reported_check_ids() -> set:
    """Every check id the package can report: string literals passed as a Finding's check."""
    ids = set()
    for path, tree in package_sources():
        if path.name == "lint_output.py":
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "Finding":
                args = node.args[3:4]
            elif name in ("error", "fail", "finding", "_at"):
                args = node.args[:3]
            else:
                continue
            ids |= {
                a.value
                for a in args
                if isinstance(a, ast.Constant)
                and isinstance(a.value, str)
                and re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", a.value)
                and a.value not in ("error", "warning")
            }
    return ids


def test_every_check_has_help_text():
    corpus = yaml.safe_load((TESTS / "bad" / "corpus.yaml").read_text(encoding="utf-8"))
    in_corpus = {e["check"] for e in _entries(corpus) if "check" in e}
    in_lint = {f["check"] for scenario in FIXTURES.iterdir() if scenario.is_dir() for f in findings(scenario.name)}
    known = _reported_check_ids() | in_corpus | in_lint
    assert {"unreachable-rung", "scale-gap", "unused-fact", "missing-fact"} <= known
    assert sorted(known - set(CHECKS)) == []


def _entries(doc):
    if isinstance(doc, dict):
        yield doc
        for v in doc.values():
            yield from _entries(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _entries(v)
