"""Records (record.py): the constructor, the refusal to change a field, the repr, equality
and hash every frozen record of the pipeline shares are what `@dataclass(frozen=True)` would
have generated for it, and a report run creates (almost) no dataclass, which generates its own."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
from helpers import CAMBRIDGESHIRE, ROOT

from assessor import record
from assessor.compile.compiler import compile_rulebook
from assessor.language import conditions
from assessor.record import Record, fields, replace
from assessor.session import Session


def _records(value, found: dict, seen: set) -> None:
    """Every record reachable from VALUE, by class."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, Record):
        found.setdefault(type(value), []).append(value)
    if isinstance(value, Record):
        for f in fields(value):
            _records(getattr(value, f.name), found, seen)
    elif isinstance(value, dict):
        for k, v in value.items():
            _records(k, found, seen)
            _records(v, found, seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _records(v, found, seen)


def _generated(cls: type) -> type:
    """CLS's fields in a dataclass of the same name whose methods @dataclass(frozen=True) generates."""
    spec = [(f.name, object, dataclasses.field(repr=f.repr, compare=f.compare, hash=f.hash)) for f in fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, spec, frozen=True)


def _as_generated(record):
    twin = _generated_classes.setdefault(type(record), _generated(type(record)))
    return twin(*(getattr(record, f.name) for f in fields(record)))


_generated_classes: dict = {}


def _hash(record):
    try:
        return hash(record)
    except TypeError as e:  # a record holding a dict or a list is unhashable, as generated
        return str(e)


@pytest.mark.slow
def test_records_repr_compare_and_hash_as_generated_methods_do():
    with Session(engine="python") as session:
        case = session.load(CAMBRIDGESHIRE)
        tokens = conditions.tokenize("count(indicators where outcome == 'failing') > 0 and not x in ['a', 'b']")
        found: dict = {}
        _records((session.book, compile_rulebook(session.book), case, session.location, tokens), found, set())
    assert len(found) >= 25  # the model, conditions, IR, case, location: most record classes
    answers = []
    for cls, records in found.items():
        twins = [_as_generated(r) for r in records[:50]]
        for one, twin in zip(records, twins):
            assert repr(one) == repr(twin)
            assert _hash(one) == _hash(twin)
            assert one == one and one != object()
        pairs = list(zip(records, records[1:]))[:50]
        assert [a == b for a, b in pairs] == [_as_generated(a) == _as_generated(b) for a, b in pairs], cls
        answers += [a == b for a, b in pairs]
    assert True in answers and False in answers  # equal and unequal records were compared


def test_node_positions_are_not_compared():
    """`start` and `end` of a condition's tree are left out of equality and hash, as declared."""
    a, b = conditions.Name(0, 1, name="x"), conditions.Name(5, 6, name="x")
    assert a == b and hash(a) == hash(b) and repr(a) == "Name(start=0, end=1, name='x')"
    assert conditions.Name(0, 1, name="y") != a


def test_a_report_run_makes_no_dataclass():
    """Cold start: each method @dataclass generates is Python text compiled at import. Records
    generate none, and a report run does not even import `dataclasses`."""
    code = (
        "import sys; from assessor.cli import main\n"
        "try:\n"
        f"    main([{str(CAMBRIDGESHIRE)!r}, '--output', '/dev/null'])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "print('dataclasses' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False"]


class Point(Record):
    x: int
    y: int = 0
    tags: list = record.field(default_factory=list, compare=False)


@dataclasses.dataclass(frozen=True)
class GeneratedPoint:
    x: int
    y: int = 0
    tags: list = dataclasses.field(default_factory=list, compare=False)


class Checked(Point):
    z: str = "z"

    def __post_init__(self):
        if self.x < 0:
            raise ValueError("x must not be negative")


def _outcome(make, *args, **kwargs):
    """What constructing gives: the repr, or the kind of error (messages differ in wording)."""
    try:
        return repr(make(*args, **kwargs)).replace("GeneratedPoint", "Point")
    except TypeError:
        return TypeError


@pytest.mark.parametrize(
    "args,kwargs",
    [
        ((1,), {}),
        ((1, 2), {}),
        ((1,), {"y": 2}),
        ((), {"x": 1, "tags": [3]}),
        ((1, 2, [3]), {}),
        ((), {}),
        ((1, 2, [], 4), {}),
        ((1,), {"x": 2}),
        ((1,), {"w": 2}),
    ],
)
def test_a_record_is_constructed_as_a_generated_dataclass_is(args, kwargs):
    assert _outcome(Point, *args, **kwargs) == _outcome(GeneratedPoint, *args, **kwargs)


def test_a_record_cannot_be_changed_and_replace_makes_a_changed_copy():
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del point.y  # type: ignore[misc]
    moved = replace(point, y=5)
    assert (moved.x, moved.y, point.y) == (1, 5, 0) and type(moved) is Point
    assert Point(1).tags is not Point(1).tags  # a factory makes each its own
    assert Point(1, tags=[1]) == Point(1, tags=[2])  # compare=False


def test_a_subclass_adds_its_fields_after_its_bases_and_runs_post_init():
    assert [f.name for f in fields(Checked)] == ["x", "y", "tags", "z"]
    assert repr(Checked(1, z="a")) == "Checked(x=1, y=0, tags=[], z='a')"
    with pytest.raises(ValueError, match="negative"):
        Checked(-1)
    with pytest.raises(ValueError, match="negative"):
        replace(Checked(1), x=-1)


def test_a_field_without_a_default_after_one_with_is_refused_as_dataclass_refuses_it():
    with pytest.raises(TypeError, match="'b' without a default follows 'a'"):

        class Bad(Record):
            a: int = 0
            b: int


def test_a_finding_is_a_record_as_it_was_a_dataclass():
    from assessor.errors import Finding

    @dataclasses.dataclass(frozen=True)
    class Twin:
        path: str
        line: int | None
        column: int | None
        check: str
        message: str = dataclasses.field(compare=False)
        level: str = dataclasses.field(default="error", compare=False)

    a, b = Finding("r.yaml", 3, 5, "type", "one wording"), Finding("r.yaml", 3, 5, "type", "another", "warning")
    ta, tb = Twin("r.yaml", 3, 5, "type", "one wording"), Twin("r.yaml", 3, 5, "type", "another", "warning")
    assert (a == b, hash(a) == hash(b)) == (ta == tb, hash(ta) == hash(tb)) == (True, True)
    assert repr(ta).endswith(".Twin" + repr(a).removeprefix("Finding"))
    assert replace(a, level="warning").level == "warning" and a.level == "error"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.level = "warning"  # type: ignore[misc]
    with pytest.raises(ValueError, match="1-based"):
        Finding("r.yaml", 0, None, "type", "no line 0")
