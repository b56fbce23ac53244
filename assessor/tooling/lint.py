"""`assess lint`: every problem in rules, templates and cases, located, in one run.

Loader, parser and type errors come from `rulebook.load_rulebook` and
`case.read.load_case`. Once the rules load, static checks look for what loads but
is still a mistake: facts and derived values nothing reads, scales with a rung
that can never be chosen or a gap (reachability.py), statement templates whose
slots do not match the choices of their criterion or compare one with a word its
scale never gives, divisions by a fact that may be 0, and shares compared with a
number above 1 (ranges.py).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from assessor import record
from assessor.case import plausible
from assessor.errors import AssessorError, Finding
from assessor.language import conditions as ex
from assessor.rulebook.model import GRADING_FILE, STATEMENT_CONTEXT, names_read
from assessor.rulebook.sites import criterion_index, decision_sites, key_place
from assessor.tooling import reachability
from assessor.tooling.expectations import expected_path, read_expected, undeclared_words
from assessor.tooling.ranges import Ranges
from assessor.tooling.template_reads import TemplateReads, compared_words, read_template


def lint_rulebook(location, case_paths: list) -> list:
    """The rulebook's findings: of each of its editions, with the cases that edition grades."""
    manifest = location.manifest
    if manifest is None or len(manifest.editions) < 2:
        return lint(location.rules, case_paths, location.templates, location.overlays)
    from assessor.case.read import read_case
    from assessor.session import edition_of

    graded: dict[str | None, list] = {e.id: [] for e in manifest.editions}
    sources = {}  # each case read once: a pipe can be read only once
    findings = []
    for path in case_paths:
        try:
            sources[path] = read_case(path)
            graded[edition_of(sources[path][1], location)].append(path)
        except AssessorError as e:
            findings += e.findings
    for edition in manifest.editions:
        at = location.for_edition(edition)
        findings += lint(at.rules, graded[edition.id], at.templates, at.overlays, sources)
    # a finding in a file editions share is found once per edition: report it once
    unique = {(f.path, f.line, f.column, f.check, f.message, f.level): f for f in findings}
    return sorted(unique.values(), key=Finding.sort_key)


def lint(
    rules_dir: Path, case_paths: list, templates_dir: Path, overlays: tuple = (), sources: dict | None = None
) -> list:
    """The findings of the rules in RULES_DIR (with OVERLAYS) and TEMPLATES_DIR, and of the cases
    at CASE_PATHS read against them (from SOURCES, what read_case read there, where given)."""
    from assessor.case.read import load_case
    from assessor.rulebook.read import load_rulebook

    try:
        book = load_rulebook(rules_dir, overlays)
    except AssessorError as e:
        return e.findings
    if Path(templates_dir).is_dir():
        from assessor.report.environment import Renderer
        from assessor.session import templates_outside

        outside = templates_outside(book, Renderer(templates_dir))
        if outside:  # what they read is not the rules' business: report only where they lead
            return sorted(outside, key=Finding.sort_key)
    findings = check_every_template(templates_dir)
    more, reads = check_templates(book, templates_dir)
    findings += more
    findings += check_unused(book, reads)
    findings += check_repeated_declarations(book)
    findings += check_grade_scale(book)
    findings += check_arithmetic(book)
    for site in decision_sites(book):
        findings += reachability.check(site)
    cases = []
    for path in case_paths:
        try:
            case = load_case(path, book, source=(sources or {}).get(path))
        except AssessorError as e:
            findings += e.findings
            continue
        findings += check_repeated_facts(case, case.doc)
        expected = expected_path(path)
        if expected.is_file():
            try:
                findings += undeclared_words(read_expected(expected), book)
            except AssessorError as e:
                findings += e.findings
        findings += plausible.warnings(book, case)
        cases.append(case)
    if not any(f.level == "error" for f in findings):
        findings += check_reports(book, rules_dir, templates_dir, cases)
    unique = {(f.path, f.line, f.column, f.check, f.message, f.level): f for f in findings}
    return sorted(unique.values(), key=Finding.sort_key)


