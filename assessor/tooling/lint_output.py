"""Lint findings where reviews happen: GitHub workflow annotations and SARIF 2.1.0.

`-f github` prints one workflow command per finding (`::error file=…,line=…,col=…::message`),
which GitHub Actions shows on the changed lines of a pull request. `-f sarif` prints a SARIF
2.1.0 log (the OASIS standard code-scanning tools read), with one reporting rule per check id
and its help text from CHECKS.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from assessor import __version__

DOCS = "docs/policy-tooling.md"

# check id -> what it means and what to do; every check id the assessor reports has one
# (tests/test_lint_output.py reads the package's source to keep this complete).
CHECKS = {
    # YAML and file reading
    "io": "A file or folder could not be read or written: check the path and its permissions.",
    "encoding": "The file is not UTF-8 text. Save it as UTF-8.",
    "syntax": "The YAML does not parse: check indentation, colons and quotes at the line shown.",
    "duplicate-key": "A key appears twice in one mapping; YAML would silently keep only one. Remove or rename one.",
    "alias": "YAML anchors and aliases (&name, *name) are not allowed: write the value out.",
    "ambiguous-number": "A number YAML could read in two ways (e.g. 010 or 1_000): quote it or write it plainly.",
    "too-deep": "The file nests deeper than the limit: flatten the structure.",
    "too-large": "The file is larger than the 5 MB limit.",
    "output-is-input": "The output file is a file the run reads (the case, a rule file, a template), by this or "
    "another path or link: writing there would destroy it. Choose another output file.",
    "too-long": "A name or text is longer than allowed: shorten it.",
    "too-many-findings": "Reporting stopped after 100 problems: fix these and run again.",
    # shapes of rule and case files
    "type": "A value has the wrong kind (text, number, list, mapping): give the kind the message names.",
    "unknown-key": "A key that is not allowed here, often a misspelling: use one of the keys the message lists.",
    "missing-key": "A required key is missing: add it.",
    "bad-key": "A key is not a valid name: use lower-case letters, digits and single underscores.",
    "bad-id": "An id is not a valid name: use lower-case letters and digits, words joined by single _.",
    "duplicate-id": "Two items share one id: ids must be unique.",
    "duplicate-name": "One name is declared twice in the same scope: rename one.",
    "duplicate": "An item is listed twice: remove one.",
    "empty": "A list that must hold at least one item is empty.",
    "bad-value": "A value is not one the field allows: use one the message lists.",
    "out-of-range": "A number lies outside its declared range (min/max): correct the value or the range.",
    "not-finite": "A number is infinite or not a number: give a finite number.",
    # rules
    "no-frameworks": "The rules folder declares no framework: add a framework file.",
    "bad-type": "A fact's type is not one the rules language knows (integer, number, share, yes/no, one-of, date).",
    "bad-range": "A fact's min is above its max, or the range does not fit its type.",
    "bad-expression": "A condition or derived value does not parse or does not type-check: see the message.",
    "bad-rung": "A rung of a scale is not `- outcome: condition` or `- otherwise: outcome`.",
    "bad-outcome": "A rung names an outcome the scale does not allow (e.g. a grade not declared in grading.yaml).",
    "empty-scale": "A scale has no rungs: give at least one, or an `otherwise`.",
    "otherwise-not-last": "`otherwise` must be the last rung of its scale.",
    "too-complex": "A condition is larger than the engine can run: split it with derived values.",
    "unknown-survey": "An indicator names a survey design that grading.yaml does not declare.",
    "unknown-indicator": "An indicator id that the rules do not declare.",
    "glossary": "The glossary (templates/glossary.yaml) is not a mapping of terms to meanings.",
    "template": "A report template failed to render: the message names the template line.",
    "evaluation": "A derived value could not be computed from this case (e.g. a division by zero).",
    # the grade scale
    "bad-scale": "The grade scale in grading.yaml needs at least two grades, best first.",
    "duplicate-label": "Two grades share a label, so a report could not tell them apart: reword one.",
    "unused-grade": "A declared grade no judgement, framework grade or indicator outcome gives: give it a rung, "
    "or remove it from the scale.",
    "undeclared-grade": "An expected judgements file names a grade the scale does not declare: after a change of "
    "scale, re-run `assess test --update` and review the diff.",
    "undeclared-verdict": "An expected judgements file names a verdict word the rulebook does not declare.",
    # lint's static checks
    "unused-fact": "A fact declared under evidence that nothing reads; every case must still give it. Remove it, "
    "or use it in a condition, derived value or template.",
    "unused-derived": "A derived value nothing reads: remove it or use it.",
    "unreachable-rung": "A rung that can never be chosen: its condition never holds, or an earlier rung always holds "
    "first. Reorder or correct the conditions.",
    "scale-gap": "A scale without `otherwise` where some evidence meets no rung; the message shows such evidence. "
    "Add a rung or an `otherwise`.",
    "unfilled-slot": "A statement template reads a name that no choice of its criterion fills.",
    "unused-slot": "A choice that no template uses, so its wording never reaches the report.",
    "unknown-slot-word": "A statement template compares a slot with a word its scale never gives (`{% if extent == "
    '"al" %}`), so the comparison never holds (or, with !=, always does): correct the word, or give the slot a rung '
    "with it.",
    "divisor-can-be-zero": "A division by a fact or column whose declared range includes 0: a case giving 0 cannot be "
    "assessed. Declare `min: 1` if it is never 0, or divide by `max(x, 1)`.",
    "share-above-one": "A share (a value between 0 and 1, such as `share()` or a count of some rows over all of them) "
    "compared with a number above 1, as if it were a percentage: write 80% as 0.8.",
    "unknown-value": "A statement template reads values.X for something the criterion does not have.",
    "missing-template": "A statement template that does not exist in the templates folder.",
    "template-syntax": "A template that does not parse as Jinja: see the line shown.",
    "inconsistent-fact": "A case gives one fact different values in different places: make them agree.",
    "template-outside": "A statement template named by an absolute path, ~ or '..', or reached through a symbolic "
    "link leading out of the templates folder: keep templates inside it.",
    "reserved-name": "A name the rules may not use: a slot called like something every statement template is given "
    "(force, year, values, ...), a reserved word of the condition language, or a reserved criterion id. Rename it.",
    "implausible-figure": "A survey figure below 1.5 beside one above 10 of the same indicator: a percentage typed as "
    "a fraction? The warning names the value probably meant.",
    "implausible-change": "A survey figure more than 50 points from the previous one: check both; the warning names "
    "a likely intended value when one fits.",
    "implausible-headcount": "Two counts of the same people (the criterion's headcounts) differ by more than half: "
    "one is probably mistyped.",
    "misspelt-otherwise": "A rung that reads like `otherwise` mistyped (`otherwize`, `else`, `default`) or back to "
    "front (`some: otherwise`): write `- otherwise: outcome`.",
    "missing-otherwise": "A later condition compares a choice with a word it never gives, and the choice has no "
    "`otherwise`: add the `- otherwise: word` rung.",
    "indented-too-far": "A key of the criterion (derive, choose, judge, ...) indented under evidence: move it left, "
    "level with evidence.",
    "redeclared-fact": "A criterion declares a fact the framework already declares under its own `evidence:`; every "
    "criterion reads the framework's: remove the criterion's.",
    "repeated-fact": "Several criteria declare a fact of one name, so a case gives it several times: if it is one "
    "fact, declare it once under the framework's `evidence:`.",
    # case files
    "missing-framework": "The case gives no evidence for a framework the rules declare.",
    "missing-criterion": "The case gives no evidence for a criterion the rules declare.",
    "missing-fact": "The case does not give a fact the criterion (or, once, the framework) declares: give it, or "
    "write `unknown`.",
    "missing-indicator": "The case does not give a survey indicator the rules declare.",
    "unknown-framework": "The case gives evidence for a framework the rules do not declare (a misspelling?).",
    "unknown-criterion": "The case gives evidence for a criterion the rules do not declare (a misspelling?).",
    "unknown-fact": "The case gives a fact the criterion does not declare (a misspelling?).",
    "duplicate-fact": "A fact of the whole framework is given under the framework's `evidence:` and under a criterion "
    "too: give it once, under the framework.",
    "conflicting-fact": "A fact of the whole framework is given under several criteria (the older form) with "
    "different values: give it once, under the framework's `evidence:`.",
    "fact-per-criterion": "A fact of the whole framework is given under a criterion, as cases did before the rules "
    "declared it once: move it under the framework's `evidence:` (beside `criteria:`).",
    "wrong-type": "A fact's value does not have the fact's declared type.",
    # rulebooks
    "assessor-version": "The rulebook needs another version of the assessor: install one its manifest allows.",
    "bad-version": "The manifest's assessor version range cannot be read: write it as >=0.2 or >=0.2, <1.",
    "outside": "A folder named by the manifest lies outside the rulebook: name a folder inside it.",
    "missing": "A folder named by the manifest does not exist.",
    "no-rulebook": "No rulebook.yaml where one was named: `assess init DIR` writes a rulebook.",
    "several-rulebooks": "The cases given belong to different rulebooks: run each rulebook's cases separately.",
    "bad-overlay": "An edition that extends another removes a file or criterion the other does not have.",
    "unknown-edition": "An edition that the manifest does not list: use one of the ids it names.",
    "git": "git could not answer: check the repository and the revision.",
}


def _title(check: str) -> str:
    return "".join(part.capitalize() for part in check.split("-"))


def _help(check: str) -> str:
    return CHECKS.get(check, f"See {DOCS} for the check {check!r}.")


# ---------------------------------------------------------------- GitHub workflow commands


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(findings: list) -> str:
    """One `::error …::message` or `::warning …::message` line per finding."""
    lines = []
    for f in findings:
        props = [f"file={_escape_property(f.path)}"]
        if f.line is not None:
            props.append(f"line={f.line}")
            if f.column is not None:
                props.append(f"col={f.column}")
        props.append(f"title={_escape_property(f'assess lint: {f.check}')}")
        kind = "error" if f.level == "error" else "warning"
        lines.append(f"::{kind} {','.join(props)}::{_escape_data(f.message)}")
    return "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------- SARIF 2.1.0


def _uri(path: str) -> tuple[str, bool]:
    """A SARIF artifact URI: relative (to the repository root a scanner uploads from) when the path is."""
    p = Path(path)
    if p.is_absolute():
        return p.as_uri(), False
    return quote(PurePosixPath(*p.parts).as_posix()), True


def sarif(findings: list) -> str:
    checks = sorted({f.check for f in findings})
    index = {c: i for i, c in enumerate(checks)}
    rules = [
        {
            "id": c,
            "name": _title(c),
            "shortDescription": {"text": _help(c).split(": ")[0].rstrip(".") + "."},
            "fullDescription": {"text": _help(c)},
            "help": {"text": _help(c), "markdown": f"{_help(c)}\n\nSee `{DOCS}`."},
            "defaultConfiguration": {
                "level": "error" if any(f.level == "error" for f in findings if f.check == c) else "warning"
            },
        }
        for c in checks
    ]
    results = []
    for f in findings:
        uri, relative = _uri(f.path)
        artifact = {"uri": uri, "uriBaseId": "%SRCROOT%"} if relative else {"uri": uri}
        location: dict = {"artifactLocation": artifact}
        if f.line is not None:
            location["region"] = {"startLine": f.line, **({"startColumn": f.column} if f.column else {})}
        results.append(
            {
                "ruleId": f.check,
                "ruleIndex": index[f.check],
                "level": "error" if f.level == "error" else "warning",
                "message": {"text": f.message},
                "locations": [{"physicalLocation": location}],
            }
        )
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "assess lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
