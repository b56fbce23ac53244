"""Text as text in Markdown: what a case (or a rule file) says never becomes markup.

The HTML report escapes every string it is given (autoescape). Markdown has no
such switch, so the result document is escaped once before the Markdown layout
sees it: raw HTML, links, emphasis, code, table bars and line-initial block
markers (`#`, `>`, `-`, `+`, `===`, `1.`) each get the backslash CommonMark reads as
"this character, literally". The layout's own markup (`**`, `#`, `|`, `-`) is
written by the blocks after that, so it stays markup.
"""

from __future__ import annotations

import re

_INLINE = re.compile(r"([\\`*\[\]<>|~])")
_WORD_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# what starts a block at the beginning of a line: a heading, a quote, a list item, a setext
# underline or thematic break (a line of = or -), an ordered list item (`1.` or `1)` then a space)
_LINE_START = re.compile(
    r"(?m)^([ \t]*)(>|#{1,6}(?=[ \t]|$)|[-+](?=[ \t]|$)|=+(?=[ \t]*$)|-+(?=[ \t]*$)|\d{1,9}(?=[.)](?:[ \t]|$)))"
)

_SPECIAL = re.compile(r"[\\`*\[\]<>|~_]")


def _plain(text: str) -> bool:
    """Whether none of the three patterns above would change TEXT, as most of what a case says."""
    if _SPECIAL.search(text) is not None:
        return False
    for line in text.split("\n"):
        first = line.lstrip(" \t")[:1]
        if first and (first in ">#-+=" or first.isdecimal()):  # isdecimal: what \d matches
            return False
    return True


def escape(text: str) -> str:
    """TEXT with every character Markdown would read as markup escaped; plain prose is unchanged."""
    if _plain(text):
        return text
    text = _INLINE.sub(r"\\\1", text)
    text = _WORD_EDGE_UNDERSCORE.sub(r"\\_", text)
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(m: re.Match) -> str:
    indent, marker = m.group(1), m.group(2)
    if marker[0].isdigit():  # `1.` or `1)` starts an ordered list: escape the punctuation after it
        return f"{indent}{marker}\\"
    return f"{indent}\\{marker}"


def escaped(value, _seen: dict | None = None):
    """A copy of a result document (or any part of it) with every string escaped; keys are kept."""
    seen = {} if _seen is None else _seen  # a document repeats its strings: escape each once
    if isinstance(value, str):
        if value not in seen:
            seen[value] = escape(value)
        return seen[value]
    if isinstance(value, dict):
        return {k: escaped(v, seen) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [escaped(v, seen) for v in value]
    return value
