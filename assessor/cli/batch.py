"""`assess batch`: a national run over a directory of cases."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

import click

from assessor import __version__
from assessor.batch import CASE_TIMEOUT
from assessor.cli.common import EXIT_CODES, fail, refuse_gaps
from assessor.cli.options import OutputPath, engine_option, locate_rulebook, rulebook_options
from assessor.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, AssessorError, Finding
from assessor.files import write_atomically


@click.command(epilog=EXIT_CODES)
@click.argument("cases_dir", type=click.Path(file_okay=False))
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=OutputPath(file_okay=False),
    help="Directory for the national summary and, under reports/, a report per case (created if missing).",
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
@click.option(
    "--case-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=CASE_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Stop a case that takes longer, report it failed, and go on with the others.",
)
@rulebook_options()
@engine_option()
def batch(cases_dir, out_dir, formats, jobs, case_timeout, rulebook_dir, rules_dir, templates_dir, engine):
    """Assess every case in CASES_DIR in parallel: summary.csv and summary.html, and a report per case
    under reports/.

    A case that cannot be assessed (or runs past --case-timeout) is reported and the
    others go on; the exit code is 1 if any case failed. Every template the run needs
    is checked before anything is written. Ctrl-C stops at once, writes the summary
    of the cases that finished, and exits 130.
    """
    from assessor.batch import REPORTS_DIR, CaseRun, Interrupted, national_csv, report_path, run_batch
    from assessor.files import case_files
    from assessor.report.environment import REPORT_TEMPLATES, Renderer
    from assessor.rulebook.locate import run_inputs
    from assessor.rulebook.read import load_rulebook

    try:
        if not Path(cases_dir).is_dir():
            raise AssessorError(Finding(cases_dir, None, None, "io", "cases directory does not exist"))
        cases = [str(p) for p in case_files(cases_dir)]
        if not cases:
            raise AssessorError(Finding(cases_dir, None, None, "io", "no case files (*.yaml) in this directory"))
        location = locate_rulebook(rulebook_dir, rules_dir, templates_dir, [cases_dir], banner=True)
        book = load_rulebook(location.rules, location.overlays)  # fail fast, before any worker starts
        refuse_gaps(book)
        renderer = Renderer(location.templates)
        _check_templates(renderer, book, formats, REPORT_TEMPLATES)  # before anything is written
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise AssessorError(Finding(out_dir, None, None, "io", "output path exists and is not a directory"))
        (out / REPORTS_DIR).mkdir(parents=True, exist_ok=True)
    except AssessorError as e:
        fail(e.findings)
    except OSError as e:
        fail(Finding(out_dir, None, None, "io", f"cannot create the output directory: {e.strerror}"))
    inputs = run_inputs(location, *cases)
    interrupted = False

    def one_line(run) -> None:  # outside a terminal a bar is noise in a log: one line per case instead
        state = "assessed" if run.ok else "failed"
        grades = ", ".join(f"{k[: -len('.grade')]} {v}" for k, v in run.row.items() if k.endswith(".grade"))
        click.echo(f"{state} {run.case}" + (f": {grades}" if grades else ""), err=True)

    with contextlib.ExitStack() as stack:
        progress: Callable[[CaseRun], None] = one_line
        if sys.stderr.isatty():
            bar = stack.enter_context(click.progressbar(length=len(cases), label="Assessing", file=sys.stderr))
            progress = lambda _run: bar.update(1)  # noqa: E731 - the bar counts, the log names
        try:
            runs = run_batch(
                cases,
                str(out),
                location=location,
                engine=engine,
                formats=formats,
                jobs=jobs,
                progress=progress,
                case_timeout=case_timeout,
                inputs=inputs,
            )
        except Interrupted as e:
            runs, interrupted = e.runs, True
    frameworks = [
        {"id": fw.id, "title": fw.title, "criteria": [{"id": c.id, "heading": c.heading} for c in fw.criteria]}
        for fw in book.frameworks
    ]
    try:
        write_atomically(str(out / "summary.csv"), national_csv(runs), inputs)
        html = renderer.render(
            "summary.html.j2",
            {
                "outcomes": runs,
                # each force's report, linked from its row: the HTML one if written, else the first format
                "reports": {r.case: report_path(r.case, "html" if "html" in formats else formats[0]) for r in runs},
                "frameworks": frameworks,
                "grades": book.scale()["grades"],
                "labels": {g.id: g.label for g in book.grades},
                "rulebook": location.describe(),
                "assessor_version": __version__,
            },
            html=True,
        )
        write_atomically(str(out / "summary.html"), html, inputs)
    except AssessorError as e:
        fail(e.findings)
    failed = [o for o in runs if not o.ok]
    for o in failed:
        click.echo(f"error: {o.error}", err=True)
    if interrupted:
        click.echo(
            f"interrupted: {len(runs)} of {len(cases)} case(s) finished; the summary in {out} lists them", err=True
        )
        sys.exit(EXIT_INTERRUPTED)
    click.echo(f"{len(runs) - len(failed)} assessed, {len(failed)} failed; reports and summary in {out}")
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


def _check_templates(renderer, book, formats, layouts: dict) -> None:
    """Every template the run will render compiles: a mistake found after the reports were
    written would leave a half-made output directory."""
    names = [(layouts[f], f == "html") for f in formats if f in layouts] + [("summary.html.j2", True)]
    for fw in book.frameworks:
        names += [(f"statements/indicators/{i}.md.j2", False) for i in fw.indicators]
        names += [(c.statement, False) for c in fw.criteria]
    findings = []
    for name, html in dict.fromkeys(names):
        try:
            renderer.check(name, html)
        except AssessorError as e:
            findings += e.findings
    if findings:
        raise AssessorError(findings)
