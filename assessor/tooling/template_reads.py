"""Which context names a Jinja template reads, and where: for lint's slot checks.

Read from the parsed template (jinja2.meta.find_undeclared_variables on the AST),
following `include`, `extends` and `import ... with context`, the references
that hand the template's context on. A plain `import` does not: its macros see
only the arguments they are called with, which the importing template reads.
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
