"""`assess batch`: a national run over a directory of cases."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from assessor import __version__
from assessor.cli.common import EXIT_CODES, fail
from assessor.cli.options import engine_option, locate_rulebook, rulebook_options
from assessor.errors import EXIT_FINDINGS, EXIT_OK, AssessorError, Finding
from assessor.files import write_atomically


@click.command(epilog=EXIT_CODES)
@click.argument("cases_dir", type=click.Path(file_okay=False))
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory for the reports and the national summary (created if missing).",
)
@click.option(
    "-f",
    "--format",
    "formats",
    multiple=True,
    default=("markdown",),
    show_default=True,
    type=click.Choice(["markdown", "html", "json", "text"]),
    help="Report format; repeat for several.",
)
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None, help="Worker processes (default: one per CPU).")
@rulebook_options()
@engine_option()
def batch(cases_dir, out_dir, formats, jobs, rulebook_dir, rules_dir, templates_dir, engine):
    """Assess every case in CASES_DIR in parallel: a report per case, summary.csv and summary.html.

    A case that cannot be assessed is reported and the others go on; the exit
    code is 1 if any case failed.
    """
    from assessor.batch import national_csv, run_batch
    from assessor.files import case_files
    from assessor.report.environment import Renderer
    from assessor.rulebook.read import load_rulebook

    try:
        if not Path(cases_dir).is_dir():
            raise AssessorError(Finding(cases_dir, None, None, "io", "cases directory does not exist"))
        cases = [str(p) for p in case_files(cases_dir)]
        if not cases:
            raise AssessorError(Finding(cases_dir, None, None, "io", "no case files (*.yaml) in this directory"))
        location = locate_rulebook(rulebook_dir, rules_dir, templates_dir, [cases_dir], banner=True)
        book = load_rulebook(location.rules)  # fail fast, before any worker starts
        renderer = Renderer(location.templates)
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise AssessorError(Finding(out_dir, None, None, "io", "output path exists and is not a directory"))
        out.mkdir(parents=True, exist_ok=True)
    except AssessorError as e:
        fail(e.findings)
    except OSError as e:
        fail(Finding(out_dir, None, None, "io", f"cannot create the output directory: {e.strerror}"))
    with click.progressbar(length=len(cases), label="Assessing", file=sys.stderr) as bar:
        runs = run_batch(
            cases,
            str(out),
            location=location,
            engine=engine,
            formats=formats,
            jobs=jobs,
            progress=bar.update,
        )
    frameworks = [
        {"id": fw.id, "title": fw.title, "criteria": [{"id": c.id, "heading": c.heading} for c in fw.criteria]}
        for fw in book.frameworks
    ]
    try:
        write_atomically(str(out / "summary.csv"), national_csv(runs))
        html = renderer.render(
            "summary.html.j2",
            {
                "outcomes": runs,
                "frameworks": frameworks,
                "grades": dict(book.grades),
                "rulebook": location.describe(),
                "assessor_version": __version__,
            },
            html=True,
        )
        write_atomically(str(out / "summary.html"), html)
    except AssessorError as e:
        fail(e.findings)
    failed = [o for o in runs if not o.ok]
    for o in failed:
        click.echo(f"error: {o.error}", err=True)
    click.echo(f"{len(runs) - len(failed)} assessed, {len(failed)} failed; reports and summary in {out}")
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)
