"""Never print a wrong report (issue 12 §2): what a case says lands in the report as text,
never as markup; a figure that is probably mistyped is pointed out; summary.csv cannot run
formulas. Inputs that must be refused are in the bad-input corpus (tests/bad/)."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from helpers import CAMBRIDGESHIRE, ROOT, assess


def _case(tmp_path, *edits, source=CAMBRIDGESHIRE, name="case.yaml"):
    text = source.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _tables(markdown: str) -> list:
    """Each Markdown table as a list of rows of cells, split the way a Markdown renderer splits
    them (on `|` not escaped by a backslash)."""
    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            current.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
        elif current:
            tables.append(current)
            current = []
    return tables


# ------------------------------------------------------------------ Markdown: tables and narrative


def test_a_bar_in_the_short_name_does_not_shift_the_table_columns(tmp_path):
    case = _case(tmp_path, ("short_name: Cambridgeshire", "short_name: Cambs | Peterborough"))
    result = assess(case)
    assert result.exit_code == 0, result.output
    tables = _tables(result.stdout)
    assert tables
    for table in tables:
        assert {len(row) for row in table} == {len(table[0])}, table
    assert any(row[0] == r"Cambs \| Peterborough" for table in tables for row in table)


def test_narrative_text_is_text_in_markdown_not_markup(tmp_path):
    hostile = [
        "<script>alert(1)</script> Teams are stable.",
        "See [the plan](javascript:alert(1)) for details.",
        "# Not a heading",
        "<img src=x onerror=alert(1)>",
    ]
    case = _case(
        tmp_path,
        (
            "        strengths:\n          - >-\n            Managers are being encouraged",
            "        strengths:\n"
            + "".join(f"          - {yaml_str(h)}\n" for h in hostile)
            + "          - >-\n            Managers are being encouraged",
        ),
    )
    result = assess(case)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert not re.search(r"(?<!\\)<", out), "raw HTML left live"
    assert not re.search(r"(?<!\\)\]\(javascript:", out), "a live javascript: link"
    assert not any(line.lstrip("- ").startswith("# Not a heading") for line in out.splitlines())
    # still readable as the inspector wrote it
    assert "alert(1)" in out and "Not a heading" in out and "Teams are stable." in out


def yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_context_text_and_force_name_are_escaped_in_markdown(tmp_path):
    case = _case(
        tmp_path,
        ("force: Cambridgeshire Constabulary", 'force: "Cambs <b>Constabulary</b>"'),
        (
            "    - >-\n      Cambridgeshire is a medium-sized county",
            '    - "# Heading injected"\n    - >-\n      Cambridgeshire is a medium-sized county',
        ),
    )
    result = assess(case)
    assert result.exit_code == 0, result.output
    assert "<b>" not in result.stdout
    assert "# Heading injected" not in [line.strip() for line in result.stdout.splitlines()]


def test_the_bundled_report_is_unchanged_by_escaping():
    """The seed's own wording has no markup to escape: the Cambridgeshire report keeps it word for word
    (tests/test_seed.py checks the words; here, that no backslash crept into the running text)."""
    out = assess(CAMBRIDGESHIRE).stdout
    assert "\\" not in out


# ------------------------------------------------------------------ summary.csv


def test_summary_csv_neutralises_formulas(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    names = {
        "eq": '=HYPERLINK("http://x","y")',
        "plus": "+1+2",
        "minus": "-3+4",
        "at": "@SUM(A1)",
    }
    for stem, force in names.items():
        _case(cases, ("force: Cambridgeshire Constabulary", f"force: {yaml_str(force)}"), name=f"{stem}-2008.yaml")
    out = tmp_path / "out"
    result = assess("batch", cases, "-o", out, "--engine", "python", "-j", "2")
    assert result.exit_code == 0, result.output
    with (out / "summary.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    for row in rows:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", row
    forces = {r[0]: r for r in rows[1:]}
    assert forces["eq-2008.yaml"][2] == "'" + names["eq"]


# ------------------------------------------------------------------ plausibility of the evidence


def test_plausibility_warnings_on_stderr_and_in_lint(tmp_path):
    case = _case(tmp_path, ("spi_2a: {value: 51.44,", "spi_2a: {value: 0.5144,"))
    result = assess(case, "--engine", "python")
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result.stderr
    line = next(i for i, text in enumerate(case.read_text(encoding="utf-8").splitlines(), 1) if "0.5144" in text)
    assert f"{case}:{line}:" in warnings[0] and "51.44" in warnings[0] and "(implausible-figure)" in warnings[0]
    lint = assess("lint", ROOT / "rules", case)
    assert f"{case}:{line}:" in lint.output and "implausible-figure" in lint.output


@pytest.mark.slow
def test_the_bundled_cases_raise_no_plausibility_warning():
    for case in sorted((ROOT / "cases").glob("*-2008.yaml")):
        if case.name.endswith(".expected.yaml"):
            continue
        result = assess(case, "--engine", "python")
        assert result.exit_code == 0 and result.stderr == "", (case, result.stderr)


def test_new_case_skeleton_reads_back_with_its_force_name(tmp_path):
    name = "Wessex & Avon Police (“Wessex”): #1"
    out = tmp_path / "wessex.yaml"
    result = assess("new-case", "--force", name, "-o", out)
    assert result.exit_code == 0, result.output
    assessed = assess(out, "-f", "json")
    assert assessed.exit_code == 0, assessed.output
    assert f'"force": "{name}"' in assessed.stdout


# ------------------------------------------------------------------ the plausibility corpus


def _plausibility_corpus() -> list:
    import yaml
    from helpers import BAD

    from assessor.cli import main as _  # noqa: F401  the package imports before the corpus loader does

    return yaml.safe_load((BAD / "plausibility.yaml").read_text(encoding="utf-8"))


PLAUSIBILITY = _plausibility_corpus()
WARNING = re.compile(r"warning: (?P<place>.+?): (?P<message>.*) \((?P<check>[a-z0-9-]+)\)")


# the first entry runs in make test-quick; the rest, two subprocesses each, are slow
@pytest.mark.parametrize(
    "entry",
    [pytest.param(e, id=e["id"], marks=[pytest.mark.slow] if i else []) for i, e in enumerate(PLAUSIBILITY)],
)
def test_implausible_evidence_is_warned_about(entry, tmp_path):
    from corpus import prepare as _prepare
    from helpers import run_assessor

    prepared = _prepare(entry, tmp_path)
    run = run_assessor(prepared.argv)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "report.md").stat().st_size > 0, "the report is still written"
    expect = entry["expect"]
    place = f"{expect['file'].format(**prepared.paths)}:{expect['line']}:"
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    m = WARNING.fullmatch(lines[0])
    assert m and m["check"] == expect["check"] and (m["place"] + ":").startswith(place), run.stderr
    for words in entry.get("says", []):
        assert words in m["message"], (words, m["message"])
    lint = run_assessor(
        ["lint", prepared.paths["rules"], "--templates", prepared.paths["templates"], prepared.paths["case"]]
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert any(line.startswith(place) and f"({expect['check']})" in line for line in lint.stdout.splitlines()), (
        lint.stdout
    )


@pytest.mark.parametrize("engine", ["durable", "python"])
def test_a_fall_through_the_search_missed_stops_with_a_located_error(engine, tmp_path):
    """Should the gap search (sampled on large scales) miss a gap, the staged run refuses the
    decision with no outcome, the same on both engines, instead of a null or an engine error."""
    from assessor.errors import AssessorError
    from assessor.session import Session

    base = ROOT / "tests" / "bad" / "base"
    rules = tmp_path / "rules"
    shutil.copytree(base / "rules", rules)
    text = (rules / "policing.yaml").read_text(encoding="utf-8")
    (rules / "policing.yaml").write_text(
        text.replace(
            "      - otherwise: meeting\n    statement: statements/staffing", "    statement: statements/staffing"
        ),
        encoding="utf-8",
    )
    with Session(rules, base / "templates", engine) as session, pytest.raises(AssessorError) as e:
        session.assess(base / "case.yaml")
    (finding,) = e.value.findings
    assert (Path(finding.path).name, finding.line, finding.check) == ("policing.yaml", 39, "scale-gap")
    assert "otherwise" in finding.message
