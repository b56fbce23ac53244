"""Builds assessor with durable-rules' C engine compiled in: see tools/durable_build.py.

Everything else about the package is declared in setup.cfg.
"""

import shutil
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
import durable_build  # noqa: E402

ENGINE = "assessor.engines.durable_rules_engine"


class BuildExt(build_ext):
    """Fetches, verifies and patches the durable-rules sdist before compiling its engine."""

    def run(self):
        for ext in self.extensions:
            if ext.name == ENGINE:
                try:
                    root = durable_build.prepare(Path(self.build_temp) / "durable")
                except durable_build.BuildError as exc:
                    sys.exit(f"error: building the durable-rules engine: {exc}")
                ext.sources = [str(root / s) for s in durable_build.SOURCES]
                ext.include_dirs = [str(root / d) for d in durable_build.INCLUDE_DIRS]
                # MIT: its licence goes beside the compiled engine
                target = Path(self.get_ext_fullpath(ENGINE)).parent / "durable_rules_engine.LICENSE"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(root / "LICENSE", target)
        super().run()


setup(
    ext_modules=[Extension(ENGINE, sources=["(set by BuildExt)"], extra_compile_args=durable_build.COMPILE_ARGS)],
    cmdclass={"build_ext": BuildExt},
)
