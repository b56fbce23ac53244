"""Safe YAML loading that remembers where every value came from.

Documents are built from the parser's event stream, not from PyYAML's
constructor, for three reasons: positions (every key and value keeps its
1-based line and column), safety (aliases are refused outright, so an alias
bomb never expands; no tags beyond the standard scalar ones), and honesty
(a duplicate key is an error instead of silently keeping the last value and
losing the user's evidence). Building iteratively also bounds nesting depth
without recursing in C or Python.
"""

from __future__ import annotations

import os
import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.resolver import Resolver

from assessor.errors import AssessorError, Finding
from assessor.files import read_limited
from assessor.record import Record

try:  # the C parser is several times faster; results are identical
    from yaml import CSafeLoader as Loader

    _C_PARSER = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

    _C_PARSER = False

MAX_DEPTH = 64

DocPath = tuple  # a path into a document: keys and list indexes


class Mark(Record):
    """Where a value of a YAML document stands: line and column, and whether it was quoted."""

    line: int
    column: int
    quoted: bool = False  # the scalar is quoted, so its text starts one column later
    path: str | None = None  # the file it stands in, when not the document's own (an edition's overlay)


class Document:
    """A loaded YAML file: its plain data and where each piece of it stood. Not a record: an
    edition's overlay (rulebook/overlay.py) fills one in as it lays files on each other."""

    def __init__(self, path: str, data: Any, marks: dict, key_marks: dict):
        self.path = path
        self.data = data
        self.marks = marks  # DocPath -> Mark of the value
        self.key_marks = key_marks  # DocPath -> Mark of the key naming that value

    def mark(self, where: DocPath) -> Mark | None:
        """The mark of a value, or of its nearest enclosing value."""
        where = tuple(where)
        while True:
            if where in self.marks:
                return self.marks[where]
            if not where:
                return None
            where = where[:-1]

    def finding(self, where: DocPath, check: str, message: str, *, key: bool = False, offset: int = 0) -> Finding:
        """A finding located at a value (or at its key), `offset` characters into a one-line scalar."""
        mark = self.key_marks.get(tuple(where)) if key else None
        mark = mark or self.mark(where)
        if mark is None:
            return Finding(self.path, None, None, check, message)
        column = mark.column + offset + (1 if mark.quoted and offset else 0)
        return Finding(mark.path or self.path, mark.line, column, check, message)


def _in_plain_words(e, m) -> str | None:
    """The parser's message for the usual slips (indentation, a colon inside text) in people's words."""
    if m is None:
        return None
    line = m.line + 1
    start = e.context_mark.line + 1 if e.context_mark is not None else None
    problem = e.problem or ""
    if problem == "did not find expected '-' indicator" and start is not None:
        return (
            f"line {line} does not line up with the list that starts at line {start}: every '- ' item of a "
            f"list starts in the same column; indent line {line} like the items above it"
        )
    if problem == "did not find expected key" and start is not None:
        return (
            f"line {line} does not line up with the block that starts at line {start}: the keys of a block "
            f"start in the same column; check the indentation of line {line}, or put a value that holds "
            "': ' in quotes"
        )
    if problem.startswith("mapping values are not allowed"):
        return (
            f"a colon followed by a space on line {line} starts a new key inside a value (or the line is "
            'indented too far): put the whole value in quotes, e.g. heading: "Staffing: neighbourhoods"'
        )
    return None


def _mark(m, quoted: bool = False) -> Mark:
    return Mark(m.line + 1, m.column + 1, quoted)


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_OCTAL = re.compile(r"[-+]?0[0-7_]+")


def short_repr(v, limit: int = 60) -> str:
    """repr(v), cut to `limit` characters: a message never repeats a whole huge value."""
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class AmbiguousNumber(ValueError):
    """A plain scalar YAML 1.1 reads as a different number from the one written."""


def _refuse_ambiguous_number(text: str, tag: str) -> None:
    """YAML 1.1 reads 12:30 as the base-60 number 750 and 010 as the octal number 8:
    silently a different number from the one written, so both are refused."""
    if ":" in text:
        raise AmbiguousNumber("YAML reads this as a base-60 number; write the number itself, or quote it if it is text")
    if tag == _INT and _OCTAL.fullmatch(text):
        digits = text.replace("_", "")
        if int(digits, 8) != int(digits, 10):
            raise AmbiguousNumber(
                f"the leading zero makes YAML read this as the octal number {int(digits, 8)}; write it without the zero"
            )


class _Scalars:
    """Turns scalar events into Python values with YAML 1.1's standard tags only."""

    def __init__(self):
        self._resolver = Resolver()
        self._constructor = SafeConstructor()

    def value(self, event) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:  # quoted, block or "!": the resolver would say str
                return event.value
            tag = self._resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag == _STR:  # the constructor would return the text as it is
                return event.value
            if tag in (_INT, _FLOAT) and not event.style:  # plain: the C parser says "", Python None
                _refuse_ambiguous_number(event.value, tag)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self._constructor.construct_object(node, deep=True)
        finally:
            # construct_object remembers every node it built, and only construct_document
            # forgets them: one shared constructor kept ~500 nodes per case, ~280 KB, forever
            self._constructor.constructed_objects.clear()


_SCALARS = _Scalars()


def read_text(path: str | os.PathLike, what: str) -> str:
    """Read a UTF-8 text file, turning every I/O problem into a finding."""
    return decode(read_limited(path, what), str(path), what)


