"""`assess new-case`: a case file to fill in, listing every fact and survey figure the rules need.

Each fact, survey figure and the number of BCUs is `unknown` (case/read.py reads
that as "not gathered") with its type, range and description in a comment
beside it: a skeleton assesses, but nothing in it is graded until it is filled.
"""

from __future__ import annotations

import json

from assessor.case.read import NARRATIVE, UNKNOWN, expected_value
from assessor.rulebook.model import Rulebook


def skeleton(
    book: Rulebook,
    force: str,
    period: str,
    schema: str = "../assessor/schemas/case.schema.json",
    edition: str | None = None,
) -> str:
    """The case file's text; `schema` is the path from it to the case schema its editor should use;
    `edition`, when given, the rulebook edition the case names as the one that grades it."""
    out = [
        f"# yaml-language-server: $schema={schema}",
        f"# Case file for {_flat(force)}, made by `assess new-case` from the rules in {book.directory}.",
        f"# Replace each `{UNKNOWN}` with the evidence; leave `{UNKNOWN}` where it was not gathered: the",
        "# criteria needing it are then reported as not assessed, naming the fact.",
        f"force: {json.dumps(force, ensure_ascii=False)}",
        "# short_name: the force's name as the report's running text uses it",
        "fictional: no",
        f"period: {period}  # the financial year inspected, April to March",
        *([f"edition: {json.dumps(edition)}  # the rulebook edition that grades this case"] if edition else []),
        "# published: the month the report is published, e.g. September 2008",
    ]
    if _needs_bcus(book):
        out += ["overview:", "  # basic command units: user satisfaction surveys sample each BCU", f"  bcus: {UNKNOWN}"]
    else:
        out.append("# overview:")
    # the optional overview figures and context sections the report prints when a case gives them
    out += [f"  # {key}: {what}" for key, what in OPTIONAL_OVERVIEW.items()]
    out += ["# context:  # each a list of paragraphs, or {text: ..., items: [...]} for a lead-in with bullets"]
    out += [f"#   {key}: []  # {what}" for key, what in OPTIONAL_CONTEXT.items()]
    out += [
        "# recommendations: []  # the report's Recommendations, one item each",
        "# developing_practice:  # examples of good practice: title, problem, solution, outcomes, contact",
        "#   - {title: ..., problem: ..., solution: ...}",
    ]
    out.append("frameworks:")
    for fw in book.frameworks:
        out.append(f"  {fw.id}:  # {_flat(fw.title)}")
        if fw.evidence:  # asked once: every criterion reading it gets this value
            out.append("    evidence:  # facts several criteria read: give each once, here")
            out += _facts(fw.evidence, "      ")
        out.append("    criteria:")
        for c in fw.criteria:
            out += [f"      # {_flat(c.heading)}", f"      {c.id}:"]
            out.append("        evidence:" if c.own_evidence else "        evidence: {}")
            out += _facts(c.own_evidence, "          ")
            out += [f"        {k}: []" for k in NARRATIVE]
        if fw.indicators:
            out.append("    surveys:")
            for ind_id in fw.indicators:
                out += _survey(book, book.indicators[ind_id])
        out += [
            "    # moderation:  # only if the moderation panel changed or confirmed the grade",
            f"    #   grade: {' | '.join(book.grade_ids)}",
            "    #   reason: the panel's reason, as the report gives it",
        ]
    return "\n".join(out) + "\n"


OPTIONAL_OVERVIEW = {
    "neighbourhood_teams": "Neighbourhood Policing teams, a whole number",
    "officers_dedicated": "officers dedicated to Neighbourhood Policing",
    "pcsos_dedicated": "PCSOs dedicated to Neighbourhood Policing",
    "cdrps": "CDRPs covering the force area",
    "population": "resident population",
    "households": "households",
}
OPTIONAL_CONTEXT = {
    "geography": "Geographical Description of Force Area",
    "demography": "Demographic Description of Force Area",
    "strategic_priorities": "Strategic Priorities",
    "performance_overview": "Force Performance Overview",
}


def _facts(specs: tuple, indent: str) -> list:
    out = []
    for f in specs:
        out += [f"{indent}# {line}" for line in _fact_comment(f)]
        out.append(f"{indent}{f.name}: {UNKNOWN}")
    return out


def _fact_comment(f) -> list:
    expected = "a list of rows" if f.type == "table" else expected_value(f)
    lines = [f"{_flat(f.describe)}: {expected}" if f.describe else expected]
    if f.type == "table":
        lines.append("  - {" + ", ".join(f"{name}: {expected_value(col)}" for name, col in f.columns) + "}")
    return lines


def _survey(book: Rulebook, ind) -> list:
    design = book.designs[ind.survey]
    what = {
        "value": "% in the year inspected",
        "msf_average": "% average of the most similar forces (MSF)",
        "previous": "% two years earlier",
        "n": "respondents in the year inspected",
        "previous_n": "respondents two years earlier",
        ind.gap_with: f"% for {ind.gap_with} users, the other side of the gap",
    }
    lines = [f"      # {ind.label}: {_flat(ind.question)}"] if ind.question else []
    lines += [f"      {ind.id}:  # {ind.label}, {design.title}"]
    lines += [f"        {name}: {UNKNOWN}  # {what[name]}" for name in ind.figures_needed()]
    return lines


def _needs_bcus(book: Rulebook) -> bool:
    """Per-BCU surveys size their sample from the case's number of BCUs unless the case gives n."""
    used = {i for fw in book.frameworks for i in fw.indicators}
    return any(
        book.designs[book.indicators[i].survey].per == "bcu" and not book.indicators[i].sample_given for i in used
    )


def _flat(text: str) -> str:
    """One line: comments cannot span lines."""
    return " ".join(str(text).split())
