"""Rule files → the validated model of rulebook.model.

`rules/grading.yaml` holds the grade scale and the survey settings; every other
`rules/*.yaml` file is one framework. Every condition is parsed and type-checked
here, so a rulebook that loads is one the engines can run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assessor.errors import AssessorError, Finding
from assessor.files import read_limited
from assessor.language import conditions as ex
from assessor.language import engine_limits as limits
from assessor.language import ir
from assessor.rulebook.model import (
    FACT_TYPES,
    GRADING_FILE,
    MAX_WORD,
    MIN_GRADES,
    RESERVED_CRITERIA,
    RESERVED_GRADES,
    RESERVED_SLOTS,
    STATEMENT_CONTEXT,
    VERDICT_ROLES,
    Criterion,
    Decision,
    Derived,
    Expression,
    FactSpec,
    Framework,
    Grade,
    Indicator,
    Place,
    Plausibility,
    Rulebook,
    Rung,
    SurveyDesign,
    names_read,
    verdict_type,
)
from assessor.rulebook.overlay import overlay
from assessor.rulebook.rule_files import file_label, rule_files, rules_revision
from assessor.source.document import Document, decode, parse
from assessor.source.reader import Reader, kind_of

IDENT_WORD = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def load_rulebook(directory: str | Path, overlays: tuple = ()) -> Rulebook:
    """The rules of `directory`, with each folder of `overlays` laid on them in turn: an edition
    that extends another (rulebook/overlay.py)."""
    d = Path(directory)
    for folder in (d, *map(Path, overlays)):
        if not folder.is_dir():
            raise AssessorError(
                Finding(
                    str(folder),
                    None,
                    None,
                    "io",
                    "rules directory does not exist" if not folder.exists() else "rules path is not a directory",
                )
            )
    files = rule_files(d)
    if not any(p.name == GRADING_FILE for p in files):
        raise AssessorError(
            Finding(
                str(d / GRADING_FILE),
                None,
                None,
                "io",
                f"the rules directory needs {GRADING_FILE} (the grade scale and survey settings)",
            )
        )
    findings: list[Finding] = []
    docs = {}
    read: list[tuple[str, bytes]] = []  # what the revision is a digest of
    for p in files:
        try:
            raw, docs[p] = _read_rule_file(p)
        except AssessorError as e:
            findings.extend(e.findings)
            continue
        read.append((file_label(0, p), raw))
    if findings:
        raise AssessorError(findings)
    docs = _overlaid(docs, overlays, read, findings)
    if d / GRADING_FILE not in docs:
        findings.append(
            Finding(str(d / GRADING_FILE), None, None, "bad-overlay", "an edition cannot remove the grade scale")
        )
        raise AssessorError(findings)
    grading = docs.pop(d / GRADING_FILE)
    g = _read_grading(Reader(grading, findings))
    frameworks = []
    if not docs:
        findings.append(Finding(str(d), None, None, "no-frameworks", "the rules directory has no framework files"))
    for doc in docs.values():
        fw = _read_framework(Reader(doc, findings), g)
        if fw is not None:
            frameworks.append(fw)
    seen: dict[str, str] = {}
    for fw in frameworks:
        if fw.id in seen:
            findings.append(
                Finding(fw.path, 1, 1, "duplicate-id", f"framework {fw.id!r} is also defined in {seen[fw.id]}")
            )
        seen[fw.id] = fw.path
    if findings:
        raise AssessorError(findings)
    frameworks.sort(key=lambda f: (f.order, f.id))
    all_docs = {str(p): doc for p, doc in docs.items()}
    all_docs[str(d / GRADING_FILE)] = grading
    return Rulebook(
        str(d),
        g["grades"],
        g["confidence"],
        g["designs"],
        g["indicators"],
        g["outcome"],
        tuple(frameworks),
        rules_revision(read),
        all_docs,
        g["verdicts"],
        g["plausibility"],
    )


def _read_rule_file(path: Path) -> tuple[bytes, Document]:
    """A rule file's bytes and the document they parse to: read once, so that the revision is a
    digest of the very bytes the model was read from, whatever happens to the file meanwhile."""
    raw = read_limited(path, "rule file")
    return raw, parse(decode(raw, str(path), "rule file"), str(path))


def _overlaid(docs: dict, overlays: tuple, read: list, findings: list) -> dict:
    """The rule documents with each overlay folder laid on them; a file is matched by its name."""
    for i, folder in enumerate(map(Path, overlays), 1):
        by_name = {p.name: p for p in docs}
        for p in rule_files(folder):
            try:
                raw, over = _read_rule_file(p)
            except AssessorError as e:
                findings.extend(e.findings)
                continue
            read.append((file_label(i, p), raw))
            key = by_name.get(p.name, p)
            merged = overlay(docs.get(key), over, findings)
            if merged is None:
                docs.pop(key, None)
            else:
                docs[key] = merged
    return docs


def _place(r: Reader) -> Place:
    m = r.doc.mark(r.where)
    return Place((m and m.path) or r.doc.path, m.line if m else None, m.column if m else None)


def _read_grading(r: Reader) -> dict:
    out: dict[str, Any] = {
        "grades": (),
        "confidence": 0.95,
        "designs": {},
        "indicators": {},
        "outcome": None,
        "verdicts": {v: v for v in VERDICT_ROLES},
        "plausibility": None,
    }
    top = r.found(r.mapping(("grades", "surveys"), ("plausibility",), what="grading.yaml"))
    if "grades" in top:
        out["grades"] = _read_grades(r.at("grades"))
    if "plausibility" in top:
        out["plausibility"] = _read_plausibility(r.at("plausibility"))
    if "surveys" not in top:
        r.raise_if_errors()
    s = r.at("surveys")
    surveys = r.found(s.mapping(("confidence", "designs", "indicators", "outcome"), ("verdicts",), what="surveys"))
    if "verdicts" in surveys:
        out["verdicts"] = _read_verdicts(s.at("verdicts"))
    if "confidence" in surveys:
        c = s.at("confidence").number("surveys.confidence", 0.5, 0.9999)
        out["confidence"] = c if c is not None else 0.95
    designs_written = surveys.get("designs")
    written_designs: dict = designs_written if isinstance(designs_written, dict) else {}
    if "designs" in surveys:
        ds = s.at("designs")
        for key in ds.mapping(what="surveys.designs") or {}:
            dr = ds.at(key)
            if not ds.key_ident(key, "survey"):
                continue
            fields = ("title", "design_factor", "sample_size", "per", "msf_multiplier")
            m = dr.mapping(fields, what=f"survey {key!r}")
            if m is None or not set(fields) <= set(m):  # reported: a key missing (perhaps misspelt)
                continue
            per = m["per"]
            if per not in ("force", "bcu"):
                dr.at("per").error("bad-value", f"per must be 'force' or 'bcu', got {per!r}")
            design = SurveyDesign(
                key,
                dr.at("title").text() or "",
                dr.at("design_factor").number(low=0.1, high=10.0) or 1.0,
                dr.at("sample_size").number(low=1, integer=True) or 1,
                per,
                dr.at("msf_multiplier").number(low=0.1, high=1000) or 1.0,
            )
            out["designs"][key] = design
    if "indicators" in surveys:
        ins = s.at("indicators")
        for key in ins.mapping(what="surveys.indicators") or {}:
            ir_ = ins.at(key)
            if not ins.key_ident(key, "indicator"):
                continue
            m = ir_.mapping(
                ("label", "survey", "better"), ("compare", "sample", "gap_with", "question"), what=f"indicator {key!r}"
            )
            if m is None:
                continue
            if (
                not isinstance(m.get("survey"), str)
                or m.get("survey") not in out["designs"]
                and m.get("survey") not in written_designs
            ):
                ir_.at("survey").error(
                    "unknown-survey",
                    f"survey {m.get('survey')!r} is not one of the designs: "
                    f"{', '.join(out['designs']) or 'none declared'}",
                )
            if m.get("better") not in ("higher", "lower"):
                ir_.at("better").error("bad-value", f"better must be 'higher' or 'lower', got {m.get('better')!r}")
            compare = m.get("compare", ["msf", "previous"])
            if not isinstance(compare, list) or not compare or any(c not in ("msf", "previous") for c in compare):
                ir_.at("compare").error("bad-value", "compare must list 'msf', 'previous' or both")
                compare = ["msf", "previous"]
            sample = m.get("sample", "design")
            if sample not in ("design", "given"):
                ir_.at("sample").error(
                    "bad-value", "sample must be 'design' (the survey's sample size) or 'given' (the case gives n)"
                )
            gap = m.get("gap_with")
            if gap is not None:
                gap = ir_.at("gap_with").ident()
            label = (ir_.at("label").text() if "label" in m else None) or key  # missing: reported
            question = (ir_.at("question").text("question") or "") if "question" in m else ""
            out["indicators"][key] = Indicator(
                key,
                label,
                m.get("survey") or "",
                m.get("better") == "higher",
                tuple(compare),
                sample == "given",
                gap,
                question,
            )
    if "outcome" in surveys:
        verdict = verdict_type(out["verdicts"])
        names = {"msf": verdict, "trend": verdict}
        out["outcome"] = _read_decision(
            s.at("outcome"), "outcome", "outcome", names, allowed=tuple(g.id for g in out["grades"])
        )
    r.raise_if_errors()
    return out


COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def _read_grades(r: Reader) -> tuple:
    """The grade scale, best first: `id: label`, or `id: {label, colour, background, describe}`."""
    written = r.mapping(what="grades")
    if written is None:
        return ()
    grades = []
    for gid in written:
        if not r.key_ident(gid, "grade"):
            continue
        if gid in RESERVED_GRADES:
            r.at(gid).error(
                "reserved-name",
                f"{gid!r} cannot be a grade id: "
                + ("reports mark what is not assessed with it" if gid == "none" else "it closes a scale")
                + "; choose another name",
                key=True,
            )
            continue
        g = r.at(gid)
        if not isinstance(g.value, dict):
            label = g.text(f"the label of grade {gid!r}")
            if label is not None:
                grades.append(Grade(gid, label))
            continue
        m = g.mapping(("label",), ("colour", "background", "describe"), what=f"grade {gid!r}")
        if m is None or "label" not in m:
            continue
        colours = {}
        for key in ("colour", "background"):
            if key in m:
                value = m[key]
                if isinstance(value, str) and COLOUR.fullmatch(value):
                    colours[key] = value.lower()
                else:
                    g.at(key).error(
                        "bad-value", f"{key} of grade {gid!r} must be a colour written #rrggbb, e.g. '#1d4f91'"
                    )
        describe = g.at("describe").text(f"the description of grade {gid!r}") if "describe" in m else ""
        label = g.at("label").text(f"the label of grade {gid!r}")
        if label is not None:
            grades.append(Grade(gid, label, colours.get("colour"), colours.get("background"), describe or ""))
    labels: dict[str, str] = {}
    for grade in grades:
        if grade.label.casefold() in labels:
            r.at(grade.id).error(
                "duplicate-label",
                f"grade {grade.id!r} has the label of grade {labels[grade.label.casefold()]!r}; "
                "a report could not tell them apart",
                key=True,
            )
        labels.setdefault(grade.label.casefold(), grade.id)
    if len(written) < MIN_GRADES:
        r.error("bad-scale", f"the grade scale needs at least {MIN_GRADES} grades, best first; it has {len(written)}")
    return tuple(grades)


def _read_verdicts(r: Reader) -> dict:
    """The rulebook's words for the four results of a significance test."""
    m = r.mapping(VERDICT_ROLES, what="verdicts")
    out = {v: v for v in VERDICT_ROLES}
    if m is None or not set(VERDICT_ROLES) <= set(m):
        return out
    for role in VERDICT_ROLES:
        word = r.at(role).ident(f"the word for the verdict {role!r}")
        if word is not None:
            out[role] = word
    seen: dict[str, str] = {}
    for role in VERDICT_ROLES:
        if out[role] in seen:
            r.at(role).error(
                "duplicate-name", f"verdicts {seen[out[role]]!r} and {role!r} have the same word {out[role]!r}"
            )
        seen.setdefault(out[role], role)
    return out


