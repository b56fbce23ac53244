"""Jinja rendering: statements, indicator sentences and whole reports.

Templates are data written by people: they run in a sandbox, with undefined
names an error (StrictUndefined), and HTML autoescaped. Every template error is
turned into a finding naming the template file and line.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn

import jinja2
import jinja2.compiler
import jinja2.filters
import jinja2.loaders
import jinja2.utils
import markupsafe
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from assessor import limits
from assessor.errors import AssessorError, Finding, InternalError
from assessor.files import bundled, read_limited
from assessor.report import code_cache

FORMATS = ("markdown", "html", "text", "json")
REPORT_TEMPLATES = {"markdown": "report.md.j2", "text": "report.txt.j2", "html": "report.html.j2"}


def _pp(value) -> str:
    """A signed difference in percentage points as the report prints it: -1.5pp, +2.7pp."""
    if value is None:
        return "n/a"
    rounded = round(value + 0.0, 1) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:+.1f}pp" if rounded else "0.0pp"


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def _number(value) -> str:
    return f"{value:,}"


def _words(n: int) -> str:
    """Small counts in words, as the report writes them ('a member of six CDRPs')."""
    words = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    return words[n] if 0 <= n < len(words) else f"{n:,}"


# The filters templates may use, for any environment that compiles them (lint parses them too).
FILTERS = {"pp": _pp, "pct": _pct, "number": _number, "words": _words}


# Bounds on what one render may build, so that no template can hang a run or exhaust memory.
# Each is far beyond what a report needs (the bundled reports are under 100 KB).
MAX_SIZE = 1_000_000  # characters or items one operation may build: a repetition, a padding, a join
MAX_BITS = 100_000  # bits of an integer a power may build
MAX_OUTPUT = 5_000_000  # characters one render may write
MAX_BUFFERED = 20_000_000  # characters the blocks, sets, filters and macros of one render may build together
MAX_STEPS = 1_000_000  # items every `range` of one render may yield together (nested loops multiply)
MAX_LIPSUM_WORDS = 100_000
MAX_BLOCK_NESTING = 50  # blocks ({% if %}, {% for %} ...) one inside another
MAX_BRACKET_NESTING = 20  # brackets one inside another in one expression
RENDER_SECONDS = 2.0  # CPU time of one render: load from other processes does not count
RENDER_MEMORY = 300 * 1024 * 1024  # bytes of address space one render may add

_OPENERS = frozenset({"if", "for", "macro", "call", "filter", "block", "with", "autoescape", "set"})
_PRINTF_WIDTH = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_WIDTH = re.compile(r"\{[^{}]*?:[^{}]*?(\d+)")
_WIDE_STR_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})


def _salt() -> tuple:
    """What else the generated code depends on: Jinja's and assessor's versions, and this module
    (whose checks, such as the nesting limits, a template passed before its code was kept)."""
    from assessor import __version__

    try:
        here = Path(__file__).read_bytes()
    except OSError:
        here = b""
    return (code_cache.FORMAT, jinja2.__version__, __version__, code_cache.key(here))


_CACHE_SALT = _salt()


class _Later(list):
    """A context value known only once the rest of the page is rendered (the glossary lists the
    abbreviations the page uses). Handed to a call, such as a layout's `b.glossary(glossary)`, it
    puts off that call: a mark stands in its place, and the call is made, and its result put in
    place of the mark, once the page is rendered. Read any other way it is an empty list, and
    says so: the page is then rendered again with the value, as when every page was rendered twice."""

    __slots__ = ("read",)

    def __init__(self):
        super().__init__()
        self.read = False

    def __getattribute__(self, name):
        if not name.startswith("_") and name != "read":  # a list method: count, index, copy ...
            list.__setattr__(self, "read", True)
        return super().__getattribute__(name)


def _reading(method: str):
    def read(self, *args):
        list.__setattr__(self, "read", True)
        return getattr(list, method)(self, *args)

    return read


# every way a template can read a list, and can use a string other than by writing it
_LIST_READS = [
    "__iter__",
    "__len__",
    "__getitem__",
    "__contains__",
    "__reversed__",
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__add__",
    "__mul__",
    "__rmul__",
    "__repr__",
    "__str__",
    "__format__",
]
_STR_USES = [
    "__len__",
    "__getitem__",
    "__iter__",
    "__contains__",
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__hash__",
    "__add__",
    "__mul__",
    "__rmul__",
    "__mod__",
    "__rmod__",
    "__format__",
]
for _method in _LIST_READS:
    setattr(_Later, _method, _reading(_method))


class _Mark(str):
    """What a put-off call gives back: text no case or template writes, so that it can be found in
    the page and replaced by the call's result. It records how the page used it: written as it
    is (through str(), or escape() when autoescaping) is the only use the result can stand in for."""

    uses: list[str]

    def __new__(cls, text: str):
        mark = super().__new__(cls, text)
        mark.uses = []
        return mark

    def __str__(self):
        self.uses.append("str")
        return str.__str__(self)

    def __html__(self):
        self.uses.append("html")
        return markupsafe.Markup(str.__str__(self))

    def __getattribute__(self, name):
        if not name.startswith("_") and name != "uses":  # upper, replace, strip ...: the result would differ
            object.__getattribute__(self, "uses").append("other")
        return super().__getattribute__(name)


def _other_use(method: str):
    def used(self, *args):
        object.__getattribute__(self, "uses").append("other")
        return getattr(str, method)(self, *args)

    return used


for _method in _STR_USES:
    setattr(_Mark, _method, _other_use(_method))


class TemplateTimeout(SecurityError):
    pass


def _limit(message: str):
    raise SecurityError(message)


def _size(value) -> int:
    return len(value) if isinstance(value, (str, list, tuple, dict, set)) else 0


def _check_size(value, what: str):
    if _size(value) > MAX_SIZE:
        _limit(f"{what} would hold {_size(value):,} characters or items; the limit is {MAX_SIZE:,}")
    return value


def _check_printf(fmt: str, args) -> None:
    star = False
    for m in _PRINTF_WIDTH.finditer(fmt):
        for part in m.groups():
            if part == "*":
                star = True
            elif part and int(part) > MAX_SIZE:
                _limit(f"the format {m.group(0)[:20]!r} pads to more than {MAX_SIZE:,} characters")
    if star:
        for a in args if isinstance(args, tuple) else (args,):
            if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_SIZE:
                _limit(f"a '*' width of {a:,} pads to more than {MAX_SIZE:,} characters")


def _check_format(fmt: str) -> None:
    for m in _FORMAT_WIDTH.finditer(fmt):
        if int(m.group(1)) > MAX_SIZE:
            _limit(f"the format {m.group(0)[:20]!r} pads to more than {MAX_SIZE:,} characters")


class _Namespace(jinja2.utils.Namespace):
    """`namespace()`, whose values cannot grow without bound (`{% set ns.s = ns.s ~ ns.s %}` in a loop)."""

    def __setitem__(self, name, value):
        super().__setitem__(name, _check_size(value, f"namespace value {name!r}"))


class _Budget(threading.local):
    steps = 0
    buffered = 0
    put_off: list | None = None  # the calls given a _Later value in this render: (mark, context, callee, args, kwargs)


class _Buffer(list):
    """What a `{% set %}`, `{% filter %}`, macro or call block builds before it is joined: every piece
    counts against the render's budget, so accumulating output is refused where it is written,
    long before the memory ceiling (whose MemoryError cannot always say where it struck)."""

    __slots__ = ("budget",)

    def __init__(self, budget: _Budget):
        super().__init__()
        self.budget = budget

    def append(self, piece):
        self._spend(len(piece) if isinstance(piece, str) else 0)
        super().append(piece)

    def extend(self, pieces):
        pieces = tuple(pieces)
        self._spend(sum(len(p) for p in pieces if isinstance(p, str)))
        super().extend(pieces)

    def _spend(self, characters: int) -> None:
        self.budget.buffered += characters
        if self.budget.buffered > MAX_BUFFERED:
            _limit(f"its blocks, sets, filters and macros would build more than {MAX_BUFFERED:,} characters")


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's code, but each buffer a block's output gathers in is a _Buffer."""

    def buffer(self, frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.new_buffer()")


class _Sandbox(SandboxedEnvironment):
    """The sandbox, bounded: '-' * 80 and range(12) are fine; 'x' * 10**10, nested range(10**5)
    loops, center(10**9), '%999999999s', a namespace value doubling in a loop are not."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _CodeGenerator
    codes: code_cache.CodeCache | None = None  # set by the Renderer
    templates: _Layered | None = None  # its loader, set by the Renderer

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.budget = _Budget()
        self.globals.update(range=self._range, lipsum=_lipsum, namespace=_Namespace)
        self.filters.update(
            center=_center,
            indent=_bounded_indent,
            format=_format,
            replace=_replace,
            join=_join,
            batch=_batch,
            slice=_slice,
        )

    def new_buffer(self) -> _Buffer:
        return _Buffer(self.budget)

    def handle_exception(self, source: str | None = None) -> NoReturn:
        """Jinja's: the exception a template raised, its traceback rewritten to the template's
        lines, which needs memory. A template that ran out of memory still holds it while this
        runs, so the render's memory limit is lifted first; else the rewriting (or the import of
        jinja2.debug it starts with) fails too, and the template's line is lost."""
        if isinstance(sys.exc_info()[1], MemoryError):
            limits.lift_memory_limit()
        super().handle_exception(source)

    def _range(self, *args):
        r = range(*args)
        self.budget.steps += len(r)
        if len(r) > MAX_SIZE or self.budget.steps > MAX_STEPS:
            _limit(f"the loops of this template would take more than {MAX_STEPS:,} steps")
        return r

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_SIZE:
                    _limit(f"'*' would build {len(seq) * n:,} items; the limit is {MAX_SIZE:,}")
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and abs(left) > 1
            and (abs(left).bit_length() - 1) * right > MAX_BITS
        ):
            _limit("'**' would build a number too large to print")
        if operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        if operator == "+" and _size(left) + _size(right) > MAX_SIZE:
            _limit(f"'+' would build {_size(left) + _size(right):,} items; the limit is {MAX_SIZE:,}")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - jinja's own signature
        limits.check()  # outside the main thread no alarm comes: check at each call
        values = (*args, *kwargs.values()) if kwargs else args
        put_off = __self.budget.put_off
        if put_off is not None and _Later in map(type, values):
            mark = _Mark(f"\ue000later {id(put_off):x} {len(put_off)}\ue001")
            put_off.append((mark, __context, __obj, args, kwargs))
            return mark
        for a in values:
            _check_size(a, "an argument")
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, (str, list)):  # a method of a string or a list: what it may build
            _check_method(owner, getattr(__obj, "__name__", ""), args)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None

        def checked(*args, **kwargs):
            _check_format(value.__self__)
            return wrapped(*args, **kwargs)

        return checked

    def _parse(self, source, name, filename):
        check_nesting(self, source, name, filename)
        try:
            return super()._parse(source, name, filename)
        except RecursionError:
            raise jinja2.TemplateSyntaxError("the template is nested too deeply", 1, name, filename) from None

    @jinja2.utils.internalcode
    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        """Jinja's compile, skipping lex, parse and code generation when the code cache has the
        code generated from this source in this environment before, and Python's compiler when
        it has that code's byte code (report/code_cache.py)."""
        cache = self.codes
        if raw or cache is None or not isinstance(source, str) or not isinstance(self.autoescape, bool):
            return super().compile(source, name, filename, raw, defer_init)
        shown = filename or "<template>"  # as Jinja names the code it compiles
        entry = code_cache.key(_CACHE_SALT, self._codegen_options(), name, shown, defer_init, source)
        code = code_cache.remembered(entry)
        if code is None:
            code = cache.get(entry, shown, self._compile)
            if code is None:
                text = super().compile(source, name, filename, raw=True, defer_init=defer_init)
                code = cache.put(entry, text, shown, self._compile)
            code_cache.remember(entry, code)
        return code

    def _codegen_options(self) -> tuple:
        """Everything of this environment the generated code depends on, besides the template."""
        return (
            type(self).__qualname__,
            self.code_generator_class.__qualname__,
            sorted(self.intercepted_binops),
            sorted(self.intercepted_unops),
            self.autoescape,
            self.optimized,
            self.is_async,
            self.finalize is None,
            self.block_start_string,
            self.block_end_string,
            self.variable_start_string,
            self.variable_end_string,
            self.comment_start_string,
            self.comment_end_string,
            self.line_statement_prefix,
            self.line_comment_prefix,
            self.trim_blocks,
            self.lstrip_blocks,
            self.newline_sequence,
            self.keep_trailing_newline,
            sorted(self.extensions),
            sorted(self.filters),
            sorted(self.tests),
        )

    def _compile(self, source, filename):
        try:
            return super()._compile(source, filename)
        except RecursionError:
            raise jinja2.TemplateSyntaxError("the template is nested too deeply", 1, None, filename) from None


