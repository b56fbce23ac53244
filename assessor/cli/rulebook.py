"""Commands that make and equip a rulebook: `assess init` and `assess schema`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from assessor.cli.common import EXIT_CODES, fail
from assessor.cli.options import locate_rulebook, rulebook_options
from assessor.errors import EXIT_FINDINGS, EXIT_OK, AssessorError, Finding
from assessor.files import write_atomically


@click.command(epilog=EXIT_CODES)
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--empty", is_flag=True, help="A minimal skeleton (one criterion, one case) instead of a copy.")
@click.option("--name", default=None, help="The rulebook's name (default: from DIRECTORY's name).")
@click.option("--title", default=None, help="The rulebook's title, one line.")
@click.option(
    "--install",
    "requirement",
    default=None,
    metavar="REQUIREMENT",
    help="How CI and pre-commit install the assessor, pinned: a pip requirement (default: assessor==THIS "
    "VERSION), or git+URL@TAG for the assessor's git repository at a tag.",
)
def init(directory, empty, name, title, requirement):
    """Write a new rulebook repository into DIRECTORY: a copy of the bundled rules, templates and one case
    (or, with --empty, a minimal skeleton), rulebook.yaml, a README for policy staff, editor schemas,
    a pre-commit config and a CI workflow. DIRECTORY must not exist, or be empty."""
    from assessor.tooling.new_rulebook import init_rulebook

    try:
        written = init_rulebook(Path(directory), empty=empty, name=name, title=title, requirement=requirement)
    except AssessorError as e:
        fail(e.findings)
    except OSError as e:
        fail(Finding(directory, None, None, "io", f"cannot write the rulebook: {e.strerror}"))
    for rel in written:
        click.echo(f"{Path(directory) / rel}")
    click.echo(
        f"wrote a rulebook in {directory}: cd {directory} && git init && git add . && git commit -m 'Rulebook', "
        "then `assess lint` and `assess test` there (its README says what comes next)",
        err=True,
    )


@click.command(epilog=EXIT_CODES)
@click.option(
    "--write",
    is_flag=True,
    help="Write schemas/case.schema.json and schemas/rules.schema.json into the rulebook (else print the case schema).",
)
@click.option("--check", is_flag=True, help="Exit 1 when the rulebook's schemas/ differ from what --write writes.")
@rulebook_options()
def schema(write, check, rulebook_dir, rules_dir, templates_dir):
    """JSON Schemas generated from the rulebook, for editors: the case schema names every fact of every
    criterion with its type, range, allowed words and description."""
    from assessor.rulebook.read import load_rulebook
    from assessor.tooling import rulebook_schemas

    location = locate_rulebook(rulebook_dir, rules_dir, templates_dir, banner=write or check)
    try:
        files = rulebook_schemas.generated(load_rulebook(location.rules, location.overlays), location.name)
    except AssessorError as e:
        fail(e.findings)
    if not (write or check):
        click.echo(files[rulebook_schemas.CASE], nl=False)
        return
    if write and location.found_by.startswith("bundled"):
        fail(
            Finding(
                str(location.root),
                None,
                None,
                "io",
                "this is the rulebook bundled with the assessor, which is not yours to change; "
                "`assess init DIR` makes a rulebook of your own",
            )
        )
    folder = location.root / rulebook_schemas.FOLDER
    stale = 0
    for file_name, text in files.items():
        path = folder / file_name
        same = path.is_file() and path.read_text(encoding="utf-8") == text
        if check:
            stale += not same
            click.echo(f"{path}: {'up to date' if same else 'out of date: run `assess schema --write`'}")
            continue
        try:
            folder.mkdir(exist_ok=True)
            if not same:
                write_atomically(str(path), text)
        except AssessorError as e:
            fail(e.findings)
        except OSError as e:
            fail(Finding(str(folder), None, None, "io", f"cannot create the folder: {e.strerror}"))
        click.echo(f"{path}: {'unchanged' if same else 'written'}")
    sys.exit(EXIT_FINDINGS if stale else EXIT_OK)
