"""Rule coverage (`assess coverage`): which rungs no case chooses.

A rung is covered when at least one case's assessment chose it: the first rung
that held in the decision's trace. Every scale counts: choices, criterion
judgements, the survey indicator outcome (shared by all indicators) and
framework grades (the rule grade, before any moderation).
"""

from __future__ import annotations

from dataclasses import dataclass

from assessor.rulebook.sites import decision_sites


@dataclass(frozen=True)
class Coverage:
    rungs: tuple  # (DecisionSite, rung index) of every rung in the rules, in file order
    chosen: frozenset  # (DecisionSite.key, rung index) chosen by some case
    cases: int

    @property
    def missed(self) -> list:
        return [(site, i) for site, i in self.rungs if (site.key, i) not in self.chosen]

    @property
    def percent(self) -> float:
        if not self.rungs:
            return 100.0
        return 100.0 * (len(self.rungs) - len(self.missed)) / len(self.rungs)


def measure(book, results: list) -> Coverage:
    """Coverage of the rulebook's rungs by assessment results (each a list of framework dicts)."""
    all_sites = sorted(decision_sites(book), key=lambda s: (s.place.path, s.place.line or 0))
    rungs = tuple((s, i) for s in all_sites for i in range(len(s.decision.rungs)))
    chosen = set()
    for frameworks in results:
        chosen |= chosen_rungs(frameworks)
    return Coverage(rungs, frozenset(chosen), len(results))


def chosen_rungs(frameworks: list) -> set:
    out = set()
    for fw in frameworks:
        traces = [((None, "indicators", "outcome"), i.get("trace")) for i in fw["indicators"]]
        traces.append(((fw["id"], "grade", "grade"), fw["grade_trace"]))
        for c in fw["criteria"]:
            traces += [((fw["id"], c["id"], name), t) for name, t in c["trace"].items()]
        for key, trace in traces:
            first = next((i for i, r in enumerate((trace or {}).get("rungs", ())) if r["held"]), None)
            if first is not None:
                out.add((key, first))
    return out


def format_coverage(cov: Coverage) -> str:
    covered = len(cov.rungs) - len(cov.missed)
    lines = [
        f"Rule coverage: {covered} of {len(cov.rungs)} rungs ({cov.percent:.1f}%) chosen by at least one of "
        f"{cov.cases} case(s)."
    ]
    if cov.missed:
        rows = [
            (f"{s.rungs[i].path}:{s.rungs[i].line}:{s.rungs[i].column}", s.label, _rung(s, i)) for s, i in cov.missed
        ]
        widths = [max(len(r[k]) for r in rows + [("where", "decision", "rung")]) for k in range(2)]
        lines += ["", "Rungs no case chooses:", f"{'where':<{widths[0]}}  {'decision':<{widths[1]}}  rung"]
        lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows]
    return "\n".join(lines) + "\n"


def _rung(site, i: int) -> str:
    rung = site.decision.rungs[i]
    if rung.condition is None:
        return f"otherwise: {rung.outcome}"
    return f"{rung.outcome}: {' '.join(rung.condition.source.split())}"