def check_nesting(env, source: str, name, filename) -> None:
    """Refuse, at its line, nesting deeper than the parser can follow: it recurses per level."""
    blocks, brackets, in_block, first = 0, 0, False, False
    for line, kind, value in env.lexer.tokeniter(source, name, filename):
        if kind == "block_begin":
            in_block, first = True, True
            continue
        if kind == "block_end":
            in_block = False
        elif in_block and first and kind == "name":
            first = False
            if value.startswith("end"):
                blocks = max(blocks - 1, 0)  # an `endset` whose `set` was not counted
            elif value in _OPENERS and not (value == "set" and "=" in _rest_of_block(source, line)):
                blocks += 1
                if blocks > MAX_BLOCK_NESTING:
                    raise jinja2.TemplateSyntaxError(
                        f"blocks are nested more than {MAX_BLOCK_NESTING} deep", line, name, filename
                    )
        elif kind == "operator" and value in "([{":
            brackets += 1
            if brackets > MAX_BRACKET_NESTING:
                raise jinja2.TemplateSyntaxError(
                    f"brackets are nested more than {MAX_BRACKET_NESTING} deep", line, name, filename
                )
        elif kind == "operator" and value in ")]}":
            brackets = max(brackets - 1, 0)
        if kind in ("variable_end", "block_end"):
            brackets = 0


