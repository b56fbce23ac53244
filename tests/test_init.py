"""`assess init`: what it writes, checked as the tools that will read it would check it.

The installed-wheel journey through an init'd repository is tests/test_rulebook_repository.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from assessor import __version__
from assessor.cli import main

ROOT = Path(__file__).resolve().parent.parent
CHECK = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_the_workflow_is_a_valid_github_workflow_that_diffs_even_when_tests_fail(tmp_path):
    assert run("init", tmp_path / "book").exit_code == 0
    path = tmp_path / "book" / ".github" / "workflows" / "rules.yml"
    assert CHECK, "check-jsonschema is not installed: pip install -e '.[test]'"
    done = subprocess.run(
        [CHECK, "--builtin-schema", "vendor.github-workflows", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    flow = yaml.safe_load(path.read_text(encoding="utf-8"))
    job = flow["jobs"]["rules"]
    assert job["env"]["ASSESSOR"] == f"assessor=={__version__}"
    steps = {s.get("name", s.get("uses")): s for s in job["steps"]}
    assert "cache" not in steps["actions/setup-python@v5"].get("with", {})
    assert steps["Install the assessor"]["run"] == 'pip install "$ASSESSOR"'
    assert steps["Lint rules, templates and cases"]["run"] == "assess lint -f github"
    for name in ("Judgement changes", "Comment the judgement changes"):
        # runs after a failed `assess test`: not the default success() condition
        assert "!cancelled()" in steps[name]["if"] and "pull_request" in steps[name]["if"]
    assert 'assess diff "origin/$BASE_REF"' in steps["Judgement changes"]["run"]
    assert steps["Comment the judgement changes"]["run"].startswith('gh pr comment "$PR" --body-file judgement-diff.md')


def test_pre_commit_runs_this_projects_hooks(tmp_path):
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert run("init", tmp_path / "local").exit_code == 0
    config = yaml.safe_load((tmp_path / "local" / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    (repo,) = config["repos"]
    assert repo["repo"] == "local"  # installed from a package index: the hooks declared as the project declares them
    for hook in repo["hooks"]:
        ours = hooks[hook["id"]]
        for key in ("name", "entry", "language", "files", "pass_filenames"):
            assert hook[key] == ours[key], (hook["id"], key)
        assert hook["additional_dependencies"] == [f"assessor=={__version__}"]
    assert sorted(h["id"] for h in repo["hooks"]) == sorted(hooks)
    tagged = tmp_path / "tagged"
    assert run("init", tagged, "--install", "git+https://example.org/assessor.git@v9.1").exit_code == 0
    (remote,) = yaml.safe_load((tagged / ".pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"]
    assert (remote["repo"], remote["rev"]) == ("https://example.org/assessor.git", "v9.1")
    assert sorted(h["id"] for h in remote["hooks"]) == sorted(hooks)
    flow = yaml.safe_load((tagged / ".github" / "workflows" / "rules.yml").read_text(encoding="utf-8"))
    assert flow["jobs"]["rules"]["env"]["ASSESSOR"] == "git+https://example.org/assessor.git@v9.1"


def test_an_empty_rulebook_lints_tests_and_reports(tmp_path, monkeypatch):
    book = tmp_path / "new-regime"
    assert run("init", book, "--empty").exit_code == 0
    assert yaml.safe_load((book / "rulebook.yaml").read_text(encoding="utf-8")) == {
        "name": "new-regime",
        "title": "A new rulebook",
        "assessor": ">=0.2",
    }
    assert not list((book / "templates" / "statements").glob("*/*citizen*"))
    monkeypatch.chdir(book)
    assert run("lint").stdout == "no problems found\n"
    assert run("test", "--engine", "python").stdout == "cases/examplia-2008.yaml: ok\n1 case(s): 0 failed\n"
    report = run("cases/examplia-2008.yaml", "--engine", "python")
    assert report.exit_code == 0
    assert "Teams are staffed across most neighbourhoods." in report.stdout
    assert report.stdout.splitlines()[-1].startswith("Graded by the rulebook new-regime (revision ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--install", "assessor >=0.2"), "expected one pip requirement without spaces"),
        (("--name", "Big Name"), "a rulebook name is lower-case letters"),
    ],
)
def test_bad_options_are_refused_and_leave_nothing(tmp_path, args, message):
    result = run("init", tmp_path / "book", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_init_never_overwrites(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "notes.txt").write_text("mine", encoding="utf-8")
    result = run("init", tmp_path / "book")
    assert result.exit_code == 2
    assert "init never overwrites" in result.stderr
    assert [p.name for p in (tmp_path / "book").iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book"]  # no half-built folder beside it


def test_init_fills_the_empty_folder_it_is_run_in(tmp_path, monkeypatch):
    here = tmp_path / "Wessex Rules"
    here.mkdir()
    monkeypatch.chdir(here)
    assert run("init", ".").exit_code == 0
    assert Path.cwd() == here and (here / "rulebook.yaml").is_file()  # the same folder, filled
    assert yaml.safe_load((here / "rulebook.yaml").read_text(encoding="utf-8"))["name"] == "wessex-rules"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Wessex Rules"]
    assert run("lint").stdout == "no problems found\n"
