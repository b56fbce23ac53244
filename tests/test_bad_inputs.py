"""Bad input never crashes, lies or loses work.

Every entry of tests/bad/corpus.yaml is one malformed input (a case file, a rule
file, a template, a command line) and the finding it must produce. Each runs as
`python -m assessor` in a subprocess of its own, under a memory limit (RLIMIT_AS)
and a timeout, both guards rather than measurements, and must:

* exit with code 2 (never a negative code: the interpreter did not crash);
* print to stderr only `error: path:line:col: message (check)` lines, no traceback,
  among them the finding the entry names (file, line, check id);
* print nothing to stdout and leave no report, and no temporary file, behind.

The subprocesses run in parallel threads; each test waits for its own.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from corpus import CORPUS, Prepared, prepare
from helpers import BASE, WORKERS, Run, run_assessor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BANNER = re.compile(r"(rules|rulebook) .* revision [0-9a-f]{12}")
LINE = re.compile(r"error: (?P<place>.+?): (?P<message>.*) \((?P<check>[a-z0-9-]+)\)")


def snapshot(directory: Path) -> dict:
    """Every file, link and directory under DIRECTORY (links not followed): relative path -> what it is."""
    out = {}
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            p = Path(root, name)
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[str(p.relative_to(directory))] = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                out[str(p.relative_to(directory))] = ("file", st.st_ino, hashlib.sha256(p.read_bytes()).hexdigest())
            else:
                out[str(p.relative_to(directory))] = (stat.S_IFMT(st.st_mode), st.st_ino, st.st_rdev)
    return out


def changes(before: dict, after: dict) -> list:
    """What a run created, changed or removed: a run that fails must leave every file as it was."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def _execute(prepared: Prepared) -> Run:
    tmp = Path(prepared.paths["tmp"])
    before = snapshot(tmp)
    out = Path(prepared.paths["out"]) if prepared.paths["out"] else None
    outside = out is not None and not os.path.abspath(out).startswith(str(tmp) + os.sep)
    existed = outside and os.path.lexists(out)
    # in the entry's own directory, so that a payload that ran would leave its file there, for this entry alone
    run = run_assessor(prepared.argv, cwd=tmp)
    run.left_behind = changes(before, snapshot(tmp))
    if outside and not existed and os.path.lexists(out):
        run.left_behind.append(str(out))
    if outside and out.parent.is_dir():  # the temporary file of an atomic write
        run.left_behind += sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))
    return run


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """Every selected corpus entry, prepared, then run in parallel: id -> Future of a Run."""
    wanted = {
        item.callspec.id
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    }
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    futures = {}
    for entry in CORPUS:
        if entry["id"] in wanted:
            prepared = prepare(entry, tmp_path_factory.mktemp(entry["id"]))
            futures[entry["id"]] = (prepared, pool.submit(_execute, prepared))
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------- the corpus itself


def test_corpus_is_large_and_well_formed():
    ids = [e["id"] for e in CORPUS]
    assert len(ids) == len(set(ids)), "corpus ids must be unique"
    assert len(CORPUS) >= 60
    kinds = {e["id"].split("-")[0] for e in CORPUS}
    assert kinds == {"case", "rules", "template", "cli"}, "ids start with the kind of input they damage"
    allowed = {
        "id",
        "case",
        "case_edit",
        "rules",
        "rules_edit",
        "templates",
        "templates_edit",
        "generate",
        "links",
        "hardlinks",
        "paths",
        "args",
        "argv",
        "expect",
        "findings",
        "also",
        "usage",
        "command",
        "says",
    }
    for e in CORPUS:
        assert set(e) <= allowed, f"{e['id']}: unknown fields {set(e) - allowed}"
        assert ("expect" in e) != ("usage" in e), f"{e['id']}: give either expect or usage"
        if "expect" in e:
            assert set(e["expect"]) == {"file", "line", "check"}, e["id"]