def _rest_of_block(source: str, line: int) -> str:
    return source.splitlines()[line - 1] if 0 < line <= source.count("\n") + 1 else ""


def _lipsum(n=5, html=True, min=20, max=100):  # noqa: A002 - jinja's own parameter names
    if not all(isinstance(v, int) for v in (n, min, max)) or n * max > MAX_LIPSUM_WORDS:
        _limit(f"lipsum({n}, ..., max={max}) would write more than {MAX_LIPSUM_WORDS:,} words")
    return jinja2.utils.generate_lorem_ipsum(n, html, min, max)


_filters = jinja2.filters


def _center(value, width=80):
    if isinstance(width, int) and width > MAX_SIZE:
        _limit(f"center({width:,}) pads to more than {MAX_SIZE:,} characters")
    return _filters.do_center(value, width)


def _bounded_indent(s, width=4, first=False, blank=False):
    pad = width if isinstance(width, int) else len(str(width))
    if pad * (str(s).count("\n") + 1) + len(str(s)) > MAX_SIZE:
        _limit(f"indent would build more than {MAX_SIZE:,} characters")
    return _filters.do_indent(s, width, first, blank)


def _format(value, *args, **kwargs):
    _check_printf(str(value), args)
    return _filters.do_format(value, *args, **kwargs)


