"""The condition language: parsing, type checking, evaluation and lowering to the IR."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessor.language import conditions as ex
from assessor.language import ir

CHOICE = ex.Type("choice", ("all", "most", "some"))
TABLE = ex.Type("table", columns=(("bcu", ex.TEXT), ("sergeants", ex.NUMBER), ("officers", ex.NUMBER)))
RECORD = ex.Type("record", columns=(("trend", ex.Type("choice", ("better", "same", "worse"))), ("gap_pp", ex.NUMBER)))
NAMES = {
    "share": ex.NUMBER,
    "count_a": ex.NUMBER,
    "flag": ex.BOOLEAN,
    "extent": CHOICE,
    "bcus": TABLE,
    "spi": RECORD,
    "until": ex.DATE,
    "label": ex.TEXT,
}
VALUES = {
    "share": 0.67,
    "count_a": 3,
    "flag": True,
    "extent": "most",
    "label": "x",
    "bcus": [{"bcu": "North", "sergeants": 8, "officers": 95}, {"bcu": "South", "sergeants": 12, "officers": 116}],
    "spi": {"trend": "same", "gap_pp": 2.1},
    "until": dt.date(2011, 3, 31),
}


def check(source: str) -> ex.Node:
    tree = ex.parse(source)
    ex.TypeChecker(NAMES).condition(tree)
    return tree


def error_of(source: str) -> ex.ExpressionError:
    with pytest.raises(ex.ExpressionError) as info:
        check(source)
    return info.value


@pytest.mark.parametrize(
    "source, expected",
    [
        ("share >= 0.5 and flag", True),
        ("share >= 0.9 or not flag", False),
        ('extent in ["all", "most"]', True),
        ('extent not in ["all", "most"]', False),
        ("count(bcus where officers <= 12 * sergeants) == 2", True),
        ("count(bcus where officers <= 11 * sergeants) == 1", True),
        ('share(bcus where bcu == "North") == 0.5', True),
        ("sum(bcus.sergeants) == 20 and min(bcus.officers) == 95 and max(bcus.officers) == 116", True),
        ("min(count_a, 10) == 3 and max(count_a, 10) == 10", True),
        ("abs(share - 1) > 0.3", True),
        ('spi.trend == "same" and spi.gap_pp > 2', True),
        ('until >= date("2010-03-31")', True),
        ("(share + 0.33) * 3 >= 3", True),
        ("-share < 0", True),
        ("count_a / 2 == 1.5", True),
        ("flag == yes", True),
    ],
)
def test_conditions_evaluate_as_written(source, expected):
    assert ex.evaluate(check(source), VALUES) is expected


@pytest.mark.parametrize(
    "source, message, offset",
    [
        ("share = 1", "use == to compare", 6),
        ("shar > 1", "unknown name 'shar'; did you mean 'share'?", 0),
        ('extent == "mst"', '"mst" is not a possible value', 10),
        ("flag > 1", "compares numbers or dates, but this is yes/no", 0),
        ('share > "a"', "compares numbers or dates", 8),
        ("label == 3", "can never be equal", 0),
        ("share >= ", "ends too early", 9),
        ("1 < 2", "compares two fixed values", 0),
        ("share < 1 < 2", "cannot be chained", 10),
        ("share", "a condition must be yes or no", 0),
        ("sum(bcus.bcu) > 1", "adds up numbers", 4),
        ("count(bcus.sergeants) > 1", "counts rows", 6),
        ("bcus > 1", "is a table", 0),
        ("spi > 1", "has fields", 0),
        ("spi.nope == 1", "has no field 'nope'", 0),
        ("eval(share) > 1", "unknown function 'eval'", 0),
        ("share.__class__ == 1", "has no field", 0),
        ("__import__('os') == 1", "unknown function", 0),
        ('date("2010-13-01") < until', "not a date", 5),
        ("share > 1 and", "ends too early", 13),
        ("(share > 1", "expected ')'", 10),
        ("share > 1 @ 2", "unexpected character '@'", 10),
    ],
)
def test_mistakes_are_located_and_plain(source, message, offset):
    e = error_of(source)
    assert message in e.message
    assert e.offset == offset


def test_deep_nesting_is_refused_not_crashed():
    e = error_of("(" * 200 + "flag" + ")" * 200)
    assert "nested more than" in e.message


def test_division_by_zero_is_an_expression_error():
    tree = ex.parse("count_a / (share - share) > 1")
    ex.TypeChecker(NAMES).condition(tree)
    with pytest.raises(ex.ExpressionError, match="division by zero"):
        ex.evaluate(tree, VALUES)


def _lower(source: str):
    """The condition in IR, and {text: name} of the computations hoisted out of it."""
    hoisting = ex.Hoisting("_d")
    cond = hoisting.lower(source, check(source))
    return cond, {text: name for name, (text, _) in hoisting.computed.items()}


def test_lowering_pushes_negation_into_comparisons():
    cond, hoisted = _lower("not (share >= 0.5 and flag)")
    assert cond == ir.AnyOf((ir.Cmp("lt", "share", ir.Lit(0.5)), ir.Cmp("eq", "flag", ir.Lit(False))))
    assert hoisted == {}


def test_lowering_hoists_arithmetic_and_aggregates():
    cond, hoisted = _lower("count(bcus where officers <= 12 * sergeants) == count(bcus)")
    assert cond == ir.Cmp("eq", "_d1", ir.Ref("_d2"))
    assert list(hoisted) == ["count(bcus where officers <= 12 * sergeants)", "count(bcus)"]


def test_lowering_turns_literal_first_comparisons_round():
    cond, _ = _lower("0.5 < share")
    assert cond == ir.Cmp("gt", "share", ir.Lit(0.5))


def test_lowering_dates_and_records():
    cond, _ = _lower('until >= date("2010-03-31") and spi.trend != "worse"')
    assert cond == ir.AllOf(
        (ir.Cmp("ge", "until", ir.Lit(dt.date(2010, 3, 31).toordinal())), ir.Cmp("ne", "spi__trend", ir.Lit("worse")))
    )


SOURCES = st.sampled_from(
    [
        "share >= 0.5",
        "flag",
        'extent == "all"',
        'extent in ["most", "some"]',
        "count_a > 2",
        'spi.trend == "worse"',
        'until < date("2009-01-01")',
        "share * 2 > count_a",
    ]
)


def _ir_holds(cond, values):
    if isinstance(cond, ir.AllOf):
        return all(_ir_holds(c, values) for c in cond.items)
    if isinstance(cond, ir.AnyOf):
        return any(_ir_holds(c, values) for c in cond.items)
    left = values[cond.name]
    right = cond.operand.value if isinstance(cond.operand, ir.Lit) else values[cond.operand.name]
    return {
        "eq": left == right,
        "ne": left != right,
        "lt": left < right,
        "le": left <= right,
        "gt": left > right,
        "ge": left >= right,
    }[cond.op]


@settings(deadline=None, derandomize=True, max_examples=300)
@given(
    st.recursive(
        SOURCES,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda s: f"not {s}"),
        ),
    ),
    st.floats(0, 1),
    st.integers(0, 5),
    st.booleans(),
    st.sampled_from(CHOICE.values),
    st.sampled_from(["better", "same", "worse"]),
    st.dates(dt.date(2005, 1, 1), dt.date(2015, 1, 1)),
)
@pytest.mark.slow
def test_lowered_conditions_agree_with_direct_evaluation(source, share, count_a, flag, extent, trend, until):
    values = {
        **VALUES,
        "share": share,
        "count_a": count_a,
        "flag": flag,
        "extent": extent,
        "spi": {"trend": trend, "gap_pp": 1.0},
        "until": until,
    }
    cond, hoisted = _lower(source)
    engine_values = {k: ex.engine_value(v) for k, v in values.items() if not isinstance(v, (list, dict))}
    engine_values["spi__trend"] = trend
    for text, name in hoisted.items():
        engine_values[name] = ex.evaluate(ex.parse(text), values)
    assert _ir_holds(cond, engine_values) is ex.evaluate(check(source), values)
