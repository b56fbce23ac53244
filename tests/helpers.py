"""What several test modules share: the repository's paths and running the assessor in a subprocess.

Fixtures live in conftest.py; this module holds plain names that tests import
(`from helpers import CAMBRIDGESHIRE, run_assessor`).
"""

from __future__ import annotations

import ast
import errno
import functools
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "cases"
CAMBRIDGESHIRE = CASES / "cambridgeshire-2008.yaml"
BAD = ROOT / "tests" / "bad"
BASE = BAD / "base"  # the small valid world the bad-input corpus varies
PACKAGE = ROOT / "assessor"

MEMORY_LIMIT = 1 << 30  # bytes of address space: RLIMIT_AS, a guard against runaway input
TIMEOUT = 30  # seconds: a guard against hanging, not a timing assertion (typical runs take under 1 s)
WORKERS = max(2, min(8, (os.cpu_count() or 2) * 2))  # subprocesses run at once; they mostly wait on start-up

# `python -m assessor ARGS`, with the memory limit set first
LAUNCH = (
    "import resource, runpy, sys\n"
    f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
    "sys.argv[0] = 'assessor'\n"
    "runpy.run_module('assessor', run_name='__main__', alter_sys=True)\n"
)


@functools.cache
def package_sources() -> tuple[tuple[Path, ast.Module], ...]:
    """Every Python file of the package with its syntax tree, parsed once per test session for the
    tests that read the code itself (safety, import layers, lint check ids). Read, never change, a tree."""
    paths = sorted(PACKAGE.rglob("*.py"))
    return tuple((path, ast.parse(path.read_text(encoding="utf-8"), str(path))) for path in paths)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    left_behind: list = field(default_factory=list)  # files in the output directory after the run


def run_assessor(argv: list, cwd: Path = ROOT, env: dict | None = None, timeout: float = TIMEOUT) -> Run:
    """`python -m assessor ARGV` in a subprocess under the memory limit."""
    started = time.monotonic()
    for attempt in range(3):
        try:
            proc = subprocess.run(
                [sys.executable, "-c", LAUNCH, *argv],
                cwd=cwd,
                env=env,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
            break
        except (BlockingIOError, MemoryError, OSError) as e:  # a busy machine could not start the process
            # EFAULT has been seen from fork/exec with many threads spawning at once under load;
            # it is the test's spawn failing, not the assessor: try again
            spawn_failed = not isinstance(e, OSError) or isinstance(e, BlockingIOError) or e.errno == errno.EFAULT
            if attempt == 2 or not spawn_failed:
                raise
            time.sleep(0.5)
    return Run(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
        time.monotonic() - started,
    )


# libyaml's loader and dumper where PyYAML has them: tests read and write YAML often, and the
# pure-Python ones took most of test_scales' and test_schemas' time. Only for test data; the
# assessor reads files with its own located loader.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def read_yaml(path: Path):
    """A YAML file's data, read safely (dates as datetime.date, as the assessor reads them)."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader


def write_yaml(path: Path, data) -> Path:
    """DATA written as YAML to PATH, keys in their order, text as it is."""
    text = yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False)
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)


def assess(*args):
    """`assess ARGS` in this process (click's runner): quicker than run_assessor, for tests of
    what a command says rather than of the process; an exception that is not an exit is raised."""
    from click.testing import CliRunner

    from assessor.cli import main

    result = CliRunner().invoke(main, [*map(str, args)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def edit(path: Path, old: str, new: str) -> None:
    """Replace OLD (which must be there) with NEW in the file at PATH."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")