@pytest.mark.slow
def test_base_world_is_valid(tmp_path):
    """The corpus varies a valid world: unchanged, it assesses cleanly in every format."""
    prepared = prepare({"id": "base"}, tmp_path)
    for fmt in ("markdown", "text", "html", "json"):
        out = tmp_path / "out" / f"report.{fmt}"
        run = run_assessor([*prepared.argv[:-2], "-o", str(out), "-f", fmt])
        assert run.returncode == 0, run.stderr
        assert run.stderr == "" and out.stat().st_size > 0


@pytest.mark.slow  # about 200 subprocesses: ~30 s on two cores
@pytest.mark.parametrize("entry", CORPUS, ids=[e["id"] for e in CORPUS])
def test_bad_input(entry, runs):
    prepared, future = runs[entry["id"]]
    run = future.result()
    context = f"\n--- argv: {prepared.argv}\n--- stderr:\n{run.stderr[:3000]}\n--- stdout:\n{run.stdout[:500]}"

    assert run.returncode >= 0, f"the interpreter crashed (signal {-run.returncode}){context}"
    assert "Traceback" not in run.stderr, f"a traceback{context}"
    assert run.returncode == 2, f"exit code {run.returncode}, expected 2{context}"
    assert run.stdout == "", f"printed to stdout{context}"
    assert run.left_behind == [], f"left {run.left_behind} behind{context}"
    # the payloads in the corpus (YAML tags, expressions, templates) write pwned.txt in the working directory if run
    assert not (Path(prepared.paths["tmp"]) / "pwned.txt").exists(), f"a payload ran{context}"

    # batch, lint, test and coverage name the rulebook they use on their first line
    lines = [line for line in run.stderr.splitlines() if not BANNER.fullmatch(line)]
    if "usage" in entry:
        assert entry["usage"] in run.stderr, context
        return
    assert len(lines) == entry.get("findings", 1), f"expected {entry.get('findings', 1)} error line(s){context}"
    parsed = [LINE.fullmatch(line) for line in lines]
    assert all(parsed), f"every line must read `error: path:line:col: message (check)`{context}"

    expect = entry["expect"]
    place = expect["file"].format(**prepared.paths)
    if expect["line"] is not None:
        place += f":{expect['line']}"
    found = [
        m
        for m in parsed
        if m["check"] == expect["check"]  # the column, if any, is not checked
        and (
            m["place"] == place
            or expect["line"] is not None
            and re.fullmatch(r":\d+", m["place"][len(place) :])
            and m["place"].startswith(place)
        )
    ]
    assert found, f"no finding ({expect['check']}) at {place}{context}"
    for words in entry.get("says", []):  # what the message must tell the user
        assert words in found[0]["message"], f"the message should say {words!r}{context}"
    others = {m["check"] for m in parsed if m is not found[0]}
    assert others == set(entry.get("also", [])), f"other findings {sorted(others)}{context}"


@pytest.mark.slow
def test_conditions_at_the_engine_limits_run(tmp_path):
    """What the rulebook lets through, durable-rules runs: a list of 56 values after 'in', a
    condition nested past 15 groups that the engine splits, a decision comparing 248 values."""
    nested = "staffed_share >= 0.5" + "".join(f" and (teams > {i} or (staffed > {i}" for i in range(9)) + "))" * 9
    entry = {
        "id": "limits",
        "rules_edit": {
            "policing.yaml": [
                [
                    "        - most: staffed_share >= 0.5\n",
                    "".join(f"        - most: v{i} > 0 and v{i} < 9\n" for i in range(242))
                    + "        - most: monitoring in ["
                    + ", ".join(['"none"'] * 55 + ['"real-time"'])
                    + "]\n"
                    + f"        - most: {nested}\n",
                ],
                ["      teams: {type", "".join(f"      v{i}: integer\n" for i in range(242)) + "      teams: {type"],
            ]
        },
        "case_edit": [
            ["          teams: 10\n", "".join(f"          v{i}: 0\n" for i in range(242)) + "          teams: 10\n"]
        ],
    }
    prepared = prepare(entry, tmp_path)
    for engine in ("durable", "python"):
        run = run_assessor([*prepared.argv, "-f", "json", "--engine", engine])
        assert run.returncode == 0, run.stderr[-3000:]
        assert '"extent": "most"' in (Path(prepared.paths["out"])).read_text(encoding="utf-8")


