"""Never hang, never blow up memory (issue 12 §3).

The template bombs are corpus entries (tests/bad/corpus.yaml, `template-bomb-*`), and
`make bench` measures their time and memory. Here: reading from pipes and devices stops
at the size limit, and `assess batch` bounds each case's time and stops cleanly on Ctrl-C.
The timeouts below are guards against hanging, not timing assertions.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import BASE, ROOT, run_assessor

from assessor.batch import CaseRun, run_batch

pytestmark = pytest.mark.slow  # endless inputs, hanging cases and batch workers, each bounded by a timeout

# ---------------------------------------------------------------- reading stops at the limit


def test_an_endless_pipe_is_read_only_up_to_the_limit(tmp_path):
    yes = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "assessor",
                "/dev/stdin",
                "--rules",
                str(BASE / "rules"),
                "--templates",
                str(BASE / "templates"),
            ],
            stdin=yes.stdout,
            capture_output=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
    finally:
        yes.kill()
        yes.wait()
        yes.stdout.close()
    stderr = proc.stderr.decode()
    assert proc.returncode == 2 and "Traceback" not in stderr, stderr
    assert stderr.startswith("error: /dev/stdin: ") and stderr.rstrip().endswith("(too-large)"), stderr


def test_lint_stops_reading_an_endless_case():
    run = run_assessor(
        ["lint", "--rules", str(BASE / "rules"), "--templates", str(BASE / "templates"), "-f", "parsable", "/dev/zero"],
        timeout=60,
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "/dev/zero: [error] " in run.stdout and "(too-large)" in run.stdout


def test_a_pipe_being_written_is_read_to_its_end(tmp_path):
    """`assess <(cat case.yaml)`: a pipe whose writer sends the case in pieces gives the report."""
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assessor",
            f"/dev/fd/{read_end}",
            "--rules",
            str(BASE / "rules"),
            "--templates",
            str(BASE / "templates"),
            "-o",
            str(tmp_path / "report.md"),
        ],
        pass_fds=[read_end],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(read_end)
    text = (BASE / "case.yaml").read_bytes()
    with os.fdopen(write_end, "wb", buffering=0) as writer:
        for start in range(0, len(text), 200):
            writer.write(text[start : start + 200])
            time.sleep(0.01)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert (tmp_path / "report.md").stat().st_size > 0


def test_a_pipe_that_sends_nothing_is_refused_not_waited_for(monkeypatch):
    """A writer that holds its pipe open and never writes: refused after the wait, not waited for forever."""
    from assessor import files
    from assessor.errors import AssessorError

    monkeypatch.setattr(files, "PIPE_WAIT_SECONDS", 0.2)
    read_end, write_end = os.pipe()
    try:
        with pytest.raises(AssessorError) as e:
            files.read_limited(f"/dev/fd/{read_end}", "case file")
    finally:
        os.close(read_end)
        os.close(write_end)
    (finding,) = e.value.findings
    assert finding.check == "io"
    assert finding.message == "cannot read case file: it is a pipe that sent nothing for 0.2 s"


# ---------------------------------------------------------------- batch: a time limit per case


def _sleep_on_slow(case_path: str) -> CaseRun:
    if "slow" in case_path:
        time.sleep(3600)
    return CaseRun(case_path, True, {"case": os.path.basename(case_path)})


def _stuck_on_slow(case_path: str) -> CaseRun:
    """A worker that ignores the alarm, as one stuck inside C code would."""
    if "slow" in case_path:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(3600)
    return CaseRun(case_path, True, {"case": os.path.basename(case_path)})


@pytest.mark.parametrize("work", [_sleep_on_slow, _stuck_on_slow], ids=["sleeping", "stuck"])
def test_a_hanging_case_is_reported_failed_and_the_batch_finishes(work, tmp_path):
    cases = [str(tmp_path / f"{name}.yaml") for name in ("a", "slow", "b", "c")]
    started = time.monotonic()
    outcomes = run_batch(cases, str(tmp_path), engine="python", jobs=2, work=work, case_timeout=1)
    assert time.monotonic() - started < 60
    assert [(Path(o.case).stem, o.ok) for o in outcomes] == [("a", True), ("slow", False), ("b", True), ("c", True)]
    assert "time limit of 1 s" in outcomes[1].error


def _slow_world(tmp_path: Path, teams: dict) -> Path:
    """Rules and templates whose staffing statement takes 2^teams steps: a case with many teams hangs."""
    for part in ("rules", "templates"):
        shutil.copytree(BASE / part, tmp_path / part)
    statement = tmp_path / "templates" / "statements" / "staffing.md.j2"
    statement.write_text(
        "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(values.teams) }}" + statement.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    shutil.copyfile(ROOT / "templates" / "summary.html.j2", tmp_path / "templates" / "summary.html.j2")
    cases = tmp_path / "cases"
    cases.mkdir()
    text = (BASE / "case.yaml").read_text(encoding="utf-8")
    for name, n in teams.items():
        (cases / f"{name}.yaml").write_text(
            text.replace("teams: 10", f"teams: {n}").replace("staffed: 9", f"staffed: {min(9, n)}"), encoding="utf-8"
        )
    return cases


def test_batch_case_timeout_option(tmp_path):
    cases = _slow_world(tmp_path, {"quick": 3, "hanging": 40, "also-quick": 4})
    out = tmp_path / "out"
    run = run_assessor(
        [
            "batch",
            str(cases),
            "-o",
            str(out),
            "--rules",
            str(tmp_path / "rules"),
            "--templates",
            str(tmp_path / "templates"),
            "--engine",
            "python",
            "--case-timeout",
            "2",
            "-j",
            "2",
        ],
        timeout=120,
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "2 assessed, 1 failed" in run.stdout
    assert "hanging.yaml" in run.stderr and "time limit of 2 s" in run.stderr
    with (out / "summary.csv").open(encoding="utf-8") as f:
        rows = {r["case"]: r["status"] for r in csv.DictReader(f)}
    assert rows == {"also-quick.yaml": "assessed", "hanging.yaml": "failed", "quick.yaml": "assessed"}


def test_batch_case_timeout_must_be_positive():
    run = run_assessor(["batch", str(ROOT / "cases"), "-o", "/tmp/never-written", "--case-timeout", "0"])
    assert run.returncode == 2 and "Usage:" in run.stderr and "--case-timeout" in run.stderr


# ---------------------------------------------------------------- batch: Ctrl-C


def test_ctrl_c_cancels_pending_cases_writes_the_summary_and_exits_130(tmp_path):
    # each case takes a second or so; with one worker, 12 cases take far longer than the wait below
    cases = _slow_world(tmp_path, {f"force-{i:02d}": 14 for i in range(12)})
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assessor",
            "batch",
            str(cases),
            "-o",
            str(out),
            "--rules",
            str(tmp_path / "rules"),
            "--templates",
            str(tmp_path / "templates"),
            "--engine",
            "python",
            "-j",
            "1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("reports/*.md")):
            assert time.monotonic() < deadline and proc.poll() is None, "no report written"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
        interrupted = time.monotonic()
        stdout, stderr = proc.communicate(timeout=30)
        took = time.monotonic() - interrupted
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    stderr = stderr.decode()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert took < 10, f"took {took:.1f} s to stop"
    finished = sorted(p.stem for p in (out / "reports").glob("*.md"))
    with (out / "summary.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert 1 <= len(finished) < 12
    assessed = sorted(Path(r["case"]).stem for r in rows if r["status"] == "assessed")
    # The summary lists every case whose result reached the batch. The one case in the single
    # worker when Ctrl-C came may have written its report before its result arrived: at most one.
    assert set(assessed) <= set(finished) and len(finished) - len(assessed) <= 1, (assessed, finished)
    assert "interrupted" in stderr
