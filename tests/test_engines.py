"""Both rule engines on hand-written IR, and a differential fuzz: same IR in, same firings out."""

from __future__ import annotations

import json
import math
import operator
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ir_strategies import scenarios

from assessor.engines import ENGINES, EngineError, make_engine
from assessor.language.ir import AllOf, AnyOf, Cmp, EngineFact, EngineRule, Lit, Ref
from assessor.source.reader import MAX_NUMBER

FUZZ_EXAMPLES = int(os.environ.get("ASSESSOR_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

PY_OPS = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def closing_factory(name):
    """engine(rules) -> an engine of kind `name`, closed after the test."""
    made = []

    def build(rules):
        made.append(make_engine(name, rules))
        return made[-1]

    yield build
    for each in made:
        each.close()


@pytest.fixture(params=ENGINES)
def engine(request):
    yield from closing_factory(request.param)


@pytest.fixture
def durable():
    yield from closing_factory("durable")


def rule(rule_id, condition, scope="s", stage=1):
    return EngineRule(rule_id, stage, scope, condition)


def fact(fact_id, scope="s", stage=1, **values):
    return EngineFact(fact_id, scope, stage, values)


def holds(engine, condition, **values):
    """Whether `condition` holds on one fact with `values`."""
    return "r" in engine([rule("r", condition)]).evaluate(1, [fact("f", **values)])


# --- one comparison at a time -------------------------------------------------------------


@pytest.mark.parametrize("op", sorted(PY_OPS))
@pytest.mark.parametrize(
    "value, literal",
    [
        (2, 1),
        (2, 2),
        (2, 3),
        (2, 2.0),
        (2.5, 2),
        (-1e-05, 0),
        (1e15, 10**15),
        (1e16, 2**53),
        (0.1, 0.30000000000000004),
        (-0.0, 0),
    ],
)
def test_number_literal(engine, op, value, literal):
    assert holds(engine, Cmp(op, "a", Lit(literal)), a=value) is PY_OPS[op](value, literal)


@pytest.mark.parametrize("op", sorted(PY_OPS))
@pytest.mark.parametrize("a, b", [(1, 2), (2, 2), (3, 2), (3, 3.0), (1e-05, 1.5e-05), (-1e300, 5e-324)])
def test_number_ref_same_fact(engine, op, a, b):
    assert holds(engine, Cmp(op, "a", Ref("b")), a=a, b=b) is PY_OPS[op](a, b)


@pytest.mark.parametrize("op", ["eq", "ne"])
@pytest.mark.parametrize(
    "value, other",
    [
        (True, True),
        (True, False),
        (False, False),
        ("x", "x"),
        ("x", "y"),
        ("", ""),
        ('say "hi"\\', 'say "hi"\\'),
        ("é😀\n\x00", "é😀\n\x00"),
        ("é😀\n\x00", "é😀\n\x01"),
        ("1e5", "1e5"),
    ],
)
def test_bool_and_string_equality(engine, op, value, other):
    expected = PY_OPS[op](value, other)
    assert holds(engine, Cmp(op, "a", Lit(other)), a=value) is expected
    assert holds(engine, Cmp(op, "a", Ref("b")), a=value, b=other) is expected


def test_user_names_cannot_reach_engine_attributes(engine):
    names = ["id", "sid", "kind", "scope", "stage", "m", "t", "_d1", "v_id"]
    cond = AllOf(tuple(Cmp("eq", name, Lit(n)) for n, name in enumerate(names)))
    values = {name: n for n, name in enumerate(names)}  # fact() would take scope= and stage= itself
    assert engine([rule("r", cond)]).evaluate(1, [EngineFact("f", "s", 1, values)]) == {"r": ("f",)}


# --- structure ----------------------------------------------------------------------------


def test_one_item_groups(engine):
    yes, no = Cmp("eq", "a", Lit(1)), Cmp("eq", "a", Lit(2))
    rules = [
        rule("all_yes", AllOf((yes,))),
        rule("any_yes", AnyOf((yes,))),
        rule("all_no", AllOf((no,))),
        rule("any_no", AnyOf((AllOf((no,)),))),
    ]
    assert engine(rules).evaluate(1, [fact("f", a=1)]) == {"all_yes": ("f",), "any_yes": ("f",)}


def nested(depth, leaf_true):
    """AllOf/AnyOf alternating `depth` deep, two branches each, true exactly when leaf_true is."""
    if depth == 0:
        return Cmp("eq", "a", Lit(1 if leaf_true else 2))
    if depth % 2:
        return AnyOf((nested(depth - 1, leaf_true), Cmp("lt", "b", Ref("a"))))  # b < a is false
    return AllOf((nested(depth - 1, leaf_true), Cmp("ge", "b", Lit(0))))


@pytest.mark.parametrize("depth", [1, 2, 3, 6, 7, 20])
def test_nested_groups(engine, depth):
    rules = [rule("yes", nested(depth, True)), rule("no", nested(depth, False))]
    assert engine(rules).evaluate(1, [fact("f", a=1, b=5)]) == {"yes": ("f",)}


def test_condition_with_many_groups(engine):
    """20 AnyOf groups under one AllOf: more than one durable pattern holds, so it is split."""
    cond = AllOf(tuple(AnyOf((Cmp("eq", f"x{n}", Lit(1)), Cmp("gt", f"y{n}", Ref(f"x{n}")))) for n in range(20)))
    values = {f"x{n}": 1 for n in range(20)} | {f"y{n}": 0 for n in range(20)}
    falsified = values | {"x7": 0}
    result = engine([rule("r", cond)]).evaluate(1, [fact("f1", **values), fact("f2", **falsified)])
    assert result == {"r": ("f1",)}


def test_scopes_stages_and_facts(engine):
    rules = [
        rule("s1_big", Cmp("gt", "a", Lit(5))),
        rule("s1_small", Cmp("le", "a", Lit(5))),
        rule("s2_big", Cmp("gt", "a", Lit(5)), scope="s2"),
        rule("later", Cmp("gt", "a", Lit(0)), stage=2),
    ]
    facts = [
        fact("f1", a=9),
        fact("f2", a=1),
        fact("f3", a=7),
        fact("g1", scope="s2", a=9),
        fact("h", scope="s3", a=9),
        fact("late", stage=2, a=9),
    ]
    e = engine(rules)
    assert e.evaluate(1, facts) == {"s1_big": ("f1", "f3"), "s1_small": ("f2",), "s2_big": ("g1",)}
    assert e.evaluate(2, facts) == {"later": ("late",)}
    assert e.evaluate(3, facts) == {}
    assert e.evaluate(1, []) == {}
    assert e.evaluate(1, facts) == e.evaluate(1, list(reversed(facts)))  # order does not matter (P1)


def test_repeated_fact_ids_are_reported_once(engine):
    e = engine([rule("r", Cmp("ge", "a", Lit(0)))])
    assert e.evaluate(1, [fact("f", a=1), fact("f", a=2), fact("g", a=-1)]) == {"r": ("f",)}


def test_large_pack_shards(engine):
    """450 rules in one scope and stage, most holding at once: over 200 rules and over the
    match-stack budget per ruleset, so durable needs several."""
    rules = [rule(f"r{n}", Cmp("lt", "a", Lit(n))) for n in range(450)]
    rules += [rule(f"w{n}", AnyOf((Cmp("eq", "b", Lit(n)), Cmp("ne", "c", Ref("a"))))) for n in range(30)]
    e = engine(rules)
    result = e.evaluate(1, [fact("f", a=100, b=3, c=100), fact("g", a=400, b=-1, c=0)])
    expected = {f"r{n}": ("f", "g") if n > 400 else ("f",) for n in range(101, 450)}
    expected |= {f"w{n}": ("g",) for n in range(30)} | {"w3": ("f", "g")}
    assert result == dict(sorted(expected.items()))
    if e.name == "durable":
        assert len(e._shards[1]) > 3


# --- errors -------------------------------------------------------------------------------


def test_missing_value_is_an_error(engine):
    with pytest.raises(EngineError, match="'b'"):
        engine([rule("r", Cmp("lt", "a", Ref("b")))]).evaluate(1, [fact("f", a=1)])


@pytest.mark.parametrize("cond", [Cmp("in", "a", Lit(1)), AllOf(()), AnyOf((Cmp("eq", "a", Lit(1)), AnyOf(())))])
def test_malformed_condition_is_an_error(engine, cond):
    with pytest.raises(EngineError):
        engine([rule("r", cond)])


def test_make_engine_rejects_unknown_name():
    with pytest.raises(ValueError, match="durable, python"):
        make_engine("drools", [])


def test_python_engine_does_not_import_durable():
    code = (
        "import sys; from assessor.engines import make_engine; make_engine('python', []);"
        "print(any(m.startswith(('durable', 'assessor.engines.durable')) for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "False"


# --- durable specifics --------------------------------------------------------------------


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 2**53 + 1, -(2**63), "x" * 10_001])
def test_durable_refuses_values_it_would_compare_wrongly(durable, value):
    with pytest.raises(EngineError, match="durable cannot compare"):
        durable([rule("r", Cmp("eq", "a", Lit(value)))])
    e = durable([rule("r", Cmp("ne", "a", Ref("b")))])
    with pytest.raises(EngineError, match="durable cannot compare"):
        e.evaluate(1, [fact("f", a=value, b=value)])
    assert e.evaluate(1, [fact("f", a=1, b=2)]) == {"r": ("f",)}


def test_durable_is_unusable_after_close(durable):
    e = durable([rule("r", Cmp("eq", "a", Lit(1)))])
    e.close()
    e.close()
    with pytest.raises(EngineError, match="closed"):
        e.evaluate(1, [fact("f", a=1)])


def test_durable_detects_a_truncated_batch_and_recovers(durable, monkeypatch):
    """If the C parser stops early (P6), the sentinel does not fire: an error, not a wrong
    answer, and the session is cleaned up without the C1 crash so the engine goes on."""
    e = durable([rule("r", Cmp("gt", "a", Lit(0))), rule("q", Cmp("gt", "a", Lit(0)), scope="u")])
    facts = [fact("f1", a=1), fact("f2", scope="u", a=2), fact("f3", a=3)]
    (shard,) = e._shards[1]
    head, names, keys = shard.specs["u"]
    # the second fact's text gets a number the parser stops at (1e5: an exponent, no fraction);
    # a batch whose first fact is unreadable holds no fact at all, which crashes (C3)
    monkeypatch.setitem(shard.specs, "u", (head + ',"x":1e5', names, keys))
    for _ in range(2):
        with pytest.raises(EngineError, match=r"^durable-rules: read only part of the facts \(probe P6\)$"):
            e.evaluate(1, facts)
    monkeypatch.undo()
    assert e.evaluate(1, facts) == {"q": ("f2",), "r": ("f1", "f3")}


def test_durable_reads_fact_ids_not_value_text(durable):
    """Matched facts are read from the text of durable's action messages, which carry each
    fact as asserted: names and values that look like that text must not add matches."""
    lookalike = '{"m":{"id":"1"'
    e = durable([rule("r", Cmp("eq", lookalike, Lit(lookalike))), rule("q", Cmp("eq", "a", Lit(2)))])
    facts = [fact("f0", a=1, **{lookalike: lookalike}), fact("f1", a=1, **{lookalike: "x"})]
    assert e.evaluate(1, facts) == {"r": ("f0",)}


def _written(values: list) -> list[str]:
    """The JSON text the C driver writes for each of `values` (as the value `a` of a fact)."""
    from assessor.engines import durable as module

    before, after = '[{"id":"0","sid":"7","a":', '},{"kind":"$eval","id":"t","sid":"7"}]'
    texts = []
    for value in values:
        text = module.dre.assessor_batch(
            "7", 1, [fact("f", a=value)], {"s": ("", ("a",), ('"a":',))}, MAX_NUMBER, module.MAX_STRING
        )
        assert text.startswith(before) and text.endswith(after), text
        texts.append(text[len(before) : -len(after)])
    return texts


# a float as durable's parser reads it whole (P6: a fraction before any exponent)
_ENGINE_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+(e[+-][0-9]+)?")


def _assert_written_as_json_reads_them(values: list) -> None:
    """Each value written as json.dumps writes it, but a float in a form durable's parser reads
    whole, whose value (and sign) is the float's: json.dumps's repr() digits are not needed."""
    for value, text in zip(values, _written(values), strict=True):
        if type(value) is float:
            assert _ENGINE_FLOAT.fullmatch(text), (value, text)
            read = float(text)  # correctly rounded, as the engine's strtod
            assert (read, math.copysign(1, read)) == (value, math.copysign(1, value)), (value, text)
        else:
            assert text == json.dumps(value, ensure_ascii=False), (value, text)


def test_durable_writes_each_value_as_json_does():
    """The C driver writes values as json.dumps does (UTF-8, not ASCII-escaped), bools as bools;
    floats so that the engine reads the same float (P6: 1e-05 would stop its parser)."""
    values = [True, 1, 1.0, "1", "true", False, 0, 0.0, -0.0, "", 1e-05, -2.5e300, 2.5, 2**53, -(2**53), "x" * 64]
    strings = ['say "hi"\\', "é😀\n\x00\x1f\x7f\u2028", "\b\f\r\t/</script>"]
    _assert_written_as_json_reads_them(values + strings)


@pytest.mark.parametrize(
    "value, text",
    [
        (2.5, "2.5"),
        (-0.0, "-0.0"),
        (3.0, "3.0"),
        (0.1, "0.1"),
        (38.83, "38.83"),
        (1e-05, "0.00001"),
        (-123456.789, "-123456.789"),
        (2.0**53 - 1, "9007199254740991.0"),
        # beyond 2**53 digits or 17 decimals: repr(), a fraction put before the exponent
        (0.1 + 0.2, "0.30000000000000004"),
        (1e16, "1.0e+16"),
        (1e-18, "1.0e-18"),
        (5e-324, "5.0e-324"),
        (-2.5e300, "-2.5e+300"),
    ],
)
def test_durable_writes_floats_with_the_fewest_digits_it_can(value, text):
    """Floats are written with the fewest decimals that read back exactly, without repr()'s
    costly shortest-digit search, which stays for the rest."""
    assert _written([value]) == [text]


@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.floats(-1e6, 1e6).map(lambda f: round(f, 3)),  # few decimals, as evidence usually has
            st.text(),
            st.integers(-(2**53), 2**53),
        )
    )
)
@FUZZ
def test_durable_writes_any_value_as_json_does(values):
    values = [v for v in values if not (isinstance(v, str) and any("\ud800" <= c <= "\udfff" for c in v))]
    if values:
        _assert_written_as_json_reads_them(values)


