"""Policy-staff commands: lint, test, coverage, diff, new-case.

Each command is a thin shell over a module that returns plain data (linting,
expectations, coverage, ruleset_diff, skeleton); printing and exit codes stay here.
Commands that assess many cases use one Session: rules compiled once, engines kept warm.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assessor.cli.common import EXIT_CODES, fail, refuse_gaps, report_findings
from assessor.cli.options import OutputPath, announce, engine_option, locate_rulebook, rulebook_options
from assessor.errors import EXIT_BAD_INPUT, EXIT_ENGINE, EXIT_FINDINGS, EXIT_OK, AssessorError, Finding
from assessor.files import write_atomically

if TYPE_CHECKING:
    from assessor.evaluate.result import Result
from assessor.rulebook.locate import MANIFEST, Location, locate


def _case_paths(location: Location, given: tuple, required: bool = True) -> list:
    """The cases named, else every case in the rulebook's cases/ folder."""
    from assessor.files import case_files

    paths = [Path(p) for p in given] or case_files(location.cases)
    if not paths and required:
        fail(Finding(str(location.cases), None, None, "io", "no case files here; name the case files to use"))
    return paths


def _where(place) -> str:
    return ":".join(str(x) for x in (place.path, place.line, place.column) if x is not None)


class _CaseRunner:
    """Assess cases one by one with one Session, reporting each case that cannot be assessed."""

    def __init__(self, location: Location, engine: str):
        from assessor.session import Session

        try:
            self.session = Session(engine=engine, location=location)
            refuse_gaps(self.session.book)
        except AssessorError as e:
            fail(e.findings)
        self.bad_input = False

    def assess(self, path: Path) -> Result | None:
        from assessor.engines import EngineError

        try:
            return self.session.assess(path)
        except AssessorError as e:
            report_findings(e.findings)
            if any(f.path != str(path) for f in e.findings):  # a rule or template: say which case met it
                click.echo(f"error: {path}: could not be assessed because of the error(s) above", err=True)
            self.bad_input = True
            return None
        except EngineError as e:
            click.echo(f"error: {path}: the {self.session.engine} engine failed: {e}", err=True)
            sys.exit(EXIT_ENGINE)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.session.close()


# ---------------------------------------------------------------- lint


@click.command(epilog=EXIT_CODES)
@click.argument("cases", nargs=-1, type=click.Path(exists=True))
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["text", "parsable", "json", "github", "sarif"]),
    default="text",
    show_default=True,
    help="parsable: path:line:col: [level] message (check-id); github: workflow annotations on the changed "
    "lines of a pull request; sarif: SARIF 2.1.0 for code scanning.",
)
@rulebook_options()
def lint(cases, fmt, rulebook_dir, rules_dir, templates_dir):
    """Check the rulebook's rules, its templates and CASES (default: the rulebook's cases/*.yaml).
    Exit 1 when there are errors; warnings alone exit 0.

    A folder given first is a rules folder, as with --rules (`assess lint rules`)."""
    from assessor.tooling.lint import format_findings, lint_rulebook

    if cases and Path(cases[0]).is_dir():
        if rules_dir:
            raise click.UsageError(f"{cases[0]} and --rules {rules_dir} both name a rules folder; give one")
        rules_dir, cases = cases[0], cases[1:]
    for path in cases:
        if Path(path).is_dir():
            raise click.BadParameter(
                f"{path} is a folder; name case files, or the rules folder first", param_hint="CASES"
            )
    try:
        location = locate(rulebook_dir, rules_dir, templates_dir, cases)
    except AssessorError as e:
        if not all(_in_a_manifest(f) for f in e.findings):
            fail(e.findings)  # no rulebook to lint (a folder without one, cases of several): usage
        # a manifest that is there but wrong is the rulebook's mistake, which lint is for
        click.echo(format_findings(e.findings, fmt), nl=False)
        sys.exit(EXIT_FINDINGS)
    announce(location, banner=True)
    findings = lint_rulebook(location, _case_paths(location, cases, required=False))
    click.echo(format_findings(findings, fmt), nl=False)
    sys.exit(EXIT_FINDINGS if any(f.level == "error" for f in findings) else EXIT_OK)


def _in_a_manifest(finding: Finding) -> bool:
    path = Path(finding.path)
    return path.name == MANIFEST and path.exists() and not path.is_dir()


# ---------------------------------------------------------------- test


