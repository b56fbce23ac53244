"""`assess lint`: each fixture under tests/lint/ holds one mistake, named by its directory.

A finding is checked by what a user acts on: file, line, column, check id and level,
plus the words in the message that tell them what to do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assessor.cli import main
from assessor.tooling import reachability

FIXTURES = Path(__file__).resolve().parent / "lint"
ROOT = Path(__file__).resolve().parent.parent

# scenario -> (exit code, [(file under the scenario, line, column, check, level)])
SCENARIOS = {
    "clean": (0, []),
    "case-missing-fact": (1, [("cases/testshire-2008.yaml", 9, 11, "missing-fact", "error")]),
    "condition-never-holds": (1, [("rules/patrol.yaml", 15, 11, "unreachable-rung", "error")]),
    "scale-gap": (1, [("rules/patrol.yaml", 14, 7, "scale-gap", "error")]),
    "template-syntax": (1, [("templates/staffing.md.j2", 2, None, "template-syntax", "error")]),
    "undefined-fact": (1, [("rules/patrol.yaml", 16, 17, "bad-expression", "error")]),
    "unfilled-slot": (
        1,
        [
            ("rules/patrol.yaml", 14, 7, "unused-slot", "warning"),
            ("templates/staffing.md.j2", 1, 29, "unfilled-slot", "error"),
        ],
    ),
    "unreachable-otherwise": (1, [("rules/patrol.yaml", 22, 9, "unreachable-rung", "error")]),
    "unreachable-rung": (1, [("rules/patrol.yaml", 16, 11, "unreachable-rung", "error")]),
    "unused-derived": (0, [("rules/patrol.yaml", 13, 7, "unused-derived", "warning")]),
    "unused-fact": (0, [("rules/patrol.yaml", 10, 7, "unused-fact", "warning")]),
    "unused-slot": (0, [("rules/patrol.yaml", 18, 7, "unused-slot", "warning")]),
}


def lint(*args):
    result = CliRunner().invoke(main, ["lint", *map(str, args)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_every_fixture_has_a_scenario():
    assert sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()) == sorted(SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_scenario(scenario):
    code, expected = SCENARIOS[scenario]
    result = lint(FIXTURES / scenario / "rules", "-f", "json")
    assert result.exit_code == code, result.output
    found = [
        (str(Path(f["path"]).relative_to(FIXTURES / scenario)), f["line"], f["column"], f["check"], f["level"])
        for f in json.loads(result.stdout)
    ]
    assert found == expected


def test_parsable_format_is_one_line_per_finding():
    result = lint(FIXTURES / "unreachable-rung" / "rules", "-f", "parsable")
    path = FIXTURES / "unreachable-rung" / "rules" / "patrol.yaml"
    assert result.stdout.splitlines() == [
        f"{path}:16:11: [error] rung 'all' of choice 'extent' of criterion 'staffing' can never be chosen: "
        "whenever its condition holds, an earlier rung holds first: 'most' (line 15); reorder or tighten the "
        "conditions, or remove the rung (unreachable-rung)"
    ]


def test_text_format_counts_errors_and_warnings():
    assert lint(FIXTURES / "unfilled-slot" / "rules").stdout.splitlines()[-1] == "1 error(s), 1 warning(s)"
    assert lint(FIXTURES / "clean" / "rules").stdout == "no problems found\n"


def test_gap_message_shows_evidence_that_gets_no_outcome_and_the_fix():
    message = json.loads(lint(FIXTURES / "scale-gap" / "rules", "-f", "json").stdout)[0]["message"]
    assert "no rung holds when staffed_share = 0.5" in message
    assert "add `- otherwise: <outcome>`" in message
    assert "independent" in message  # honest that derived values are searched as free variables


def test_case_named_on_the_command_line_is_checked_instead_of_the_sibling_cases():
    bad_case = FIXTURES / "case-missing-fact" / "cases" / "testshire-2008.yaml"
    result = lint(FIXTURES / "clean" / "rules", bad_case)
    assert result.exit_code == 1
    assert "missing fact 'policy'" in result.output


def test_bundled_rules_and_the_cambridgeshire_case_are_clean():
    result = lint(ROOT / "rules", ROOT / "cases" / "cambridgeshire-2008.yaml")
    assert (result.exit_code, result.stdout) == (0, "no problems found\n")


def test_missing_rules_directory_is_a_usage_error():
    result = lint(FIXTURES / "no-such-scenario")
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_large_scales_are_sampled_deterministically_and_only_warn(monkeypatch):
    # Force the sampled search on the clean rules with a tiny sample: rungs it misses are only
    # possibly unreachable, so they are warnings, and the same on every run.
    monkeypatch.setattr(reachability, "EXHAUSTIVE_LIMIT", 0)
    monkeypatch.setattr(reachability, "EXHAUSTIVE_PER_RUNG", 0)
    monkeypatch.setattr(reachability, "SAMPLE_SIZE", 2)
    first = lint(FIXTURES / "clean" / "rules", "-f", "json")
    findings = json.loads(first.stdout)
    assert first.exit_code == 0
    assert findings and {f["level"] for f in findings} == {"warning"}
    assert all("sampled" in f["message"] for f in findings)
    assert lint(FIXTURES / "clean" / "rules", "-f", "json").stdout == first.stdout


def _gap_example(message: str) -> dict:
    """name -> value of the evidence a scale-gap message shows."""
    shown = message.split("no rung holds when ", 1)[1].split("; add", 1)[0]
    return {name: value for name, value in (part.rsplit(" = ", 1) for part in shown.split(", "))}


def test_gap_examples_keep_each_value_within_its_natural_range(tmp_path):
    """Issue 12 §6: no negative share, no 0 BCUs beside a share of BCUs, no framework without criteria."""
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    policing = rules / "neighbourhood-policing.yaml"
    text = policing.read_text(encoding="utf-8")
    edits = [  # the `otherwise` of the coverage criterion's `extent`, and of the framework grade
        (
            "        - otherwise: some\n    judge:\n      - failing: extent",
            "        - some: vacancy_rate > 0.5\n    judge:\n      - failing: extent",
        ),
        ("and deteriorating == 0\n    - otherwise: meeting\n", "and deteriorating == 0\n"),
    ]
    for old, new in edits:
        assert text.count(old) == 1
        text = text.replace(old, new)
    policing.write_text(text, encoding="utf-8")
    findings = json.loads(lint(rules, "--templates", ROOT / "templates", "-f", "json").stdout)
    gaps = {f["line"]: _gap_example(f["message"]) for f in findings if f["check"] == "scale-gap"}
    assert sorted(gaps) == [43, 198], findings
    coverage, grade = gaps[43], gaps[198]
    for share in ("supervised_bcus / bcus", "vacancy_rate"):  # each a part over its whole
        assert 0 <= float(coverage[share]) <= 1, coverage
    assert int(coverage["bcus"]) >= 1, coverage  # a case with 0 BCUs cannot compute supervised_bcus / bcus
    assert int(coverage["supervised_bcus"]) >= 0 and float(coverage["contact_share"]) >= 0, coverage
    assert grade["count(criteria)"] == "6", grade  # the framework has six criteria, in every case
    assert 0 <= int(grade["exceeding_criteria * 2"]) <= 12, grade


@pytest.mark.slow
def test_a_slot_word_misspelt_in_an_imported_macro_is_found_where_the_macro_compares_it(tmp_path):
    """The outcome statements pass their slots to the macros of statements/_survey.j2: a word there
    that no scale gives is a warning at the macro's line, naming the criterion and the call."""
    import shutil

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    survey = templates / "statements" / "_survey.j2"
    text = survey.read_text(encoding="utf-8")
    assert text.count('choice == "unchanged"') == 1
    survey.write_text(text.replace('choice == "unchanged"', 'choice == "unchaged"'), encoding="utf-8")
    result = lint(ROOT / "rules", "--templates", templates, "-f", "json")
    assert result.exit_code == 0, result.output  # a warning: lint passes
    found = [f for f in json.loads(result.stdout) if f["check"] == "unknown-slot-word"]
    assert {(Path(f["path"]).name, f["line"], f["column"], f["level"]) for f in found} == {
        ("_survey.j2", 12, 18, "warning")
    }
    messages = sorted(f["message"] for f in found)
    assert len(messages) == 2  # the two outcome criteria call it
    assert "criterion 'outcomes'" in messages[0] and "criterion 'spi_stability'" in messages[1]
    for m in messages:
        assert "slot 'over_time'" in m and "over_time_line" in m and "did you mean 'unchanged'?" in m