def test_durable_compares_values_as_python_does_in_any_order(durable):
    """Values that Python holds equal (True, 1, 1.0; 0.0 and -0.0) keep their own type, in
    either order, and values durable would compare wrongly are refused every time."""
    from assessor.engines import durable as module

    numbers = [True, 1, 1.0, False, 0, 0.0, -0.0, 1e-05, 2.5]
    rules = [rule("z", Cmp("lt", "a", Lit(0.5)))]
    e, python = durable(rules), make_engine("python", rules)
    facts = [fact(f"f{n}", a=v) for n, v in enumerate(numbers)]
    assert e.evaluate(1, facts) == e.evaluate(1, facts[::-1]) == python.evaluate(1, facts)
    for bad in (2**53 + 1, float("inf"), "z" * (module.MAX_STRING + 1), None, b"x", [1]):
        for _ in range(2):
            with pytest.raises(EngineError, match="durable cannot compare"):
                e.evaluate(1, [fact("f", a=1), fact("g", a=bad)])
    with pytest.raises(EngineError, match="fact 'g' lacks the value 'a'"):
        e.evaluate(1, [fact("f", a=1), fact("g", b=1)])
    with pytest.raises(EngineError, match="durable-rules: .*surrogates not allowed"):
        e.evaluate(1, [fact("f", a="\ud800")])
    assert e.evaluate(1, facts) == python.evaluate(1, facts)


