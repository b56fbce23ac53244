"""`assess lint`: every problem in rules, templates and cases, located, in one run."""
from __future__ import annotations

import json
from pathlib import Path

from .findings import AssessorError, Finding


def lint(rules_dir: Path, case_paths: list, templates_dir: Path) -> list:
    from .cases import load_case
    from .rulebook import load_rulebook

    try:
        book = load_rulebook(rules_dir)
    except AssessorError as e:
        return e.findings
    findings: list = []
    findings += check_templates(book, templates_dir)
    for path in case_paths:
        try:
            load_case(path, book)
        except AssessorError as e:
            findings += e.findings
    return sorted(findings, key=lambda f: (f.path, f.line or 0, f.column or 0, f.check))


def check_templates(book, templates_dir: Path) -> list:
    out = []
    for fw in book.frameworks:
        for c in fw.criteria:
            if not (templates_dir / c.statement).is_file():
                out.append(c.place.finding("missing-template",
                                           f"criterion {c.id!r}: statement template {c.statement} does not exist "
                                           f"under {templates_dir}"))
        for ind in fw.indicators:
            name = f"statements/indicators/{ind}.md.j2"
            if not (templates_dir / name).is_file():
                out.append(Finding(fw.path, None, None, "missing-template",
                                   f"indicator {ind!r} needs the sentence template {name}"))
    return out


def format_findings(findings: list, fmt: str) -> str:
    if fmt == "json":
        return json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False) + "\n"
    if fmt == "parsable":
        return "".join(f"{f.place()}: [{f.level}] {f.message} ({f.check})\n" for f in findings)
    lines = [f"{f.place()}: {f.level}: {f.message} ({f.check})" for f in findings]
    errors = sum(f.level == "error" for f in findings)
    lines.append(f"{errors} error(s), {len(findings) - errors} warning(s)" if findings else "no problems found")
    return "\n".join(lines) + "\n"
