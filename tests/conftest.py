"""Shared fixtures: Sessions over the repository's own rules and templates.

Plain helpers and paths are in helpers.py. Markers (`slow`, `browser`) are declared in
setup.cfg; `make test-quick` runs what has neither.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

# The rulebook's model and the code generated from each template are cached per user
# (rulebook/model_cache.py, report/code_cache.py): the suite keeps its own cache, which starts
# empty, so it runs both the caches' misses and their hits and leaves the user's alone.
_CACHE_HOME = tempfile.mkdtemp(prefix="assessor-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE_HOME


def pytest_unconfigure(config):  # noqa: ARG001 - pytest's hook signature
    shutil.rmtree(_CACHE_HOME, ignore_errors=True)


@pytest.fixture(scope="session", params=["durable", "python"])
def session(request):
    """A Session over the bundled rules, once per engine."""
    from assessor.session import Session

    with Session(engine=request.param) as s:
        yield s


@pytest.fixture(scope="session")
def python_session():
    """One Session on the Python engine, for tests where the engine does not matter
    (tests/test_engines.py and the `session` fixture show that both engines agree)."""
    from assessor.session import Session

    with Session(engine="python") as s:
        yield s
