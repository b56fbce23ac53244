"""Frozen records: declared as dataclasses are, with one method each, made cheaply.

The findings, the model, the rule language, its IR, the compiled rules and the case are frozen
records, about fifty classes, all created by every run at import. `@dataclass(frozen=True)`
writes each class its own `__init__`, `__setattr__`, `__delattr__`, `__repr__`, `__eq__` and
`__hash__` as Python text, wrapped in a function that makes it, and compiles it all: that was half
of what importing the pipeline cost. A record is a subclass of `Record`, its fields annotated as a
dataclass's are (with `field()`, this module's, for a default factory or a field left out of the
repr or of comparison). Only its `__init__` is its own, as @dataclass would write it and with
the same field names (compiled once per shape of class: `_init` says how), so that records are
as quick to make and as compact as before; the refusal to change a field, the repr, equality
and hash are written once, here, and answer as the generated ones would (tests/test_record.py
compares them). Type checkers read a record as a frozen dataclass (`dataclass_transform`).

`fields()`, `replace()` and `field()` are `dataclasses.fields()`, `replace()` and `field()` for
records; a run never imports `dataclasses`. A foundation (tests/test_layers.py), so that every
stage, and the findings of errors.py, may use it.
"""

from __future__ import annotations

import functools
import inspect
import keyword
import types
from collections.abc import Callable
from operator import attrgetter
from typing import Any, ClassVar, TypeVar, dataclass_transform


class _Required:
    """The default of a field that has none."""

    def __repr__(self) -> str:
        return "<required>"


_REQUIRED: Any = _Required()


class FieldSpec:
    """What `field()` declares of a field besides its name."""

    __slots__ = ("compare", "default", "default_factory", "hash", "repr")

    def __init__(self, default: object, default_factory: object, repr: bool, compare: bool, hash: bool | None):
        if default is not _REQUIRED and default_factory is not _REQUIRED:
            raise ValueError("a field cannot have both a default and a default factory")
        self.default, self.default_factory = default, default_factory
        self.repr, self.compare, self.hash = repr, compare, hash


def field(
    *,
    default: Any = _REQUIRED,
    default_factory: Callable[[], Any] | Any = _REQUIRED,
    repr: bool = True,  # noqa: A002 - dataclasses.field's own names
    compare: bool = True,
    hash: bool | None = None,  # noqa: A002
) -> Any:
    """A field with a default factory, or left out of the repr, of comparison or of the hash:
    `dataclasses.field()` for records."""
    return FieldSpec(default, default_factory, repr, compare, hash)


class RecordField:
    """A field of a record: what `dataclasses.fields()` tells of a dataclass's."""

    __slots__ = ("compare", "default", "default_factory", "hash", "name", "repr")

    def __init__(self, name: str, spec: object):
        self.name = name
        if isinstance(spec, FieldSpec):
            self.default, self.default_factory = spec.default, spec.default_factory
            self.repr, self.compare, self.hash = spec.repr, spec.compare, spec.hash
        else:
            self.default, self.default_factory = spec, _REQUIRED
            self.repr, self.compare, self.hash = True, True, None

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED and self.default_factory is _REQUIRED


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return isinstance(text, str) and (text == "ClassVar" or text.startswith(("ClassVar[", "typing.ClassVar")))


def _tuple_of(names: tuple[str, ...]) -> Callable[[object], tuple]:
    if len(names) > 1:
        return attrgetter(*names)  # a tuple, as the generated methods build
    if names:
        one = attrgetter(names[0])
        return lambda record: (one(record),)
    return lambda _record: ()