@pytest.mark.slow
def test_unknown_bcus_beside_a_gap_indicator(tmp_path):
    """`bcus: unknown` is allowed; the gap of SPI B then has no sample size: not assessed, or a finding."""
    prepared = prepare({"id": "unknown-bcus", "case_edit": [["  bcus: 2", "  bcus: unknown"]]}, tmp_path)
    run = _execute(prepared)
    assert "Traceback" not in run.stderr and run.returncode in (0, 2), run.stderr[-2000:]


# ---------------------------------------------------------------- mutations, in process
#
# Beyond the corpus: random damage to the base case and rule files (characters cut,
# YAML and expression syntax inserted, lines repeated) must give a report or findings,
# never another exception. In process, with the Python engine, so thousands run fast;
# `make fuzz` raises the count through ASSESSOR_FUZZ_EXAMPLES.


FUZZ_EXAMPLES = int(os.environ.get("ASSESSOR_FUZZ_EXAMPLES", "300"))
FUZZ = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
PIECES = [
    " ",
    "\n",
    "\t",
    ":",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    "#",
    "&a",
    "*a",
    "!!",
    "|",
    ">",
    "'",
    '"',
    "`",
    "%",
    "@",
    "?",
    "~",
    "0",
    "1",
    "010",
    "1:30",
    ".5",
    "-",
    "+",
    "e9",
    "99999999999999999999",
    ".inf",
    ".nan",
    "yes",
    "no",
    "null",
    "unknown",
    "2007-13-01",
    "2008-03-31",
    "é",
    "😀",
    "\x00",
    "\x07",
    "\ufeff",
    "\u202e",
    "==",
    "<=",
    " and ",
    " or ",
    " not ",
    " in ",
    " where ",
    "count(",
    "share(",
    "sum(",
    "min(",
    "max(",
    "date(",
    "abs(",
    "/",
    "*",
    "teams",
    "staffed_share",
    "extent",
    "units",
    "indicators",
    "spi_a.",
    "judgement",
    "__class__",
    "{{",
    "}}",
    "{%",
    "%}",
]


@st.composite
def damaged(draw, text: str) -> str:
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["cut", "insert", "repeat-line"]))
        if how == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 30)) :]
        elif how == "insert":
            text = text[:at] + "".join(draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=4))) + text[at:]
        else:
            lines = text.split("\n")
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(lines)))
            text = "\n".join(lines)
    return text


def _assess_in_process(rules: Path, templates: Path, case: Path) -> None:
    """A report in every format, or an AssessorError: nothing else may escape."""
    from assessor.errors import AssessorError
    from assessor.report.render import render_report
    from assessor.session import Session

    try:
        with Session(rules, templates, "python") as session:
            result = session.assess(case)
            for fmt in ("markdown", "text", "html", "json"):
                render_report(session.renderer, result, fmt, explain=True)
    except AssessorError as e:
        assert e.findings and all(str(f).startswith(str(f.path)) for f in e.findings)


@pytest.mark.slow
@settings(FUZZ, max_examples=FUZZ_EXAMPLES)
@given(text=damaged((BASE / "case.yaml").read_text(encoding="utf-8")))
def test_damaged_case_files(text, tmp_path_factory):
    case = tmp_path_factory.mktemp("case") / "case.yaml"
    case.write_bytes(text.encode("utf-8", "surrogatepass"))
    _assess_in_process(BASE / "rules", BASE / "templates", case)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["policing.yaml", "grading.yaml"])
def test_damaged_rule_files(name, tmp_path_factory):
    source = (BASE / "rules" / name).read_text(encoding="utf-8")

    @settings(FUZZ, max_examples=max(FUZZ_EXAMPLES // 3, 1))
    @given(text=damaged(source))
    def check(text):
        rules = tmp_path_factory.mktemp("rules")
        for p in (BASE / "rules").iterdir():
            shutil.copyfile(p, rules / p.name)
        (rules / name).write_bytes(text.encode("utf-8", "surrogatepass"))
        _assess_in_process(rules, BASE / "templates", BASE / "case.yaml")

    check()
