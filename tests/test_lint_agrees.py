"""Lint agrees with assess (issue 12 §4): whatever `assess` refuses, `assess lint` reports, in
the same file; and what lint passes, assess runs.

Lint's warnings are about rules that still assess: each entry of tests/bad/lint-warnings.yaml is
warned about by lint, with no error, and assessed by assess.

Run over the whole bad-input corpus (every entry damages a case, rule file or template
that lint reads too; command-line entries are about the report command's own options and
are left out), and over the valid worlds: the corpus's base and the bundled rules with
their cases.
"""

from __future__ import annotations

import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from corpus import CORPUS, LINT_WARNINGS, prepare
from helpers import BASE, ROOT, WORKERS, run_assessor

FINDING = re.compile(r"(?P<place>.+?): \[(?P<level>error|warning)\] (?P<message>.*) \((?P<check>[a-z0-9-]+)\)")
ABOUT_INPUTS = [
    e for e in CORPUS if e["id"].split("-")[0] in ("case", "rules", "template") and "usage" not in e and "argv" not in e
]


def _lint(paths: dict) -> tuple:
    run = run_assessor(
        ["lint", "--rules", paths["rules"], "--templates", paths["templates"], "-f", "parsable", paths["case"]],
        timeout=120,
    )
    return run, [FINDING.fullmatch(line) for line in run.stdout.splitlines()]


@pytest.fixture(scope="module")
def lint_runs(request, tmp_path_factory):
    """Lint on every selected entry, prepared, then run in parallel: id -> (Prepared, Future)."""
    wanted = {
        item.callspec.id
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    }
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    futures = {}
    for entry in (e for e in ABOUT_INPUTS if e["id"] in wanted):
        prepared = prepare(entry, tmp_path_factory.mktemp(entry["id"]))
        futures[entry["id"]] = (prepared, pool.submit(_lint, prepared.paths))
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def test_the_comparison_covers_the_corpus():
    assert len(ABOUT_INPUTS) >= 200


@pytest.mark.slow
@pytest.mark.parametrize("entry", ABOUT_INPUTS, ids=[e["id"] for e in ABOUT_INPUTS])
def test_lint_reports_what_assess_refuses(entry, lint_runs):
    """tests/test_bad_inputs.py checks that assess refuses each entry; lint must report it as an error
    in the same file (a template, rule file or case), without a traceback."""
    prepared, future = lint_runs[entry["id"]]
    run, findings = future.result()
    context = f"\n--- stdout:\n{run.stdout[:3000]}\n--- stderr:\n{run.stderr[:3000]}"
    assert "Traceback" not in run.stderr, f"lint crashed{context}"
    assert run.returncode in (1, 2), f"lint exit code {run.returncode}{context}"
    expected = Path(entry["expect"]["file"].format(**prepared.paths))
    if run.returncode == 2:  # lint could not start: a path that does not exist, or the rulebook unreadable
        usage = "Error:" in run.stderr and "does not exist" in run.stderr
        located = any(line.startswith(f"error: {expected}") for line in run.stderr.splitlines())
        assert run.stdout == "" and (usage or located), context
        return
    assert all(findings), f"every line of -f parsable is one finding{context}"
    errors = [m for m in findings if m["level"] == "error"]
    assert errors, f"lint found no error where assess refuses{context}"
    # in the same file; or, for a file that is missing, at the line of the rules that names it
    found = [m for m in errors if _same(Path(m["place"].split(":")[0]), expected)]
    named = [m for m in errors if not expected.exists() and expected.name in m["message"]]
    assert found or named, f"lint found no error in {expected}{context}"


def _same(a: Path, b: Path) -> bool:
    return a == b or a.resolve() == b.resolve() or a.name == b.name and a.exists() and b.exists() and a.samefile(b)


VALID = {
    "base": (BASE / "rules", BASE / "templates", [BASE / "case.yaml"]),
    "bundled": (ROOT / "rules", ROOT / "templates", sorted((ROOT / "cases").glob("*-20??.yaml"))),
}


