"""Schemas generated from a rulebook, checked by an independent validator (check-jsonschema).

check-jsonschema reads YAML as an editor's YAML language server does (YAML 1.2) and
validates with the jsonschema library: nothing of the assessor's own reading is involved.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from assessor.cli import main

ROOT = Path(__file__).resolve().parent.parent
CAMBRIDGESHIRE = ROOT / "cases" / "cambridgeshire-2008.yaml"
CHECK = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def validate(schema: Path, *files: Path) -> subprocess.CompletedProcess:
    assert CHECK, "check-jsonschema is not installed: pip install -e '.[test]'"
    return subprocess.run(
        [CHECK, "--no-cache", "--schemafile", str(schema), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def case_schema(tmp_path_factory) -> Path:
    """The case schema of the bundled rulebook, as `assess schema` prints it."""
    path = tmp_path_factory.mktemp("schema") / "case.schema.json"
    result = run("schema", "--rulebook", ROOT)
    assert result.exit_code == 0, result.output
    path.write_text(result.stdout, encoding="utf-8")
    return path


@pytest.mark.slow  # check-jsonschema in a subprocess
def test_the_bundled_cases_validate_clean(case_schema):
    cases = sorted(p for p in (ROOT / "cases").glob("*.yaml") if not p.name.endswith(".expected.yaml"))
    done = validate(case_schema, *cases)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow  # check-jsonschema in a subprocess, per case
@pytest.mark.parametrize(
    ("old", "new", "flagged"),
    [
        # a misspelt fact: the schema names every fact, so the wrong name and the missing one are both flagged
        (
            "          improvement_reviews_per_year: 12   #",
            "          improvement_review_per_year: 12   #",
            "('improvement_review_per_year' was unexpected)",
        ),
        # a word outside the one-of's words
        (
            "abstraction_monitoring: historical",
            "abstraction_monitoring: sometimes",
            "evidence.abstraction_monitoring: 'sometimes' is not valid",
        ),
        # a number below the fact's declared minimum
        (
            "          improvement_reviews_per_year: 12   #",
            "          improvement_reviews_per_year: -3   #",
            "evidence.improvement_reviews_per_year: -3 is not valid",
        ),
    ],
)
def test_the_generated_schema_flags_what_the_assessor_refuses(case_schema, tmp_path, old, new, flagged):
    text = CAMBRIDGESHIRE.read_text(encoding="utf-8")
    assert text.count(old) == 1
    case = tmp_path / "cambridgeshire-2008.yaml"
    case.write_text(text.replace(old, new), encoding="utf-8")
    done = validate(case_schema, case)
    assert done.returncode == 1
    assert flagged in done.stdout, done.stdout
    # and the assessor agrees: the same case is refused with a located error
    assert run(case, "--rulebook", ROOT).exit_code == 2


def test_the_schema_describes_each_fact(case_schema):
    import json

    schema = json.loads(case_schema.read_text(encoding="utf-8"))
    fw = schema["properties"]["frameworks"]["properties"]["neighbourhood_policing"]
    criteria = fw["properties"]["criteria"]["properties"]
    fact = criteria["satisfaction_informs_delivery"]["properties"]["evidence"]["properties"][
        "improvement_reviews_per_year"
    ]
    known = fact["anyOf"][0]
    assert (known["type"], known["minimum"]) == ("integer", 0)
    assert known["description"].startswith("Meetings a year that turn dissatisfaction reports")
    monitoring = next(
        c["properties"]["evidence"]["properties"]["abstraction_monitoring"]
        for c in criteria.values()
        if "abstraction_monitoring" in c["properties"]["evidence"]["properties"]
    )
    assert "historical" in monitoring["anyOf"][0]["enum"]


def test_schema_write_and_check_in_a_rulebook_of_ones_own(tmp_path, monkeypatch):
    book = tmp_path / "team"
    assert run("init", book).exit_code == 0
    monkeypatch.chdir(book)
    assert run("schema", "--check").exit_code == 0  # init wrote them
    rules = book / "rules" / "neighbourhood-policing.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("improvement_reviews_per_year", "improvement_meetings_per_year"), encoding="utf-8")
    stale = run("schema", "--check")
    assert stale.exit_code == 1
    assert "schemas/case.schema.json: out of date" in stale.stdout
    assert run("schema", "--write").stdout.splitlines() == [
        "schemas/case.schema.json: written",
        "schemas/rules.schema.json: unchanged",
    ]
    assert "improvement_meetings_per_year" in (book / "schemas" / "case.schema.json").read_text(encoding="utf-8")
    assert run("schema", "--check").exit_code == 0


def test_the_bundled_rulebook_is_not_written_to(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no rulebook here: discovery ends at the bundled one
    result = run("schema", "--write")
    assert result.exit_code == 2
    assert "the rulebook bundled with the assessor" in result.stderr
