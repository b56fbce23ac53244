"""One assessment, end to end: rules and case in, the result document out.

The result is plain data (the JSON output, documented in docs/json-output.md);
every report format is rendered from it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, cast

from assessor import __version__, record
from assessor.case.read import Case, is_financial_year, load_case, read_case, year_ending
from assessor.compile.compiler import CompiledFramework, CompiledScope, compile_rulebook
from assessor.engines import Engine
from assessor.errors import AssessorError
from assessor.evaluate import significance
from assessor.evaluate.staged import StagedEvaluator
from assessor.report.environment import Renderer
from assessor.rulebook.locate import Location, bundled_location, locate
from assessor.rulebook.model import Place, Rulebook
from assessor.rulebook.model_cache import read_rulebook
from assessor.source.document import Document, short_repr

if TYPE_CHECKING:  # the result document's types are for the type checker: a run need not build them
    from assessor.evaluate import result


def edition_of(doc: Document, location: Location) -> str | None:
    """The edition that grades a case (its document, as read_case read it): the one its
    `edition:` names, else the one in force for its `period`, else the location's. Only a
    rulebook of several editions looks at the case for it."""
    manifest = location.manifest
    if manifest is None or len(manifest.editions) < 2:
        return location.edition
    data = doc.data if isinstance(doc.data, dict) else {}
    listed = ", ".join(str(e.id) for e in manifest.editions)
    if "edition" in data:
        raw = data["edition"]
        ident = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
        if ident is None or manifest.edition(ident) is None:
            raise AssessorError(
                doc.finding(
                    ("edition",),
                    "unknown-edition",
                    f"edition {short_repr(raw)} is not an edition of the rulebook {manifest.name}; its editions are "
                    f"{listed}",
                )
            )
        return ident
    period = data.get("period")
    if not (isinstance(period, str) and is_financial_year(period)):
        return location.edition  # the case reader reports the period
    if all(e.in_force == (None, None) for e in manifest.editions):
        return location.edition
    found = manifest.in_force(period)
    if found is None:
        raise AssessorError(
            doc.finding(
                ("period",),
                "unknown-edition",
                f"no edition of the rulebook {manifest.name} is in force for {period} (editions: {listed}); "
                "name the edition that grades this case with `edition:`",
            )
        )
    return found.id


class EditionRules:
    """One edition's rules, compiled once, with their engines kept warm."""

    def __init__(self, location: Location, engine: str, book: Rulebook | None = None):
        self.location = location
        self.book: Rulebook = book or read_rulebook(location.rules, location.overlays)
        self.programs = compile_rulebook(self.book)
        self.evaluator = StagedEvaluator(self.book, self.programs, engine)
        self.what_if: dict = {}

    def close(self) -> None:
        self.evaluator.close()
        for engine in self.what_if.values():
            engine.close()


