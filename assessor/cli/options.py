"""The options several commands share, each with one meaning and one default."""

from __future__ import annotations

import click

from assessor.errors import AssessorError
from assessor.rulebook.locate import Location, locate


def engine_option():
    return click.option(
        "--engine",
        type=click.Choice(["durable", "python"]),
        default="durable",
        show_default=True,
        help="Rule engine: durable-rules (Rete), or the plain Python evaluator of the same rules.",
    )


def rulebook_options(
    rules_help: str = "A rules folder to use instead of the rulebook's own (its rulebook is the "
    "rulebook.yaml beside it, if any).",
):
    """--rulebook, --rules and --templates: the same names and the same discovery in every command."""

    def decorate(f):
        f = click.option(
            "--templates",
            "templates_dir",
            type=click.Path(file_okay=False),
            default=None,
            help="A templates folder to use instead of the rulebook's templates/.",
        )(f)
        f = click.option("--rules", "rules_dir", type=click.Path(file_okay=False), default=None, help=rules_help)(f)
        return click.option(
            "--rulebook",
            "rulebook_dir",
            type=click.Path(),
            default=None,
            help="The rulebook folder (holding rulebook.yaml). Default: the nearest rulebook.yaml above the case "
            "files, else above the working directory, else the bundled one.",
        )(f)

    return decorate


def locate_rulebook(rulebook_dir, rules_dir, templates_dir, starts=(), banner: bool = False) -> Location:
    """The rulebook this run uses (assessor.rulebook.locate), its warnings printed; exit 2 on a bad manifest.

    With `banner`, the first line on stderr names it (lint, test and coverage)."""
    from assessor.cli.common import fail

    try:
        location = locate(rulebook_dir, rules_dir, templates_dir, starts)
    except AssessorError as e:
        fail(e.findings)
    announce(location, banner)
    return location


def announce(location: Location, banner: bool = False) -> None:
    """The rulebook's warnings on stderr, after (with `banner`) a first line naming it."""
    if banner:
        click.echo(location.banner(), err=True)
    for warning in location.warnings:
        click.echo(warning, err=True)


class OutputPath(click.Path):
    """A path to write to. Empty is a usage error: it would otherwise quietly mean standard output."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            self.fail("the path is empty (leave the option out to write to standard output)", param, ctx)
        return super().convert(value, param, ctx)
