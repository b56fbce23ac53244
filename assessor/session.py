"""One assessment, end to end: rules and case in, the result document out.

The result is plain data (the JSON output, documented in docs/json-output.md);
every report format is rendered from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from assessor import __version__
from assessor.case.read import Case, load_case, year_ending
from assessor.compile.compiler import CompiledFramework, CompiledScope, compile_rulebook
from assessor.evaluate import result, significance
from assessor.evaluate.staged import StagedEvaluator
from assessor.report.environment import Renderer
from assessor.rulebook.locate import Location, bundled_location, locate
from assessor.rulebook.model import Rulebook
from assessor.rulebook.read import load_rulebook


class Session:
    """Rules compiled once, engines kept warm: assess many cases with one Session.

    The rulebook is `location` (as the CLI's discovery found it), else the rules folder
    `rules_dir` (named by the rulebook.yaml beside it, if any), else the bundled one.
    """

    def __init__(
        self,
        rules_dir: str | Path | None = None,
        templates_dir: str | Path | None = None,
        engine: str = "durable",
        location: Location | None = None,
        book: Rulebook | None = None,
    ):
        if location is None:
            location = locate(rules=rules_dir, templates=templates_dir) if rules_dir else bundled_location()
            if templates_dir and not rules_dir:
                location = location.with_templates(templates_dir)
        self.location = location
        self.book: Rulebook = book or load_rulebook(location.rules)
        self.programs = compile_rulebook(self.book)
        self.renderer = Renderer(location.templates)
        self.engine = engine
        self._assessor = StagedEvaluator(self.book, self.programs, engine)
        self._what_if: dict = {}

    def close(self) -> None:
        self._assessor.close()
        for engine in self._what_if.values():
            engine.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def load(self, case_path: str | Path) -> Case:
        return load_case(case_path, self.book)

    def assess(self, case_path: str | Path, margins: bool = False) -> result.Result:
        return self.assess_case(self.load(case_path), margins)

    def assess_case(self, case: Case, margins: bool = False) -> result.Result:
        """The result document for `case`; with `margins`, each criterion's margins to flip."""
        frameworks = self._assessor.evaluate(case, self.renderer, self._margins if margins else None)
        year = year_ending(case.period)
        return {
            "force": case.force,
            "short_name": case.short_name,
            "fictional": case.fictional,
            "period": case.period,
            "year": year,
            "previous_year": year - 2,
            "published": case.published,
            "assessor_version": __version__,
            "rules_revision": self.book.revision,
            "rulebook": cast(result.RulebookInfo, self.location.describe()),
            "case_digest": case.digest,
            "engine": self.engine,
            "overview": case.overview,
            "context": case.context,
            "survey_method": self.survey_method(case),
            "scale": self.book.scale(),
            "frameworks": frameworks,
        }

    def _margins(
        self, program: CompiledFramework, scope: CompiledScope, evidence: dict, indicators: list[result.Indicator]
    ) -> list[result.Margin]:
        from assessor.engines import make_engine
        from assessor.evaluate.what_if import criterion_margins

        engine = self._what_if.get(program.framework.id)
        if engine is None:  # what-if runs are many and small: the Python engine, built once
            engine = self._what_if[program.framework.id] = make_engine("python", program.rules)
        return criterion_margins(scope, evidence, indicators, engine)

    def survey_method(self, case: Case) -> result.SurveyMethod:
        """The survey parameters this assessment applied, for Appendix 2."""
        book = self.book
        designs: list[result.SurveyDesign] = []
        for d in book.designs.values():
            n = d.sample_size * ((case.overview.get("bcus") or 1) if d.per == "bcu" else 1)
            # p = 50% is where sampling error is largest: the margin quoted is the cautious one
            margin = significance.minimum_detectable_difference(
                50.0, n, n * d.msf_multiplier, d.design_factor, book.confidence
            )
            designs.append(
                {
                    "id": d.id,
                    "title": d.title,
                    "design_factor": d.design_factor,
                    "sample_size": d.sample_size,
                    "per": d.per,
                    "msf_multiplier": d.msf_multiplier,
                    "force_sample": n,
                    "margin_pp": round(margin, 2),
                }
            )
        example = next((d for d in book.designs.values() if d.per == "force"), next(iter(book.designs.values()), None))
        out: result.SurveyMethod = {
            "confidence": book.confidence,
            "critical": round(significance.z_critical(book.confidence), 4),
            "designs": designs,
            "example": None,
        }
        if example is not None:
            low, high = significance.interval(81.0, example.sample_size, example.design_factor, book.confidence)
            out["example"] = {
                "value": 81.0,
                "n": example.sample_size,
                "low": round(low, 2),
                "high": round(high, 2),
                "half_width": round((high - low) / 2, 2),
            }
        return out
