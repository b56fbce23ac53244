"""The examples in docs/*.md are true (issue 12 §6): each is run, so a change that makes one
false fails here.

* Every `yaml` and `json` block parses. A line that is only `...` (or `- ...`) stands for what
  the example leaves out. A block the text shows as a mistake is marked
  `<!-- docs-test: invalid -->` and must not parse.
* The worked example of docs/rules.md part 2 is the bundled criterion: each step's block is what
  the rule file and the template hold, `assess lint` passes on it, and `assess` and
  `assess --explain` print what the doc shows.
* A mistake shown with its message is marked `<!-- docs-test: lint FILE` followed by the text the
  example replaces in FILE, and `-->`. The next code block (or the text after a line `=>` in the
  mark; several such edits are separated by lines `---`, and a line `…` in the replaced text stands
  for all between the text around it) is put in its place in a copy of the bundled rulebook. The
  next `console` block's commands (`assess lint` if it shows none) run there, and every line it
  shows must be a line of their output (a rulebook revision may differ).
* A `console` block marked `<!-- docs-test: run -->` is run as shown in a copy of the bundled
  rulebook: each `$ assess ...` line, whose output must hold every line the doc shows under it.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from helpers import ROOT

from assessor.cli import main

DOCS = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[a-z]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.S | re.M)
MARK = re.compile(r"<!-- docs-test: (?P<mark>.*?)-->\s*\Z", re.S)
LEFT_OUT = re.compile(r"^\s*(- )?\.\.\.\s*$", re.M)


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence
    lang: str
    body: str
    mark: str  # the text of a `<!-- docs-test: ... -->` just above the block, or ""

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _blocks(path: Path) -> list:
    text = path.read_text(encoding="utf-8")
    out, end = [], 0
    for m in FENCE.finditer(text):
        before = text[end : m.start()]
        mark = MARK.search(before)
        indent = len(m["indent"])
        body = "".join(line[indent:] if line[:indent].isspace() else line for line in m["body"].splitlines(True))
        out.append(Block(path, text.count("\n", 0, m.start()) + 1, m["lang"], body, mark["mark"] if mark else ""))
        end = m.end()
    return out


BLOCKS = [b for p in DOCS for b in _blocks(p)]


def _ids(blocks) -> list:
    return [str(b) for b in blocks]


# ---------------------------------------------------------------- every rule, case and JSON snippet parses

YAML_BLOCKS = [b for b in BLOCKS if b.lang == "yaml"]


@pytest.mark.parametrize("block", YAML_BLOCKS, ids=_ids(YAML_BLOCKS))
def test_yaml_example_parses(block):
    text = LEFT_OUT.sub("", block.body)
    if "invalid" in block.mark.partition("\n")[0]:
        with pytest.raises(yaml.YAMLError):
            yaml.safe_load(text)
        return
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as e:
        pytest.fail(f"{block}: the example is not YAML (mark it <!-- docs-test: invalid --> if meant): {e}")


JSON_BLOCKS = [b for b in BLOCKS if b.lang == "json"]


@pytest.mark.parametrize("block", JSON_BLOCKS, ids=_ids(JSON_BLOCKS))
def test_json_example_parses(block):
    json.loads(block.body)


def test_the_docs_have_examples_of_each_kind():
    marks = [b.mark.split()[0] for b in BLOCKS if b.mark]
    assert len(YAML_BLOCKS) >= 60 and len(JSON_BLOCKS) >= 5
    assert marks.count("lint") >= 25 and marks.count("run") >= 5
    assert any("invalid" in b.mark.partition("\n")[0] for b in YAML_BLOCKS)


# ---------------------------------------------------------------- copies of the bundled rulebook


def _rulebook(tmp_path: Path) -> Path:
    where = tmp_path / "rulebook"
    where.mkdir()
    shutil.copy(ROOT / "rulebook.yaml", where)
    for folder in ("rules", "templates", "cases"):
        shutil.copytree(ROOT / folder, where / folder)
    return where


def _assess(where: Path, args: list, monkeypatch) -> str:
    monkeypatch.chdir(where)
    result = CliRunner().invoke(main, args, prog_name="assess")
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.stdout + result.stderr


# ---------------------------------------------------------------- mistakes and their messages, commands as shown

REVISION = re.compile(r"revision [0-9a-f]{12}")


def _check_console(console: Block, where: Path, monkeypatch) -> None:
    """Run each `$ assess ...` of CONSOLE (`assess lint` if it shows none) in WHERE: every line the doc
    shows under a command must be a line of what it prints (a revision may differ)."""
    runs = re.split(r"^\$ ", console.body, flags=re.M)
    if runs[0].strip():  # output shown without its command: lint's
        runs = ["assess lint\n" + runs[0]] + runs[1:]
    for run in (r for r in runs if r.strip()):
        command, _, shown = run.partition("\n")
        argv = shlex.split(command, comments=True)
        assert argv[0] == "assess", f"{console}: {command}"
        output = REVISION.sub("revision …", _assess(where, argv[1:], monkeypatch))
        lines = output.splitlines()
        for line in shown.splitlines():
            if line.strip() and line.strip() != "...":
                assert REVISION.sub("revision …", line) in lines, (
                    f"{console}: `{command}` does not print this line the doc shows:\n{line}\n"
                    f"--- it printed:\n{output[:4000]}"
                )


def _edits(mark: str, block: Block) -> tuple:
    """(file, [(old, new), ...]) of a lint mark; a single edit without `=>` puts BLOCK's text in."""
    head, _, rest = mark.partition("\n")
    edits = []
    for part in rest.split("\n---\n"):
        old, arrow, new = part.partition("\n=>\n")
        edits.append((old.rstrip("\n"), new.rstrip("\n") if arrow else block.body.rstrip("\n")))
    return head.split()[1], edits


