"""Nothing is lost or destroyed by writing a report (issue 12 §1).

The corpus (tests/bad/corpus.yaml, `cli-output-*`) holds the refusals: an output that is
an input of the run, however reached, and places that cannot be written. Here: what must
succeed without harm (FIFOs, devices and symbolic links are written through, not replaced),
batch outputs that never collide whatever the case names, and a full standard output for
every command.
"""

from __future__ import annotations

import csv
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import BASE, ROOT, run_assessor

pytestmark = pytest.mark.slow  # each test runs the assessor or a batch of worker processes

CAMBRIDGESHIRE = ROOT / "cases" / "cambridgeshire-2008.yaml"


def _world(tmp_path: Path) -> dict:
    for part in ("rules", "templates"):
        shutil.copytree(BASE / part, tmp_path / part)
    shutil.copyfile(BASE / "case.yaml", tmp_path / "case.yaml")
    return {
        "case": str(tmp_path / "case.yaml"),
        "rules": str(tmp_path / "rules"),
        "templates": str(tmp_path / "templates"),
    }


def _report(world: dict, *more) -> list:
    return [world["case"], "--rules", world["rules"], "--templates", world["templates"], *more]


def _expected_report(world: dict) -> str:
    run = run_assessor(_report(world))
    assert run.returncode == 0, run.stderr
    return run.stdout


# ---------------------------------------------------------------- written through, never replaced


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path):
    world = _world(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    run = run_assessor(_report(world, "-o", str(fifo)))
    reader.join(30)
    assert run.returncode == 0, run.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the FIFO was replaced by a regular file"
    assert received and received[0].decode("utf-8") == _expected_report(world)


def test_a_device_is_written_through_and_stays_a_device(tmp_path):
    world = _world(tmp_path)
    null = tmp_path / "null"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError:
        pytest.skip("making a device node needs root")
    run = run_assessor(_report(world, "-o", str(null)))
    assert run.returncode == 0, run.stderr
    st = null.lstat()
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3), "the device was replaced"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "a temporary file was left"


def test_a_symbolic_link_is_followed_to_its_target(tmp_path):
    world = _world(tmp_path)
    (tmp_path / "reports").mkdir()
    target = tmp_path / "reports" / "current.md"
    target.write_text("the previous report\n", encoding="utf-8")
    link = tmp_path / "latest.md"
    link.symlink_to("reports/current.md")
    run = run_assessor(_report(world, "-o", str(link)))
    assert run.returncode == 0, run.stderr
    assert link.is_symlink() and os.readlink(link) == "reports/current.md", "the link was replaced"
    assert target.read_text(encoding="utf-8") == _expected_report(world)
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["current.md"]


def test_a_dangling_symbolic_link_creates_its_target(tmp_path):
    world = _world(tmp_path)
    (tmp_path / "reports").mkdir()
    link = tmp_path / "latest.md"
    link.symlink_to("reports/new.md")
    run = run_assessor(_report(world, "-o", str(link)))
    assert run.returncode == 0, run.stderr
    assert link.is_symlink() and (tmp_path / "reports" / "new.md").read_text(encoding="utf-8") == _expected_report(
        world
    )


