"""tooling/ranges.py: the natural range of each value the rules compute holds for real evidence.

The gap search draws its examples from these ranges and lint warns from them, so a range that
left out a value evidence can give would hide a gap or raise a false warning. Checked by
computing every derived value and every computation in a condition, of the bundled rules and
the example rulebook, on random evidence within the declared ranges.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from assessor.language import conditions as ex
from assessor.rulebook.read import load_rulebook
from assessor.rulebook.sites import decision_sites
from assessor.tooling.ranges import Range, Ranges

ROOT = Path(__file__).resolve().parent.parent
RULEBOOKS = {"bundled": ROOT / "rules", "peel-style": ROOT / "examples" / "peel-style" / "rules"}


def _number(spec, rng: random.Random):
    low = spec.min if spec.min is not None else -50
    high = spec.max if spec.max is not None else low + 60
    if spec.type == "integer":
        return rng.choice([int(low), int(high), rng.randint(int(low), int(high))])
    return rng.choice([low, high, rng.uniform(low, high)])


def _value(spec, rng: random.Random):
    if spec.type in ("integer", "number", "percentage"):
        return _number(spec, rng)
    if spec.type == "yes/no":
        return rng.random() < 0.5
    if spec.type == "one-of":
        return rng.choice(spec.values)
    if spec.type == "date":
        return dt.date(2007, 1, 1) + dt.timedelta(days=rng.randint(0, 2000))
    if spec.type == "table":
        return [{n: _value(c, rng) for n, c in spec.columns} for _ in range(rng.randint(0, 4))]
    return "text"


def _indicator(book, ind: str, rng: random.Random) -> dict:
    words = list(book.verdicts.values())
    value, other = rng.uniform(0, 100), rng.uniform(0, 100)
    return {
        "id": ind,
        "msf": rng.choice(words),
        "trend": rng.choice(words),
        "outcome": rng.choice(book.grade_ids),
        "value": value,
        "change_pp": value - other,
        "difference_pp": other - value,
        "gap_pp": other - value,
        "gap": rng.choice(words),
    }


def _computations(site) -> list:
    """Every computed operand of a comparison in the site's conditions."""
    out = []

    def walk(node):
        if isinstance(node, ex.Logical):
            for i in node.items:
                walk(i)
        elif isinstance(node, ex.Unary) and node.op == "not":
            walk(node.operand)
        elif isinstance(node, ex.Binary) and node.op in ("==", "!=", "<", "<=", ">", ">="):
            out.extend(n for n in (node.left, node.right) if isinstance(n, (ex.Binary, ex.Call, ex.Unary)))

    for rung in site.decision.rungs:
        if rung.condition is not None:
            walk(rung.condition.tree)
    return out


@pytest.mark.parametrize("rulebook", RULEBOOKS.values(), ids=RULEBOOKS.keys())
def test_every_computed_value_lies_in_its_range_on_random_evidence(rulebook):
    book = load_rulebook(rulebook)
    rng = random.Random(20081)
    checked = 0
    for site in decision_sites(book):
        if site.framework is None:
            continue  # the survey outcome reads only verdict words
        fw = next(f for f in book.frameworks if f.id == site.framework)
        ranges = Ranges(site.facts, site.derived, site.rows)
        computations = _computations(site)
        for _ in range(300):
            values = {name: _value(spec, rng) for name, spec in site.facts.items()}
            rows = [_indicator(book, i, rng) for i in fw.indicators]
            values["indicators"] = rows
            values.update({r["id"]: r for r in rows})
            values["criteria"] = [{"id": c.id, "judgement": rng.choice(book.grade_ids)} for c in fw.criteria]
            try:
                for name, tree in site.derived.items():
                    values[name] = ex.evaluate(tree, values)
                    assert _holds(ranges.of_name(name), values[name]), (site.label, name, values[name])
                    checked += 1
                for node in computations:
                    v = ex.evaluate(node, values)
                    assert _holds(ranges.of(node), v), (site.label, node, v)
                    checked += 1
            except ex.ExpressionError:
                continue  # a division by zero or min() of no rows: no value, nothing to bound
    assert checked > 1000


def _holds(r: Range, v) -> bool:
    return r.low <= v <= r.high and (not r.integer or float(v).is_integer())


def _ranges(text: str, **facts) -> Range:
    """The range of expression TEXT where each keyword argument is a fact declared as given."""
    from assessor.rulebook.model import FactSpec

    specs = {}
    for name, declared in facts.items():
        if isinstance(declared, dict):  # a table: column -> (type, min, max)
            columns = tuple((c, FactSpec(c, t, min=lo, max=hi)) for c, (t, lo, hi) in declared.items())
            specs[name] = FactSpec(name, "table", columns=columns)
        else:
            specs[name] = FactSpec(name, declared[0], min=declared[1], max=declared[2])
    return Ranges(specs, {}, {"criteria": 4}).of(ex.parse(text))


def test_shares_are_found_where_the_numerator_cannot_exceed_the_denominator():
    t = {"units": {"sergeants": ("integer", 0, None), "score": ("percentage", 0, 100)}}
    n = ("integer", 0, None)
    assert _ranges("count(units where sergeants > 2) / count(units)", **t).is_share
    assert _ranges("(a + b) / (a + b + c + d)", a=n, b=n, c=n, d=n).is_share
    assert _ranges("sum(units.score) / (100 * count(units))", **t).is_share
    assert _ranges("min(a, b) / a", a=n, b=n).is_share
    assert _ranges("share(units where sergeants > 2)", **t) == Range(0, 1)
    # not provable from the declarations: a part that may exceed the whole
    assert not _ranges("a / b", a=n, b=("integer", 1, None)).is_share
    assert not _ranges("(a + b) / (a + c)", a=n, b=n, c=n).is_share
    assert not _ranges("sum(units.sergeants) / (100 * count(units))", **t).is_share
    assert not _ranges("(a - b) / a", a=n, b=("integer", -5, 5)).is_share


def test_counts_are_whole_and_bounded_by_the_rows_of_their_table():
    assert _ranges("count(criteria)") == Range(4, 4, True)
    assert _ranges("count(criteria where judgement == 'failing') * 2") == Range(0, 8, True)
    assert _ranges("count(units)", units={"x": ("integer", 0, None)}) == Range(0, float("inf"), True)
    assert _ranges("a / b", a=("integer", 0, 10), b=("integer", 0, 5)) == Range(0, 10)  # b is 1 or more there