def _lint_examples() -> list:
    out = []
    for p in DOCS:
        blocks = _blocks(p)
        for i, b in enumerate(blocks):
            if b.mark.startswith("lint "):
                out.append((b, next(c for c in blocks[i:] if c.lang == "console")))
    return out


LINT_EXAMPLES = _lint_examples()


@pytest.mark.slow  # lint over the bundled rulebook, every case included, once per example
@pytest.mark.parametrize("example", LINT_EXAMPLES, ids=[str(e[0]) for e in LINT_EXAMPLES])
def test_a_mistake_gives_the_message_the_doc_shows(example, tmp_path, monkeypatch):
    block, console = example
    where = _rulebook(tmp_path)
    target, edits = _edits(block.mark, block)
    path = where / target
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        # a line `…` in the old text stands for everything between the text before it and after it
        pattern = re.compile(".*?".join(re.escape(piece) for piece in old.split("\n…\n")), re.S)
        found = pattern.findall(text)
        assert len(found) == 1, f"{block}: the text the example replaces must occur once in {target}: {old!r}"
        text = text.replace(found[0], new)
    path.write_text(text, encoding="utf-8")
    _check_console(console, where, monkeypatch)


RUN_BLOCKS = [b for b in BLOCKS if b.mark.strip() == "run"]


@pytest.mark.slow  # whole reports and lint runs
@pytest.mark.parametrize("block", RUN_BLOCKS, ids=_ids(RUN_BLOCKS))
def test_a_command_prints_what_the_doc_shows(block, tmp_path, monkeypatch):
    assert block.lang == "console" and block.body.startswith("$ assess"), block
    _check_console(block, _rulebook(tmp_path), monkeypatch)


# ---------------------------------------------------------------- the worked example of docs/rules.md


def _part(title: str) -> list:
    """The blocks of docs/rules.md from the heading TITLE to the next heading of its level."""
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}")
    end = text.find("\n## ", start + 1)
    first, last = text.count("\n", 0, start), text.count("\n", 0, end)
    return [b for b in _blocks(ROOT / "docs" / "rules.md") if first < b.line <= last]


WORKED = _part("2. Worked example")


def _criterion() -> dict:
    rules = yaml.safe_load((ROOT / "rules" / "neighbourhood-policing.yaml").read_text(encoding="utf-8"))
    return next(c for c in rules["criteria"] if c["id"] == "sustainability")


def _yaml(i: int):
    return yaml.safe_load(LEFT_OUT.sub("", [b for b in WORKED if b.lang == "yaml"][i].body))


def test_each_step_of_the_worked_example_is_what_the_rules_hold():
    criterion = _criterion()
    step1, evidence, derive, choose, judge, statement, case, whole = (_yaml(i) for i in range(8))
    assert step1["criteria"] == [{k: criterion[k] for k in ("id", "heading")}]
    assert evidence == {"evidence": criterion["evidence"]}
    assert derive == {"derive": criterion["derive"]}
    assert choose == {"choose": criterion["choose"]}
    assert judge == {"judge": criterion["judge"]}
    assert statement == {"statement": criterion["statement"]}
    (listed,) = whole  # the full criterion, but for the facts it leaves out
    assert {k: v for k, v in listed.items() if k != "evidence"} == {
        k: v for k, v in criterion.items() if k != "evidence"
    }
    assert listed["evidence"].items() <= criterion["evidence"].items()
    (template,) = [b for b in WORKED if b.lang == "jinja"]
    assert (ROOT / "templates" / criterion["statement"]).read_text(encoding="utf-8") == template.body
    given = yaml.safe_load((ROOT / "cases" / "cambridgeshire-2008.yaml").read_text(encoding="utf-8"))
    criteria = given["frameworks"]["neighbourhood_policing"]["criteria"]
    assert case["sustainability"]["evidence"] == criteria["sustainability"]["evidence"]


@pytest.mark.slow  # lint, a report and an explained report of the bundled case
def test_the_worked_example_lints_clean_and_assesses_as_the_doc_shows(tmp_path, monkeypatch):
    where = _rulebook(tmp_path)
    consoles = [b for b in WORKED if b.lang == "console"]
    assert consoles[0].body == "$ assess lint rules\nno problems found\n"
    assert "no problems found" in _assess(where, ["lint", "rules"], monkeypatch).splitlines()
    report, explained = (b for b in WORKED if b.lang == "markdown")
    for block, args in ((report, []), (explained, ["--explain"])):
        output = _assess(where, ["cases/cambridgeshire-2008.yaml", *args], monkeypatch)
        shown = block.body.split("\n...\n")[0].strip("\n")
        assert shown in output, f"{block} is not in the output of assess {' '.join(args)}:\n{shown}"