def test_a_regular_file_is_replaced_atomically_keeping_its_hard_links_apart(tmp_path):
    """An ordinary report file is replaced whole; another name for the old file keeps the old text."""
    world = _world(tmp_path)
    out = tmp_path / "report.md"
    out.write_text("old\n", encoding="utf-8")
    os.link(out, tmp_path / "archive.md")
    run = run_assessor(_report(world, "-o", str(out)))
    assert run.returncode == 0, run.stderr
    assert out.read_text(encoding="utf-8") == _expected_report(world)
    assert (tmp_path / "archive.md").read_text(encoding="utf-8") == "old\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_directory_is_a_plain_error(tmp_path):
    world = _world(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        run = run_assessor(_report(world, "-o", str(ro / "report.md")))
    finally:
        ro.chmod(0o755)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.startswith(f"error: {ro / 'report.md'}: ") and "(io)" in run.stderr


# ---------------------------------------------------------------- every command, standard output full


COMMANDS = {
    "report": ["{case}", "--rules", "{rules}", "--templates", "{templates}"],
    "report-json": ["{case}", "--rules", "{rules}", "--templates", "{templates}", "-f", "json"],
    "lint": ["lint", "--rules", "{rules}", "--templates", "{templates}", "{case}"],
    "test": ["test", "{case}", "--rules", "{rules}", "--templates", "{templates}", "--engine", "python"],
    "coverage": ["coverage", "{case}", "--rules", "{rules}", "--templates", "{templates}", "--engine", "python"],
    "new-case": ["new-case", "--force", "Testshire Constabulary", "--rules", "{rules}"],
    "batch": ["batch", "{cases}", "-o", "{tmp}/batch", "--engine", "python"],
    "diff": ["diff", "HEAD", str(CAMBRIDGESHIRE), "--engine", "python"],
    "help": ["--help"],
    "version": ["--version"],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_standard_output_on_a_full_disk_is_a_plain_error(command, tmp_path):
    world = _world(tmp_path)
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copyfile(CAMBRIDGESHIRE, cases / CAMBRIDGESHIRE.name)
    argv = [a.format(**world, tmp=tmp_path, cases=cases) for a in command]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "assessor", *argv],
            cwd=ROOT,
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert proc.returncode == 2, stderr
    assert "error: standard output: cannot write: No space left on device (io)" in stderr.splitlines(), stderr


def test_a_full_disk_for_a_written_case_is_a_plain_error(tmp_path):
    world = _world(tmp_path)
    link = tmp_path / "new.yaml"
    link.symlink_to("/dev/full")
    run = run_assessor(["new-case", "--force", "Testshire", "--rules", world["rules"], "-o", str(link)])
    assert "Traceback" not in run.stderr and run.returncode == 2, run.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["new-case", "--force", "Testshire", "-o", ""],
        ["batch", str(ROOT / "cases"), "-o", ""],
        [str(CAMBRIDGESHIRE), "--output="],
    ],
)
def test_an_empty_output_path_is_a_usage_error(command):
    run = run_assessor(command)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "Usage:" in run.stderr and "empty" in run.stderr, run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize("out", ["/proc/assessor-batch", "/sys/assessor-batch"])
def test_batch_into_an_unwritable_place_is_a_plain_error(out, tmp_path):
    run = run_assessor(["batch", str(ROOT / "cases"), "-o", out, "--engine", "python"])
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert any(line.startswith(f"error: {out}: ") and line.endswith("(io)") for line in run.stderr.splitlines())


# ---------------------------------------------------------------- batch outputs never collide


def test_batch_reports_and_summaries_never_collide_whatever_the_case_names(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    text = CAMBRIDGESHIRE.read_text(encoding="utf-8")
    names = ["summary", "summary.csv", "reports", "index"]
    for i, name in enumerate(names):
        (cases / f"{name}.yaml").write_text(
            text.replace("force: Cambridgeshire Constabulary", f"force: Force Number {i}"), encoding="utf-8"
        )
    out = tmp_path / "out"
    run = run_assessor(
        [
            "batch",
            str(cases),
            "-o",
            str(out),
            "-f",
            "html",
            "-f",
            "markdown",
            "-f",
            "json",
            "-f",
            "text",
            "--engine",
            "python",
        ]
    )
    assert run.returncode == 0, run.stderr
    written = [p for p in out.rglob("*") if p.is_file()]
    # every force has its own report in every format, and the national summary names them all
    for i, name in enumerate(names):
        for ext in ("html", "md", "json", "txt"):
            mine = [p for p in written if p.name == f"{name}.{ext}" and _forces(p) == [i]]
            assert len(mine) == 1, (name, ext, sorted(str(p.relative_to(out)) for p in written))
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert all(f"Force Number {i}" in summary for i in range(len(names)))
    with (out / "summary.csv").open(encoding="utf-8") as f:
        assert sorted(r["force"] for r in csv.DictReader(f)) == [f"Force Number {i}" for i in range(len(names))]


def _forces(path: Path) -> list:
    return [i for i in range(10) if f"Force Number {i}" in path.read_text(encoding="utf-8")]


def test_batch_never_writes_a_report_over_a_case(tmp_path):
    """Reports may be asked into the cases' own directory, and a report's name may be a link to a case."""
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copyfile(CAMBRIDGESHIRE, cases / "cambs.yaml")
    before = (cases / "cambs.yaml").read_bytes()
    run = run_assessor(["batch", str(cases), "-o", str(cases), "--engine", "python"])
    assert run.returncode == 0, run.stderr
    out = tmp_path / "out"
    reports = out / "reports"
    reports.mkdir(parents=True)
    (reports / "cambs.md").symlink_to(cases / "cambs.yaml")
    run = run_assessor(["batch", str(cases), "-o", str(out), "--engine", "python"])
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "output-is-input" in run.stderr
    assert (cases / "cambs.yaml").read_bytes() == before
