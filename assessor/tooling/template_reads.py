"""Which context names a Jinja template reads, and where: for lint's slot checks.

Read from the parsed template (jinja2.meta.find_undeclared_variables on the AST),
following `include`, `extends` and `import ... with context`, the references
that hand the template's context on. A plain `import` does not: its macros see
only the arguments they are called with, which the importing template reads.
`compared_words` finds the words a template compares context names with, following
those names into the macros they are passed to as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from jinja2 import meta, nodes

from assessor.errors import AssessorError, Finding
from assessor.files import read_limited
from assessor.report.environment import FILTERS, check_nesting

_ENV = jinja2.Environment()  # parsing only; meta.find_undeclared_variables compiles, so it needs the filters
_ENV.filters.update(FILTERS)

Where = tuple[str, int | None, int | None]  # path, line, column


@dataclass(frozen=True)
class TemplateReads:
    """Names read from the context, with (path, line, column) of their first read."""

    names: dict[str, Where] = field(default_factory=dict)  # top-level names, e.g. the slot `extent`
    choices: dict[str, Where] = field(default_factory=dict)  # X of choices.X
    values: dict[str, Where] = field(default_factory=dict)  # X of values.X
    optional: frozenset = frozenset()  # names tested with `is defined`: a template copes without them

    def __or__(self, other: TemplateReads) -> TemplateReads:
        return TemplateReads(
            {**other.names, **self.names},
            {**other.choices, **self.choices},
            {**other.values, **self.values},
            self.optional | other.optional,
        )


def read_template(directory: Path, name: str, _seen: frozenset = frozenset()) -> TemplateReads:
    path = directory / name
    try:
        source = read_limited(path, "template").decode("utf-8")
        check_nesting(_ENV, source, name, str(path))  # the parser recurses per level: bound it first
        tree = _ENV.parse(source, name, str(path))
    except UnicodeDecodeError as e:
        raise AssessorError(
            Finding(str(path), None, None, "template-syntax", f"template {name} is not UTF-8 text (byte {e.start})")
        ) from None
    except jinja2.TemplateSyntaxError as e:
        raise AssessorError(
            Finding(str(path), e.lineno or None, None, "template-syntax", f"template syntax error: {e.message}")
        ) from None
    lines = source.splitlines()
    try:
        undeclared = meta.find_undeclared_variables(tree) - set(_ENV.globals)
    except (jinja2.TemplateSyntaxError, RecursionError) as e:  # e.g. a filter no environment has
        line = getattr(e, "lineno", None)
        message = getattr(e, "message", None) or "the template is nested too deeply"
        raise AssessorError(Finding(str(path), line, None, "template-syntax", f"template error: {message}")) from None
    reads = TemplateReads(
        {n.name: _place(path, lines, n.lineno, n.name) for n in _first(tree.find_all(nodes.Name), undeclared)},
        _fields(tree, "choices", path, lines),
        _fields(tree, "values", path, lines),
        _optional(tree),
    )
    for ref in _context_references(tree):
        if ref.template.value in _seen | {name}:
            continue
        if not (directory / ref.template.value).is_file():
            raise AssessorError(
                Finding(
                    str(path),
                    ref.lineno,
                    None,
                    "missing-template",
                    f"template {ref.template.value} does not exist under {directory}",
                )
            )
        reads = reads | read_template(directory, ref.template.value, _seen | {name})
    return reads


def _first(found, wanted: set) -> list:
    out, seen = [], set()
    for n in found:
        if n.ctx == "load" and n.name in wanted and n.name not in seen:
            seen.add(n.name)
            out.append(n)
    return out


def _fields(tree, owner: str, path: Path, lines: list) -> dict:
    """X of every `owner.X` or `owner["X"]`."""
    out = {}
    for n in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if not (isinstance(n.node, nodes.Name) and n.node.name == owner):
            continue
        key = n.attr if isinstance(n, nodes.Getattr) else getattr(n.arg, "value", None)
        if isinstance(key, str) and key not in out:
            out[key] = _place(path, lines, n.lineno, key)
    return out


def _optional(tree) -> frozenset:
    out = set()
    for t in tree.find_all(nodes.Test):
        if t.name in ("defined", "undefined"):
            if isinstance(t.node, nodes.Name):
                out.add(t.node.name)
            elif isinstance(t.node, nodes.Getattr) and isinstance(t.node.node, nodes.Name):
                out.add(f"{t.node.node.name}.{t.node.attr}")
    return frozenset(out)


def _context_references(tree) -> list:
    out = []
    for n in tree.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)):
        passes_context = isinstance(n, nodes.Extends) or getattr(n, "with_context", False)
        if passes_context and isinstance(n.template, nodes.Const) and isinstance(n.template.value, str):
            out.append(n)
    return out


def _place(path: Path, lines: list, line: int, word: str) -> tuple:
    """Jinja records lines only; the column is where the word first stands on that line."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    m = re.search(rf"\b{re.escape(word)}\b", text)
    return str(path), line, (m.start() + 1 if m else None)


# ---------------------------------------------------------------- words compared with names


@dataclass(frozen=True)
class Compared:
    """A name of the context (a slot, `choices.X` or `values.X` give X) compared with a fixed word."""

    name: str
    word: str
    op: str  # eq, ne, in, notin
    where: Where
    via: str = ""  # the macro call it was passed through, e.g. "over_time_line (outcomes.md.j2:3)"


_OWNERS = ("choices", "values")
_MACRO_DEPTH = 5  # macros passing a name on to further macros, followed this deep


