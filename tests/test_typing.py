"""The package type-checks: `mypy` (its settings in pyproject.toml) finds nothing.

The result document's TypedDicts (assessor/evaluate/result.py) mean something only while
the code that builds and reads the document is checked against them; this keeps it so.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_mypy_finds_nothing(tmp_path):
    pytest.importorskip("mypy", reason="mypy is a test dependency: pip install -e '.[test]'")
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
