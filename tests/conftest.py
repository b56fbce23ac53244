"""Shared fixtures: the repository's own rules, templates and cases."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "cases"
CAMBRIDGESHIRE = CASES / "cambridgeshire-2008.yaml"
# The seed report sits in shared/ beside the repository (CI lays a copy there too).
SEED = ROOT.parent / "shared" / "seed" / "hmic-cambridgeshire-2008.txt"


@pytest.fixture(scope="session", params=["durable", "python"])
def session(request):
    """A Session over the bundled rules, once per engine."""
    from assessor.session import Session

    with Session(engine=request.param) as s:
        yield s


@pytest.fixture(scope="session")
def python_session():
    from assessor.session import Session

    with Session(engine="python") as s:
        yield s