def _read_plausibility(r: Reader) -> Plausibility | None:
    fields = ("fraction_below", "percent_above", "largest_change", "headcount_ratio")
    m = r.mapping(fields, what="plausibility")
    if m is None or not set(fields) <= set(m):
        return None
    values = [
        r.at("fraction_below").number("plausibility.fraction_below", 0, 100),
        r.at("percent_above").number("plausibility.percent_above", 0, 100),
        r.at("largest_change").number("plausibility.largest_change", 0, 100),
        r.at("headcount_ratio").number("plausibility.headcount_ratio", 0, 1),
    ]
    return None if None in values else Plausibility(*values)


def _read_headcounts(r: Reader, names: dict) -> tuple:
    """Pairs of calculations over the criterion's facts that count the same people."""
    out = []
    for i, pair in enumerate(r.items("headcounts (a list of [count, count] pairs)") or []):
        if not isinstance(pair, list) or len(pair) != 2:
            r.at(i).error(
                "bad-value",
                "each headcount check is a pair of counts that should agree, e.g. "
                "[officers_in_post, sum(bcu_staffing.constables)]",
            )
            continue
        sides = [_expression(r.at(i, j), names, condition=False) for j in (0, 1)]
        if None not in sides:
            out.append(tuple(sides))
    return tuple(out)