def _check_method(owner: str | list, name: str, args: tuple) -> None:
    if isinstance(owner, str) and name in _WIDE_STR_METHODS:
        for a in args:
            if isinstance(a, int) and a > MAX_SIZE:
                _limit(f"{name}({a:,}) pads to more than {MAX_SIZE:,} characters")
    if isinstance(owner, str) and name == "replace" and len(args) > 1:
        _check_replace(owner, str(args[0]), str(args[1]))
    if isinstance(owner, str) and name == "join" and args and isinstance(args[0], (list, tuple)):
        _check_join(args[0], owner)
    if isinstance(owner, list) and name in ("extend", "append", "insert", "__iadd__"):
        grown = len(owner) + (_size(args[-1]) if name in ("extend", "__iadd__") else 1) if args else 0
        if grown > MAX_SIZE:
            _limit(f"list.{name} would build {grown:,} items; the limit is {MAX_SIZE:,}")


def _check_replace(s: str, old: str, new: str) -> None:
    count = s.count(old) if old else len(s) + 1
    if len(s) + count * (len(new) - len(old)) > MAX_SIZE:
        _limit(f"replace would build more than {MAX_SIZE:,} characters")


@jinja2.pass_eval_context
def _replace(eval_ctx, s, old, new, count=None):
    _check_replace(str(s), str(old), str(new))
    return _filters.do_replace(eval_ctx, s, old, new, count)


