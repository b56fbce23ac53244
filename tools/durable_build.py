"""Build durable-rules 2.0.28's C engine from the registry's sdist, patched for current Pythons.

durable-rules 2.0.28 (2020) is the last release and ships as an sdist only. Its Python
binding calls `PyEval_CallObject`, which Python 3.13 removed: compiled there, the call is an
implicit declaration (an error since GCC 14; with older compilers the module builds but fails
to import with `undefined symbol: PyEval_CallObject`, and the implicit `int` return would
truncate the pointer it gives). `PyObject_CallObject` is the same call under the name every
Python 3 has. The upstream fix (jruizgit/rules#403) is merged but unreleased.

So the wheel build (setup.py) compiles the C engine as `assessor.engines.durable_rules_engine`
from the pinned sdist: fetched by pip from the package registry (or taken from
$ASSESSOR_DURABLE_SDIST), checked against its sha256, unpacked into the build directory, and
edited by the substitutions in PATCHES, each of which must apply exactly as often as listed.
No durable-rules source is kept in this repository.

The same patch adds the driver's own C functions and exception types to the module
(durable_driver.c, beside this file: one call per batch instead of one per action, the JSON
written and the messages read in C; see assessor/engines/durable.py).

Also a command, to try the build outside pip, e.g. as GCC 14 would treat it:

    CFLAGS=-Werror=implicit-function-declaration python tools/durable_build.py build/check
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REQUIREMENT = "durable-rules==2.0.28"
SDIST = "durable_rules-2.0.28.tar.gz"
SHA256 = "053b26f5e48d312d4fa27995243f954671be6eece477f150c059c364eb4d7d61"
TOP = "durable_rules-2.0.28"

# What setup.py of the sdist builds: the rules library, linked into the binding module.
SOURCES = [f"src/rules/{name}.c" for name in ("json", "rete", "state", "events", "regex")] + ["src/rulespy/rules.c"]
INCLUDE_DIRS = ["src/rules"]
COMPILE_ARGS = ["-std=c99", "-D_GNU_SOURCE"]  # the sdist's own flags

# Our driver's C functions (durable_driver.c, beside this file), copied in as src/rulespy/DRIVER_NAME
DRIVER = Path(__file__).resolve().parent / "durable_driver.c"
DRIVER_NAME = "assessor_driver.c"

# (file, text, replacement, times it must occur)
PATCHES = [
    # removed in Python 3.13; PyObject_CallObject(callable, args) is the same call (3.x)
    ("src/rulespy/rules.c", "PyEval_CallObject(", "PyObject_CallObject(", 5),
    # the driver's functions join the module (they use its RulesError, so they go in its file)
    (
        "src/rulespy/rules.c",
        "static PyMethodDef myModule_methods[] = {\n",
        f'#include "{DRIVER_NAME}"\n\nstatic PyMethodDef myModule_methods[] = {{\n'
        '    {"assessor_batch", assessorBatch, METH_VARARGS},\n'
        '    {"assessor_run", (PyCFunction)(void (*)(void))assessorRun, METH_FASTCALL},\n',
        1,
    ),
    # and its exception types (for a value missing or refused) join the module when it is made
    (
        "src/rulespy/rules.c",
        "    PyObject *m = PyModule_Create(&moduledef);\n",
        "    PyObject *m = assessorAddTypes(PyModule_Create(&moduledef));\n",
        1,
    ),
]


class BuildError(Exception):
    pass


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(directory: Path) -> Path:
    """The verified sdist, from $ASSESSOR_DURABLE_SDIST or downloaded into `directory` by pip."""
    given = os.environ.get("ASSESSOR_DURABLE_SDIST")
    if given:
        path = Path(given)
    else:
        path = directory / SDIST
        if not path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            command = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--dest",
                str(directory),
                REQUIREMENT,
            ]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0 or not path.exists():
                raise BuildError(
                    f"could not download {REQUIREMENT} with pip ({' '.join(command[1:])}):\n"
                    f"{done.stdout}{done.stderr}\nSet ASSESSOR_DURABLE_SDIST to a copy of {SDIST} "
                    f"to build offline."
                )
    if not path.is_file():
        raise BuildError(f"{path}: no such file (ASSESSOR_DURABLE_SDIST)")
    found = sha256(path)
    if found != SHA256:
        raise BuildError(f"{path}: sha256 {found}, expected {SHA256} ({SDIST} from the registry)")
    return path


def unpack(sdist: Path, directory: Path) -> Path:
    """Extract the sdist into `directory` (replacing an earlier extraction) and patch it."""
    root = directory / TOP
    if root.exists():
        shutil.rmtree(root)
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as tar:
        tar.extractall(directory, filter="data")
    shutil.copyfile(DRIVER, root / "src" / "rulespy" / DRIVER_NAME)
    patch(root)
    return root


def patch(root: Path) -> None:
    for name, old, new, times in PATCHES:
        path = root / name
        text = path.read_text(encoding="utf-8")
        found = text.count(old)
        if found != times:
            raise BuildError(f"{name}: {old!r} occurs {found} times, the patch expects {times}")
        path.write_text(text.replace(old, new), encoding="utf-8")


def prepare(directory: Path) -> Path:
    """Fetch, verify, unpack and patch into `directory`; the unpacked tree's root."""
    return unpack(fetch(directory), directory)


def main(argv: list[str]) -> int:
    """Compile the patched engine into argv[1] (default: a temporary directory) and import it."""
    from setuptools import Distribution, Extension

    out = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="durable-build-"))
    try:
        root = prepare(out / "src")
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ext = Extension(
        "durable_rules_engine",
        sources=[str(root / s) for s in SOURCES],
        include_dirs=[str(root / d) for d in INCLUDE_DIRS],
        extra_compile_args=COMPILE_ARGS,
    )
    dist = Distribution({"name": "durable-check", "ext_modules": [ext]})
    cmd = dist.get_command_obj("build_ext")
    cmd.build_lib = str(out / "lib")
    cmd.build_temp = str(out / "temp")
    cmd.ensure_finalized()
    cmd.run()
    check = "import durable_rules_engine as d; print(d.__file__)"
    return subprocess.run([sys.executable, "-c", check], cwd=out / "lib").returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