def _read_framework(r: Reader, g: dict) -> Framework | None:
    top = r.mapping(
        ("framework", "title", "criteria", "grade"), ("order", "indicators", "evidence"), what="a framework file"
    )
    if top is None or not {"framework", "title", "criteria", "grade"} <= set(top):
        return None
    fid = r.at("framework").ident("framework")
    title = r.at("title").text()
    order = r.at("order").number("order", integer=True) if "order" in top else None
    indicators = []
    if "indicators" in top:
        ins = r.at("indicators")
        for i, ind in enumerate(ins.items("indicators") or []):
            if not isinstance(ind, str) or ind not in g["indicators"]:
                ins.at(i).error(
                    "unknown-indicator",
                    f"indicator {ind!r} is not declared in grading.yaml; declared: "
                    f"{', '.join(g['indicators']) or 'none'}",
                )
            elif ind in indicators:
                ins.at(i).error("duplicate-id", f"indicator {ind!r} is listed twice")
            else:
                indicators.append(ind)
    grade_ids = tuple(grade.id for grade in g["grades"])
    indicator_scope = _indicator_types(g, indicators)
    shared = _read_shared(r.at("evidence"), indicator_scope) if "evidence" in top else ()
    criteria = []
    cr = r.at("criteria")
    ids: dict[str, int | None] = {}
    for i, _ in enumerate(cr.items("criteria") or []):
        c = _read_criterion(cr.at(i), grade_ids, indicator_scope, shared)
        if c is None:
            continue
        if c.id in ids:
            cr.at(i, "id").error("duplicate-id", f"criterion {c.id!r} is already defined at line {ids[c.id]}")
        ids[c.id] = c.place.line
        criteria.append(c)
    gr = r.at("grade")
    gm = gr.mapping(("decide",), ("derive",), what="grade")
    grade = None
    derive: tuple = ()
    if gm is not None:
        names = dict(indicator_scope)
        names["criteria"] = ex.Type("table", columns=(("id", ex.TEXT), ("judgement", ex.Type("choice", grade_ids))))
        derive = _read_derive(gr.at("derive"), names) if "derive" in gm else ()
        for d in derive:
            names[d.name] = ex.NUMBER
        if "decide" in gm:
            grade = _read_decision(gr.at("decide"), "grade", "grade", names, allowed=grade_ids)
    if fid is None or title is None or grade is None:
        return None
    return Framework(
        fid,
        title,
        100 if order is None else order,
        tuple(indicators),
        tuple(criteria),
        derive,
        grade,
        r.doc.path,
        _place(r.at("indicators")) if "indicators" in top else None,
        shared,
    )


