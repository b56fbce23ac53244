"""Hypothesis strategies for random IR rule packs and facts that fit them.

A scenario is a schema (value name -> bool, number or string, the same in every scope), rules
over it in several scopes and stages, and cases: lists of facts carrying every schema value with
the right type. Rules draw their conditions from a small pool so that many rules share
comparisons (as real packs do, and as durable's node sharing must survive); facts draw most
values from the same pools as the literals so that equalities hold often enough to matter.

Integers stay within ±2**53: beyond that durable compares an int with a float as two doubles
(and the durable engine refuses such values), while Python compares them exactly.
"""

from __future__ import annotations

from hypothesis import strategies as st

from assessor.language.ir import COMPARISONS, AllOf, AnyOf, Cmp, EngineFact, EngineRule, Lit, Ref

MAX_INT = 2**53

NUMBERS = (
    0,
    1,
    -1,
    2,
    3,
    3.0,
    -3,
    2.5,
    0.1,
    0.30000000000000004,
    1e-05,
    -1e-05,
    1.5e-05,
    1e16,
    -1e16,
    10**15,
    1e300,
    -1e300,
    5e-324,
    -0.0,
    MAX_INT,
    -MAX_INT,
)
STRINGS = (
    "",
    "a",
    "b",
    "é",
    "ß",
    'say "hi"',
    "it's",
    "back\\slash",
    "line\nbreak",
    "tab\t",
    "nul\x00",
    "😀",
    "日本",
    "3",
    "true",
    "null",
    "1e5",
    "{}",
    "[1]",
)
NAMES = ("a", "b", "c", "x1", "id", "sid", "kind", "scope", "stage", "m", "t", "_d1", "_d12", "v_a", "sentinel")
SCOPES = ("criterion", "framework", "ind_1", "ind_2", "é", 'q"uote', "with space", "3")
TYPES = ("bool", "number", "string")


def numbers() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(NUMBERS),
        st.integers(-MAX_INT, MAX_INT),
        st.floats(allow_nan=False, allow_infinity=False),
    )


def strings() -> st.SearchStrategy:
    return st.one_of(st.sampled_from(STRINGS), st.text(st.characters(codec="utf-8"), max_size=12))


def values(kind: str) -> st.SearchStrategy:
    return {"bool": st.booleans(), "number": numbers(), "string": strings()}[kind]


def schemas() -> st.SearchStrategy[dict[str, str]]:
    names = st.one_of(st.sampled_from(NAMES), st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True))
    return st.dictionaries(names, st.sampled_from(TYPES), min_size=1, max_size=6)


@st.composite
def comparisons(draw, schema: dict[str, str]) -> Cmp:
    name = draw(st.sampled_from(sorted(schema)))
    kind = schema[name]
    op = draw(st.sampled_from(COMPARISONS if kind == "number" else ("eq", "ne")))
    if draw(st.booleans()):
        return Cmp(op, name, Ref(draw(st.sampled_from(sorted(n for n, k in schema.items() if k == kind)))))
    return Cmp(op, name, Lit(draw(values(kind))))


def conditions(schema: dict[str, str], max_leaves: int = 16) -> st.SearchStrategy:
    """Nested AllOf/AnyOf, one-item groups included; chains of them reach depth 6 and more."""
    return st.recursive(
        comparisons(schema),
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda items: AllOf(tuple(items))),
            st.lists(inner, min_size=1, max_size=3).map(lambda items: AnyOf(tuple(items))),
        ),
        max_leaves=max_leaves,
    )


@st.composite
def scenarios(draw, max_rules: int = 300, max_cases: int = 3):
    """(rules, stages, cases): 1..max_rules rules, and lists of facts to evaluate them on."""
    schema = draw(schemas())
    scopes = draw(st.lists(st.sampled_from(SCOPES), min_size=1, max_size=4, unique=True))
    stages = list(range(1, draw(st.integers(1, 3)) + 1))
    pool = draw(st.lists(conditions(schema), min_size=1, max_size=20))
    # one draw per rule (a stage, scope and pooled condition): big packs stay cheap to generate
    kinds = [(stage, scope, cond) for stage in stages for scope in scopes for cond in pool]
    size = draw(st.integers(1, max_rules))
    picks = st.lists(st.integers(0, len(kinds) - 1), min_size=size, max_size=size)
    rules = [EngineRule(f"r{n}", *kinds[pick]) for n, pick in enumerate(draw(picks))]
    # facts also come in scopes and stages no rule has, and may repeat an id
    fact = st.builds(
        EngineFact,
        id=st.sampled_from(("f1", "f2", "f3", "f4", "é", 'f"5')),
        scope=st.sampled_from(scopes + ["unused"]),
        stage=st.sampled_from(stages + [9]),
        values=st.fixed_dictionaries({name: values(kind) for name, kind in schema.items()}),
    )
    cases = draw(st.lists(st.lists(fact, max_size=12), min_size=1, max_size=max_cases))
    return rules, stages, cases
