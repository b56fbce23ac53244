"""Assess many cases in parallel processes: a report per case and a national summary.

Each worker process compiles the rules once. A case that fails is reported and
the others go on. A worker that dies (durable-rules is C code: a crash takes
the process with it) breaks the pool; the cases then in flight are retried one
at a time in a fresh pool, so the crash is pinned on the case that causes it.

Each case has a time limit: the worker's alarm stops a case that runs over, and a
worker that does not answer its alarm (stuck in C code) is killed, its cases then
retried alone like a crash's. Ctrl-C (KeyboardInterrupt in the parent; the workers
ignore it) kills the workers at once and raises Interrupted with what finished.

Reports go to REPORTS_DIR inside the output directory, one per case and format, so no
case name can make a report collide with the batch's own files beside it.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assessor.errors import AssessorError
from assessor.evaluate.result import Result

if TYPE_CHECKING:
    from assessor.session import Session

EXTENSIONS = {"markdown": "md", "html": "html", "json": "json", "text": "txt"}
REPORTS_DIR = "reports"
CASE_TIMEOUT = 120.0  # seconds a case may take by default; the bundled ones take well under one
STUCK_GRACE = 5.0  # seconds past its limit before a worker that ignores its alarm is killed


class CaseTimeout(BaseException):
    """A case ran past its time limit. Not an Exception, so nothing on the way catches it as an error
    of the case's own (a template's, say)."""


class Interrupted(Exception):
    """Ctrl-C: the runs of the cases that finished, in the order given."""

    def __init__(self, runs: list):
        super().__init__("interrupted")
        self.runs = runs


_session: Session | None = None  # one per worker process
_settings: dict = {}


@dataclass
class CaseRun:
    case: str
    ok: bool
    row: dict = field(default_factory=dict)  # its row in the national summary (national_row)
    error: str = ""


def _start_worker(rules_dir, templates_dir, engine, out_dir, formats, location, inputs):
    global _session
    from assessor.session import Session

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _settings.update(out_dir=out_dir, formats=formats, inputs=inputs)
    _session = Session(rules_dir, templates_dir, engine, location=location)


def _timed(work, case_path: str, seconds: float | None) -> CaseRun:
    """`work(case_path)` within the case's time limit."""
    from assessor import limits

    def over():
        return CaseTimeout()

    try:
        with limits.time_limit(seconds, over):
            return work(case_path)
    except CaseTimeout:
        return CaseRun(case_path, False, error=_over_time(case_path, seconds))


def _over_time(case_path: str, seconds) -> str:
    return f"{case_path}: stopped at the time limit of {seconds:g} s per case (--case-timeout)"


def _assess_one(case_path: str) -> CaseRun:
    from assessor.files import write_atomically
    from assessor.report.render import render_report

    assert _session is not None, "the worker was started without a session"
    try:
        result = _session.assess(case_path)
        for fmt in _settings["formats"]:
            text = render_report(_session.renderer, result, fmt)
            write_atomically(os.path.join(_settings["out_dir"], report_path(case_path, fmt)), text, _settings["inputs"])
        return CaseRun(case_path, True, national_row(case_path, result))
    except AssessorError as e:
        return CaseRun(case_path, False, error="; ".join(str(f) for f in e.findings))
    except Exception as e:  # an engine failure in one case must not stop the national run
        return CaseRun(case_path, False, error=f"{case_path}: {type(e).__name__}: {e}")


def report_path(case_path: str, fmt: str) -> str:
    """Where a case's report goes, relative to the output directory (summary.html links to it)."""
    return f"{REPORTS_DIR}/{Path(case_path).stem}.{EXTENSIONS[fmt]}"


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
        row[f"{fw['id']}.moderated"] = "yes" if fw["moderation"] else "no"
        for c in fw["criteria"]:
            row[f"{fw['id']}.{c['id']}"] = c["judgement"] or "not assessed"
    return row


def run_batch(
    case_paths: list,
    out_dir: str,
    *,
    rules_dir=None,
    templates_dir=None,
    engine="durable",
    formats=("markdown",),
    jobs: int | None = None,
    progress=None,
    work=None,
    location=None,
    case_timeout: float | None = CASE_TIMEOUT,
    inputs=(),
) -> list:
    """Assess every case; returns one CaseRun per case, in the order given.

    `work(case_path) -> CaseRun` runs in the workers (default: assess and write the reports,
    never over a file among `inputs`). The rulebook is `location` when given, else `rules_dir` and
    `templates_dir` (as Session takes them). Raises Interrupted on Ctrl-C.
    """
    work = work or _assess_one
    init = (rules_dir, templates_dir, engine, out_dir, tuple(formats), location, tuple(str(p) for p in inputs))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(case_paths) or 1))
    runs: dict = {}
    pending = list(case_paths)
    try:
        while pending:
            suspects, _ = _run_pool(work, pending, jobs, init, runs, progress, case_timeout)
            # a worker died or stopped answering: retry the cases it may have been running, alone,
            # to find the culprit
            for case in suspects:
                failed, why = _run_pool(work, [case], 1, init, runs, progress, case_timeout)
                if failed:
                    error = (
                        _over_time(case, case_timeout)
                        if why == "stuck"
                        else f"{case}: the rule engine crashed the worker process"
                    )
                    runs[case] = CaseRun(case, False, error=error)
                    if progress:
                        progress(runs[case])
            pending = [c for c in case_paths if c not in runs]
    except KeyboardInterrupt:
        raise Interrupted([runs[c] for c in case_paths if c in runs]) from None
    return [runs[c] for c in case_paths]


def _run_pool(work, cases: list, jobs: int, init: tuple, runs: dict, progress, case_timeout) -> tuple:
    """Run cases in a pool. Returns the cases to retry alone and why ("crashed" or "stuck"), or
    ([], None) when the pool finished (cases left unfinished by a stuck worker are simply run again)."""
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=init)
    futures = {pool.submit(_timed, work, c, case_timeout): c for c in cases}
    running_since: dict = {}
    waiting = set(futures)
    try:
        while waiting:
            done, waiting = wait(waiting, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in done:
                run = future.result()
                runs[run.case] = run
                if progress:
                    progress(run)
            if case_timeout:
                now = time.monotonic()
                for future in waiting:
                    if future.running():
                        running_since.setdefault(future, now)
                stuck = [f for f in waiting if now - running_since.get(f, now) > case_timeout + STUCK_GRACE]
                if stuck:
                    _kill(pool)
                    return [futures[f] for f in stuck], "stuck"
    except BrokenProcessPool:
        _kill(pool)
        return [c for c in cases if c not in runs], "crashed"
    except BaseException:
        _kill(pool)
        raise
    pool.shutdown(wait=True)
    return [], None


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: its workers killed, its queued cases dropped."""
    manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)  # shutdown() forgets it
    for process in list((pool._processes or {}).values()):  # no public way to stop a running worker
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    # Python's exit hook for pools (concurrent.futures.process._python_exit) writes to the pipe
    # that wakes the pool's manager thread, which closes it as it ends: the two raced after a
    # Ctrl-C, printing "Exception ignored ... Bad file descriptor" (Python 3.11). With its workers
    # killed the thread ends at once; waiting for it leaves the hook nothing to write to.
    if manager is not None:
        manager.join(timeout=10)


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
    writer.writerows({k: _inert(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def _inert(cell):
    """A cell a spreadsheet shows as text: one beginning with = + - @ (or a tab or carriage return
    before them) would be run as a formula, so it gets a leading apostrophe (OWASP, CSV injection)."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell
