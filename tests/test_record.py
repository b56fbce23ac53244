"""Records (source/record.py): the repr, equality and hash every frozen record of the pipeline
shares are what `@dataclass(frozen=True)` would have generated for it, and a report run
creates no frozen dataclass that generates its own."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
from helpers import CAMBRIDGESHIRE, ROOT

from assessor.compile.compiler import compile_rulebook
from assessor.language import conditions
from assessor.session import Session
from assessor.source.record import Record


def _records(value, found: dict, seen: set) -> None:
    """Every record reachable from VALUE, by class."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, Record):
        found.setdefault(type(value), []).append(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
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
    spec = [
        (f.name, f.type, dataclasses.field(repr=f.repr, compare=f.compare, hash=f.hash))
        for f in dataclasses.fields(cls)
    ]
    return dataclasses.make_dataclass(cls.__name__, spec, frozen=True)


def _as_generated(record):
    twin = _generated_classes.setdefault(type(record), _generated(type(record)))
    return twin(*(getattr(record, f.name) for f in dataclasses.fields(record)))


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
        for record, twin in zip(records, twins):
            assert repr(record) == repr(twin)
            assert _hash(record) == _hash(twin)
            assert record == record and record != object()
        pairs = list(zip(records, records[1:]))[:50]
        assert [a == b for a, b in pairs] == [_as_generated(a) == _as_generated(b) for a, b in pairs], cls
        answers += [a == b for a, b in pairs]
    assert True in answers and False in answers  # equal and unequal records were compared


def test_node_positions_are_not_compared():
    """`start` and `end` of a condition's tree are left out of equality and hash, as declared."""
    a, b = conditions.Name(0, 1, name="x"), conditions.Name(5, 6, name="x")
    assert a == b and hash(a) == hash(b) and repr(a) == "Name(start=0, end=1, name='x')"
    assert conditions.Name(0, 1, name="y") != a


def test_a_report_run_makes_no_dataclass_that_generates_its_own_methods():
    """Cold start: each generated method is Python text compiled at import. A frozen dataclass a
    report run creates shares Record's repr, equality and hash, but for those still listed here."""
    code = (
        "import dataclasses, sys; from assessor.cli import main\n"
        "try:\n"
        f"    main([{str(CAMBRIDGESHIRE)!r}, '--output', '/dev/null'])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "for name, module in sorted(sys.modules.items()):\n"
        "    for cls in vars(module).values():\n"
        "        if isinstance(cls, type) and cls.__module__ == name and dataclasses.is_dataclass(cls)\\\n"
        "                and cls.__dataclass_params__.frozen and '__eq__' in vars(cls):\n"
        "            print(f'{name}.{cls.__qualname__}')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert sorted(out.stdout.split()) == [
        "assessor.compile.compiler.CompiledDecision",
        "assessor.compile.compiler.CompiledFramework",
        "assessor.compile.compiler.CompiledRung",
        "assessor.compile.compiler.CompiledScope",
        "assessor.engines.durable._Part",
        "assessor.errors.Finding",
    ]