@click.command(epilog=EXIT_CODES)
@click.argument("cases", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--update",
    is_flag=True,
    help="Write each case's expected judgements from its assessment now "
    "(only when a change is intended; review the diff).",
)
@rulebook_options()
@engine_option()
def test(cases, update, rulebook_dir, rules_dir, templates_dir, engine):
    """Assess CASES (default: every case of the rulebook) and compare the judgements with each case's
    <name>.expected.yaml: grades, criterion judgements and choices, indicator verdicts and outcomes."""
    from assessor.tooling.expectations import (
        compare,
        dump,
        expected_path,
        flatten,
        judgements_of,
        read_expected,
        undeclared_words,
    )

    location = locate_rulebook(rulebook_dir, rules_dir, templates_dir, cases, banner=True)
    paths = _case_paths(location, cases)
    failed = 0
    with _CaseRunner(location, engine) as run:
        for path in paths:
            result = run.assess(path)
            if result is None:
                continue
            actual = judgements_of(result["frameworks"])
            exp = expected_path(path)
            if update:
                text = dump(actual, path.name)
                if exp.is_file() and exp.read_text(encoding="utf-8") == text:
                    click.echo(f"{exp}: unchanged")
                else:
                    write_atomically(str(exp), text)
                    click.echo(f"{exp}: written")
                continue
            if not exp.is_file():
                failed += 1
                click.echo(
                    f"{path}: FAIL: no expected judgements ({exp} does not exist); check the report, "
                    "then write them with `assess test --update`"
                )
                continue
            try:
                expected = read_expected(exp)
            except AssessorError as e:
                run.bad_input = True
                report_findings(e.findings)
                continue
            mismatches = compare(expected, flatten(actual), str(exp))
            if mismatches:
                failed += 1
                click.echo(f"{path}: FAIL: {len(mismatches)} judgement(s) differ from {exp}")
                for m in mismatches:
                    click.echo(f"  {_where(m.place)}: {m.describe()}")
                # a word the scale does not declare is stale, not a judgement the rules could give
                for f in undeclared_words(expected, run.session.book):
                    click.echo(f"  {f.place()}: {f.message}")
                click.echo(
                    f"  if the change is intended, write the new judgements with `assess test --update {path}` "
                    f"and review the diff of {exp.name}"
                )
            else:
                click.echo(f"{path}: ok")
    if not cases:
        failed += _orphans(location.cases)
    if not update:
        click.echo(f"{len(paths)} case(s): {failed} failed" + (", some could not be assessed" if run.bad_input else ""))
    sys.exit(EXIT_BAD_INPUT if run.bad_input else EXIT_FINDINGS if failed else EXIT_OK)


def _orphans(directory: Path) -> int:
    """Expected files left behind by a renamed or removed case would otherwise be ignored silently."""
    from assessor.files import EXPECTED_SUFFIX

    orphans = [
        p
        for p in sorted(directory.glob(f"*{EXPECTED_SUFFIX}"))
        if not p.with_name(p.name[: -len(EXPECTED_SUFFIX)] + ".yaml").is_file()
    ]
    for p in orphans:
        click.echo(f"{p}: FAIL: expected judgements for a case that does not exist; rename or remove it")
    return len(orphans)


# ---------------------------------------------------------------- coverage


@click.command(epilog=EXIT_CODES)
@click.argument("cases", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    default=None,
    metavar="PERCENT",
    help="Exit 1 when fewer than PERCENT of the rungs are chosen by some case.",
)
@rulebook_options()
@engine_option()
def coverage(cases, min_coverage, rulebook_dir, rules_dir, templates_dir, engine):
    """Which rungs of the rules (choices, judgements, indicator outcomes, grades) no case chooses."""
    from assessor.tooling.rule_coverage import format_coverage, measure

    location = locate_rulebook(rulebook_dir, rules_dir, templates_dir, cases, banner=True)
    paths = _case_paths(location, cases)
    with _CaseRunner(location, engine) as run:
        graded: dict = {}  # edition -> the frameworks of each case it graded
        for r in map(run.assess, paths):
            if r is not None:
                graded.setdefault(r["rulebook"]["edition"], []).append(r["frameworks"])
        editions = location.manifest.editions if location.manifest else ()
        if len(editions) < 2:  # one edition: one report, as it has always been
            reports = [("", measure(run.session.book, next(iter(graded.values()), [])))]
        else:  # each edition's rungs against the cases it grades
            reports = [
                (f"Edition {e.id}: ", measure(run.session.edition(e.id).book, graded.get(e.id, []))) for e in editions
            ]
    if paths and not graded:  # a table of every rung unchosen would hide the real problem
        click.echo(
            f"error: none of the {len(paths)} case(s) could be assessed (see above), so coverage cannot be "
            "measured: fix those errors first",
            err=True,
        )
        sys.exit(EXIT_BAD_INPUT)
    for prefix, cov in reports:
        click.echo(prefix + format_coverage(cov), nl=False)
    if run.bad_input:
        sys.exit(EXIT_BAD_INPUT)
    lowest = min(cov.percent for _, cov in reports)
    if min_coverage is not None and lowest < min_coverage:
        click.echo(f"Coverage {lowest:.1f}% is below the minimum of {min_coverage:g}%.")
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