def check_every_template(templates_dir: Path) -> list:
    """Every template in the folder compiles in the environment reports render with: a misspelt
    filter, a syntax error or nesting too deep in a layout or a partial is found before any report."""
    from assessor.report.environment import Renderer

    if not templates_dir.is_dir():
        return [Finding(str(templates_dir), None, None, "io", "templates directory does not exist")]
    renderer = Renderer(templates_dir)
    out = []
    for path in sorted(templates_dir.rglob("*.j2")):
        name = path.relative_to(templates_dir).as_posix()
        try:
            renderer.check(name, html="html" in path.parts[len(templates_dir.parts) :] or name.endswith(".html.j2"))
        except AssessorError as e:  # the same id as the statement checks give, so each is reported once
            out += [record.replace(f, check="template-syntax") if f.check == "template" else f for f in e.findings]
    return out


def check_reports(book, rules_dir: Path, templates_dir: Path, cases: list) -> list:
    """Assess each case and render every report format, as `assess` would: what assess would refuse
    (a value the rules cannot compute from this evidence, a template that fails on it, runs too long
    or writes too much) is found here too. With the python engine: the rules' meaning, not an engine's."""
    from assessor.report.environment import REPORT_TEMPLATES
    from assessor.report.render import render_report
    from assessor.session import Session

    if not cases:
        return []
    out = []
    try:
        with Session(rules_dir, templates_dir, "python", book=book) as session:
            for case in cases:
                try:
                    result = session.assess_case(case)
                    for fmt, layout in REPORT_TEMPLATES.items():
                        if os.path.lexists(templates_dir / layout):  # a folder of statements only has none
                            render_report(session.renderer, result, fmt)
                except AssessorError as e:
                    out += e.findings
    except AssessorError as e:
        out += e.findings
    return out


def check_grade_scale(book) -> list:
    """The scale is complete: every grade it declares is one some rule can give (a criterion's
    judgement, a framework's grade or the indicator outcome). A grade no rule gives is a leftover
    of an older scale, or a gap in the new one."""
    grading = book.docs[str(Path(book.directory) / GRADING_FILE)]
    given = set(book.outcome.outcomes) if book.outcome else set()
    for fw in book.frameworks:
        given |= set(fw.grade.outcomes)
        given |= {o for c in fw.criteria for o in c.judgement.outcomes}
    return [
        _warning(
            key_place(grading, ("grades", g.id)),
            "unused-grade",
            f"grade {g.id!r} ({g.label}) is declared but no judgement, framework grade or indicator "
            "outcome gives it; give it a rung or remove it from the scale",
        )
        for g in book.grades
        if g.id not in given
    ]


def check_arithmetic(book) -> list:
    """Warnings on computations that load but cannot mean what was written: a division by a fact
    whose declared range includes 0, and a share (0 to 1) compared with a number above 1."""
    out = []
    for site in decision_sites(book):
        ranges = Ranges(site.facts, site.derived, site.rows)
        for rung in site.decision.rungs:
            if rung.condition is not None:
                out += _divisions(ranges, rung.condition, f"a condition of {site.label}")
                out += _shares_above_one(ranges, rung.condition)
    for fw in book.frameworks:
        for c in fw.criteria:
            ranges = Ranges({f.name: f for f in c.evidence}, {}, {})
            for d in c.derive:
                out += _divisions(ranges, d.expr, f"derived value {d.name!r} of criterion {c.id!r}")
    return out


def _nodes(node, table: str | None = None):
    """Every node of a condition or computation, with the table whose row its names may read."""
    yield node, table
    if isinstance(node, ex.Call):
        for a in node.args:
            yield from _nodes(a, table)
        if node.where is not None:
            yield from _nodes(node.where, node.args[0].name.partition(".")[0])
        return
    if isinstance(node, ex.Unary):
        children: tuple = (node.operand,)
    elif isinstance(node, ex.Binary):
        children = (node.left, node.right)
    elif isinstance(node, ex.Logical):
        children = node.items
    elif isinstance(node, ex.Member):
        children = (node.item,)
    else:
        children = ()
    for child in children:
        yield from _nodes(child, table)


def _at(expr, node, check: str, message: str) -> Finding:
    offset = node.start if "\n" not in expr.source[: node.start] else 0
    return record.replace(expr.place.finding(check, message, offset, expr.quoted), level="warning")