def _read_shared(r: Reader, indicator_scope: dict) -> tuple:
    """The framework's own `evidence:`: facts declared once that every criterion may read."""
    specs = _read_evidence(r, FRAMEWORK_KEYS, "the framework") or ()
    for f in specs:
        if f.name in indicator_scope:
            r.at(f.name).error("duplicate-name", f"{f.name!r} is already the name of an indicator", key=True)
    return tuple(f for f in specs if f.name not in indicator_scope)


def _indicator_types(g: dict, indicators: list) -> dict:
    """The names criteria and grades may read about survey indicators."""
    verdict = verdict_type(g["verdicts"])
    columns = (
        ("id", ex.TEXT),
        ("msf", verdict),
        ("trend", verdict),
        ("outcome", ex.Type("choice", tuple(grade.id for grade in g["grades"]))),
        ("value", ex.NUMBER),
        ("change_pp", ex.NUMBER),
        ("difference_pp", ex.NUMBER),
    )
    names = {"indicators": ex.Type("table", columns=columns)}
    for ind in indicators:
        cols: tuple[tuple[str, ex.Type], ...] = columns
        if g["indicators"][ind].gap_with:
            cols = cols + (("gap_pp", ex.NUMBER), ("gap", verdict))
        names[ind] = ex.Type("record", columns=cols)
    return names


class _Scope(dict):
    """Names in scope (name -> type), with the line each is declared on, for messages."""

    def __init__(self, *args):
        super().__init__(*args)
        self.lines = {}


CRITERION_KEYS = ("id", "heading", "subheading", "evidence", "derive", "choose", "judge", "statement", "headcounts")
FRAMEWORK_KEYS = ("framework", "title", "order", "indicators", "evidence", "criteria", "grade")


