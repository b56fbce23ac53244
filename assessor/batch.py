"""Assess many cases in parallel processes: a report per case and a national summary.

Each worker process compiles the rules once. A case that fails is reported and
the others go on. A worker that dies (durable-rules is C code: a crash takes
the process with it) breaks the pool; the cases then in flight are retried one
at a time in a fresh pool, so the crash is pinned on the case that causes it.
"""

from __future__ import annotations

import csv
import io
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assessor.errors import AssessorError
from assessor.evaluate.result import Result

if TYPE_CHECKING:
    from assessor.session import Session

EXTENSIONS = {"markdown": "md", "html": "html", "json": "json", "text": "txt"}

_session: Session | None = None  # one per worker process
_settings: dict = {}


@dataclass
class CaseRun:
    case: str
    ok: bool
    row: dict = field(default_factory=dict)  # its row in the national summary (national_row)
    error: str = ""


def _start_worker(rules_dir, templates_dir, engine, out_dir, formats, location):
    global _session
    from assessor.session import Session

    _settings.update(out_dir=out_dir, formats=formats)
    _session = Session(rules_dir, templates_dir, engine, location=location)


def _assess_one(case_path: str) -> CaseRun:
    from assessor.files import write_atomically
    from assessor.report.render import render_report

    assert _session is not None, "the worker was started without a session"
    try:
        result = _session.assess(case_path)
        stem = Path(case_path).stem
        for fmt in _settings["formats"]:
            text = render_report(_session.renderer, result, fmt)
            write_atomically(os.path.join(_settings["out_dir"], f"{stem}.{EXTENSIONS[fmt]}"), text)
        return CaseRun(case_path, True, national_row(case_path, result))
    except AssessorError as e:
        return CaseRun(case_path, False, error="; ".join(str(f) for f in e.findings))
    except Exception as e:  # an engine failure in one case must not stop the national run
        return CaseRun(case_path, False, error=f"{case_path}: {type(e).__name__}: {e}")


def national_row(case_path: str, result: Result) -> dict:
    row = {
        "case": Path(case_path).name,
        "force": result["force"],
        "period": result["period"],
        "fictional": "yes" if result["fictional"] else "no",
    }
    for fw in result["frameworks"]:
        row[f"{fw['id']}.grade"] = fw["grade"] or "not assessed"
        row[f"{fw['id']}.rule_grade"] = fw["rule_grade"] or "not assessed"
        for c in fw["criteria"]:
            row[f"{fw['id']}.{c['id']}"] = c["judgement"] or "not assessed"
    return row


def run_batch(
    case_paths: list,
    out_dir: str,
    *,
    rules_dir=None,
    templates_dir=None,
    location=None,
    engine="durable",
    formats=("markdown",),
    jobs: int | None = None,
    progress=None,
    work=None,
) -> list:
    """Assess every case; returns one CaseRun per case, in the order given.

    `work(case_path) -> CaseRun` runs in the workers (default: assess and write the reports).
    The rulebook is `location` when given, else `rules_dir` and `templates_dir` (as Session takes them).
    """
    work = work or _assess_one
    init = (rules_dir, templates_dir, engine, out_dir, tuple(formats), location)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(case_paths) or 1))
    runs: dict = {}
    pending = list(case_paths)
    while pending:
        suspects = _run_pool(work, pending, jobs, init, runs, progress)
        # a worker died: retry the cases it may have been running, alone, to find the culprit
        for case in suspects:
            if _run_pool(work, [case], 1, init, runs, progress):
                runs[case] = CaseRun(case, False, error=f"{case}: the rule engine crashed the worker process")
                if progress:
                    progress(1)
        pending = [c for c in case_paths if c not in runs]
    return [runs[c] for c in case_paths]


def _run_pool(work, cases: list, jobs: int, init: tuple, runs: dict, progress) -> list:
    """Run cases in a pool; returns the cases left unfinished because the pool broke."""
    with ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=init) as pool:
        futures = {pool.submit(work, c): c for c in cases}
        try:
            for future in as_completed(futures):
                run = future.result()
                runs[run.case] = run
                if progress:
                    progress(1)
        except BrokenProcessPool:
            return [c for c in cases if c not in runs]
    return []


def national_csv(runs: list) -> str:
    rows = [
        o.row | {"status": "assessed"} if o.ok else {"case": Path(o.case).name, "status": "failed", "error": o.error}
        for o in runs
    ]
    columns: list = ["case", "status", "force", "period", "fictional"]
    for row in rows:
        columns += [k for k in row if k not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