def _divisions(ranges: Ranges, expr, what: str) -> list:
    out = []
    for node, table in _nodes(expr.tree):
        if not (isinstance(node, ex.Binary) and node.op == "/"):
            continue
        declared = ranges.declared_divisor(node.right, table)
        if declared is None or not declared.admits_zero or not isinstance(node.right, ex.Name):
            continue
        name = node.right.name
        column = table is not None and ranges.column(table, name) is not None
        kind, giving = ("column", f"a row with {name} = 0") if column else ("fact", f"a case giving {name} = 0")
        out.append(
            _at(
                expr,
                node.right,
                "divisor-can-be-zero",
                f"{what} divides by {kind} {name!r}, whose declared range ({_describe_range(declared)}) includes 0: "
                f"{giving} cannot be assessed (division by zero); declare `min: 1` for {name!r} "
                f"if it is never 0, or divide by `max({name}, 1)`",
            )
        )
    return out


def _describe_range(r) -> str:
    kind = "a whole number" if r.integer else "a number"
    if r.low == -math.inf and r.high == math.inf:
        return f"{kind}, no min or max"
    if r.high == math.inf:
        return f"{kind}, min {_number(r.low)}"
    if r.low == -math.inf:
        return f"{kind}, max {_number(r.high)}"
    return f"{kind} from {_number(r.low)} to {_number(r.high)}"


def _number(x) -> str:
    return f"{x:g}"


_NEVER = {">": True, ">=": True, "==": True, "<": False, "<=": False, "!=": False}  # x op k, k above every x


def _shares_above_one(ranges: Ranges, expr) -> list:
    out = []
    for node, table in _nodes(expr.tree):
        if not (isinstance(node, ex.Binary) and node.op in _NEVER):
            continue
        for value, literal, op in ((node.left, node.right, node.op), (node.right, node.left, _FLIPPED[node.op])):
            k = literal.value if isinstance(literal, ex.Literal) and _is_number(literal.value) else None
            if not isinstance(k, (int, float)) or k <= 1:
                continue
            r = ranges.of(value, table)
            if r.integer or not r.is_share or isinstance(value, ex.Literal):
                continue
            shown = " ".join(expr.source[value.start : value.end].split())
            text = " ".join(expr.source[node.start : node.end].split())
            holds = "never holds" if _NEVER[op] else "always holds"
            hint = f"; {_number(k)}% is written {_number(k / 100)}" if k <= 100 else ""
            out.append(
                _at(
                    expr,
                    literal,
                    "share-above-one",
                    f"{shown} is a share, between 0 and 1, but is compared with {_number(k)}: `{text}` {holds}"
                    f"{hint} (a share compares with a fraction: 1 means all)",
                )
            )
    return out


_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_repeated_facts(case, doc) -> list:
    """A fact named in several criteria (or in the overview too) should hold one value:
    a case giving 31 neighbourhoods in one criterion and 30 in another contradicts itself.
    A fact the rules declare for the whole framework is given once, under the framework."""
    out = []
    for fid, cf in case.frameworks.items():
        seen = {k: ("the overview", v) for k, v in case.overview.items() if v is not None}
        given_per_criterion = {name: cid for cid, name in reversed(cf.per_criterion)}  # the first copy of each
        for name, value in cf.shared.items():
            at = ("criteria", given_per_criterion[name]) if name in given_per_criterion else ()
            if value is not None and name in seen and seen[name][1] != value:
                finding = doc.finding(
                    ("frameworks", fid, *at, "evidence", name),
                    "inconsistent-fact",
                    f"{name} is {value!r} here but {seen[name][1]!r} in the overview; the same fact should have "
                    "one value",
                    key=True,
                )
                out.append(record.replace(finding, level="warning"))
        for cid, name in cf.per_criterion:
            finding = doc.finding(
                ("frameworks", fid, "criteria", cid, "evidence", name),
                "fact-per-criterion",
                f"{name} is a fact of the whole framework {fid!r} in the rules: give it once, under the "
                "framework's `evidence:` (beside `criteria:`), and remove it from each criterion",
                key=True,
            )
            out.append(record.replace(finding, level="warning"))
        for cid, evidence in cf.evidence.items():
            for name, value in evidence.items():
                if value is None or name in cf.shared:
                    continue
                if name in seen and seen[name][1] != value:
                    where, first = seen[name]
                    finding = doc.finding(
                        ("frameworks", fid, "criteria", cid, "evidence", name),
                        "inconsistent-fact",
                        f"{name} is {value!r} here but {first!r} in {where}; the same fact should have one value",
                        key=True,
                    )
                    out.append(record.replace(finding, level="warning"))
                seen.setdefault(name, (f"criterion {cid!r}", value))
    return out