def _read_criterion(r: Reader, grade_ids: tuple, indicator_scope: dict, shared: tuple = ()) -> Criterion | None:
    m = r.mapping(
        ("id", "heading", "evidence", "judge", "statement"),
        ("subheading", "derive", "choose", "headcounts"),
        what="a criterion",
    )
    if m is None or not {"id", "heading", "judge", "statement", "evidence"} <= set(m):
        return None
    cid = r.at("id").ident("criterion id")
    if cid in RESERVED_CRITERIA:
        r.at("id").error("reserved-name", f"criterion id {cid!r} is a reserved word; choose another name")
        cid = None
    heading = r.at("heading").text()
    subheading = r.at("subheading").text() if "subheading" in m else ""
    statement = r.at("statement").text()
    if statement is not None and not _template_path_ok(statement):
        r.at("statement").error(
            "template-outside",
            f"statement {statement!r} must name a template inside the templates folder, "
            "as a relative path without '..' (e.g. statements/framework/criterion.md.j2)",
        )
        statement = None
    evidence = _read_evidence(r.at("evidence"), CRITERION_KEYS, "the criterion")
    if evidence is None:  # a criterion key indented under evidence: what follows would only cascade
        return None
    names = _Scope(indicator_scope)
    for f in shared:
        names[f.name] = f.expr_type
        if f.place is not None:
            names.lines[f.name] = f.place.line
    common = {f.name: f for f in shared}
    for f in evidence:
        if f.name in common:
            where = common[f.name].place
            r.at("evidence", f.name).error(
                "redeclared-fact",
                f"fact {f.name!r} is already declared for the whole framework (under its `evidence:`"
                + (f", line {where.line}" if where is not None and where.line else "")
                + "), and every criterion reads it from there: remove it here",
                key=True,
            )
            continue
        if f.place is not None:
            names.lines[f.name] = f.place.line
        if f.name in names:
            r.at("evidence", f.name).error(
                "duplicate-name", f"{f.name!r} is already the name of an indicator", key=True
            )
        names[f.name] = f.expr_type
    headcounts = _read_headcounts(r.at("headcounts"), dict(names)) if "headcounts" in m else ()
    derive = _read_derive(r.at("derive"), names) if "derive" in m else ()
    for d in derive:
        names[d.name] = ex.NUMBER
        names.lines[d.name] = d.expr.place.line
    choices = []
    if "choose" in m:
        ch = r.at("choose")
        for slot in ch.mapping(what="choose") or {}:
            if not ch.key_ident(slot, "slot"):
                continue
            if slot in STATEMENT_CONTEXT:
                ch.at(slot).error(
                    "reserved-name",
                    f"slot {slot!r} is a name every statement template is already given "
                    f"({STATEMENT_CONTEXT[slot]}), so the template would print that instead of the chosen "
                    f"word; rename the slot (e.g. {slot + '_word'!r}) here and in its template",
                    key=True,
                )
                names[slot] = ex.Type("choice", _written_outcomes(ch.at(slot).value))  # later readers: no more
                continue
            if slot in RESERVED_SLOTS:
                ch.at(slot).error(
                    "reserved-name",
                    f"slot {slot!r} is a reserved word: the criterion's judgement "
                    "is given under 'judge'; choose another name",
                    key=True,
                )
                continue
            if slot in names:
                ch.at(slot).error("duplicate-name", f"slot {slot!r} has the name of a fact or derived value", key=True)
                continue
            d = _read_decision(ch.at(slot), slot, "choice", names)
            if d is not None:
                choices.append(d)
                names[slot] = ex.Type("choice", d.outcomes + _forgotten_otherwise(ch.at(slot), d, m))
            else:  # still a name, so later conditions reading it are not reported as well
                names[slot] = ex.Type("choice", _written_outcomes(ch.at(slot).value))
    judgement = _read_decision(r.at("judge"), "judgement", "judgement", names, allowed=grade_ids)
    if cid is None or heading is None or statement is None or judgement is None:
        return None
    # the shared facts it reads become its facts, as if declared here: its values and margins show them
    reads = names_read(derive, (*choices, judgement)).union(*(e.reads for pair in headcounts for e in pair))
    used = tuple(f for f in shared if f.name in reads)
    own = tuple(f for f in evidence if f.name not in common)
    return Criterion(
        cid,
        heading,
        subheading or "",
        used + own,
        derive,
        tuple(choices),
        judgement,
        statement,
        _place(r),
        _place(r.at("statement")),
        headcounts,
        tuple(f.name for f in used),
    )


def _template_path_ok(name: str) -> bool:
    """A template path the templates folder can hold: relative, no '..', no home directory.
    (Symbolic links leading out are caught where the folder is known: report.environment.)"""
    from pathlib import PurePosixPath, PureWindowsPath

    if not name.strip() or "\\" in name or "\0" in name or name.startswith("~"):
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and not PureWindowsPath(name).drive and ".." not in path.parts


