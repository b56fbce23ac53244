"""`assess batch`: many cases, parallel workers, one bad case never stops the rest."""

from __future__ import annotations

import csv
import faulthandler
import os
import shutil
import signal
import time

import pytest
from click.testing import CliRunner
from helpers import CAMBRIDGESHIRE

from assessor.batch import CaseRun, run_batch
from assessor.cli import main

pytestmark = pytest.mark.slow  # worker processes start for every test


def _cases(tmp_path, bad: bool = True):
    d = tmp_path / "cases"
    d.mkdir()
    shutil.copy(CAMBRIDGESHIRE, d / "cambridgeshire-2008.yaml")
    text = CAMBRIDGESHIRE.read_text(encoding="utf-8")
    (d / "copy-2008.yaml").write_text(
        text.replace("force: Cambridgeshire Constabulary", "force: Copy Police"), encoding="utf-8"
    )
    if bad:
        (d / "broken-2008.yaml").write_text(text.replace("pc_vacancies: 9 ", "pc_vacancies: -9 "), encoding="utf-8")
    return d


def test_batch_reports_every_good_case_and_the_bad_one(tmp_path):
    cases = _cases(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["batch", str(cases), "-o", str(out), "-f", "markdown", "-f", "json", "--engine", "python", "-j", "2"]
    )
    assert result.exit_code == 1
    assert "2 assessed, 1 failed" in result.stdout
    assert "broken-2008.yaml" in result.stderr and "pc_vacancies must be a whole number of at least 0" in result.stderr
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names == [
        "reports/cambridgeshire-2008.json",
        "reports/cambridgeshire-2008.md",
        "reports/copy-2008.json",
        "reports/copy-2008.md",
        "summary.csv",
        "summary.html",
    ]
    with (out / "summary.csv").open(encoding="utf-8") as f:
        rows = {r["case"]: r for r in csv.DictReader(f)}
    assert rows["broken-2008.yaml"]["status"] == "failed"
    assert rows["copy-2008.yaml"]["force"] == "Copy Police"
    assert rows["cambridgeshire-2008.yaml"]["neighbourhood_policing.grade"] == "meeting"
    assert rows["cambridgeshire-2008.yaml"]["citizen_focus.spi_stability"] == "meeting"
    html = (out / "summary.html").read_text(encoding="utf-8")
    assert "Copy Police" in html and "Not assessed:" in html


def test_batch_of_good_cases_exits_0(tmp_path):
    cases = _cases(tmp_path, bad=False)
    result = CliRunner().invoke(main, ["batch", str(cases), "-o", str(tmp_path / "o"), "--engine", "python"])
    assert result.exit_code == 0, result.stderr


def test_missing_cases_directory_is_a_plain_error(tmp_path):
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "none"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "cases directory does not exist" in result.stderr


def _crash_on_copy(case_path: str) -> CaseRun:
    if "copy" in case_path:
        # the worker inherits pytest's fault handler, which would print "Fatal Python error" into a passing run
        faulthandler.disable()
        os.kill(os.getpid(), signal.SIGSEGV)  # what a durable-rules crash does to a worker
    return CaseRun(case_path, True, {"case": os.path.basename(case_path)})


def test_a_crashing_worker_is_pinned_on_its_case_and_the_rest_finish(tmp_path):
    cases = sorted(str(p) for p in _cases(tmp_path, bad=False).glob("*.yaml"))
    outcomes = run_batch(cases, str(tmp_path), engine="python", jobs=2, work=_crash_on_copy)
    assert [(os.path.basename(o.case), o.ok) for o in outcomes] == [
        ("cambridgeshire-2008.yaml", True),
        ("copy-2008.yaml", False),
    ]
    assert "crashed the worker process" in outcomes[1].error


def test_a_stopped_pool_has_finished_before_the_interpreter_exits():
    """After Ctrl-C the pool is killed; Python's exit hook for pools then wrote to the pipe the
    pool's manager thread was closing, and printed "Exception ignored ... Bad file descriptor"
    now and then (seen in CI on 3.11). Stopping a pool waits for that thread."""
    from concurrent.futures import ProcessPoolExecutor

    from assessor import batch

    pool = ProcessPoolExecutor(max_workers=1)
    pool.submit(time.sleep, 30)
    manager = pool._executor_manager_thread  # type: ignore[attr-defined]
    batch._kill(pool)
    assert manager is not None and not manager.is_alive()
