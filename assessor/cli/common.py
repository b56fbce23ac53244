"""What every command shares: the exit codes in --help, and how findings end a run."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from assessor.errors import EXIT_BAD_INPUT, EXIT_ENGINE, EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, Finding

EXIT_CODES = f"""\b
Exit codes:
  {EXIT_OK}  assessed (or checks passed)
  {EXIT_FINDINGS}  checks found problems: lint errors, failed expectations,
     judgements changed under --fail-on-change
  {EXIT_BAD_INPUT}  bad input or usage; the message names file, line and what was expected
  {EXIT_ENGINE}  the rule engine failed (a bug: please report it with the case file)
  {EXIT_INTERRUPTED}  stopped by Ctrl-C; no report file is left half written
"""


def refuse_gaps(book) -> None:
    """Scales that some evidence falls through (no rung holds, no `otherwise`) stop the run before
    anything is assessed, located, the same on both engines (tooling.reachability.gaps)."""
    scales = [book.outcome] + [d for fw in book.frameworks for c in fw.criteria for d in c.decisions]
    scales += [fw.grade for fw in book.frameworks]
    if all(d is None or d.otherwise is not None for d in scales):
        return  # every scale has its otherwise: nothing to search, and a cold start loads no tooling
    from assessor.errors import AssessorError
    from assessor.tooling.reachability import gaps

    found = gaps(book)
    if found:
        raise AssessorError(found)


def report_findings(findings) -> None:
    """Print each finding to stderr as `error: path:line:col: message (check)`."""
    for f in [findings] if isinstance(findings, Finding) else findings:
        click.echo(f"error: {f}", err=True)


def fail(findings) -> NoReturn:
    """Print the findings and exit 2: the input was bad, and the message says where and why."""
    report_findings(findings)
    sys.exit(EXIT_BAD_INPUT)