# ---------------------------------------------------------------- diff


def _edition_pair(location, text: str) -> tuple:
    """`2008..2009`: the rulebook as each of two of its editions."""
    old, sep, new = text.partition("..")
    manifest = location.manifest
    if not sep or not old or not new:
        raise click.BadParameter(f"expected two editions such as 2008..2009, got {text!r}", param_hint="--edition")
    listed = ", ".join(str(e.id) for e in manifest.editions) if manifest else "none (no rulebook.yaml)"
    for ident in (old, new):
        if manifest is None or manifest.edition(ident) is None:
            raise click.BadParameter(
                f"{ident!r} is not an edition of this rulebook; its editions are {listed}", param_hint="--edition"
            )
    return location.for_edition(manifest.edition(old)), location.for_edition(manifest.edition(new))


@click.command(epilog=EXIT_CODES)
@click.argument("base_rev", required=False)
@click.argument("cases", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--edition",
    "editions",
    metavar="OLD..NEW",
    default=None,
    help="Compare two editions of the rulebook (e.g. 2008..2009) instead of a revision: every case judged by both.",
)
@click.option("--fail-on-change", is_flag=True, help="Exit 1 when any judgement changes.")
@rulebook_options(rules_help="A rules folder in a git work tree to compare instead of the rulebook's own.")
@engine_option()
def diff(base_rev, cases, editions, fail_on_change, rulebook_dir, rules_dir, templates_dir, engine):
    """Judge CASES (default: every case of the rulebook) with the rules as at BASE_REV and as they are
    now, or by two editions (--edition OLD..NEW), and print what changed as a Markdown table."""
    from assessor.tooling.judgement_diff import changes_as_markdown, judge_cases, judgement_changes, rules_at_revision

    if editions is not None and base_rev is not None:
        cases = (base_rev, *cases)  # with --edition every argument is a case
        base_rev = None
    if editions is None and base_rev is None:
        raise click.UsageError("give the revision to compare with (e.g. origin/main), or --edition OLD..NEW")
    if base_rev is not None and base_rev.startswith("-"):
        raise click.BadParameter(f"{base_rev!r} is not a revision", param_hint="BASE_REV")
    for case in cases:
        if not Path(case).is_file():
            raise click.BadParameter(f"{case!r} is not a case file", param_hint="CASES")
    location = locate_rulebook(rulebook_dir, rules_dir, templates_dir, cases, banner=True)
    paths = _case_paths(location, cases)
    if editions is not None:
        old, new = _edition_pair(location, editions)
        before = judge_cases(old.rules, paths, engine, overlays=old.overlays)
        after = judge_cases(new.rules, paths, engine, overlays=new.overlays)
        found, failing = judgement_changes(before, after)
        heading = f"edition `{old.edition}` → edition `{new.edition}` of {location.name}"
        click.echo(changes_as_markdown(found, failing, "", location.rules, len(paths), heading), nl=False)
        sys.exit(EXIT_FINDINGS if fail_on_change and found else EXIT_OK)
    folders = (location.rules, *location.overlays)
    with tempfile.TemporaryDirectory(prefix="assess-diff-") as tmp:
        try:
            copies = []
            for i, folder in enumerate(folders):
                (Path(tmp) / str(i)).mkdir()
                copies.append((Path(tmp) / str(i), rules_at_revision(folder, base_rev, Path(tmp) / str(i))))
        except AssessorError as e:
            fail(e.findings)
        before = judge_cases(copies[0][0], paths, engine, copies[0][1], overlays=tuple(c[0] for c in copies[1:]))
    found, failing = judgement_changes(before, judge_cases(location.rules, paths, engine, overlays=location.overlays))
    click.echo(changes_as_markdown(found, failing, base_rev, location.rules, len(paths)), nl=False)
    sys.exit(EXIT_FINDINGS if fail_on_change and found else EXIT_OK)