def _forgotten_otherwise(r: Reader, d: Decision, criterion: dict) -> tuple:
    """Words later conditions compare a choice with that it never gives, when it has no `otherwise`:
    most likely its `- otherwise: word` rung was left out. Reported at the choice, once; the words
    are returned so the conditions reading them are not reported too."""
    if d.otherwise is not None:
        return ()
    later = []
    slots = list(criterion.get("choose") or {}) if isinstance(criterion.get("choose"), dict) else []
    for slot in slots[slots.index(d.name) + 1 :] if d.name in slots else []:
        later += [r for r in criterion["choose"][slot] or []] if isinstance(criterion["choose"][slot], list) else []
    later += criterion.get("judge") or [] if isinstance(criterion.get("judge"), list) else []
    words = []
    for rung in later:
        for cond in rung.values() if isinstance(rung, dict) else ():
            for word in _words_compared(cond, d.name):
                if word not in d.outcomes and word not in words:
                    words.append(word)
    if words:
        r.error(
            "missing-otherwise",
            f"choice {d.name!r} never gives {', '.join(repr(w) for w in words)}, which a later condition compares "
            f"it with, and it has no `otherwise`: did you leave out its last rung `- otherwise: {words[0]}`?",
            key=True,
        )
    return tuple(words)


def _words_compared(source, name: str) -> list:
    """The words a condition compares NAME with (`name == "word"`, `name in ["a", "b"]`)."""
    if not isinstance(source, str):
        return []
    try:
        tree = ex.parse(source)
    except ex.ExpressionError:
        return []
    found = []

    def walk(node):
        if isinstance(node, ex.Binary) and node.op in ("==", "!="):
            for a, b in ((node.left, node.right), (node.right, node.left)):
                if isinstance(a, ex.Name) and a.name == name and isinstance(b, ex.Literal) and isinstance(b.value, str):
                    found.append(b.value)
        elif isinstance(node, ex.Member) and isinstance(node.item, ex.Name) and node.item.name == name:
            found.extend(o.value for o in node.options if isinstance(o, ex.Literal) and isinstance(o.value, str))
        for child in vars(node).values():
            for item in child if isinstance(child, tuple) else (child,):
                if isinstance(item, ex.Node):
                    walk(item)

    walk(tree)
    return found


def _written_outcomes(rungs) -> tuple:
    """The outcomes a decision names, however broken its conditions."""
    out = []
    for rung in rungs if isinstance(rungs, list) else ():
        for outcome, cond in rung.items() if isinstance(rung, dict) else ():
            word = cond if outcome == "otherwise" else outcome
            if isinstance(word, str) and word not in out:
                out.append(word)
    return tuple(out)


def _read_evidence(r: Reader, keys: tuple, owner: str) -> tuple | None:
    """The facts of a criterion or a framework (`owner`); None when one of its own `keys` sits under
    `evidence`."""
    specs = []
    given = r.mapping(what="evidence") or {}
    for name in given:
        if name in keys and not _fact_like(given[name]):
            r.at(name).error(
                "indented-too-far",
                f"'{name}' is a key of {owner}, not a fact: it is indented too far. Move '{name}:' (and "
                "what is under it) left, level with 'evidence:'",
                key=True,
            )
            return None
    for name in given:
        if not r.key_ident(name, "fact"):
            continue
        spec = read_fact_spec(r.at(name), name)
        if spec is not None:
            specs.append(spec)
    return tuple(specs)


def _fact_like(v) -> bool:
    """Whether a value could declare a fact: a type name, or a mapping with a type."""
    return (isinstance(v, str) and v in FACT_TYPES) or (isinstance(v, dict) and "type" in v)


