"""The same input gives byte-identical output, whatever the hash seed.

Each report is produced in a fresh interpreter (`python -m assessor`) under
PYTHONHASHSEED=0, 1 and random, so set and dict orders that depend on string
hashing would show up as differences. Covers the report formats, --explain, both
engines, and the error output of a bad case (findings in a stable order).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import BAD, BASE, CAMBRIDGESHIRE, ROOT, WORKERS, run_assessor

pytestmark = pytest.mark.slow  # 21 fresh interpreters

SEEDS = ("0", "1", "random")
BASE_ARGS = [str(BASE / "case.yaml"), "--rules", str(BASE / "rules"), "--templates", str(BASE / "templates")]

RUNS = {
    "cambridgeshire-markdown": [str(CAMBRIDGESHIRE)],
    "cambridgeshire-json": [str(CAMBRIDGESHIRE), "-f", "json"],
    "cambridgeshire-markdown-explain": [str(CAMBRIDGESHIRE), "--explain"],
    "cambridgeshire-json-python-engine": [str(CAMBRIDGESHIRE), "-f", "json", "--engine", "python"],
    "base-html": [*BASE_ARGS, "-f", "html"],
    "base-text-explain": [*BASE_ARGS, "-f", "text", "--explain"],
    # a case with several problems: the same findings in the same order
    "bad-case-errors": [str(BAD / "cases" / "many-problems.yaml"), "--rules", str(BASE / "rules")],
}


@pytest.fixture(scope="module")
def outputs():
    """(name, seed) -> Run, every run in its own interpreter, in parallel."""
    jobs = {(name, seed): argv for name, argv in RUNS.items() for seed in SEEDS}
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = {
            key: pool.submit(run_assessor, argv, ROOT, {**os.environ, "PYTHONHASHSEED": key[1]})
            for key, argv in jobs.items()
        }
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("name", RUNS)
def test_byte_identical_across_hash_seeds(outputs, name):
    runs = [outputs[(name, seed)] for seed in SEEDS]
    first = runs[0]
    assert first.returncode >= 0 and "Traceback" not in first.stderr, first.stderr
    if name.startswith("bad-"):
        assert first.returncode == 2 and first.stderr.count("error: ") > 1
    else:
        assert first.returncode == 0 and first.stdout, first.stderr
    for seed, run in zip(SEEDS[1:], runs[1:]):
        assert (run.returncode, run.stdout, run.stderr) == (first.returncode, first.stdout, first.stderr), (
            f"PYTHONHASHSEED={seed} gave different output from PYTHONHASHSEED={SEEDS[0]}"
        )


def test_report_file_matches_standard_output(tmp_path):
    """-o writes the very bytes the report prints."""
    out = tmp_path / "report.json"
    run = run_assessor([str(CAMBRIDGESHIRE), "-f", "json", "-o", str(out)])
    assert run.returncode == 0 and run.stdout == "", run.stderr
    printed = run_assessor([str(CAMBRIDGESHIRE), "-f", "json"])
    assert out.read_bytes() == printed.stdout.encode("utf-8")
