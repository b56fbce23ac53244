"""The checked model of a rulebook, kept on disk as JSON between runs.

Reading a rulebook (YAML with positions, every condition parsed and type-checked) was the largest
part of `Session()` in a cold `assess CASE`, and it gives the same model for the same rule files
every time. So the model is kept in the user's cache folder (disk_cache.py: its safety rules, its
off switch), as JSON of our own records, never pickle: reading an entry can only build the
model's records, tuples, sets, dicts, dates and plain values.

An entry is named by a SHA-256 of everything the model depends on: the rule files (their labels
and bytes: the rules' revision), the folder names the model's places are written with, and the
code that reads them (the version, the interpreter, PyYAML's version and parser, and each
module's size and modification time, as Python decides whether a .pyc is current). An entry is
written only when the model just read has that very revision (the reader parses and hashes the
same bytes), so a rule file changed while it was read is never kept under the old name.

A model from the cache has every field the reader gives, except the YAML documents of the rule
files (`Rulebook.docs`), which only tools pointing into the files use: those are read when first
asked for. Tools that need them at once (lint) call rulebook.read.load_rulebook.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import stat
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import yaml

from assessor import __version__, disk_cache, record
from assessor.errors import AssessorError, Finding
from assessor.files import MAX_BYTES, PACKAGE, read_if
from assessor.language import conditions
from assessor.record import Record
from assessor.rulebook import model
from assessor.rulebook.rule_files import file_label, rule_files, rules_revision
from assessor.source.document import Loader

FORMAT = "assessor-rulebook-model 1"
SUFFIX = ".json"
MAX_ENTRIES = 200  # entries kept; the oldest go first once there are more


def read_rulebook(directory: str | Path, overlays: tuple = ()) -> model.Rulebook:
    """`load_rulebook(directory, overlays)`, from the cache when this code has read these very rule
    files before. Its errors are load_rulebook's: a rulebook with findings is never cached."""
    d, layers = Path(directory), tuple(map(Path, overlays))
    entries = disk_cache.Entries(
        disk_cache.location("rulebooks"), FORMAT, SUFFIX, keep=MAX_ENTRIES, prune_every_write=True
    )
    code = _code() if entries.path is not None else None
    revision = _revision(d, layers) if code is not None else None
    if revision is None:
        return _load(d, layers)
    name = disk_cache.key(FORMAT, code, str(d), tuple(map(str, layers)), revision)
    found = entries.read(name)
    book = _decoded(found[2]) if found is not None else None
    if book is not None and book.revision == revision:
        return record.replace(book, docs=_DocsOnDemand(d, layers, revision))
    book = _load(d, layers)
    if book.revision == revision:
        body = _encoded(book)
        if body is not None:
            entries.write(name, body)
    return book


def _load(directory: Path, overlays: tuple) -> model.Rulebook:
    from assessor.rulebook.read import load_rulebook  # the reader is imported only when a model is read

    return load_rulebook(directory, overlays)


class _DocsOnDemand(Mapping):
    """The rule files' documents of a model from the cache (`Rulebook.docs`), read when a tool
    first asks for one, from the same rule files: if they changed meanwhile, that is an error
    rather than places pointing into other text."""

    def __init__(self, directory: Path, overlays: tuple, revision: str):
        self._from = (directory, overlays, revision)
        self._docs: Mapping | None = None

    def _read(self) -> Mapping:
        if self._docs is None:
            directory, overlays, revision = self._from
            book = _load(directory, overlays)
            if book.revision != revision:
                raise AssessorError(
                    Finding(str(directory), None, None, "io", "the rule files changed while this ran; run it again")
                )
            self._docs = book.docs
        return self._docs

    def __getitem__(self, path: str):
        return self._read()[path]

    def __iter__(self) -> Iterator:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


def _revision(directory: Path, overlays: tuple) -> str | None:
    """The revision the rule files have now (rule_files.rules_revision), or None if one of them is
    not a regular file that can be read whole: then load_rulebook says what is wrong."""
    files = []
    try:
        for layer, folder in enumerate((directory, *overlays)):
            if not folder.is_dir():  # the reader refuses it, where a glob would find no files
                return None
            for path in rule_files(folder):
                data = _regular_file(path)
                if data is None:
                    return None
                files.append((file_label(layer, path), data))
    except OSError:
        return None
    return rules_revision(files)


def _regular_file(path: Path) -> bytes | None:
    # opened without waiting: a named pipe among the rules must not hold the run here
    data = read_if(path, lambda st: stat.S_ISREG(st.st_mode), MAX_BYTES, os.O_NONBLOCK)
    return data if data is not None and len(data) <= MAX_BYTES else None


@functools.cache
def _code() -> tuple | None:
    """What says the code that reads rules is the code that wrote an entry: the version, the
    interpreter, PyYAML's version and parser (which resolve what a scalar is), and the size and
    modification time of every module of the package; None if they cannot be listed (then
    nothing is cached)."""
    try:
        return (__version__, sys.version, yaml.__version__, Loader.__name__, *_modules(str(PACKAGE)))
    except OSError:
        return None


def _modules(folder: str) -> Iterator[tuple[str, int, int]]:
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for e in entries:
        if e.name.endswith(".py"):
            st = e.stat()
            yield e.path, st.st_size, st.st_mtime_ns
        elif e.is_dir(follow_symlinks=False) and e.name != "__pycache__":
            yield from _modules(e.path)


# ------------------------------------------------------------------ the JSON form
#
# A record is {"ClassName": [its field values, in order]}, a tuple {"()": [...]}, a frozenset
# {"set": [...]}, a dict {"{}": [[key, value], ...]}, a date {"date": "2008-03-31"}; None, booleans,
# numbers and strings are themselves. A value met more than once is written the first time as
# {"=": value} and then as {"^": n}, the n-th such value: shared objects stay shared, and equal
# records (the same type everywhere inside, every field compared) are kept once.