def read_fact_spec(r: Reader, name: str, in_table: bool = False) -> FactSpec | None:
    v = r.value
    m: dict | None
    if isinstance(v, str):  # shorthand: `bcus: integer`
        m = {"type": v}
    else:
        m = r.mapping(("type",), ("describe", "min", "max", "values", "columns"), what=f"fact {name!r}")
        if m is None or "type" not in m:
            return None
    t = m["type"]
    if t not in FACT_TYPES or (in_table and t == "table"):
        allowed = [x for x in FACT_TYPES if not (in_table and x == "table")]
        (r.at("type") if isinstance(r.value, dict) else r).error(
            "bad-type", f"fact {name!r} has type {t!r}; expected one of {', '.join(allowed)}"
        )
        return None
    low, high = m.get("min"), m.get("max")
    if "min" in m:
        low = r.at("min").number(f"min of {name!r}")
    if "max" in m:
        high = r.at("max").number(f"max of {name!r}")
    if t == "percentage":
        low = 0 if low is None else low
        high = 100 if high is None else high
    if ("min" in m or "max" in m) and t not in ("integer", "number", "percentage"):
        r.error("bad-key", f"min and max apply to numbers, not to {t!r} facts")
    if low is not None and high is not None and low > high:
        r.error("bad-range", f"fact {name!r} has min {low} above max {high}")
    values = ()
    if t == "one-of":
        vals = r.at("values").items(f"values of {name!r}") if "values" in m else None
        if not vals:
            r.error("missing-key", f"fact {name!r} is one-of, so it needs 'values': the list of allowed words")
        elif any(not isinstance(x, str) for x in vals) or len(set(vals)) != len(vals):
            r.at("values").error("bad-value", f"values of {name!r} must be distinct words")
        elif any(len(x) > MAX_WORD or not x.strip() for x in vals):
            i = next(i for i, x in enumerate(vals) if len(x) > MAX_WORD or not x.strip())
            r.at("values", i).error(
                "bad-value", f"each value of {name!r} must be a word or short phrase of at most {MAX_WORD} characters"
            )
        else:
            values = tuple(vals)
        if not values:  # reported above; read as text, so conditions comparing it are not reported too
            t = "text"
    elif "values" in m:
        r.error("bad-key", f"'values' applies to one-of facts, not to {t!r}")
    columns: tuple = ()
    if t == "table":
        cr = r.at("columns")
        if "columns" not in m:
            r.error("missing-key", f"table {name!r} needs 'columns'")
        else:
            cols = []
            for cname in cr.mapping(what=f"columns of {name!r}") or {}:
                if cr.key_ident(cname, "column"):
                    spec = read_fact_spec(cr.at(cname), cname, in_table=True)
                    if spec is not None:
                        cols.append((cname, spec))
            columns = tuple(cols)
    elif "columns" in m:
        r.error("bad-key", f"'columns' applies to table facts, not to {t!r}")
    describe = m.get("describe", "")
    if not isinstance(describe, str):
        r.at("describe").error("type", f"describe of {name!r} must be text")
        describe = ""
    return FactSpec(name, t, describe, low, high, values, columns, _place(r))


def _expression(r: Reader, names: dict, condition: bool) -> Expression | None:
    source = r.value
    if not isinstance(source, str) or not source.strip():
        what = "a condition" if condition else "a calculation"
        if isinstance(source, bool):
            hint = " (write the condition out; a bare yes/no is not a condition)"
        else:
            hint = ""
        r.error("bad-expression", f"{r.label} must be {what} written as text, got {kind_of(source)}{hint}")
        return None
    mark = r.doc.mark(r.where)
    try:
        tree = ex.parse(source)
        checker = ex.TypeChecker(names)
        if condition:
            checker.condition(tree)
        else:
            t = checker.check(tree)
            if t.kind != "number":
                raise ex.ExpressionError(f"a derived value must be a number, but this is {t.describe()}", 0)
    except ex.ExpressionError as e:
        offset = e.offset if "\n" not in source[: e.offset] else 0
        shown = " ".join(source.split())
        shown = shown if len(shown) <= 100 else shown[:97] + "..."
        message = e.message
        meant = re.search(r"did you mean '([a-z0-9_.]+)'\?", message)
        line = getattr(names, "lines", {}).get(meant.group(1)) if meant else None
        if meant is not None and line is not None:  # the typo may be in the declaration as well as here
            message += f" ({meant.group(1)!r} is declared at line {line}: the typo may be on either side)"
        r.error("bad-expression", f"{message}: {shown!r}", offset=offset)
        return None
    return Expression(source, tree, _place(r), bool(mark and mark.quoted), frozenset(checker.read))


def _read_derive(r: Reader, names: dict) -> tuple:
    out = []
    m = r.mapping(what="derive")
    for name in m or {}:
        if not r.key_ident(name, "derived value"):
            continue
        if name in names:
            r.at(name).error("duplicate-name", f"derived value {name!r} has the name of a fact", key=True)
            continue
        e = _expression(r.at(name), names, condition=False)
        if e is not None:
            out.append(Derived(name, e))
        names[name] = ex.NUMBER  # even if broken: later readers of it are not reported too
    return tuple(out)


