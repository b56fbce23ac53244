"""`assess init DIR`: a rulebook repository, ready to commit, started from the bundled rulebook.

What it writes comes from the bundled rulebook (rules, templates, one case) and from the
templates in assessor/scaffold/ (manifest, README, pre-commit config, CI workflow, and the
minimal skeleton of `--empty`). The folder is built beside DIR and moved into place at the
end, so a failed init leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from assessor import __version__
from assessor.errors import AssessorError, Finding
from assessor.files import PACKAGE, bundled_root
from assessor.rulebook.locate import MANIFEST, NAME, read_manifest
from assessor.rulebook.read import load_rulebook
from assessor.tooling import rulebook_schemas

SCAFFOLD = PACKAGE / "scaffold"
STARTER_CASE = "cambridgeshire-2008"
EMPTY_CASE = "examplia-2008"
# git+URL@REV: the assessor from a git repository at a tag or commit
GIT_REQUIREMENT = re.compile(r"git\+(?P<url>\S+)@(?P<rev>[A-Za-z0-9._/-]+)\Z")


def default_requirement() -> str:
    return f"assessor=={__version__}"


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", text.lower())).strip("-")[:64] or "rulebook"


def _environment() -> jinja2.Environment:
    # square brackets, so the workflow's own ${{ … }} expressions pass through untouched; the
    # scaffold is the package's own, yet only a sandbox renders templates in this package
    return ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(SCAFFOLD)),
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _yaml_text(value: str | None) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _check_requirement(requirement: str) -> re.Match | None:
    if not requirement or any(c.isspace() or c in "\"'\\" or ord(c) < 32 for c in requirement):
        raise AssessorError(
            Finding(
                "--install",
                None,
                None,
                "bad-value",
                f"expected one pip requirement without spaces or quotes, such as {default_requirement()} or "
                f"git+https://example.org/assessor.git@v{__version__}, got {requirement!r}",
            )
        )
    return GIT_REQUIREMENT.fullmatch(requirement)


def _target_free(target: Path) -> None:
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        raise AssessorError(
            Finding(
                str(target),
                None,
                None,
                "io",
                "already exists and is not an empty folder; init never overwrites: choose a new folder",
            )
        )
    if not target.resolve().parent.is_dir():
        raise AssessorError(Finding(str(target), None, None, "io", f"folder {target.parent} does not exist"))


def init_rulebook(
    target: Path, *, empty: bool = False, name: str | None = None, title: str | None = None, requirement=None
) -> list[Path]:
    """Write a rulebook repository into `target` (new or empty); returns the files written, relative to it."""
    target = Path(target)
    requirement = requirement or default_requirement()
    git = _check_requirement(requirement)
    name = name or _slug(target.resolve().name)
    if not NAME.match(name):
        raise AssessorError(
            Finding(
                "--name",
                None,
                None,
                "bad-id",
                f"a rulebook name is lower-case letters, digits and hyphens, got {name!r}",
            )
        )
    _target_free(target)
    bundled = read_manifest(bundled_root() / MANIFEST)
    one_line = title or ("A new rulebook" if empty else f"{bundled.title}, as kept by {name}")
    if "\n" in one_line or not one_line.strip():
        raise AssessorError(Finding("--title", None, None, "bad-value", "the title must be one line of text"))

    place = target.resolve()  # `assess init .` builds beside the current folder, not inside it
    build = Path(tempfile.mkdtemp(prefix=f".{place.name}.", dir=place.parent))
    try:
        _lay_out(build, empty, bundled)
        book = load_rulebook(build / "rules")
        major, minor = __version__.split(".")[:2]
        env = _environment()
        context = {
            "name": name,
            "title": _yaml_text(one_line),
            "needs": _yaml_text(f">={major}.{minor}"),
            "editions": [] if empty else [{"id": _yaml_text(e.id), "rules": "rules"} for e in bundled.editions],
            "requirement": requirement,
            "requirement_yaml": _yaml_text(requirement),
            "dependencies": json.dumps([requirement]),
            "hooks_repo": git.group("url") if git else None,
            "hooks_rev": git.group("rev") if git else None,
            "case": f"{EMPTY_CASE if empty else STARTER_CASE}.yaml",
        }
        readme_context = {**context, "title": one_line}
        files = {
            MANIFEST: env.get_template("rulebook.yaml.j2").render(context) + "\n",
            "README.md": env.get_template("README.md.j2").render(readme_context),
            ".pre-commit-config.yaml": env.get_template("pre-commit-config.yaml.j2").render(context) + "\n",
            ".github/workflows/rules.yml": env.get_template("workflow.yml.j2").render(context),
            ".gitignore": (SCAFFOLD / "gitignore").read_text(encoding="utf-8"),
        }
        for schema_name, text in rulebook_schemas.generated(book, name).items():
            files[f"{rulebook_schemas.FOLDER}/{schema_name}"] = text
        for rel, text in files.items():
            path = build / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
        read_manifest(build / MANIFEST)  # what init writes, assess must read
        for path in sorted((build / "rules").glob("*.yaml")) + [
            p for p in sorted((build / "cases").glob("*.yaml")) if not p.name.endswith(".expected.yaml")
        ]:
            text = path.read_text(encoding="utf-8")
            if text.startswith(rulebook_schemas.MODELINE):  # the bundled file's own, for the assessor's checkout
                text = text.split("\n", 1)[1]
            path.write_text(rulebook_schemas.modeline(path, build) + text, encoding="utf-8", newline="\n")
        written = sorted(p.relative_to(build) for p in build.rglob("*") if p.is_file())
        if place.exists():  # an empty folder stays the same folder (a shell may be in it): fill it
            for entry in sorted(build.iterdir()):
                os.replace(entry, place / entry.name)
            build.rmdir()
        else:
            os.replace(build, place)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return written


def _lay_out(build: Path, empty: bool, bundled) -> None:
    """rules/, templates/ and cases/: the bundled ones (one case), or the skeleton of --empty."""
    root = bundled_root()
    templates = root / "templates"
    if empty:
        # the report layouts stay; the bundled criteria's statements give way to the skeleton's
        shutil.copytree(templates, build / "templates", ignore=_ignore_statements(templates))
        shutil.copytree(SCAFFOLD / "empty", build, dirs_exist_ok=True)
        return
    rules = bundled.editions[-1].rules if bundled.editions else root / "rules"
    shutil.copytree(rules, build / "rules", ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    shutil.copytree(templates, build / "templates", ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    (build / "cases").mkdir()
    for suffix in (".yaml", ".expected.yaml"):
        shutil.copy(root / "cases" / f"{STARTER_CASE}{suffix}", build / "cases" / f"{STARTER_CASE}{suffix}")


def _ignore_statements(templates: Path):
    def ignore(folder: str, names: list) -> list:
        if Path(folder).resolve() == (templates / "statements").resolve():
            return list(names)
        return [n for n in names if n in ("__pycache__", "__init__.py")]

    return ignore