def check_templates(book, templates_dir: Path) -> tuple:
    """Templates exist and parse; each statement's slots are filled by its criterion's choices.

    Returns the findings, and criterion id -> TemplateReads of every template the criterion
    renders (for check_unused).
    """
    out, reads = [], {}
    for fw in book.frameworks:
        indicator_reads = TemplateReads()
        for ind in fw.indicators:
            name = f"statements/indicators/{ind}.md.j2"
            if not (templates_dir / name).is_file():
                out.append(
                    Finding(
                        fw.path, None, None, "missing-template", f"indicator {ind!r} needs the sentence template {name}"
                    )
                )
                continue
            try:
                indicator_reads = indicator_reads | read_template(templates_dir, name)
            except AssessorError as e:
                out += e.findings
        for c in fw.criteria:
            if not (templates_dir / c.statement).is_file():
                out.append(
                    c.place.finding(
                        "missing-template",
                        f"criterion {c.id!r}: statement template {c.statement} does not exist under {templates_dir}",
                    )
                )
                continue
            try:
                statement = read_template(templates_dir, c.statement)
            except AssessorError as e:
                out += e.findings
                continue
            # indicator sentences are rendered with the context of each criterion that reads indicators
            reads_indicators = c.reads_indicators(fw.indicators)
            reads[c.id] = statement | indicator_reads if reads_indicators else statement
            out += _check_slots(book, fw, c, statement, reads[c.id])
            out += _check_slot_words(c, compared_words(templates_dir, c.statement))
    return out, reads


def _check_slot_words(c, compared: list) -> list:
    """A statement comparing a slot with a word its scale never gives: `{% if engaging == "al" %}`
    never holds (and `!=` always does), so the sentence silently takes the other branch."""
    import difflib

    words = {d.name: d.outcomes for d in c.choice_scales}
    out = []
    for x in compared:
        if x.name not in words or x.word in words[x.name]:
            continue
        on_scale = words[x.name]
        close = difflib.get_close_matches(x.word, on_scale, n=1)
        holds = "always holds" if x.op in ("ne", "notin") else "never holds"
        via = f", passed to the macro {x.via}," if x.via else ""
        path, line, column = x.where
        out.append(
            Finding(
                path,
                line,
                column,
                "unknown-slot-word",
                f"the statement of criterion {c.id!r} compares slot {x.name!r}{via} with {x.word!r}, which is not "
                f"one of its words ({', '.join(on_scale)}), so the comparison {holds}; "
                + (f"did you mean {close[0]!r}? " if close else "")
                + "correct the word in the template, or give the slot a rung with that word in the rules",
                "warning",
            )
        )
    return out


def _check_slots(book, fw, c, statement: TemplateReads, rendered: TemplateReads) -> list:
    """`statement`: what the statement template reads; `rendered`: what every template of the criterion reads."""
    slots = [d.name for d in c.choice_scales]
    out = []
    for name, place in statement.names.items():
        if name not in STATEMENT_CONTEXT and name not in slots and name not in statement.optional:
            out.append(
                Finding(
                    *place,
                    "unfilled-slot",
                    f"the statement of criterion {c.id!r} reads {name!r}, which no choice fills; "
                    f"its choices are {', '.join(slots) or 'none'} "
                    f"(add a choice {name!r} under `choose`, or correct the name in the template)",
                )
            )
    for name, place in statement.choices.items():
        if name not in slots and f"choices.{name}" not in statement.optional:
            out.append(
                Finding(
                    *place,
                    "unfilled-slot",
                    f"the statement of criterion {c.id!r} reads choices.{name}, which no choice fills; "
                    f"its choices are {', '.join(slots) or 'none'}",
                )
            )
    # `values` holds the criterion's facts (not tables), derived values and outcomes (evaluation._public_values),
    # and every shared fact of the framework (evaluate.staged._with_shared)
    shown = sorted(
        {f.name for f in (*fw.evidence, *c.evidence) if f.type != "table"}
        | {d.name for d in c.derive}
        | {d.name for d in c.decisions}
    )
    for name, place in statement.values.items():
        if name not in shown and f"values.{name}" not in statement.optional:
            out.append(
                Finding(
                    *place,
                    "unknown-value",
                    f"the statement of criterion {c.id!r} reads values.{name}, but {name!r} is not a "
                    f"fact, derived value or outcome of the criterion; they are {', '.join(shown)}",
                )
            )
    doc = book.docs[fw.path]
    i = criterion_index(doc, c.id)
    for d in c.choice_scales:
        if d.name not in rendered.names and d.name not in rendered.choices:
            out.append(
                _warning(
                    key_place(doc, ("criteria", i, "choose", d.name)),
                    "unused-slot",
                    f"choice {d.name!r} of criterion {c.id!r} is used by no template (its statement "
                    f"is {c.statement}), so its wording never reaches the report",
                )
            )
    return out