def _check_join(items, separator) -> list:
    items = list(items)
    if len(str(separator)) * len(items) > MAX_SIZE:
        _limit(f"join would build more than {MAX_SIZE:,} characters")
    return items


@jinja2.pass_eval_context
def _join(eval_ctx, value, d="", attribute=None):
    return _filters.sync_do_join(eval_ctx, _check_join(value, d), d, attribute)


def _batch(value, linecount, fill_with=None):
    if isinstance(linecount, int) and linecount > MAX_SIZE:
        _limit(f"batch({linecount:,}) would build more than {MAX_SIZE:,} items")
    return _filters.do_batch(value, linecount, fill_with)


def _slice(value, slices, fill_with=None):
    if isinstance(slices, int) and slices > MAX_SIZE:
        _limit(f"slice({slices:,}) would build more than {MAX_SIZE:,} items")
    return _filters.sync_do_slice(value, slices, fill_with)


class TemplateOutside(jinja2.TemplateNotFound):
    """A template whose file lies outside the templates folder (through a symbolic link)."""


class _Loader(jinja2.FileSystemLoader):
    """Templates read from their folder through files.read_limited: a template that is a link to
    /dev/zero, or larger than the limit, is refused instead of read without end; one whose file
    lies outside the folder (a symbolic link leading out) is refused, not followed."""

    def __init__(self, searchpath: str):
        super().__init__(searchpath)
        self._real_roots: dict[str, str] = {}  # a root's real path, found once a render

    def forget_real_paths(self) -> None:
        """A new render finds the folder's real path again: a process may live on (a batch) while
        the templates folder, a link, is pointed elsewhere."""
        self._real_roots.clear()

    def get_source(self, environment, template):  # noqa: ARG002 - jinja's signature
        pieces = jinja2.loaders.split_template_path(template)  # refuses '..'
        for root in self.searchpath:
            filename = os.path.join(root, *pieces)
            if os.path.exists(filename) and not os.path.isdir(filename):
                break
        else:
            raise jinja2.TemplateNotFound(template)
        real_root = self._real_roots.get(root) or self._real_roots.setdefault(root, os.path.realpath(root))
        real = os.path.realpath(filename)
        if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
            raise TemplateOutside(template)
        contents = read_limited(filename, "template").decode(self.encoding)
        mtime = os.path.getmtime(filename)

        def uptodate() -> bool:
            try:
                return os.path.getmtime(filename) == mtime
            except OSError:
                return False

        return contents, os.path.normpath(filename), uptodate


class _Layered(jinja2.BaseLoader):
    """A rulebook's templates first, then the bundled report layouts for any it does not have, so
    a rulebook may bring only its statements and its own `_report.j2`. Statements never come
    from the layouts: they are a rulebook's own wording."""

    def __init__(self, own: Path, layouts: Path | None):
        self.own = _Loader(str(own))
        same = layouts is None or layouts.resolve() == own.resolve()
        self.layouts = None if same else _Loader(str(layouts))

    def forget_real_paths(self) -> None:
        self.own.forget_real_paths()
        if self.layouts is not None:
            self.layouts.forget_real_paths()

    def get_source(self, environment, template):
        try:
            return self.own.get_source(environment, template)
        except TemplateOutside:
            raise  # a link leading out is refused, not replaced by the bundled layout
        except jinja2.TemplateNotFound:
            if self.layouts is None or template.split("/")[0] == "statements":
                raise
            return self.layouts.get_source(environment, template)