def _init(cls: type, fields: tuple[RecordField, ...]) -> Callable[..., None]:
    """The __init__ @dataclass(frozen=True) would write for FIELDS, and only it (repr, equality,
    hash and the refusal to change a field are Record's), each value set as a frozen dataclass
    sets it, which keeps instances as compact and as quick to read.

    Compiling one such function per class was most of what importing the records cost, and the
    code differs between classes only in its names: so the code is compiled once per shape (the
    number of fields, which have a default factory, whether there is a __post_init__), from
    placeholder names, and each class gets a copy with its own field names put in their place:
    the parameter names and the attribute-name constants (`CodeType.replace`). Defaults are the
    function's `__defaults__`, factories and helpers its globals. Field names are identifiers from
    our own class bodies, never data."""
    names = tuple(f.name for f in fields)
    for name in names:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise TypeError(f"{cls.__qualname__}: field name {name!r} is not an identifier")
        if name == "self":
            raise TypeError(f"{cls.__qualname__}: a field cannot be named 'self', the record's own name in __init__")
    factories = tuple(f.default_factory is not _REQUIRED for f in fields)
    template = _template(factories, hasattr(cls, "__post_init__"))
    placeholders = dict(zip(_placeholders(len(names)), names))
    code = template.replace(
        co_varnames=("self", *names),
        co_consts=tuple(placeholders.get(c, c) if type(c) is str else c for c in template.co_consts),
        co_qualname=f"{cls.__qualname__}.__init__",
    )
    namespace: dict[str, object] = {"_record_set": object.__setattr__, "_record_factory": _REQUIRED}
    for i, f in enumerate(fields):
        if f.default_factory is not _REQUIRED:
            namespace[f"_record_make_{i}"] = f.default_factory
    defaults = tuple(_REQUIRED if f.default_factory is not _REQUIRED else f.default for f in fields if not f.required)
    init = types.FunctionType(code, namespace, "__init__", defaults or None)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _placeholders(count: int) -> tuple[str, ...]:
    return tuple(f"_record_field_{i}" for i in range(count))


@functools.cache
def _template(factories: tuple[bool, ...], post_init: bool) -> types.CodeType:
    """The code of an __init__ of this shape, with placeholder names."""
    body = []
    for i, (name, made) in enumerate(zip(_placeholders(len(factories)), factories)):
        value = f"_record_make_{i}() if {name} is _record_factory else {name}" if made else name
        body.append(f"    _record_set(self, {name!r}, {value})")
    if post_init:
        body.append("    self.__post_init__()")
    params = ", ".join(("self", *_placeholders(len(factories))))
    source = f"def __init__({params}):\n" + ("\n".join(body) or "    pass") + "\n"
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - placeholder names of our own, as @dataclass does
    return namespace["__init__"].__code__


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Record:
    __slots__ = ()
    _record_fields: ClassVar[tuple[RecordField, ...]] = ()
    # per class: the names the repr shows; what equality compares and the hash hashes
    _record_shown: ClassVar[tuple[str, ...]] = ()
    _record_compared: ClassVar[Callable[[object], tuple]] = staticmethod(_tuple_of(()))
    _record_hashed: ClassVar[Callable[[object], tuple]] = staticmethod(_tuple_of(()))

    def __init_subclass__(cls, **kwargs: Any):
        """Declare CLS's fields: its bases' in their order, then its own annotated ones (a field
        declared again keeps its place), as @dataclass collects them."""
        super().__init_subclass__(**kwargs)
        found = {f.name: f for f in cls._record_fields}
        for name, annotation in inspect.get_annotations(cls).items():
            if name.startswith("_record") or _is_class_var(annotation):
                continue
            spec = cls.__dict__.get(name, _REQUIRED)
            found[name] = field = RecordField(name, spec)
            if isinstance(spec, FieldSpec):  # the class keeps the default, as @dataclass leaves it
                if field.default is _REQUIRED:
                    delattr(cls, name)
                else:
                    setattr(cls, name, field.default)
        fields = tuple(found.values())
        seen_default = None
        for f in fields:
            if not f.required:
                seen_default = f.name
            elif seen_default is not None:
                raise TypeError(f"{cls.__qualname__}: field {f.name!r} without a default follows {seen_default!r}")
        cls._record_fields = fields
        cls.__init__ = _init(cls, fields)  # type: ignore[method-assign]
        cls._record_shown = tuple(f.name for f in fields if f.repr)
        cls._record_compared = staticmethod(_tuple_of(tuple(f.name for f in fields if f.compare)))
        hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
        cls._record_hashed = staticmethod(_tuple_of(hashed))

    def __setattr__(self, name: str, value: object) -> None:
        raise _frozen(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise _frozen(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._record_shown)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        compared = type(self)._record_compared
        return compared(self) == compared(other)

    def __hash__(self) -> int:
        return hash(type(self)._record_hashed(self))


def _frozen(message: str) -> AttributeError:
    """The error a frozen dataclass raises, as code catching that expects; `dataclasses` is imported
    only here, where a bug tries to change a record."""
    import dataclasses

    return dataclasses.FrozenInstanceError(message)


R = TypeVar("R", bound=Record)  # the class itself: a string bound is compiled when made


def fields(record: Record | type[Record]) -> tuple[RecordField, ...]:
    """The fields of a record or record class, in their order."""
    return record._record_fields


def replace(record: R, /, **changes: object) -> R:
    """A copy of RECORD with the fields named in CHANGES changed."""
    values = {f.name: getattr(record, f.name) for f in record._record_fields}
    values.update(changes)
    return type(record)(**values)
