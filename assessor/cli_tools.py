"""Policy-staff commands: lint (and, in time, test, coverage, diff, new-case)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli import EXIT_CODES, _templates_option, main
from .findings import EXIT_FINDINGS, EXIT_OK


@main.command(epilog=EXIT_CODES)
@click.argument("rules_dir", required=False, type=click.Path(file_okay=False))
@click.argument("cases", nargs=-1, type=click.Path(dir_okay=False))
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "parsable", "json"]), default="text",
              show_default=True, help="parsable: path:line:col: [level] message (check-id)")
@_templates_option()
def lint(rules_dir, cases, fmt, templates_dir):
    """Check RULES_DIR (default: the bundled rules) and CASES (default: cases/*.yaml beside the rules)."""
    from .assessment import bundled
    from .cases import case_files
    from .linting import format_findings, lint as run_lint

    rules = Path(rules_dir) if rules_dir else bundled("rules")
    if not cases:
        cases = [str(p) for p in case_files(rules.parent / "cases")]
    findings = run_lint(rules, list(cases), Path(templates_dir) if templates_dir else bundled("templates"))
    click.echo(format_findings(findings, fmt), nl=False)
    sys.exit(EXIT_FINDINGS if any(f.level == "error" for f in findings) else EXIT_OK)