class Renderer:
    def __init__(self, templates_dir: str | Path):
        self.dir = Path(templates_dir)
        if not self.dir.is_dir():
            raise AssessorError(Finding(str(self.dir), None, None, "io", "templates directory does not exist"))
        self.layouts = bundled("templates")
        self._envs: dict[bool, _Sandbox] = {}
        self.codes = code_cache.CodeCache(code_cache.location())

    def env(self, html: bool = False) -> _Sandbox:
        if html not in self._envs:
            templates = _Layered(self.dir, self.layouts if self.layouts.is_dir() else None)
            env = _Sandbox(
                loader=templates,
                undefined=jinja2.StrictUndefined,
                autoescape=html,
                keep_trailing_newline=True,
                trim_blocks=False,
            )
            env.codes = self.codes
            env.templates = templates
            env.filters.update(FILTERS)
            self._envs[html] = env
        return self._envs[html]

    def check(self, name: str, html: bool = False) -> None:
        """Read and compile a template now (a located finding if it cannot be), before any output is written."""
        self.render(name, None, html)

    def is_bundled(self) -> bool:
        """Whether these are the templates shipped with assessor (whose failures are assessor's bugs)."""
        return self.dir.resolve() == bundled("templates").resolve()

    def outside(self, name: str) -> bool:
        """Whether template NAME would be read from outside the templates folder."""
        path = self.dir / name
        return (path.exists() or path.is_symlink()) and not path.resolve().is_relative_to(self.dir.resolve())

    def render(
        self, name: str, context: dict | None, html: bool = False, later: tuple[str, Later] | None = None
    ) -> str:
        """The rendered template (its compiling only, when context is None), within the render bounds.

        LATER is (a context name, a function of the page rendered with that name an empty list,
        giving its value): the glossary, which lists the abbreviations the rest of the page uses.
        The page is rendered once, the calls given that name put off until its value is known
        (_Later); twice, as `value(render(empty))` then `render(value)`, when the template reads it
        otherwise; three times when a put-off call's result was used other than as text written
        once (every way gives the page that rendering twice gives)."""
        try:
            env = self.env(html)
            if env.templates is not None:
                env.templates.forget_real_paths()
            template = env.get_template(name)
            if context is None:
                return ""
            env.budget.steps = env.budget.buffered = 0
            with (
                limits.time_limit(RENDER_SECONDS, _timed_out, cpu=True),
                limits.memory_limit(RENDER_MEMORY),
            ):
                if later is None:
                    return _bounded_output(template, context)
                return _render_later(env, template, context, *later)
        except TemplateOutside as e:
            raise AssessorError(
                Finding(
                    str(self.dir / str(e.name)),
                    None,
                    None,
                    "template-outside",
                    f"template {e.name} leads outside {self.dir} (a symbolic link); templates are read from "
                    "inside the templates folder only",
                )
            ) from None
        except jinja2.TemplateNotFound as e:
            raise AssessorError(
                Finding(
                    str(self.dir / name), None, None, "template", f"template {e.name} does not exist under {self.dir}"
                )
            ) from None
        except jinja2.TemplateSyntaxError as e:
            raise AssessorError(
                Finding(
                    str(self.dir / (e.name or name)),
                    e.lineno or None,
                    None,
                    "template",
                    f"template syntax error: {e.message}",
                )
            ) from None
        except AssessorError:
            raise
        except Exception as e:  # noqa: BLE001 - templates are data: whatever they raise is their problem
            # (UndefinedError, SecurityError, ZeroDivisionError, RecursionError, MemoryError, OSError ...)
            line = _template_line(e)
            what = (
                str(e)
                if isinstance(e, (jinja2.TemplateError, TypeError, ValueError))
                else f"{type(e).__name__}: {e}"
                if str(e)
                else type(e).__name__
            )
            finding = Finding(
                line[0] or str(self.dir / name),
                line[1],
                None,
                "template",
                f"cannot render template: {' '.join(what.split())[:300]}",
            )
            if self.is_bundled() and not isinstance(e, (RecursionError, MemoryError, SecurityError)):
                # the case loaded and was assessed, so it is valid: our own templates failing on it is our bug
                raise InternalError(finding) from None
            raise AssessorError(finding) from None

    def statement(self, name: str, context: dict) -> str:
        """A summary statement: paragraphs separated by blank lines, surrounding space trimmed."""
        text = self.render(name, context)
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
        return "\n\n".join(p for p in paragraphs if p)


