"""Jinja rendering: statements, indicator sentences and whole reports.

Templates are data written by people: they run in a sandbox, with undefined
names an error (StrictUndefined), and HTML autoescaped. Every template error is
turned into a finding naming the template file and line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from assessor.errors import AssessorError, Finding

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


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with `*` and `**` bounded: '-' * 80 is fine, 'x' * 10**10 is not."""

    intercepted_binops = frozenset({"*", "**"})
    MAX_SIZE = 1_000_000  # items or characters a repetition may build
    MAX_BITS = 100_000  # bits of an integer a power may build

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > self.MAX_SIZE:
                    raise SecurityError(f"'*' would build {len(seq) * n:,} items; the limit is {self.MAX_SIZE:,}")
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and abs(left) > 1
            and (abs(left).bit_length() - 1) * right > self.MAX_BITS
        ):
            raise SecurityError("'**' would build a number too large to print")
        return super().call_binop(context, operator, left, right)


def _bytecode_cache(html: bool) -> jinja2.BytecodeCache:
    """Compiled templates cached on disk (jinja's per-user temp dir), keyed by template source.
    The generated code also depends on the environment (sandbox, intercepted operators,
    autoescape), which jinja's key ignores: put all of it in the file name."""
    import hashlib

    key = repr(
        (
            jinja2.__version__,
            _Sandbox.__qualname__,
            sorted(_Sandbox.intercepted_binops),
            sorted(_Sandbox.intercepted_unops),
            html,
        )
    )
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    return jinja2.FileSystemBytecodeCache(pattern=f"assessor-{digest}-%s.cache")


class Renderer:
    def __init__(self, templates_dir: str | Path):
        self.dir = Path(templates_dir)
        if not self.dir.is_dir():
            raise AssessorError(Finding(str(self.dir), None, None, "io", "templates directory does not exist"))
        self._envs: dict[bool, jinja2.Environment] = {}

    def env(self, html: bool = False) -> jinja2.Environment:
        if html not in self._envs:
            env = _Sandbox(
                loader=jinja2.FileSystemLoader(str(self.dir)),
                undefined=jinja2.StrictUndefined,
                autoescape=html,
                keep_trailing_newline=True,
                trim_blocks=False,
                bytecode_cache=_bytecode_cache(html),
            )
            env.filters.update(FILTERS)
            self._envs[html] = env
        return self._envs[html]

    def render(self, name: str, context: dict, html: bool = False) -> str:
        try:
            return self.env(html).get_template(name).render(**context)
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
            raise AssessorError(
                Finding(
                    line[0] or str(self.dir / name),
                    line[1],
                    None,
                    "template",
                    f"cannot render template: {' '.join(what.split())[:300]}",
                )
            ) from None

    def statement(self, name: str, context: dict) -> str:
        """A summary statement: paragraphs separated by blank lines, surrounding space trimmed."""
        text = self.render(name, context)
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
        return "\n\n".join(p for p in paragraphs if p)


def _template_line(exc: BaseException) -> tuple:
    """The template file and line an exception was raised from, if Jinja recorded one."""
    tb = exc.__traceback__
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def to_json(result: Mapping[str, object]) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
