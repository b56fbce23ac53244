"""Survey indicators: each indicator's figures tested against the MSF average and over time.

The tests themselves are in significance.py; this module knows the rules' survey
settings (design factor, sample per force or per BCU, MSF multiplier) and which
figures a case marks unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assessor.case.read import Case
from assessor.evaluate import significance as statistics
from assessor.rulebook.model import Indicator, Rulebook, SurveyDesign

if TYPE_CHECKING:  # the result document's types are for the type checker: a run need not build them
    from assessor.evaluate import result


def _sample_size(book: Rulebook, ind: Indicator, case: Case) -> float | None:
    design = book.designs[ind.survey]
    if design.per == "bcu":
        bcus = case.overview.get("bcus")
        return None if bcus is None else design.sample_size * bcus
    return design.sample_size


def _needed(ind: Indicator, figures: dict, case: Case, book: Rulebook) -> list:
    """The figures this indicator's tests need that the case marks unknown."""
    names = [*ind.figures_needed(), *(k for k in figures if k.endswith("_n"))]
    missing = [f"{ind.id}.{k}" for k in names if figures.get(k, 0) is None]
    # the comparison group's sample defaults to the rest of the survey's, which needs the BCU count
    gap_sample_from_bcus = ind.gap_with and f"{ind.gap_with}_n" not in figures
    if (not ind.sample_given or gap_sample_from_bcus) and _sample_size(book, ind, case) is None:
        missing.append("overview.bcus")
    return sorted(set(missing))


def indicator_tests(book: Rulebook, ind: Indicator, figures: dict, case: Case) -> result.IndicatorTests:
    """The indicator's figures from the case, each compared as the rules' survey settings say."""
    design = book.designs[ind.survey]
    missing = _needed(ind, figures, case, book)
    if missing:
        return {
            "id": ind.id,
            "label": ind.label,
            "survey": design.id,
            "better": "higher" if ind.higher_is_better else "lower",
            "value": figures.get("value"),
            "assessed": False,
            "missing": missing,
            "n": figures.get("n"),
            "interval": None,
            "msf": {"average": figures.get("msf_average"), "verdict": None},
            "trend": {"previous": figures.get("previous"), "verdict": None},
        }
    n = figures.get("n") or _sample_size(book, ind, case)
    assert n is not None  # else overview.bcus is missing

    def compare(
        value: float, size: float, reference: float, reference_n: float, higher_is_better: bool
    ) -> statistics.Comparison:
        return statistics.compare(
            value,
            size,
            reference,
            reference_n,
            design_factor=design.design_factor,
            higher_is_better=higher_is_better,
            confidence=book.confidence,
        )

    # the test's results in the rulebook's words (Rulebook.verdicts)
    msf: result.MsfComparison = {"average": None, "verdict": book.verdicts["none"]}
    if "msf" in ind.compare:
        msf_n = figures.get("msf_n") or n * design.msf_multiplier
        c = compare(figures["value"], n, figures["msf_average"], msf_n, ind.higher_is_better)
        msf = {
            "average": figures["msf_average"],
            "n": msf_n,
            "interval": _interval(figures["msf_average"], msf_n, design, book),
            "difference_pp": round(c.difference_pp, 6),
            "z": round(c.z, 4),
            "critical": round(c.critical, 4),
            "margin_pp": round(c.margin_pp, 4),
            "verdict": book.verdicts[c.verdict],
        }
    trend: result.TrendComparison = {"previous": None, "verdict": book.verdicts["none"]}
    if "previous" in ind.compare:
        prev_n = figures.get("previous_n") or n
        c = compare(figures["value"], n, figures["previous"], prev_n, ind.higher_is_better)
        trend = {
            "previous": figures["previous"],
            "n": prev_n,
            "interval": _interval(figures["previous"], prev_n, design, book),
            "z": round(c.z, 4),
            "critical": round(c.critical, 4),
            "margin_pp": round(c.margin_pp, 4),
            "verdict": book.verdicts[c.verdict],
            "change_pp": round(c.difference_pp, 6),
        }
    row: result.IndicatorTests = {
        "id": ind.id,
        "label": ind.label,
        "survey": design.id,
        "better": "higher" if ind.higher_is_better else "lower",
        "value": figures.get("value"),
        "assessed": True,
        "missing": missing,
        "n": n,
        "interval": _interval(figures["value"], n, design, book),
        "msf": msf,
        "trend": trend,
    }
    if ind.gap_with:
        other = figures[ind.gap_with]
        other_n = figures.get(f"{ind.gap_with}_n")
        if not other_n:  # the rest of the survey's sample
            total = _sample_size(book, ind, case)
            assert total is not None  # else overview.bcus is missing
            other_n = max(total - n, 1)
        # the gap is the comparison group's figure minus the indicator's: smaller is better
        c = compare(other, other_n, figures["value"], n, False)
        # significant either way; a gap in the comparison group's favour is the worse one
        significant = c.verdict != statistics.SAME
        gap_pp = round(other - figures["value"], 6)
        role = (statistics.WORSE if gap_pp > 0 else statistics.BETTER) if significant else statistics.SAME
        row["gap"] = {
            "with": ind.gap_with,
            "other": other,
            "other_n": other_n,
            "gap_pp": gap_pp,
            "z": round(c.z, 4),
            "critical": round(c.critical, 4),
            "significant": significant,
            "verdict": book.verdicts[role],
        }
    return row


def _interval(p: float, n: float, design: SurveyDesign, book: Rulebook) -> list[float]:
    lo, hi = statistics.interval(p, n, design.design_factor, book.confidence)
    return [round(lo, 2), round(hi, 2)]