def check_unused(book, template_reads: dict) -> list:
    """Facts and derived values that no derived value, condition or template reads."""
    out = []
    for fw in book.frameworks:
        doc = book.docs[fw.path]
        shared_reads = set().union(
            *(c.shared for c in fw.criteria),
            *(template_reads[c.id].values for c in fw.criteria if c.id in template_reads),
        )
        for f in fw.evidence:
            if f.name not in shared_reads:
                out.append(
                    _warning(
                        key_place(doc, ("evidence", f.name)),
                        "unused-fact",
                        f"fact {f.name!r} of framework {fw.id!r} is read by no criterion's derived value, "
                        "condition or template; use it in a rule or remove it (every case must still give it)",
                    )
                )
        for c in fw.criteria:
            i = criterion_index(doc, c.id)
            shown = set(template_reads[c.id].values) if c.id in template_reads else set()
            reads = names_read(c.derive, c.decisions) | shown
            for f in c.own_evidence:
                if f.name not in reads:
                    out.append(
                        _warning(
                            key_place(doc, ("criteria", i, "evidence", f.name)),
                            "unused-fact",
                            f"fact {f.name!r} of criterion {c.id!r} is read by no derived value, "
                            "condition or template; use it in a rule or remove it (every case must "
                            "still give it)",
                        )
                    )
            out += _unused_derived(doc, ("criteria", i, "derive"), c.derive, reads, f"criterion {c.id!r}")
        out += _unused_derived(
            doc, ("grade", "derive"), fw.derive, names_read(fw.derive, (fw.grade,)), f"the grade of framework {fw.id!r}"
        )
    return out


def check_repeated_declarations(book) -> list:
    """A fact declared by several criteria of a framework is asked of the inspector several times;
    declared once under the framework's `evidence:`, it is given once and every criterion reads it."""
    out = []
    for fw in book.frameworks:
        doc = book.docs[fw.path]
        first: dict = {}  # fact name -> the criterion that declares it first
        for c in fw.criteria:
            for f in c.own_evidence:
                if f.name not in first:
                    first[f.name] = c
                    continue
                where = key_place(doc, ("criteria", criterion_index(doc, first[f.name].id), "evidence", f.name))
                out.append(
                    _warning(
                        key_place(doc, ("criteria", criterion_index(doc, c.id), "evidence", f.name)),
                        "repeated-fact",
                        f"fact {f.name!r} is also declared by criterion {first[f.name].id!r} (line {where.line}), "
                        "so a case gives it twice: if it is the same fact, declare it once under the framework's "
                        "`evidence:` (beside `criteria:`) and remove it from the criteria",
                    )
                )
    return out


def _unused_derived(doc, where: tuple, derive: tuple, reads: set, owner: str) -> list:
    return [
        _warning(
            key_place(doc, where + (d.name,)),
            "unused-derived",
            f"derived value {d.name!r} of {owner} is read by no condition, later derived value or "
            "template; use it or remove it",
        )
        for d in derive
        if d.name not in reads
    ]


def _warning(place, check: str, message: str) -> Finding:
    return Finding(place.path, place.line, place.column, check, message, "warning")


def format_findings(findings: list, fmt: str) -> str:
    if fmt in ("github", "sarif"):
        from assessor.tooling import lint_output

        return getattr(lint_output, fmt)(findings)
    if fmt == "json":
        return json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False) + "\n"
    if fmt == "parsable":
        return "".join(f"{f.place()}: [{f.level}] {f.message} ({f.check})\n" for f in findings)
    lines = [f"{f.place()}: {f.level}: {f.message} ({f.check})" for f in findings]
    errors = sum(f.level == "error" for f in findings)
    lines.append(f"{errors} error(s), {len(findings) - errors} warning(s)" if findings else "no problems found")
    return "\n".join(lines) + "\n"