class Session:
    """Rules compiled once, engines kept warm: assess many cases with one Session.

    The rulebook is `location` (as the CLI's discovery found it), else the rules folder
    `rules_dir` (named by the rulebook.yaml beside it, if any), else the bundled one. Each case
    is graded by the edition it names, else the edition in force for its period, else the
    location's edition; each edition's rules are compiled when a case first needs them.
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
        self.engine = engine
        self._editions = {location.edition: EditionRules(location, engine, book)}
        self.book: Rulebook = self._editions[location.edition].book
        self.programs = self._editions[location.edition].programs
        self.renderer = Renderer(location.templates)
        refuse_templates_outside(self.book, self.renderer)

    def close(self) -> None:
        for rules in self._editions.values():
            rules.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def edition(self, ident: str | None) -> EditionRules:
        """The rules of edition `ident` of this rulebook (None: the location's own)."""
        if ident not in self._editions:
            found = self.location.manifest.edition(ident) if self.location.manifest and ident else None
            if found is None:
                return self._editions[self.location.edition]
            self._editions[ident] = EditionRules(self.location.for_edition(found), self.engine)
        return self._editions[ident]

    def load(self, case_path: str | Path, edition: str | None = None) -> Case:
        """The case, read once (a pipe can be read only once), against the rules of `edition`,
        else of the edition that grades it."""
        source = read_case(case_path)
        ident = edition if edition is not None else edition_of(source[1], self.location)
        case = load_case(case_path, self.edition(ident).book, source=source)
        return record.replace(case, edition=ident)

    def assess(self, case_path: str | Path, margins: bool = False, edition: str | None = None) -> result.Result:
        return self.assess_case(self.load(case_path, edition), margins)

    def assess_case(self, case: Case, margins: bool = False) -> result.Result:
        """The result document for `case`, by its edition's rules; with `margins`, each criterion's
        margins to flip."""
        rules = self.edition(case.edition)
        what_if = functools.partial(self._margins, rules) if margins else None
        frameworks = rules.evaluator.evaluate(case, self.renderer, what_if)
        for fw, program in zip(frameworks, rules.programs):
            fw["grade_explanation"] = self._grade_explanation(rules, program, fw) if margins else None
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
            "rules_revision": rules.book.revision,
            "rulebook": cast("result.RulebookInfo", rules.location.describe()),
            "case_digest": case.digest,
            "engine": self.engine,
            "overview": case.overview,
            "context": case.context,
            "recommendations": case.recommendations,
            "developing_practice": case.developing_practice,
            "survey_method": self.survey_method(case, rules.book),
            "scale": cast("result.Scale", rules.book.scale()),
            "frameworks": frameworks,
        }

    def _what_if_engine(self, rules: EditionRules, program: CompiledFramework) -> Engine:
        from assessor.engines import make_engine

        engine = rules.what_if.get(program.framework.id)
        if engine is None:  # what-if runs are many and small: the Python engine, built once
            engine = rules.what_if[program.framework.id] = make_engine("python", program.rules)
        return engine

    def _margins(
        self,
        rules: EditionRules,
        program: CompiledFramework,
        scope: CompiledScope,
        evidence: dict,
        indicators: list[result.Indicator],
    ) -> list[result.Margin]:
        from assessor.evaluate.what_if import criterion_margins

        return criterion_margins(scope, evidence, indicators, self._what_if_engine(rules, program))

    def _grade_explanation(self, rules: EditionRules, program: CompiledFramework, fw: result.Framework) -> dict | None:
        from assessor.evaluate.what_if import grade_explanation

        return grade_explanation(program, fw, rules.book.grade_ids, self._what_if_engine(rules, program))

    def survey_method(self, case: Case, book: Rulebook | None = None) -> result.SurveyMethod:
        """The survey parameters this assessment applied, for Appendix 2."""
        book = book or self.book
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


def templates_outside(book: Rulebook, renderer: Renderer) -> list:
    """A finding, at the rules naming it, for each statement or indicator sentence template whose
    file lies outside the templates folder (a symbolic link leading out)."""
    out = []
    for fw in book.frameworks:
        for c in fw.criteria:
            if renderer.outside(c.statement):
                p = c.statement_place or c.place
                out.append(
                    p.finding(
                        "template-outside",
                        f"statement template {c.statement} leads outside the templates folder {renderer.dir} "
                        "(a symbolic link); keep statement templates inside it",
                    )
                )
        for ind in fw.indicators:
            name = f"statements/indicators/{ind}.md.j2"
            if renderer.outside(name):
                p = fw.indicators_place or Place(fw.path, None, None)
                out.append(
                    p.finding(
                        "template-outside",
                        f"the sentence template of indicator {ind!r}, {name}, leads outside the templates folder "
                        f"{renderer.dir} (a symbolic link); keep it inside",
                    )
                )
    return out


def refuse_templates_outside(book: Rulebook, renderer: Renderer) -> None:
    found = templates_outside(book, renderer)
    if found:
        raise AssessorError(found)
