"""The `assess` command. The only module that prints or exits."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

import click

from . import __version__
from .findings import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, AssessorError, Finding

EXIT_ENGINE = 3

EXIT_CODES = f"""\b
Exit codes:
  {EXIT_OK}  assessed (or checks passed)
  {EXIT_FINDINGS}  checks found problems: lint errors, failed expectations,
     judgements changed under --fail-on-change
  {EXIT_BAD_INPUT}  bad input or usage; the message names file, line and what was expected
  {EXIT_ENGINE}  the rule engine failed (a bug: please report it with the case file)
"""


class _DefaultToReport(click.Group):
    """`assess CASE.yaml` means `assess report CASE.yaml`; other first words name a command."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["report", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultToReport, epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assess")
def main():
    """Grade a police force against HMIC's specific grading criteria.

    \b
      assess CASE.yaml                 the graded report, in Markdown
      assess CASE.yaml -f html -o r.html
      assess lint                      check the rules and cases
    """


def fail(findings) -> NoReturn:
    if isinstance(findings, Finding):
        findings = [findings]
    for f in findings:
        click.echo(f"error: {f}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def write_atomically(path: str, text: str) -> None:
    """Write the whole file or nothing: a failed run never leaves a partial report."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise AssessorError(Finding(str(target), None, None, "io",
                                    f"cannot write the report: directory {directory} does not exist"))
    if target.is_dir():
        raise AssessorError(Finding(str(target), None, None, "io", "cannot write the report: it is a directory"))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        # mkstemp makes the file private; a report gets the permissions any new file would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise AssessorError(Finding(str(target), None, None, "io", f"cannot write the report: {e.strerror}")) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _engine_choice():
    return click.option("--engine", type=click.Choice(["durable", "python"]), default="durable", show_default=True,
                        help="Rule engine: durable-rules (Rete), or the plain Python evaluator of the same rules.")


def _rules_option():
    return click.option("--rules", "rules_dir", type=click.Path(file_okay=False), default=None,
                        help="Rules directory (default: the bundled rules).")


def _templates_option():
    return click.option("--templates", "templates_dir", type=click.Path(file_okay=False), default=None,
                        help="Templates directory (default: the bundled templates).")


@main.command(epilog=EXIT_CODES)
@click.argument("case", type=click.Path(dir_okay=False))
@click.option("-f", "--format", "fmt", type=click.Choice(["markdown", "html", "json", "text"]), default="markdown",
              show_default=True, help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the report to FILE (atomically) instead of standard output.")
@click.option("--explain", is_flag=True, help="Add, per criterion, the facts each rule read, why each rung held or "
                                             "not, and the smallest change of one fact that would change each "
                                             "decision.")
@_rules_option()
@_templates_option()
@_engine_choice()
def report(case, fmt, output, explain, rules_dir, templates_dir, engine):
    """Assess CASE (a case file of evidence) and print the graded report."""
    from .assessment import Session
    from .engines import EngineError
    from .reporting import render_report

    try:
        with Session(rules_dir, templates_dir, engine) as session:
            result = session.assess(case, margins=explain)
            text = render_report(session.renderer, result, fmt, explain=explain)
        if output:
            write_atomically(output, text)
        else:
            click.echo(text, nl=False)
    except AssessorError as e:
        fail(e.findings)
    except EngineError as e:
        click.echo(f"error: {case}: the {engine} engine failed: {e}", err=True)
        sys.exit(EXIT_ENGINE)



# Commands beyond the report live in their own modules; importing them registers them.
from . import cli_batch, cli_tools  # noqa: E402,F401  batch; lint, test, diff, new-case