def compared_words(directory: Path, name: str) -> list:
    """Every comparison of a context name with a quoted word in template NAME, in the templates it
    hands its context to, and in the macros it passes such a name to (imported or its own)."""
    out: list = []
    _Comparisons(directory).template(name, frozenset(), out)
    return out


class _Comparisons:
    def __init__(self, directory: Path):
        self.directory = directory
        self._parsed: dict = {}

    def parse(self, name: str):
        """(tree, path, lines) of a template, or None where it cannot be read (reported elsewhere)."""
        if name not in self._parsed:
            path = self.directory / name
            if not path.resolve().is_relative_to(self.directory.resolve()):  # the loader refuses it: so do we
                self._parsed[name] = None
                return None
            try:
                source = read_limited(path, "template").decode("utf-8")
                check_nesting(_ENV, source, name, str(path))
                self._parsed[name] = (_ENV.parse(source, name, str(path)), path, source.splitlines())
            except (AssessorError, UnicodeDecodeError, jinja2.TemplateSyntaxError, RecursionError):
                self._parsed[name] = None
        return self._parsed[name]

    def template(self, name: str, seen: frozenset, out: list) -> None:
        parsed = self.parse(name)
        if parsed is None or name in seen:
            return
        tree, path, lines = parsed
        try:
            context = meta.find_undeclared_variables(tree)
        except (jinja2.TemplateSyntaxError, RecursionError):
            return
        tracked = {n: n for n in context if n not in _OWNERS}

        def ref(node):
            if isinstance(node, nodes.Name) and node.name in tracked:
                return tracked[node.name]
            if isinstance(node, (nodes.Getattr, nodes.Getitem)) and isinstance(node.node, nodes.Name):
                key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
                if node.node.name in _OWNERS and node.node.name in context and isinstance(key, str):
                    return key
            return None

        self.scan(tree, path, lines, ref, self.macros(tree, path, lines), "", 0, out)
        for r in _context_references(tree):
            self.template(r.template.value, seen | {name}, out)

    def macros(self, tree, path: Path, lines: list) -> dict:
        """Macros a template can call: name -> (Macro node, path, lines, the macros *it* can call),
        and import alias -> such a mapping of the imported template's macros."""
        own: dict = {}
        for m in tree.find_all(nodes.Macro):
            own[m.name] = (m, path, lines, own)
        for n in tree.find_all((nodes.Import, nodes.FromImport)):
            named = isinstance(n.template, nodes.Const) and isinstance(n.template.value, str)
            other = self.parse(n.template.value) if named else None
            if other is None:
                continue
            theirs: dict = {}
            theirs.update({m.name: (m, other[1], other[2], theirs) for m in other[0].find_all(nodes.Macro)})
            if isinstance(n, nodes.Import):
                own[n.target] = theirs
                continue
            for item in n.names:
                source, alias = item if isinstance(item, tuple) else (item, item)
                if source in theirs:
                    own[alias] = theirs[source]
        return own

    def scan(self, tree, path: Path, lines: list, ref, macros: dict, via: str, depth: int, out: list) -> None:
        for c in tree.find_all(nodes.Compare):
            left = c.expr
            for operand in c.ops:
                right = operand.expr
                for a, b in ((left, right), (right, left)):
                    name = ref(a)
                    if name is None:
                        continue
                    if isinstance(b, nodes.Const) and isinstance(b.value, str) and operand.op in ("eq", "ne"):
                        out.append(Compared(name, b.value, operand.op, _word_place(path, lines, b), via))
                    elif a is left and operand.op in ("in", "notin"):
                        for item in _listed(b):
                            out.append(Compared(name, item.value, operand.op, _word_place(path, lines, item), via))
                left = right
        if depth >= _MACRO_DEPTH:
            return
        for call in tree.find_all(nodes.Call):
            callee = call.node
            found = None
            if isinstance(callee, nodes.Name):
                found = macros.get(callee.name)
            elif isinstance(callee, nodes.Getattr) and isinstance(callee.node, nodes.Name):
                alias = macros.get(callee.node.name)
                found = alias.get(callee.attr) if isinstance(alias, dict) else None
            if not isinstance(found, tuple):
                continue
            macro, mpath, mlines, theirs = found
            params = [p.name for p in macro.args]
            passed = [(params[i], a) for i, a in enumerate(call.args) if i < len(params)]
            passed += [(k.key, k.value) for k in call.kwargs if k.key in params]
            inner = {param: ref(arg) for param, arg in passed if ref(arg) is not None}
            if not inner:
                continue
            here = f"{macro.name} ({path.name}:{call.lineno})"

            def inner_ref(node, inner=inner):
                return inner.get(node.name) if isinstance(node, nodes.Name) else None

            body = nodes.Template(macro.body, lineno=macro.lineno)
            self.scan(body, mpath, mlines, inner_ref, theirs, via or here, depth + 1, out)


def _listed(node) -> list:
    """The quoted words of a list: `[...]` as parsed, or as one constant once compiling has folded it."""
    if isinstance(node, (nodes.List, nodes.Tuple)):
        return [i for i in node.items if isinstance(i, nodes.Const) and isinstance(i.value, str)]
    if isinstance(node, nodes.Const) and isinstance(node.value, (list, tuple)):
        return [nodes.Const(v, lineno=node.lineno) for v in node.value if isinstance(v, str)]
    return []


def _word_place(path: Path, lines: list, const) -> Where:
    """The quoted word's own place: Jinja records lines only, so the column is where it stands quoted."""
    line = const.lineno
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    for quote in ('"', "'"):
        k = text.find(f"{quote}{const.value}{quote}")
        if k >= 0:
            return str(path), line, k + 1
    return str(path), line, None
