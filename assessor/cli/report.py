"""`assess CASE`: one case graded, as a report in Markdown, HTML, JSON or text."""

from __future__ import annotations

import sys

import click

from assessor.cli.common import EXIT_CODES, fail, refuse_gaps
from assessor.cli.options import OutputPath, engine_option, locate_rulebook, rulebook_options
from assessor.errors import EXIT_ENGINE, AssessorError, InternalError
from assessor.files import refuse_inputs, write_atomically


@click.command(epilog=EXIT_CODES)
@click.argument("case", type=click.Path(dir_okay=False))
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["markdown", "html", "json", "text"]),
    default="markdown",
    show_default=True,
    help="Report format.",
)
@click.option(
    "-o",
    "--output",
    type=OutputPath(dir_okay=False),
    default=None,
    help="Write the report to FILE (atomically) instead of standard output.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Add, per criterion, the facts each rule read, why each rung held or "
    "not, and the smallest change of one fact that would change each "
    "decision.",
)
@rulebook_options()
@engine_option()
def report(case, fmt, output, explain, rulebook_dir, rules_dir, templates_dir, engine):
    """Assess CASE (a case file of evidence) and print the graded report."""
    from assessor.case.plausible import warnings
    from assessor.engines import EngineError
    from assessor.report.render import render_report
    from assessor.rulebook.locate import run_inputs
    from assessor.session import Session

    try:
        location = locate_rulebook(rulebook_dir, rules_dir, templates_dir, [case])
        inputs = run_inputs(location, case) if output else []
        if output:
            refuse_inputs(output, inputs)  # before the work, not only before the write
        with Session(engine=engine, location=location) as session:
            refuse_gaps(session.book)
            loaded = session.load(case)
            for w in warnings(session.book, loaded):  # the report is still made: the figures are valid
                click.echo(f"warning: {w}", err=True)
            result = session.assess_case(loaded, margins=explain)
            text = render_report(session.renderer, result, fmt, explain=explain)
        if output:
            write_atomically(output, text, inputs)
        else:
            click.echo(text, nl=False)
    except InternalError as e:
        for f in e.findings:
            click.echo(
                f"error: {f}\nerror: {case} is valid, so this is a bug in assessor, not in the case: "
                "please report it with the case file",
                err=True,
            )
        sys.exit(EXIT_ENGINE)
    except AssessorError as e:
        fail(e.findings)
    except EngineError as e:
        click.echo(f"error: {case}: the {engine} engine failed: {e}", err=True)
        sys.exit(EXIT_ENGINE)
