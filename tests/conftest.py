"""Shared fixtures: Sessions over the repository's own rules and templates.

Plain helpers and paths are in helpers.py. Markers (`slow`, `browser`) are declared in
setup.cfg; `make test-quick` runs what has neither.
"""

from __future__ import annotations

import pytest


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