def _read_decision(r: Reader, name: str, kind: str, names: dict, allowed: tuple | None = None) -> Decision | None:
    rungs = r.items(f"{r.label} (a list of '- outcome: condition' rungs)")
    if rungs is None:
        return None
    if not rungs:
        r.error("empty-scale", f"{r.label} has no rungs")
        return None
    out: list[Rung | None] = []
    # the conditions as the compiler will lower them, so their size is known before any engine sees them
    hoisting = ex.Hoisting("_d")
    values: set[str] = set()
    for i, rung in enumerate(rungs):
        rr = r.at(i)
        if not isinstance(rung, dict) or len(rung) != 1:
            rr.error(
                "bad-rung",
                "each rung is one 'outcome: condition' pair, e.g. '- all: staffed_share == 1', "
                "or '- otherwise: outcome' last",
            )
            continue
        ((outcome, cond),) = rung.items()
        misplaced = _misplaced_otherwise(outcome, cond)
        if misplaced is not None:
            rr.at(outcome).error(
                "misspelt-otherwise",
                f"'{outcome}: {cond}' is not a rung: did you mean `- otherwise: {misplaced}`? (`otherwise`, then "
                "the outcome it gives when no rung above holds)",
                key=True,
            )
            out.append(Rung(misplaced, None))
            continue
        if outcome == "otherwise":
            if i != len(rungs) - 1:
                rr.at(outcome).error(
                    "otherwise-not-last",
                    "'otherwise' must be the last rung: rungs after it can never be chosen",
                    key=True,
                )
            word = rr.at(outcome).ident("the outcome after 'otherwise'") if isinstance(cond, str) else None
            if word is None and not isinstance(cond, str):
                rr.at(outcome).error("bad-rung", f"'otherwise' names the outcome to choose, got {kind_of(cond)}")
            if word is not None:
                if allowed is not None and word not in allowed:
                    rr.at(outcome).error("bad-outcome", f"{word!r} is not a grade; expected {', '.join(allowed)}")
                out.append(Rung(word, None))
            continue
        if not rr.key_ident(outcome, "outcome"):
            continue
        if allowed is not None and outcome not in allowed:
            rr.at(outcome).error("bad-outcome", f"{outcome!r} is not a grade; expected {', '.join(allowed)}", key=True)
            continue
        e = _expression(rr.at(outcome), names, condition=True)
        if e is None:
            continue
        lowered = hoisting.lower(e.source, e.tree)
        values |= ir.names_read(lowered)
        out.append(Rung(outcome, e) if _fits_engine(rr.at(outcome), lowered) else None)
    if len(out) != len(rungs) or None in out:
        return None
    if len(values) > limits.MAX_VALUES:
        r.error(
            "too-complex",
            f"{r.label} compares {len(values)} different values; the rule engine takes at most "
            f"{limits.MAX_VALUES} per decision: split it into several decisions",
        )
        return None
    return Decision(name, kind, tuple(out), _place(r), dict(names))


OTHERWISE_WORDS = ("else", "default", "otherwise", "other", "others", "rest", "fallback")


def _misplaced_otherwise(outcome, cond) -> str | None:
    """The outcome meant, when a rung is `otherwise` mistyped (`otherwize: some`, `else: some`,
    `Otherwise: some`) or written back to front (`some: otherwise`); else None."""
    if not isinstance(outcome, str) or not isinstance(cond, str) or outcome == "otherwise":
        return None
    if cond.strip().lower() == "otherwise" and IDENT_WORD.fullmatch(outcome):
        return outcome
    word = outcome.strip().lower()
    close = word in OTHERWISE_WORDS or _edits(word, "otherwise") <= 2
    return cond.strip() if close and IDENT_WORD.fullmatch(cond.strip()) else None


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (difflib would be a cold-start import for every rule file)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _fits_engine(r: Reader, lowered: ir.Cond) -> bool:
    """A finding, and False, if the condition is larger than durable-rules can hold."""
    cond = limits.flatten(lowered)
    open_at_once = limits.pending_nodes(cond)
    if open_at_once > limits.STACK_BUDGET:
        r.error(
            "too-complex",
            f"this condition keeps {open_at_once} alternatives open at once ('or', and each "
            f"value of a list after 'in'); the rule engine takes at most {limits.STACK_BUDGET}: split "
            "it into several rungs or a derived value",
        )
        return False
    groups = limits.pattern_groups(cond)
    alternatives = limits.alternatives(cond)
    if groups > limits.MAX_GROUPS and alternatives > limits.MAX_PARTS:
        shown = f"{alternatives:,}" if alternatives < 10**6 else "over a million"
        r.error(
            "too-complex",
            f"this condition nests {groups} groups of 'and'/'or' and has "
            f"{shown} alternative ways to hold; the rule engine "
            f"takes {limits.MAX_GROUPS} groups, or {limits.MAX_PARTS} alternatives: split it into several "
            "rungs or choices",
        )
        return False
    return True
