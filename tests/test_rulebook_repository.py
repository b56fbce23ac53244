"""End to end, as a policy team would work: the assessor installed from a wheel (not editable) in a
fresh virtual environment, `assess init` outside this checkout, git, a threshold raised, and then
every command reading that repository's rules and naming its rulebook.

Slow (a wheel build and an install): deselect with -m "not slow".
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Cambridgeshire reviews improvements 12 times a year: `frequently` at >= 12, `occasionally` at >= 13
THRESHOLD = ("improvement_reviews_per_year >= 12", "improvement_reviews_per_year >= 13")
CASE = "cases/cambridgeshire-2008.yaml"
SKIP = {".git", ".venv", ".venv-3.12", "build", "dist", "node_modules", ".pytest_cache", ".hypothesis", "__pycache__"}

pytestmark = pytest.mark.slow


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.com", GIT_COMMITTER_NAME="test")
    env.update(GIT_COMMITTER_EMAIL="test@example.com", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def sh(*args, cwd: Path, ok=(0,)) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=_env(), check=False)
    assert done.returncode in ok, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ folder of a fresh virtual environment with the assessor installed from its wheel."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    # a copy, so the build leaves nothing in the checkout
    shutil.copytree(ROOT, source, ignore=lambda _d, names: [n for n in names if n in SKIP or n.endswith(".egg-info")])
    sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", work / "dist", source, cwd=work)
    (wheel,) = (work / "dist").glob("assessor-*.whl")
    venv.EnvBuilder(with_pip=True).create(work / "venv")
    bin_dir = work / "venv" / "bin"
    sh(bin_dir / "python", "-m", "pip", "install", "--quiet", wheel, cwd=work)
    where = sh(bin_dir / "python", "-c", "import assessor; print(assessor.__file__)", cwd=work).stdout
    assert Path(where.strip()).is_relative_to(work / "venv"), where  # the wheel's copy, not this checkout
    return bin_dir


@pytest.fixture(scope="module")
def repository(installed, tmp_path_factory) -> Path:
    """`assess init`, committed, then a threshold raised in the working tree."""
    repo = tmp_path_factory.mktemp("policy") / "wessex-rules"
    sh(installed / "assess", "init", repo, cwd=repo.parent)
    sh("git", "init", "-q", "-b", "main", cwd=repo)
    sh("git", "add", ".", cwd=repo)
    sh("git", "commit", "-q", "-m", "Rulebook from assess init", cwd=repo)
    rules = repo / "rules" / "neighbourhood-policing.yaml"
    text = rules.read_text(encoding="utf-8")
    assert text.count(THRESHOLD[0]) == 1
    rules.write_text(text.replace(*THRESHOLD), encoding="utf-8")
    return repo


def test_init_wrote_a_repository_whose_modelines_point_at_its_own_schemas(repository):
    for path in [*repository.glob("rules/*.yaml"), repository / CASE]:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        assert (path.parent / first.split("=", 1)[1]).resolve().is_file(), path
    workflow = (repository / ".github" / "workflows" / "rules.yml").read_text(encoding="utf-8")
    assert "cache: pip" not in workflow and "assess lint -f github" in workflow


def test_lint_reads_the_repository(installed, repository):
    done = sh(installed / "assess", "lint", cwd=repository)
    assert done.stderr.splitlines()[0].startswith("rulebook wessex-rules edition 2008 at . (nearest the working")
    assert done.stdout == "no problems found\n"


def test_test_sees_the_raised_threshold(installed, repository):
    done = sh(installed / "assess", "test", "--engine", "python", cwd=repository, ok=(1,))
    assert done.stderr.splitlines()[0].startswith("rulebook wessex-rules")
    assert "choice improvements: expected frequently, got occasionally" in done.stdout


def test_diff_shows_the_change_against_the_commit(installed, repository):
    done = sh(installed / "assess", "diff", "HEAD", "--engine", "python", cwd=repository)
    rows = [line for line in done.stdout.splitlines() if line.startswith("| cambridgeshire-2008")]
    assert any("choice improvements | frequently | occasionally |" in row for row in rows), done.stdout


def test_the_case_is_graded_by_the_repository_from_anywhere_inside_it(installed, repository):
    for cwd, case in ((repository, CASE), (repository / "cases", "cambridgeshire-2008.yaml")):
        done = sh(installed / "assess", case, "-f", "json", "--engine", "python", cwd=cwd)
        doc = json.loads(done.stdout)
        assert doc["rulebook"]["name"] == "wessex-rules"
        assert (cwd / doc["rulebook"]["path"]).resolve() == repository.resolve()
        fw = next(f for f in doc["frameworks"] if f["id"] == "neighbourhood_policing")
        c = next(c for c in fw["criteria"] if c["id"] == "satisfaction_informs_delivery")
        assert c["choices"]["improvements"] == "occasionally"
    report = sh(installed / "assess", CASE, "--engine", "python", cwd=repository).stdout
    assert report.splitlines()[-1].startswith("Graded by the rulebook wessex-rules, edition 2008 (revision ")


def test_coverage_and_new_case_read_the_repository(installed, repository):
    done = sh(installed / "assess", "coverage", "--engine", "python", cwd=repository)
    assert done.stderr.splitlines()[0].startswith("rulebook wessex-rules")
    assert "chosen by at least one of 1 case(s)" in done.stdout
    sh(installed / "assess", "new-case", "--force", "Wessex Police", "-o", "cases/wessex-2008.yaml", cwd=repository)
    text = (repository / "cases" / "wessex-2008.yaml").read_text(encoding="utf-8")
    assert "improvement_reviews_per_year: unknown" in text
    assert text.startswith("# yaml-language-server: $schema=../schemas/case.schema.json\n")  # the repository's own
    (repository / "cases" / "wessex-2008.yaml").unlink()
