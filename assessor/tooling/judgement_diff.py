"""`assess diff`: the judgements a rule change flips, as a Markdown table for a pull request.

The rules directory as it was at a git revision is written into a temporary
directory (`git show REV:path` for each rule file); every case is then judged
with those rules and with the rules on disk. Or two editions of a rulebook are
compared (`--edition 2008..2009`): every case is judged by both. Statements are
not rendered: only judgements are compared, so templates play no part.

A case is read against each side's rules as against an edition it may not have
been written for (case.read.load_case across_editions): a criterion one side
lacks is a row of its own, marked new or removed, never a failure of the case.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from assessor.case.read import load_case
from assessor.compile.compiler import compile_rulebook
from assessor.engines import EngineError
from assessor.errors import AssessorError, Finding
from assessor.evaluate.staged import StagedEvaluator
from assessor.rulebook.read import load_rulebook
from assessor.tooling.expectations import ABSENT, flatten, judgements_of, show


@dataclass(frozen=True)
class Failure:
    """A case that could not be judged with one side's rules."""

    message: str


def rules_at_revision(rules_dir: Path, rev: str, into: Path) -> str:
    """Write the rule files of `rules_dir` as at `rev` into `into`; return how to name them ("REV:rules/")."""
    toplevel = _git(
        rules_dir,
        "rev-parse",
        "--show-toplevel",
        what=f"{rules_dir} is not inside a git repository; assess diff compares with a git revision",
    )
    top = Path(toplevel.decode("utf-8").strip())
    _git(
        rules_dir,
        "rev-parse",
        "--verify",
        "--quiet",
        f"{rev}^{{commit}}",
        what=f"unknown revision {rev!r} (in a shallow clone, fetch it first: git fetch origin <branch>)",
    )
    prefix = Path(rules_dir).resolve().relative_to(top.resolve()).as_posix()
    folder = "" if prefix == "." else f"{prefix}/"
    # -z: names as they are, not quoted as git quotes unusual characters by default
    listing = _git(
        top, "ls-tree", "-z", "--name-only", rev, folder or ".", what=f"cannot list {folder or 'the top'} at {rev}"
    )
    names = [n for n in listing.decode("utf-8").split("\0") if n.endswith(".yaml")]
    if not names:
        raise AssessorError(
            Finding(str(rules_dir), None, None, "git", f"{folder or 'the top'} holds no rule files at {rev}")
        )
    for name in names:
        (into / Path(name).name).write_bytes(_git(top, "show", f"{rev}:{name}", what=f"cannot read {name} at {rev}"))
    return f"{rev}:{folder}"


def _git(where: Path, *args, what: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(where), *args], capture_output=True, check=False)
    except OSError as e:
        raise AssessorError(Finding(str(where), None, None, "git", f"cannot run git: {e.strerror}")) from None
    if done.returncode != 0:
        raise AssessorError(Finding(str(where), None, None, "git", what))
    return done.stdout


def judge_cases(
    rules_dir: Path, case_paths: list, engine: str, shown_as: str | None = None, overlays: tuple = ()
) -> dict:
    """case path -> flattened judgements (expectations.flatten), or Failure. `shown_as` names a
    temporary rules directory in messages; `overlays` are an edition's folders laid on the rules."""
    try:
        book = load_rulebook(rules_dir, overlays)
    except AssessorError as e:
        failure = Failure("the rules do not load: " + _first(e, rules_dir, shown_as))
        return {p: failure for p in case_paths}
    out: dict[Path, dict | Failure] = {}  # case -> its judgements, flattened, or why not
    with StagedEvaluator(book, compile_rulebook(book), engine) as assessor:
        for p in case_paths:
            try:
                out[p] = flatten(judgements_of(assessor.evaluate(load_case(p, book, across_editions=True))))
            except AssessorError as e:
                out[p] = Failure(_first(e, rules_dir, shown_as))
            except EngineError as e:
                out[p] = Failure(f"the {engine} engine failed: {e}")
    return out


def _first(e: AssessorError, rules_dir: Path, shown_as: str | None) -> str:
    text = str(e.findings[0])
    if shown_as:
        text = text.replace(f"{rules_dir}/", shown_as)
    more = len(e.findings) - 1
    return text + (f" (and {more} more)" if more else "")


@dataclass(frozen=True)
class Change:
    case: str
    key: tuple  # (framework, item, what); ("", "", "assessment") when a side failed
    before: str
    after: str


def judgement_changes(before: dict, after: dict) -> tuple:
    """(changes, cases that fail with both rule sets)."""
    out, failing = [], []
    for case in before:
        old, new = before[case], after[case]
        name = Path(case).stem
        if isinstance(old, Failure) or isinstance(new, Failure):
            if isinstance(old, Failure) and isinstance(new, Failure):
                failing.append((name, new.message))
            else:
                out.append(Change(name, ("", "", "assessment"), _outcome(old), _outcome(new)))
            continue
        one_side = _one_sided(old, new, name)
        for key in list(old) + [k for k in new if k not in old]:
            item = key[:2]
            if item in one_side:
                if one_side[item] is not None:  # the item's one row, where it first stands
                    out.append(one_side.pop(item))
                    one_side[item] = None
                continue
            a, b = old.get(key, ABSENT), new.get(key, ABSENT)
            if a != b:
                out.append(Change(name, key, show(a), show(b)))
    return out, failing


# the value a new or removed item is shown with: a criterion's judgement, a framework's grade,
# an indicator's outcome
_HEADLINE = ("judgement", "grade", "outcome")


def _one_sided(old: dict, new: dict, name: str = "") -> dict:
    """(framework, item) -> its one Change row, for each framework, criterion or indicator only one
    side has: marked new or removed, with its judgement (or grade, or outcome)."""
    out = {}
    for side, other, mark in ((new, old, "new"), (old, new, "removed")):
        items: dict = {}
        for key, value in side.items():
            items.setdefault(key[:2], {})[key[2]] = value
        for item, values in items.items():
            if any(k[:2] == item for k in other):
                continue
            fid, what = item
            kind = what.split(" ", 1)[0] if what else "framework"
            headline = next((values[h] for h in _HEADLINE if h in values), None)
            shown = show(headline)
            out[item] = Change(
                name, (fid, what, f"{mark} {kind}"), "–" if mark == "new" else shown, shown if mark == "new" else "–"
            )
    return out


def _outcome(side) -> str:
    return f"fails: {side.message}" if isinstance(side, Failure) else "assessed"


def changes_as_markdown(
    found: list, failing: list, base: str, rules_dir: Path, cases: int, heading: str | None = None
) -> str:
    heading = heading or f"rules at `{base}` → rules in `{rules_dir}`"
    lines = [f"**Judgements: {heading}** ({cases} case(s))", ""]
    if not found:
        lines.append("No judgement changes.")
    else:
        lines += ["| Case | Framework | Criterion or indicator | What | Before | After |", "|---|---|---|---|---|---|"]
        for c in found:
            fid, item, what = c.key
            cells = (c.case, fid or "–", item or "–", what, c.before, c.after)
            lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
        lines += [
            "",
            f"{len(found)} change(s). Approve them on purpose: update the expected judgements with "
            "`assess test --update` and review that diff too.",
        ]
    if failing:
        lines += ["", "Not assessed with either set of rules:"]
        lines += [f"- {_cell(name)}: {_cell(message)}" for name, message in failing]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")