@pytest.mark.slow  # assess in a subprocess on every case of each world
@pytest.mark.parametrize("world", VALID.values(), ids=VALID.keys())
def test_what_lint_passes_assess_runs(world, tmp_path):
    rules, templates, cases = world
    run = run_assessor(
        ["lint", "--rules", str(rules), "--templates", str(templates), "-f", "parsable", *map(str, cases)], timeout=300
    )
    assert run.returncode == 0 and "[error]" not in run.stdout, run.stdout + run.stderr
    for case in cases:
        for fmt in ("markdown", "html", "text", "json"):
            report = run_assessor(
                [str(case), "--rules", str(rules), "--templates", str(templates), "-f", fmt, "--engine", "python"]
            )
            assert report.returncode == 0, f"{case} -f {fmt}: {report.stderr}"


@pytest.mark.slow
def test_lint_checks_every_layout_with_located_findings(tmp_path):
    """A misspelt filter in any layout a report can use (markdown, text, html, the batch summary)
    and nesting too deep for the parser are located errors, not tracebacks."""
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    layouts = ["report.md.j2", "report.txt.j2", "report.html.j2", "summary.html.j2"]
    for name in layouts:
        p = tmp_path / "templates" / name
        p.write_text("{{ 'x' | uper }}\n" + p.read_text(encoding="utf-8"), encoding="utf-8")
    deep = tmp_path / "templates" / "statements" / "citizen_focus"
    statement = sorted(deep.glob("*.j2"))[0]
    statement.write_text(
        "{% if true %}" * 3000 + statement.read_text(encoding="utf-8") + "{% endif %}" * 3000, encoding="utf-8"
    )
    run = run_assessor(
        ["lint", "--rules", str(ROOT / "rules"), "--templates", str(tmp_path / "templates"), "-f", "parsable"],
        timeout=300,
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    for name in layouts:
        assert f"{tmp_path / 'templates' / name}:1: [error] " in run.stdout and "uper" in run.stdout, run.stdout
    assert f"{statement}:1: [error] " in run.stdout, run.stdout


def test_the_warnings_corpus_is_well_formed():
    ids = [e["id"] for e in LINT_WARNINGS]
    assert len(ids) == len(set(ids)) and len(ids) >= 9
    checks = {e["expect"]["check"] for e in LINT_WARNINGS}
    assert {"divisor-can-be-zero", "share-above-one", "unknown-slot-word"} <= checks
    for e in LINT_WARNINGS:
        assert set(e) <= {"id", "rules_edit", "templates_edit", "case_edit", "expect", "says"}, e["id"]
        assert set(e["expect"]) == {"file", "line", "check"} and e.get("says"), e["id"]


@pytest.mark.slow  # lint and assess in subprocesses for each entry
@pytest.mark.parametrize("entry", LINT_WARNINGS, ids=[e["id"] for e in LINT_WARNINGS])
def test_lint_warns_where_assess_runs(entry, tmp_path):
    prepared = prepare(entry, tmp_path)
    run, findings = _lint(prepared.paths)
    context = f"\n--- stdout:\n{run.stdout[:3000]}\n--- stderr:\n{run.stderr[:3000]}"
    assert run.returncode == 0 and all(findings), f"warnings alone: lint passes{context}"
    assert not [m for m in findings if m["level"] == "error"], context
    expect = entry["expect"]
    place = f"{expect['file'].format(**prepared.paths)}:{expect['line']}:"
    found = [m for m in findings if (m["place"] + ":").startswith(place) and m["check"] == expect["check"]]
    assert [m["level"] for m in found] == ["warning"], f"one {expect['check']} warning at {place}{context}"
    for words in entry["says"]:
        assert words in found[0]["message"], (words, found[0]["message"])
    report = run_assessor(prepared.argv)
    assert report.returncode == 0, report.stderr
    assert Path(prepared.paths["out"]).stat().st_size > 0, "assess writes the report"
