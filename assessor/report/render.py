"""The graded report in each output format, from the one result document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assessor.errors import AssessorError, Finding
from assessor.report import markdown
from assessor.report.environment import REPORT_TEMPLATES, Renderer, to_json

if TYPE_CHECKING:  # the result document's types are for the type checker: a run need not build them
    from assessor.evaluate.result import Result

GLOSSARY = "glossary.yaml"


def render_report(renderer: Renderer, result: Result, fmt: str, explain: bool = False) -> str:
    if fmt == "json":
        return to_json(result)
    html = fmt == "html"
    if fmt == "markdown":  # text stays text: the HTML layout autoescapes, Markdown is escaped here
        result = markdown.escaped(result)
    context = {"r": result, "explain": explain}

    def glossary(page: str) -> list:
        """Appendix 1: only the abbreviations the rest of the report uses."""
        used = used_abbreviations(load_glossary(renderer), page)
        return markdown.escaped(used) if fmt == "markdown" else used

    return renderer.render(REPORT_TEMPLATES[fmt], context, html=html, later=("glossary", glossary))


def load_glossary(renderer: Renderer) -> dict:
    path = renderer.dir / GLOSSARY
    if not path.exists():  # a glossary that is a device or a link to one is read, within the limit
        return {}
    from assessor.source.document import load

    doc = load(path, "glossary")
    if not isinstance(doc.data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in doc.data.items()
    ):
        raise AssessorError(
            Finding(str(path), 1, 1, "glossary", "the glossary must map abbreviations to their meaning")
        )
    return doc.data


def used_abbreviations(glossary: dict, text: str) -> list:
    """'ABBR  Meaning' for each abbreviation that appears in the text as a word (plurals too)."""
    return [f"{abbr} – {glossary[abbr]}" for abbr in sorted(glossary, key=str.casefold) if _used(abbr, text)]


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"  # exactly what the regex \w matches


def _used(abbr: str, text: str) -> bool:
    r"""re.search(rf"(?<![\w&]){re.escape(abbr)}s?(?!\w)", text) is not None, without compiling
    a regex per abbreviation (that compiling was the largest single cost of a cold report)."""
    if not abbr:
        return False
    end = len(text)
    i = text.find(abbr)
    while i >= 0:
        if i == 0 or not (_is_word(text[i - 1]) or text[i - 1] == "&"):
            j = i + len(abbr)
            if j < end and text[j] == "s":
                j += 1
            if j >= end or not _is_word(text[j]):
                return True
        i = text.find(abbr, i + 1)
    return False
