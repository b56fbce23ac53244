"""The `assess` command: a click group whose subcommands are listed, in order, in COMMANDS.

Commands print and exit; everything below the CLI returns data or raises AssessorError.
"""

from __future__ import annotations

import click

from assessor import __version__
from assessor.cli.batch import batch
from assessor.cli.common import EXIT_CODES
from assessor.cli.policy import coverage, diff, lint, new_case, test
from assessor.cli.report import report
from assessor.cli.rulebook import init, schema


class _DefaultToReport(click.Group):
    """`assess CASE.yaml` means `assess report CASE.yaml`; other first words name a command."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["report", *args]
        return super().parse_args(ctx, args)

    def list_commands(self, _ctx):
        return list(self.commands)  # the order of COMMANDS, not alphabetical


@click.group(cls=_DefaultToReport, epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assess")
def main():
    """Grade a police force against HMIC's specific grading criteria.

    \b
      assess CASE.yaml                 the graded report, in Markdown
      assess CASE.yaml -f html -o r.html
      assess lint                      check the rules and cases
    """


# Every command, in the order --help lists them.
COMMANDS = (report, batch, lint, test, coverage, diff, new_case, schema, init)
for _command in COMMANDS:
    main.add_command(_command)