def _record_classes() -> dict[str, type[Record]]:
    found: dict[str, type[Record]] = {}
    for module in (model, conditions):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Record) and value.__module__ == module.__name__:
                assert value.__qualname__ not in found, f"two record classes named {value.__qualname__}"
                found[value.__qualname__] = value
    return found


_RECORDS = _record_classes()


_PLAIN = (bool, int, float, str)  # exactly these types: JSON gives a subclass back as its base


class _Unstorable(Exception):
    """The model holds a value the JSON form has no way to write: the model is not cached."""


def _encoded(book: model.Rulebook) -> bytes | None:
    """The JSON form of BOOK without its documents, or None if it cannot be written."""
    try:
        return _Writer().bytes(record.replace(book, docs={}))
    except (_Unstorable, ValueError, RecursionError):
        return None


class _Writer:
    def __init__(self):
        self._keys: dict[int, object] = {}  # id(value) -> its sharing key (the model keeps every value alive)
        self._uses: dict[object, int] = {}
        self._written: dict[object, int] = {}

    def bytes(self, value: object) -> bytes:
        self._count(value)
        return json.dumps(self._form(value), separators=(",", ":")).encode("ascii")

    def _key(self, value: object) -> object:
        found = self._keys.get(id(value))
        if found is None:
            found = self._keys[id(value)] = self._value_key(value) or ("same object", id(value))
        return found

    def _value_key(self, value: object) -> object | None:
        """A key two values share only if either may stand for the other: the same types all the
        way down, all of it compared by equality. None for a dict (shared only as the same object)
        and for a record with a field equality ignores."""
        if value is None or type(value) in (bool, int, str):
            return (type(value), value)
        if type(value) is float:
            return (float, repr(value))  # 0.0 and -0.0 are equal, and must stay apart
        if type(value) is _dt.date:
            return (_dt.date, value.isoformat())
        if isinstance(value, (tuple, frozenset)):
            parts = [self._key(v) for v in value]
        elif isinstance(value, Record) and all(f.compare for f in record.fields(value)):
            parts = [self._key(getattr(value, f.name)) for f in record.fields(value)]
        else:
            return None
        if any(isinstance(p, tuple) and p[:1] == ("same object",) for p in parts):
            return None  # holds something shared only as the same object: so is it
        return (type(value), frozenset(parts) if isinstance(value, frozenset) else tuple(parts))

    def _children(self, value: object) -> Iterator:
        if isinstance(value, Record):
            yield from (getattr(value, f.name) for f in record.fields(value))
        elif isinstance(value, dict):
            for k, v in value.items():
                yield k
                yield v
        elif isinstance(value, (tuple, frozenset)):
            yield from value

    def _count(self, value: object) -> None:
        if not isinstance(value, (Record, tuple, frozenset, dict)):
            return
        key = self._key(value)
        self._uses[key] = self._uses.get(key, 0) + 1
        if self._uses[key] == 1:
            for child in self._children(value):
                self._count(child)

    def _form(self, value: object) -> object:
        if value is None or type(value) in _PLAIN:
            return value
        if type(value) is _dt.date:
            return {"date": value.isoformat()}
        key = self._key(value)
        if key in self._written:
            return {"^": self._written[key]}
        if isinstance(value, Record):
            name = type(value).__qualname__
            if _RECORDS.get(name) is not type(value):
                raise _Unstorable(name)
            form: object = {name: [self._form(v) for v in self._children(value)]}
        elif isinstance(value, tuple):
            form = {"()": [self._form(v) for v in value]}
        elif isinstance(value, frozenset):
            # plain members only, in an order of their own: a shared member's number would follow
            # the set's order, not the file's
            if not all(v is None or type(v) in _PLAIN for v in value):
                raise _Unstorable("a set of other than plain values")
            form = {"set": sorted(value, key=lambda v: (type(v).__name__, repr(v)))}
        elif isinstance(value, dict):
            form = {"{}": [[self._form(k), self._form(v)] for k, v in value.items()]}
        else:
            raise _Unstorable(type(value).__name__)
        if self._uses.get(key, 0) > 1:
            self._written[key] = len(self._written)
            form = {"=": form}
        return form


def _decoded(body: bytes) -> model.Rulebook | None:
    """The model an entry holds, or None if it does not hold one."""
    try:
        book = _value(body)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError):
        return None
    return book if isinstance(book, model.Rulebook) else None


def _value(body: bytes) -> object:
    """The value the JSON form BODY holds; ValueError, TypeError, KeyError or IndexError if it
    holds none."""
    shared: list = []

    def define(value: object) -> object:
        shared.append(value)
        return value

    hooks: dict[str, Callable] = {name: _listed(functools.partial(_record, cls)) for name, cls in _RECORDS.items()}
    hooks.update({"()": _listed(tuple), "set": _listed(frozenset), "{}": _listed(dict)})
    hooks.update({"date": _dt.date.fromisoformat, "=": define, "^": shared.__getitem__})

    def hook(obj: dict) -> object:
        if len(obj) != 1:
            raise ValueError("not a value of the JSON form")
        for tag, value in obj.items():
            return hooks[tag](value)
        return None

    return json.loads(body, object_hook=hook)


def _record(cls: type[Record], values: list) -> Record:
    return cls(*values)


def _listed(make: Callable[[list], object]) -> Callable[[object], object]:
    """MAKE, given only a JSON array: a string or a number where an array belongs is not an entry."""

    def checked(value: object) -> object:
        if type(value) is not list:
            raise ValueError("not a value of the JSON form")
        return make(value)

    return checked