# ---------------------------------------------------------------- new-case


def _period(ctx, param, value: str) -> str:
    from assessor.case.read import period_problem

    problem = period_problem(value)
    if problem:
        raise click.BadParameter(f"expected a financial year such as 2007/08: {problem}")
    return value


def _case_schema(location: Location, output) -> dict:
    """The rulebook's generated case schema (assess schema --write), as a path from the new case, if it has one."""
    import os

    generated = location.root / "schemas" / "case.schema.json"
    if not generated.is_file():
        return {}
    folder = Path(output).parent if output else location.cases
    return {"schema": Path(os.path.relpath(generated.resolve(), folder.resolve())).as_posix()}


def _force_name(ctx, param, value: str) -> str:
    """The name as the case reader will read it back: one line of printable text, not too long."""
    from assessor.case.read import name_problem

    problem = name_problem(value.strip())
    if problem:
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise click.BadParameter(f"the force's name {shown!r} {problem}")
    return value.strip()


def _edition_for(location: Location, ident: str | None, period: str) -> tuple[Location, str | None]:
    """The rulebook as the edition a new case is for, and the edition the case must name: the one
    asked for; else the one its period puts in force (which needs no naming); else the last listed,
    named when editions say when they are in force (the period would otherwise choose none)."""
    manifest = location.manifest
    if ident is not None:
        chosen = manifest.edition(ident) if manifest is not None else None
        if manifest is None or chosen is None:
            listed = ", ".join(str(e.id) for e in manifest.editions) if manifest else "none (no rulebook.yaml)"
            raise click.BadParameter(
                f"{ident!r} is not an edition of this rulebook; its editions are {listed}", param_hint="--edition"
            )
        return location.for_edition(chosen), chosen.id
    if manifest is None or len(manifest.editions) < 2 or location.edition is None:
        return location, None
    if all(e.in_force == (None, None) for e in manifest.editions):
        return location, None
    in_force = manifest.in_force(period)
    if in_force is None:
        return location, location.edition
    return location.for_edition(in_force), None


@click.command("new-case", epilog=EXIT_CODES)
@click.option(
    "--force",
    "force_name",
    required=True,
    callback=_force_name,
    help="The force's name as the report writes it, e.g. 'Cambridgeshire Constabulary'.",
)
@click.option("--period", default="2007/08", show_default=True, callback=_period, help="The financial year inspected.")
@click.option(
    "-o",
    "--output",
    type=OutputPath(dir_okay=False),
    default=None,
    help="Write the case to FILE (never overwritten) instead of standard output.",
)
@click.option(
    "--edition",
    metavar="ID",
    default=None,
    help="The edition of the rulebook the case is for (e.g. 2009), written into it as `edition:`. "
    "Default: the edition in force for --period, else the last one listed.",
)
@rulebook_options()
def new_case(force_name, period, output, edition, rulebook_dir, rules_dir, templates_dir):
    """A case file to fill in: every fact the rules need as `unknown`, with its type, range and meaning."""
    from assessor.rulebook.read import load_rulebook
    from assessor.tooling.new_case import skeleton

    if edition is not None and rules_dir is not None:
        raise click.UsageError("--edition and --rules both choose the rules; give one")
    try:
        location = locate_rulebook(rulebook_dir, rules_dir, templates_dir, [output] if output else ())
        location, named = _edition_for(location, edition, period)
        text = skeleton(
            load_rulebook(location.rules, location.overlays),
            force_name,
            period,
            edition=named,
            **_case_schema(location, output),
        )
        if output is None:
            click.echo(text, nl=False)
            return
        if Path(output).exists():
            raise AssessorError(
                Finding(
                    output,
                    None,
                    None,
                    "io",
                    "already exists; new-case never overwrites a case file: choose another name",
                )
            )
        write_atomically(output, text)
    except AssessorError as e:
        fail(e.findings)
    click.echo(
        f"wrote {output}: replace each `unknown` with the evidence, then run `assess lint` and `assess {output}`",
        err=True,
    )