# Hostile inputs for the C driver, each run in a child process: a crash there must fail the test,
# not end the suite. Each mutates what the driver was given while the driver runs Python code,
# then allocates so that freed memory is reused.
_HOSTILE = {
    "facts cleared by a value lookup": """
class Evil(Mapping):
    def __getitem__(self, name):
        facts.clear(); churn(); return 1
    def __iter__(self): return iter(["a"])
    def __len__(self): return 1
facts = [EngineFact("x", "s", 1, Evil())] + [EngineFact(f"f{n}", "s", 1, {"a": n}) for n in range(2)]
print(dre.assessor_batch("7", 1, facts, specs(), 2**53, 10000))
""",
    "specs cleared by a value lookup": """
class Evil(Mapping):
    def __getitem__(self, name):
        given.clear(); churn(); return 1
    def __iter__(self): return iter(["a"])
    def __len__(self): return 1
given = specs()
facts = [EngineFact("x", "s", 1, Evil()), EngineFact("y", "s", 1, {"a": 2})]
print(dre.assessor_batch("7", 1, facts, given, 2**53, 10000))
""",
    "facts cleared by reading a fact's id": """
class Fact:
    scope, stage, values = "s", 1, {"a": 1}
    @property
    def id(self):
        facts.clear(); churn(); return "x"
e = make_engine("durable", [EngineRule("r", 1, "s", Cmp("eq", "a", Lit(1)))])
(shard,) = e._shards[1]
facts = [Fact(), Fact()]
print(dre.assessor_run(((shard.handle, specs(), ("".join(["ru", "le"]),)),), "7", 1, facts, 2**53, 10000))
""",
    "specs cleared by a value lookup while running": """
class Evil(Mapping):
    def __getitem__(self, name):
        given.clear(); churn(); return 1
    def __iter__(self): return iter(["a"])
    def __len__(self): return 1
e = make_engine("durable", [EngineRule("r", 1, "s", Cmp("eq", "a", Lit(1)))])
(shard,) = e._shards[1]
given = specs()
facts = [EngineFact("x", "s", 1, Evil()), EngineFact("y", "s", 1, {"a": 2})]
print(dre.assessor_run(((shard.handle, given, ("rule",)),), "7", 1, facts, 2**53, 10000))
""",
}
_HOSTILE_PRELUDE = """
from collections.abc import Mapping
from assessor.engines import make_engine
from assessor.engines.durable import dre
from assessor.language.ir import Cmp, EngineFact, EngineRule, Lit

def churn():
    global junk
    junk = [("x" * 20 + str(n),) for n in range(10_000)]

def specs():  # made anew, so that clearing them frees them
    return {"".join(["s"]): ("".join(['"scope":"s",', '"stage":1']), ("".join(["a"]),), ("".join([',"v_a"', ":"]),))}
"""
_HOSTILE_OUTPUT = {
    "facts cleared by a value lookup": '[{"id":"0","sid":"7","scope":"s","stage":1,"v_a":1},'
    '{"id":"1","sid":"7","scope":"s","stage":1,"v_a":0},{"id":"2","sid":"7","scope":"s","stage":1,"v_a":1},'
    '{"kind":"$eval","id":"t","sid":"7"}]',
    # the specs are read as they are when each fact is written: cleared, they take no more facts
    "specs cleared by a value lookup": '[{"id":"0","sid":"7","scope":"s","stage":1,"v_a":1},'
    '{"kind":"$eval","id":"t","sid":"7"}]',
    "facts cleared by reading a fact's id": "[('rule', ('x',))]",
    "specs cleared by a value lookup while running": "[('rule', ('x',))]",
}