Later = Callable[[str], list]


def _render_later(env: _Sandbox, template, context: dict, key: str, value_of: Later) -> str:
    pending = _Later()
    put_off: list = []
    env.budget.put_off = put_off
    try:
        page = _bounded_output(template, {**context, key: pending})
    finally:
        env.budget.put_off = None
    if not all(page.count(mark) == 1 and _written(mark) for mark, *_ in put_off):
        value = value_of(_bounded_output(template, {**context, key: []}))
        return _bounded_output(template, {**context, key: value})
    value = value_of(_made(env, page, put_off, []))
    if pending.read:  # the page itself, not only the calls, depends on the value
        return _bounded_output(template, {**context, key: value})
    return _made(env, page, put_off, value)


def _written(mark: _Mark) -> bool:
    """Whether the page used MARK only by writing it (the one use the call's result can stand in for)."""
    return bool(mark.uses) and (set(mark.uses) == {"str"} or set(mark.uses) == {"html"})


def _made(env: _Sandbox, page: str, put_off: list, value: list) -> str:
    """PAGE with each put-off call made with VALUE, its result written where its mark stands, as
    the page would have written it (escaped when autoescaping)."""
    for mark, context, callee, args, kwargs in put_off:
        result = env.call(
            context,
            callee,
            *(value if type(a) is _Later else a for a in args),
            **{k: value if type(v) is _Later else v for k, v in kwargs.items()},
        )
        page = page.replace(mark, str(markupsafe.escape(result)) if mark.uses[0] == "html" else str(result), 1)
        if len(page) > MAX_OUTPUT:
            _limit(f"it would write more than {MAX_OUTPUT:,} characters")
    return page


def _timed_out() -> TemplateTimeout:
    return TemplateTimeout(f"the template took more than {RENDER_SECONDS:g} s of CPU time")


def _bounded_output(template, context: dict) -> str:
    parts, size = [], 0
    stream = template.generate(**context)
    try:
        for chunk in stream:
            size += len(chunk)
            if size > MAX_OUTPUT:
                _limit(f"it would write more than {MAX_OUTPUT:,} characters")
            parts.append(chunk)
    except (SecurityError, MemoryError) as e:
        if _template_line(e)[0] is not None:
            raise
        # stopped here, between two pieces of output (the alarm can ring anywhere): the paused
        # template says where it was
        where = _suspended_line(stream)
        what = str(e) or type(e).__name__
        raise AssessorError(
            Finding(where[0] or template.filename, where[1], None, "template", f"cannot render template: {what}")
        ) from None
    return "".join(parts)


def _suspended_line(generator) -> tuple:
    """Where in a template a paused render stands: the innermost template frame and its template line."""
    found = (None, None)
    while generator is not None:
        frame = getattr(generator, "gi_frame", None)
        if frame is not None and frame.f_code.co_filename.endswith(".j2"):
            template = frame.f_globals.get("__jinja_template__")
            line = template.get_corresponding_lineno(frame.f_lineno) if template is not None else None
            found = (frame.f_code.co_filename, line)
        generator = getattr(generator, "gi_yieldfrom", None)
    return found


def _template_line(exc: BaseException) -> tuple:
    """The template file and line an exception was raised from, if Jinja recorded one.

    When Jinja could not rewrite the traceback (out of memory while doing it, say), the
    exception it was handling still holds the template's own frames: their lines are lines of
    the generated code, which the template maps back."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        found: tuple[str | None, int | None] = (None, None)
        tb = seen.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if frame.f_code.co_filename.endswith(".j2"):
                template = frame.f_globals.get("__jinja_template__")
                line = template.get_corresponding_lineno(tb.tb_lineno) if template is not None else tb.tb_lineno
                found = (frame.f_code.co_filename, line)
            tb = tb.tb_next
        if found[0] is not None:
            return found
        seen = seen.__context__
    return (None, None)


def to_json(result: Mapping[str, object]) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
