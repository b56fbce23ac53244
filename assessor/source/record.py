"""The frozen records of the pipeline: declared as dataclasses are, built without generating code.

The model, the rule language, its IR, the compiled rules and the case are frozen records, about
fifty classes, all created by every run at import. `@dataclass` writes each class its own
`__init__`, `__setattr__`, `__delattr__` (and `__repr__`, `__eq__`, `__hash__`) as Python text
and compiles it: that compiling was half of what importing the pipeline cost. A record is a
subclass of `Record`, its fields annotated as a dataclass's are (with `dataclasses.field()` for
a default factory or a field left out of the repr or of comparison), and these methods, written
once here, give what the generated ones give: the same constructor (fields in the same order,
positional or by name, defaults and factories, `__post_init__`), the same refusal to change a
field, the same repr, equality and hash (tests/test_record.py compares them with generated
ones). Type checkers read a record as a frozen dataclass (`dataclass_transform`).

`fields()` and `replace()` are `dataclasses.fields()` and `dataclasses.replace()` for records.
It lives in the first stage so that every later one may use it (tests/test_layers.py).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from operator import attrgetter
from typing import Any, ClassVar, TypeVar, dataclass_transform

_set = object.__setattr__
_REQUIRED = dataclasses.MISSING


class RecordField:
    """A field of a record: what `dataclasses.fields()` tells of a dataclass's."""

    __slots__ = ("compare", "default", "default_factory", "hash", "name", "repr")

    def __init__(self, name: str, spec: object):
        self.name = name
        if isinstance(spec, dataclasses.Field):
            if not spec.init:  # no record needs it; refused rather than half supported
                raise TypeError(f"field {name!r}: init=False is not supported for records")
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


R = TypeVar("R", bound="Record")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
class Record:
    __slots__ = ()
    __record_fields__: ClassVar[tuple[RecordField, ...]] = ()
    # per class: the fields' names and defaults for __init__; the names the repr shows; what
    # equality compares and the hash hashes
    __record_init__: ClassVar[tuple[tuple[str, ...], tuple[object, ...]]] = ((), ())
    __record_shown__: ClassVar[tuple[str, ...]] = ()
    __record_compared__: ClassVar[Callable[[object], tuple]] = staticmethod(_tuple_of(()))
    __record_hashed__: ClassVar[Callable[[object], tuple]] = staticmethod(_tuple_of(()))
    __record_post_init__: ClassVar[Callable[[Any], None] | None] = None

    def __init_subclass__(cls, **kwargs: Any):
        """Declare CLS's fields: its bases' in their order, then its own annotated ones (a field
        declared again keeps its place), as @dataclass collects them."""
        super().__init_subclass__(**kwargs)
        found = {f.name: f for f in cls.__record_fields__}
        for name, annotation in inspect.get_annotations(cls).items():
            if name.startswith("__record") or _is_class_var(annotation):
                continue
            spec = cls.__dict__.get(name, _REQUIRED)
            found[name] = field = RecordField(name, spec)
            if isinstance(spec, dataclasses.Field):  # the class keeps the default, as @dataclass leaves it
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
        cls.__record_fields__ = fields
        cls.__record_init__ = (
            tuple(f.name for f in fields),
            tuple(_Factory(f.default_factory) if f.default_factory is not _REQUIRED else f.default for f in fields),
        )
        cls.__record_shown__ = tuple(f.name for f in fields if f.repr)
        cls.__record_compared__ = staticmethod(_tuple_of(tuple(f.name for f in fields if f.compare)))
        hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
        cls.__record_hashed__ = staticmethod(_tuple_of(hashed))
        cls.__record_post_init__ = getattr(cls, "__post_init__", None)

    def __init__(self, *args: Any, **kwargs: Any):
        names, defaults = self.__record_init__
        if len(args) > len(names):
            raise TypeError(
                f"{type(self).__qualname__}() takes {len(names)} positional arguments but {len(args)} were given"
            )
        for name, value in zip(names, args):
            _set(self, name, value)
        for i in range(len(args), len(names)):
            name = names[i]
            if name in kwargs:
                _set(self, name, kwargs.pop(name))
                continue
            default = defaults[i]
            if default is _REQUIRED:
                raise TypeError(f"{type(self).__qualname__}() missing required argument: {name!r}")
            _set(self, name, default.make() if type(default) is _Factory else default)
        if kwargs:
            name = next(iter(kwargs))
            given = "got multiple values for argument" if name in names else "got an unexpected keyword argument"
            raise TypeError(f"{type(self).__qualname__}() {given} {name!r}")
        post_init = type(self).__record_post_init__
        if post_init is not None:
            post_init(self)

    def __setattr__(self, name: str, value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record_shown__)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        compared = type(self).__record_compared__
        return compared(self) == compared(other)

    def __hash__(self) -> int:
        return hash(type(self).__record_hashed__(self))


class _Factory:
    """A field's default factory, told apart from a default value."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], object]):
        self.make = make


def fields(record: Record | type[Record]) -> tuple[RecordField, ...]:
    """The fields of a record or record class, in their order."""
    return record.__record_fields__


def replace(record: R, /, **changes: object) -> R:
    """A copy of RECORD with the fields named in CHANGES changed."""
    values = {f.name: getattr(record, f.name) for f in record.__record_fields__}
    values.update(changes)
    return type(record)(**values)