@pytest.mark.parametrize("case", sorted(_HOSTILE))
def test_durable_driver_holds_what_it_reads_while_python_code_runs(case):
    """The C driver runs Python code (attribute reads, value lookups, comparisons) while it
    reads the facts, specs and rules it was given: it must hold its own references to them."""
    done = subprocess.run(
        [sys.executable, "-c", _HOSTILE_PRELUDE + _HOSTILE[case]],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert (done.returncode, done.stderr, done.stdout.strip()) == (0, "", _HOSTILE_OUTPUT[case])


@pytest.mark.parametrize("fact_id", ["", "t", "1x", "0 "])
def test_durable_refuses_an_action_message_with_a_malformed_fact_id(durable, monkeypatch, fact_id):
    """Each matched fact is read from its id in the action message, which the driver wrote
    as the fact's position: anything else there is an engine error, not some other fact."""
    e = durable([rule("r", Cmp("eq", "a", Lit(1)))])
    facts = [fact("f", a=1), fact("g", a=2)]
    (shard,) = e._shards[1]
    head, names, keys = shard.specs["s"]
    # a second frame in the fact's text, as the engine copies the fact into its message
    monkeypatch.setitem(shard.specs, "s", (head + ',"w":{"m":{"id":"' + fact_id + '"}}', names, keys))
    with pytest.raises(EngineError, match=r"^durable-rules: an action message names no fact of the batch$"):
        e.evaluate(1, facts)
    monkeypatch.undo()
    assert e.evaluate(1, facts) == {"r": ("f",)}


@pytest.mark.parametrize("max_number", [-1, -(2**63)])
def test_durable_driver_refuses_a_negative_number_limit(max_number):
    from assessor.engines.durable import dre

    with pytest.raises(ValueError, match="^max_number must not be negative$"):
        dre.assessor_batch("7", 1, [fact("f", a=1)], {"s": ("", ("a",), ('"a":',))}, max_number, 10)


@pytest.mark.parametrize("sid", ['7"', "7\\", "7\n", "\x1f"])
def test_durable_driver_refuses_a_sid_it_would_have_to_escape(durable, sid):
    """The sid is written into the batch's JSON text as it is: a quote, a backslash or a
    control character would change that text."""
    from assessor.engines.durable import MAX_STRING, dre

    e = durable([rule("r", Cmp("eq", "a", Lit(1)))])
    (shard,) = e._shards[1]
    facts = [fact("f", a=1)]
    with pytest.raises(ValueError, match="^sid must not hold quotes, backslashes or control characters$"):
        dre.assessor_batch(sid, 1, facts, shard.specs, MAX_NUMBER, MAX_STRING)
    with pytest.raises(ValueError, match="^sid must not hold quotes, backslashes or control characters$"):
        dre.assessor_run(((shard.handle, shard.specs, shard.rule_ids),), sid, 1, facts, MAX_NUMBER, MAX_STRING)
    assert e.evaluate(1, facts) == {"r": ("f",)}


def test_durable_driver_raises_its_own_errors_for_values():
    """A value missing or refused is the driver's own exception, carrying the fact, the name
    (and the value), so that no other KeyError or ValueError can be mistaken for one; the
    objects it carries are not leaked."""
    from assessor.engines.durable import dre

    name = "".join(["a", "b"])
    specs = {"s": ("", (name,), ('"a":',))}
    for values, error in (({name: [1]}, dre.RefusedValue), ({"c": 1}, dre.MissingValue)):
        f = fact("f", **values)
        before = sys.getrefcount(name), sys.getrefcount(f)
        for _ in range(1_000):
            with pytest.raises(error) as caught:
                dre.assessor_batch("7", 1, [fact("g", **{name: 1}), f], specs, MAX_NUMBER, 10)
            assert caught.value.args == ((f, name, [1]) if error is dre.RefusedValue else (f, name))
            del caught
        assert (sys.getrefcount(name), sys.getrefcount(f)) == before
        assert not issubclass(error, (KeyError, ValueError, dre.error))


@pytest.mark.parametrize("raised", [KeyError(0, "a"), ValueError(0, "a")])
def test_durable_does_not_mistake_an_error_of_the_facts_for_a_value_error(durable, raised):
    """An error raised by the facts' own code after the batch was asserted (here reading a
    fact's id) goes on as it is, and the engine goes on working."""

    class Fact:
        scope, stage, values = "s", 1, {"a": 1}

        @property
        def id(self):
            raise raised

    e = durable([rule("r", Cmp("eq", "a", Lit(1)))])
    with pytest.raises(type(raised)) as caught:
        e.evaluate(1, [Fact()])
    assert caught.value is raised
    assert e.evaluate(1, [fact("f", a=1)]) == {"r": ("f",)}


@pytest.mark.parametrize(
    "value, size",
    [(10**5000, "5,001"), (1 - 10**5000, "5,000"), (2**200, "61")],
    ids=["10**5000", "1-10**5000", "2**200"],  # pytest's own ids would repr() them
)
def test_durable_describes_a_huge_integer_by_its_size(durable, value, size):
    """repr() of an integer of over 4,300 digits raises ValueError (sys.get_int_max_str_digits):
    the refusal gives its number of digits instead."""
    message = f"^durable cannot compare an integer of {size} digits: "
    with pytest.raises(EngineError, match=message):
        durable([rule("r", Cmp("eq", "a", Lit(value)))])
    with pytest.raises(EngineError, match=message):
        durable([rule("r", Cmp("eq", "a", Lit(1)))]).evaluate(1, [fact("f", a=value)])


def test_durable_wraps_c_engine_errors(durable, monkeypatch):
    """Too many alternatives pending for one fact is C error 303; with the budget lifted it
    surfaces as an EngineError with a plain message, and the engine survives."""
    from assessor.engines import durable as module

    monkeypatch.setattr(module, "STACK_BUDGET", 10_000)
    monkeypatch.setattr(module, "MAX_RULES_PER_SHARD", 200)  # all 100 rules on one fact's stack
    e = durable([rule(f"r{n}", Cmp("lt", "a", Lit(n))) for n in range(100)])
    with pytest.raises(EngineError, match=r"^durable-rules: Could not assert facts, error code: 303$"):
        e.evaluate(1, [fact("f", a=-1)])
    assert e.evaluate(1, [fact("f", a=98)]) == {"r99": ("f",)}


ALWAYS_TRUE = st.recursive(
    st.sampled_from(
        [
            Cmp("ge", "a", Ref("a")),
            Cmp("gt", "a", Lit(-1)),
            Cmp("ne", "b", Lit(7)),
            Cmp("eq", "c", Lit("x")),
            Cmp("le", "a", Ref("b")),
        ]
    ),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4).map(lambda items: AllOf(tuple(items))),
        st.lists(inner, min_size=1, max_size=4).map(lambda items: AnyOf(tuple(items))),
    ),
    max_leaves=12,
)