def decode(raw: bytes, name: str, what: str) -> str:
    """The text of RAW, the bytes of the file NAME, read as UTF-8 (a byte order mark is not text,
    as with utf-8-sig); a finding, placed at its line and byte, if it is not UTF-8 text."""
    if b"\x00" in raw:
        raise AssessorError(Finding(name, None, None, "encoding", f"{what} is binary, expected YAML text"))
    text = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as e:
        line = text[: e.start].count(b"\n") + 1
        byte = e.start + len(raw) - len(text)  # counted from the file's first byte
        raise AssessorError(Finding(name, line, None, "encoding", f"{what} is not UTF-8 text (byte {byte})")) from None


def load(path: str | os.PathLike, what: str = "file") -> Document:
    return parse(read_text(path, what), str(path))


def parse(text: str, name: str) -> Document:
    """Parse one YAML document. Raises AssessorError with a located finding on any problem."""
    marks: dict = {}
    key_marks: dict = {}
    root: list = []
    # Each open container: (container, its path, pending key or None, key mark)
    stack: list = []

    def fail(m, check: str, message: str):
        raise AssessorError(Finding(name, m.line + 1, m.column + 1, check, message))

    def place(value, event_mark, quoted=False):
        if not stack:
            root.append(value)
            marks[()] = _mark(event_mark, quoted)
            return ()
        container, cpath, key, kmark = stack[-1]
        if isinstance(container, list):
            where = cpath + (len(container),)
            container.append(value)
        elif key is _NO_KEY:
            if isinstance(value, (dict, list)) or not _hashable(value):
                fail(event_mark, "syntax", "a mapping key must be a plain value, not a list or mapping")
            if value in container:
                first = key_marks[cpath + (value,)]
                fail(
                    event_mark,
                    "duplicate-key",
                    f"duplicate key {value!r} (first given at line {first.line}); "
                    "YAML would silently keep only the last one",
                )
            stack[-1] = (container, cpath, value, _mark(event_mark, quoted))
            container[value] = None  # reserve the key's place; the value follows
            return None
        else:
            where = cpath + (key,)
            container[key] = value
            key_marks[where] = kmark
            stack[-1] = (container, cpath, _NO_KEY, None)
        marks[where] = _mark(event_mark, quoted)
        return where

    try:
        for event in yaml.parse(text, Loader=Loader):
            if isinstance(event, yaml.AliasEvent):
                fail(
                    event.start_mark,
                    "alias",
                    "anchors and aliases (*name) are not allowed; write the value out in full",
                )
            if isinstance(event, yaml.ScalarEvent):
                try:
                    value = _SCALARS.value(event)
                except AmbiguousNumber as e:
                    fail(event.start_mark, "ambiguous-number", f"{event.value[:40]}: {e}")
                except (ConstructorError, ValueError, OverflowError) as e:
                    problem = getattr(e, "problem", None) or str(e)
                    if "int_max_str_digits" in problem:  # Python refuses to read a number this long
                        problem = "it has too many digits to be a number"
                    fail(event.start_mark, "syntax", f"cannot read value {short_repr(event.value)}: {problem}")
                place(value, event.start_mark, event.style in ("'", '"'))
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if event.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                    fail(event.start_mark, "syntax", f"tag {event.tag} is not allowed")
                if len(stack) >= MAX_DEPTH:
                    fail(event.start_mark, "too-deep", f"nesting deeper than {MAX_DEPTH} levels")
                container: dict | list = {} if isinstance(event, yaml.MappingStartEvent) else []
                where = place(container, event.start_mark)
                if where is None:
                    fail(event.start_mark, "syntax", "a mapping key must be a plain value, not a list or mapping")
                stack.append((container, where, _NO_KEY, None))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
            elif isinstance(event, yaml.DocumentStartEvent) and root:
                fail(event.start_mark, "syntax", "only one YAML document per file is allowed (found '---')")
    except yaml.MarkedYAMLError as e:
        m = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "not valid YAML"
        plain = _in_plain_words(e, m)
        if plain is not None and m is not None:
            raise AssessorError(Finding(name, m.line + 1, m.column + 1, "syntax", plain)) from None
        if (
            e.problem and e.context and e.context_mark is not None and m is not None and e.context_mark.line != m.line
        ):  # where the unfinished part began
            problem += f" ({e.context} that starts at line {e.context_mark.line + 1})"
        if m is None:
            raise AssessorError(Finding(name, None, None, "syntax", f"syntax error: {problem}")) from None
        raise AssessorError(Finding(name, m.line + 1, m.column + 1, "syntax", f"syntax error: {problem}")) from None
    except yaml.reader.ReaderError as e:  # e.g. control characters: a position, but no mark
        # the C parser counts UTF-8 bytes, the Python one characters
        before = text.encode("utf-8")[: e.position].decode("utf-8", "ignore") if _C_PARSER else text[: e.position]
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        char = e.character if isinstance(e.character, int) else ord(e.character or "\0")
        raise AssessorError(
            Finding(
                name,
                line,
                column,
                "syntax",
                f"not valid YAML: character U+{char:04X} is not allowed ({e.reason}); "
                "write it as an escape in a double-quoted string",
            )
        ) from None
    except yaml.YAMLError as e:  # pragma: no cover - other errors without a mark
        raise AssessorError(
            Finding(name, None, None, "syntax", f"not valid YAML: {' '.join(str(e).split())}")
        ) from None
    except RecursionError:
        raise AssessorError(Finding(name, None, None, "too-deep", "the document is nested too deeply")) from None
    return Document(name, root[0] if root else None, marks, key_marks)


class _NoKey:
    __slots__ = ()


_NO_KEY = _NoKey()


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
