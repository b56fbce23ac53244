"""The durable engine as built by setup.py from the registry's sdist (tools/durable_build.py):
patched, verified, the same reports as the python engine on every bundled case, and a wheel
that installs and runs in a fresh virtual environment."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import pytest
from helpers import CAMBRIDGESHIRE, CASES, ROOT

sys.path.insert(0, str(ROOT / "tools"))
import durable_build  # noqa: E402

BUNDLED = sorted(p for p in CASES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
# what a checkout has beyond its source: venvs, build products, caches
_NOT_SOURCE = (".git", ".venv*", "build", "*.egg-info", "__pycache__", "*.so", "node_modules", ".*_cache")
# format -> how the report names the engine it ran on (the one place the engines may differ)
FORMATS = {"markdown": None, "text": None, "html": b" \xc2\xb7 engine %s</p>", "json": b'\n  "engine": "%s",\n'}


def assess(*args: str, cwd: Path = ROOT, python: str = sys.executable) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "assessor", *args], cwd=cwd, capture_output=True, timeout=300)


def test_the_engine_is_the_patched_build():
    """The compiled engine is the package's own, calls nothing Python 3.13 removed (an
    unpatched build names PyEval_CallObject, or before 3.13 PyEval_CallObjectWithKeywords),
    and has our driver's functions."""
    from assessor.engines import durable_rules_engine

    path = Path(durable_rules_engine.__file__)
    assert path.parent == ROOT / "assessor" / "engines" or "site-packages" in path.parts
    assert b"PyEval_CallObject" not in path.read_bytes()
    assert b"PyObject_CallObject" in path.read_bytes()
    assert callable(durable_rules_engine.assessor_run) and callable(durable_rules_engine.assessor_batch)
    assert issubclass(durable_rules_engine.MissingValue, Exception)
    assert issubclass(durable_rules_engine.RefusedValue, Exception)
    assert (path.parent / "durable_rules_engine.LICENSE").read_text().startswith("The MIT License")


TABLE = "static PyMethodDef myModule_methods[] = {\n"
CREATE = "    PyObject *m = PyModule_Create(&moduledef);\n"


def test_the_patch_refuses_a_source_it_does_not_know(tmp_path):
    """A changed source (another release, an edited file) stops the build rather than
    compiling half-patched code."""
    source = tmp_path / "src" / "rulespy" / "rules.c"
    source.parent.mkdir(parents=True)
    call = "result = PyEval_CallObject(callback, arglist);\n"
    source.write_text(call + TABLE)
    with pytest.raises(durable_build.BuildError, match=r"occurs 1 times, the patch expects 5"):
        durable_build.patch(tmp_path)
    source.write_text(call * 5)
    with pytest.raises(durable_build.BuildError, match=r"myModule_methods.* occurs 0 times, the patch expects 1"):
        durable_build.patch(tmp_path)
    source.write_text(call * 5 + TABLE)
    with pytest.raises(durable_build.BuildError, match=r"PyModule_Create.* occurs 0 times, the patch expects 1"):
        durable_build.patch(tmp_path)
    source.write_text(call * 5 + TABLE + CREATE)
    durable_build.patch(tmp_path)
    assert source.read_text() == call.replace("PyEval", "PyObject") * 5 + (
        '#include "assessor_driver.c"\n\n' + TABLE + '    {"assessor_batch", assessorBatch, METH_VARARGS},\n'
        '    {"assessor_run", (PyCFunction)(void (*)(void))assessorRun, METH_FASTCALL},\n'
        "    PyObject *m = assessorAddTypes(PyModule_Create(&moduledef));\n"
    )


def test_the_driver_goes_beside_the_source_it_is_included_in(tmp_path):
    """unpack() (after prepare() has verified the sdist) copies our C driver in beside rules.c,
    which the patch makes include it."""
    sdist = tmp_path / durable_build.SDIST
    with tarfile.open(sdist, "w:gz") as tar:
        info = tarfile.TarInfo(f"{durable_build.TOP}/src/rulespy/rules.c")
        data = ("PyEval_CallObject(x);\n" * 5 + TABLE + CREATE).encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    rulespy = durable_build.unpack(sdist, tmp_path / "out") / "src" / "rulespy"
    assert (rulespy / durable_build.DRIVER_NAME).read_bytes() == durable_build.DRIVER.read_bytes()
    assert '#include "assessor_driver.c"' in (rulespy / "rules.c").read_text()


def test_a_tampered_sdist_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / durable_build.SDIST
    with tarfile.open(fake, "w:gz") as tar:
        info = tarfile.TarInfo(f"{durable_build.TOP}/src/rulespy/rules.c")
        data = b"PyEval_CallObject(" * 5
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    monkeypatch.setenv("ASSESSOR_DURABLE_SDIST", str(fake))
    with pytest.raises(durable_build.BuildError, match=f"sha256 [0-9a-f]{{64}}, expected {durable_build.SHA256}"):
        durable_build.prepare(tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # both engines, four formats, every bundled case
@pytest.mark.parametrize("case", BUNDLED, ids=lambda p: p.stem)
def test_engines_give_identical_reports(case):
    """Every bundled case, every format, byte for byte but for where the report names its engine.
    In-process: that the command gives the same bytes in a new process is test_determinism's."""
    from click.testing import CliRunner

    from assessor.cli import main

    for fmt, names in FORMATS.items():
        out = {}
        for engine in ("durable", "python"):
            done = CliRunner().invoke(main, ["report", str(case), "-f", fmt, "--engine", engine])
            assert done.exit_code == 0, done.output
            out[engine] = done.stdout_bytes
        if names:
            assert out["durable"].count(names % b"durable") == 1, f"{case.name} -f {fmt}"
            out["durable"] = out["durable"].replace(names % b"durable", names % b"python")
        assert out["durable"] == out["python"], f"{case.name} -f {fmt}"


@pytest.mark.slow  # builds the wheel, compiling the engine, and installs it in a new venv
def test_the_wheel_installs_and_runs_in_a_fresh_venv(tmp_path):
    """`pip wheel .` gives one wheel, the engine compiled in; installed into a new venv (its
    dependencies from the registry) it assesses with durable as the checkout does."""
    # From a copy of the source without this checkout's build products, as a fresh clone has it:
    # pip builds in the tree, and CI runs the suites of two Pythons at once in one checkout.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = wheels.glob("assessor-*.whl")
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert f"-{tag}-{tag}-" in wheel.name  # a platform wheel: the engine is in it

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    installed = subprocess.run(
        [python, "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True, timeout=600
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    run_dir = tmp_path / "elsewhere"  # not the checkout: the installed package is used
    run_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run(
        [python, "-c", "import assessor.engines.durable_rules_engine as d; print(d.__file__)"],
        cwd=run_dir,
        capture_output=True,
        text=True,
        env=env,
    )
    assert str(env_dir) in where.stdout, where.stderr
    fresh = subprocess.run(
        [python, "-m", "assessor", "report", str(CAMBRIDGESHIRE)],
        cwd=run_dir,
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert fresh.returncode == 0, fresh.stderr.decode()
    here = assess("report", str(CAMBRIDGESHIRE), "--engine", "python")
    assert fresh.stdout == here.stdout
    assert fresh.stdout.startswith(b"# Cambridgeshire Constabulary")
