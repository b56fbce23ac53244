"""Every decision of a rulebook, where it and its rungs stand in the rule files, and what it may read.

Lint, the reachability search and `assess coverage` report rungs by file and line.
The rulebook keeps the place of each condition but not of keys (a fact, a derived
value, a decision, an `otherwise` rung), so those are looked up here in the loaded
documents the rulebook keeps for tools (`Rulebook.docs`).
"""

from __future__ import annotations

from pathlib import Path

from assessor.record import Record, field
from assessor.rulebook.model import GRADING_FILE, Criterion, Decision, Place, Rulebook


class DecisionSite(Record):
    """A decision in its place: the scale lint searches and coverage counts."""

    label: str  # e.g. "choice 'extent' of criterion 'coverage'"
    framework: str | None  # None for the survey outcome scale, shared by every framework
    scope: str  # a criterion id, "grade", or "indicators"
    decision: Decision
    place: Place  # the decision's key
    rungs: tuple  # Place of each rung's outcome key, in order
    names: dict  # name -> conditions.Type its conditions may read (Decision.names)
    facts: dict = field(default_factory=dict)  # name -> FactSpec of the criterion's evidence, for their ranges
    derived: dict = field(default_factory=dict)  # name -> expression tree of each derived value in scope
    rows: dict = field(default_factory=dict)  # table name -> its number of rows, where the rules fix it

    @property
    def key(self) -> tuple:
        """What a result's traces are matched on (see tooling/rule_coverage.py)."""
        return (self.framework, self.scope, self.decision.name)


def key_place(doc, where: tuple) -> Place:
    """The place of the key naming the value at `where` (of the value itself if it has no key)."""
    mark = doc.key_marks.get(tuple(where)) or doc.mark(where)
    return Place((mark and mark.path) or doc.path, mark.line if mark else None, mark.column if mark else None)


def criterion_index(doc, cid: str) -> int:
    """Where criterion `cid` stands in its file's `criteria` list (the rulebook loaded, so it is there)."""
    return next(i for i, item in enumerate(doc.data["criteria"]) if isinstance(item, dict) and item.get("id") == cid)


def decision_sites(book: Rulebook) -> list:
    grading = book.docs[str(Path(book.directory) / GRADING_FILE)]
    out = [_site(grading, ("surveys", "outcome"), "the survey indicator outcome", None, "indicators", book.outcome)]
    for fw in book.frameworks:
        doc = book.docs[fw.path]
        # every framework's `indicators` table has a row per indicator, its `criteria` table one per criterion
        rows = {"indicators": len(fw.indicators)}
        for c in fw.criteria:
            out += _criterion_sites(doc, fw.id, c, rows)
        out.append(
            _site(
                doc,
                ("grade", "decide"),
                f"grade of framework {fw.id!r}",
                fw.id,
                "grade",
                fw.grade,
                derived={d.name: d.expr.tree for d in fw.derive},
                rows={**rows, "criteria": len(fw.criteria)},
            )
        )
    return out


def _criterion_sites(doc, fid: str, c: Criterion, rows: dict) -> list:
    i = criterion_index(doc, c.id)
    extra = {
        "facts": {f.name: f for f in c.evidence},
        "derived": {d.name: d.expr.tree for d in c.derive},
        "rows": rows,
    }
    out = []
    for d in c.choice_scales:
        label = f"choice {d.name!r} of criterion {c.id!r}"
        out.append(_site(doc, ("criteria", i, "choose", d.name), label, fid, c.id, d, **extra))
    label = f"judgement of criterion {c.id!r}"
    out.append(_site(doc, ("criteria", i, "judge"), label, fid, c.id, c.judgement, **extra))
    return out


def _site(doc, where: tuple, label: str, fid, scope: str, d: Decision, **extra) -> DecisionSite:
    rungs = tuple(
        key_place(doc, where + (i, "otherwise" if r.condition is None else r.outcome)) for i, r in enumerate(d.rungs)
    )
    return DecisionSite(label, fid, scope, d, key_place(doc, where), rungs, d.names, **extra)
