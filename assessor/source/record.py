"""What every frozen record of the pipeline shares: its repr, equality and hash.

The model, the rule language, its IR and the case are frozen dataclasses, about forty of them,
all created by every run at import. `@dataclass` writes each class its own methods as Python
text and compiles them, and that compiling was most of what importing the pipeline cost. A
record is `@dataclass(frozen=True, repr=False, eq=False)` over `Record`, whose three methods
are written once and give what the generated ones give: the same text, the same answers, the
same hashes (fields with `repr=False`, `compare=False` or `hash=False` left out alike).
It lives in the first stage so that every later one may use it (tests/test_layers.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter

_keys: dict[type, tuple[tuple[str, ...], Callable[[object], tuple], Callable[[object], tuple]]] = {}


def _tuple_of(names: tuple[str, ...]) -> Callable[[object], tuple]:
    if len(names) > 1:
        return attrgetter(*names)  # a tuple, as the generated methods build
    if names:
        one = attrgetter(names[0])
        return lambda record: (one(record),)
    return lambda _record: ()


def _described(cls: type) -> tuple[tuple[str, ...], Callable[[object], tuple], Callable[[object], tuple]]:
    """The fields the repr shows, and what equality compares and the hash hashes, of record class CLS."""
    found = _keys.get(cls)
    if found is None:
        fields = dataclasses.fields(cls)
        shown = tuple(f.name for f in fields if f.repr)
        compared = tuple(f.name for f in fields if f.compare)
        hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
        found = _keys[cls] = (shown, _tuple_of(compared), _tuple_of(hashed))
    return found


class Record:
    __slots__ = ()

    def __repr__(self) -> str:
        shown = _described(type(self))[0]
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        compared = _described(type(self))[1]
        return compared(self) == compared(other)

    def __hash__(self) -> int:
        return hash(_described(type(self))[2](self))