@pytest.mark.slow
@settings(FUZZ, max_examples=max(FUZZ_EXAMPLES // 6, 1))
@given(st.lists(ALWAYS_TRUE, min_size=1, max_size=150))
def test_durable_layout_bounds_the_match_stack(conditions):
    """The shard layout's estimate of the alpha nodes one fact leaves pending is an upper
    bound: with the budget at durable's hard limit (64, error 303 beyond) and every branch of
    every rule holding, so that all of them are pushed, no fact overflows the stack."""
    from assessor.engines import durable as module

    with mock.patch.object(module, "STACK_BUDGET", 64):
        e = make_engine("durable", [rule(f"r{n}", cond) for n, cond in enumerate(conditions)])
        try:
            assert len(e.evaluate(1, [fact("f", a=1, b=2, c="x")])) == len(conditions)
        finally:
            e.close()


def test_durable_prints_nothing(durable, capfd):
    e = durable([rule(f"r{n}", Cmp("lt", "a", Lit(n))) for n in range(300)])
    e.evaluate(1, [fact("f", a=150)])
    e.close()
    assert capfd.readouterr() == ("", "")


def rss_mb():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.slow
def test_durable_engines_do_not_leak():
    """Leak check, not a timing test: each cycle builds, uses and closes an engine."""
    rules = [
        rule(f"r{n}", AnyOf((Cmp("lt", "a", Lit(n)), Cmp("eq", "b", Ref("a")))), scope=f"s{n % 4}") for n in range(40)
    ]
    facts = [fact(f"f{n}", scope=f"s{n % 4}", a=n, b=n % 3) for n in range(20)]

    def cycle():
        e = make_engine("durable", rules)
        e.evaluate(1, facts)
        e.close()

    for _ in range(100):  # let allocator pools and caches settle first
        cycle()
    before = rss_mb()
    for _ in range(2_000):
        cycle()
    assert rss_mb() - before < 50


# --- differential fuzz --------------------------------------------------------------------


def assert_engines_agree(rules, stages, cases):
    engines = [make_engine(name, rules) for name in ENGINES]
    try:
        for facts in cases:
            for stage in stages:
                durable_result, python_result = (e.evaluate(stage, facts) for e in engines)
                assert durable_result == python_result, (stage, facts)
    finally:
        for e in engines:
            e.close()


@pytest.mark.slow
@settings(FUZZ, max_examples=FUZZ_EXAMPLES)
@given(scenarios())
def test_engines_agree(scenario):
    assert_engines_agree(*scenario)


@pytest.mark.slow
@settings(FUZZ, max_examples=max(FUZZ_EXAMPLES // 3, 1))
@given(scenarios(max_rules=60))
def test_engines_agree_with_tight_durable_limits(scenario):
    """Random packs rarely need splitting and few need many shards; with durable's limits
    shrunk, every rule with an AnyOf is split into flat conjunctions (MAX_GROUPS=1 leaves room
    for the top `$and` only) and packs spread over many rulesets."""
    from assessor.engines import durable as module

    with mock.patch.multiple(module, MAX_GROUPS=1, STACK_BUDGET=16, MAX_RULES_PER_SHARD=16, MAX_PARTS=10**5):
        assert_engines_agree(*scenario)
